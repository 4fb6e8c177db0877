//! Where each value sits in a JSON text, so semantic errors can name a line and column.
//!
//! serde only knows positions while it parses; the checks that run afterwards on typed data need a
//! map from a field path (`proposed.lines[1].keys`) back to the source. This is a small scanner that
//! records, for every value, where it starts and (for object members) where its key starts, and every
//! key an object repeats.

use std::collections::HashMap;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The start of the document.
    pub const START: Position = Position { line: 1, column: 1 };
}

/// Positions of the values of one JSON document, by field path.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
    duplicates: Vec<Duplicate>,
}

/// A key that an object holds twice (or more): JSON readers keep only one of the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The member's path, e.g. `route.required_approvals`.
    pub path: String,
    /// Where the key first appears (its opening quote).
    pub first: Position,
    /// Where it appears again.
    pub again: Position,
}

/// Nesting deeper than this is not mapped (serde_json refuses it anyway).
const MAX_DEPTH: usize = 256;

impl Locator {
    /// Scan `source`. Best effort: on malformed JSON the positions found before the fault are kept.
    pub fn new(source: &str) -> Locator {
        let mut scanner =
            Scanner { chars: source.chars().peekable(), pos: Position::START, out: Locator::default(), shadowed: 0 };
        // A malformed document simply ends the scan; parse errors are reported by serde, not here.
        let _ = scanner.value(String::new(), 0);
        scanner.out
    }

    /// Where the value at `path` starts, if it is in the document. The root is `""`.
    pub fn value(&self, path: &str) -> Option<Position> {
        self.values.get(path).copied()
    }

    /// Where the key of the object member at `path` starts (the opening quote). For a repeated key,
    /// the last one, whose value JSON readers keep.
    pub fn key(&self, path: &str) -> Option<Position> {
        self.keys.get(path).copied()
    }

    /// Every repeated key, in source order of the repetition. Members nested inside a repeated member
    /// are not listed again: the repeated member is the problem.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// The value at `path`, or else the nearest enclosing value that exists: a missing field points
    /// at the object that should have held it.
    pub fn nearest(&self, path: &str) -> Position {
        let mut current = path;
        loop {
            if let Some(pos) = self.value(current) {
                return pos;
            }
            match parent(current) {
                Some(up) => current = up,
                None => return Position::START,
            }
        }
    }
}

/// The path of the enclosing value: `a.b[2]` → `a.b`, `a.b` → `a`, `a` → `""`, `""` → none.
pub fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    if path.ends_with(']')
        && let Some(open) = path.rfind('[')
    {
        return Some(&path[..open]);
    }
    Some(path.rfind('.').map_or("", |dot| &path[..dot]))
}

/// `parent.key`, or `key` at the root.
pub fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// `parent[index]`.
pub fn element(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Scanning stopped because the text is not JSON; the caller keeps what was found.
struct Malformed;

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    pos: Position,
    out: Locator,
    /// How many repeated members the scan is inside: their nested keys repeat the first's by nature.
    shadowed: usize,
}

impl Scanner<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.chars.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, want: char) -> Result<(), Malformed> {
        self.skip_ws();
        if self.bump() == Some(want) { Ok(()) } else { Err(Malformed) }
    }

    fn value(&mut self, path: String, depth: usize) -> Result<(), Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.skip_ws();
        self.out.values.insert(path.clone(), self.pos);
        match self.chars.peek().copied() {
            Some('{') => self.object(&path, depth),
            Some('[') => self.array(&path, depth),
            Some('"') => self.string().map(drop),
            Some(_) => self.scalar(),
            None => Err(Malformed),
        }
    }

    fn object(&mut self, path: &str, depth: usize) -> Result<(), Malformed> {
        self.bump();
        self.skip_ws();
        if self.chars.peek() == Some(&'}') {
            self.bump();
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key_pos = self.pos;
            let key = self.string()?;
            let member = child(path, &key);
            let repeated = self.shadowed == 0 && self.note_repeat(&member, key_pos);
            self.out.keys.insert(member.clone(), key_pos);
            self.expect(':')?;
            self.shadowed += usize::from(repeated);
            let scanned = self.value(member, depth + 1);
            self.shadowed -= usize::from(repeated);
            scanned?;
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    /// Record `member` as repeated if its key was seen before; true if it was.
    fn note_repeat(&mut self, member: &str, again: Position) -> bool {
        let Some(&seen) = self.out.keys.get(member) else { return false };
        // A third occurrence is named against the first, like the second.
        let first = self.out.duplicates.iter().find(|d| d.path == member).map_or(seen, |d| d.first);
        self.out.duplicates.push(Duplicate { path: member.to_string(), first, again });
        true
    }

    fn array(&mut self, path: &str, depth: usize) -> Result<(), Malformed> {
        self.bump();
        self.skip_ws();
        if self.chars.peek() == Some(&']') {
            self.bump();
            return Ok(());
        }
        let mut index = 0;
        loop {
            self.value(element(path, index), depth + 1)?;
            index += 1;
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some(']') => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    /// A string's decoded text (escapes resolved, so keys match serde's).
    fn string(&mut self) -> Result<String, Malformed> {
        if self.bump() != Some('"') {
            return Err(Malformed);
        }
        let mut text = String::new();
        loop {
            match self.bump().ok_or(Malformed)? {
                '"' => return Ok(text),
                '\\' => match self.bump().ok_or(Malformed)? {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    'b' => text.push('\u{8}'),
                    'f' => text.push('\u{c}'),
                    'u' => text.push(self.unicode_escape()?),
                    other => text.push(other),
                },
                c => text.push(c),
            }
        }
    }

    /// The character of a `\uXXXX` escape, joining surrogate pairs; lone surrogates become U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, Malformed> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return Ok(char::from_u32(high).unwrap_or('\u{fffd}'));
        }
        if self.chars.peek() != Some(&'\\') {
            return Ok('\u{fffd}');
        }
        self.bump();
        if self.bump() != Some('u') {
            return Err(Malformed);
        }
        let low = self.hex4()?;
        let joined = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
        Ok(char::from_u32(joined).unwrap_or('\u{fffd}'))
    }

    fn hex4(&mut self) -> Result<u32, Malformed> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| c.to_digit(16)).ok_or(Malformed)?;
            n = n * 16 + digit;
        }
        Ok(n)
    }

    /// Numbers, `true`, `false`, `null`: their position is all we need.
    fn scalar(&mut self) -> Result<(), Malformed> {
        let mut consumed = false;
        while let Some(&c) = self.chars.peek() {
            if matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\n' | '\r') {
                break;
            }
            self.bump();
            consumed = true;
        }
        if consumed { Ok(()) } else { Err(Malformed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    const RUN: &str = r#"{
  "id": "run-1",
  "target": {
    "keys": { "dataAreaId": "usmf", "HeaderReference": "APINV-000123" }
  },
  "proposed": {
    "lines": [
      { "keys": { "InvoiceLineNumber": 1 } },
      {
        "keys": {}, "fields": { "NetAmount": 12.50 }
      }
    ]
  }
}"#;

    #[test]
    fn values_in_objects_and_arrays_are_found_by_path() {
        let loc = Locator::new(RUN);
        assert_eq!(loc.value(""), at(1, 1));
        assert_eq!(loc.value("id"), at(2, 9));
        assert_eq!(loc.value("target.keys"), at(4, 13));
        assert_eq!(loc.value("target.keys.dataAreaId"), at(4, 29));
        assert_eq!(loc.value("target.keys.HeaderReference"), at(4, 56));
        assert_eq!(loc.value("proposed.lines[0]"), at(8, 7));
        assert_eq!(loc.value("proposed.lines[0].keys.InvoiceLineNumber"), at(8, 40));
        assert_eq!(loc.value("proposed.lines[1].keys"), at(10, 17));
        assert_eq!(loc.value("proposed.lines[1].fields.NetAmount"), at(10, 46));
    }

    #[test]
    fn keys_point_at_their_opening_quote() {
        let loc = Locator::new(RUN);
        assert_eq!(loc.key("target.keys.dataAreaId"), at(4, 15));
        assert_eq!(loc.key("id"), at(2, 3));
    }

    #[test]
    fn a_missing_field_points_at_its_enclosing_object() {
        let loc = Locator::new(RUN);
        assert_eq!(loc.value("proposed.lines[0].fields"), None);
        assert_eq!(loc.nearest("proposed.lines[0].fields.NetAmount"), Position { line: 8, column: 7 });
        assert_eq!(loc.nearest("route.required_approvals"), Position::START);
    }

    #[test]
    fn columns_count_characters_and_escapes_are_decoded() {
        let src = "{\"VendorName\": \"深圳华强\", \"a\\u00e9\": 1, \"\\ud83d\\ude00\": true}";
        let loc = Locator::new(src);
        assert_eq!(loc.value("VendorName"), at(1, 16));
        assert_eq!(loc.value("aé"), at(1, 35));
        assert_eq!(loc.value("😀"), at(1, 54));
    }

    #[test]
    fn malformed_text_keeps_what_was_found_and_does_not_panic() {
        let loc = Locator::new("{\"a\": 1, \"b\": [1, 2,");
        assert_eq!(loc.value("a"), at(1, 7));
        assert_eq!(loc.value("b[1]"), at(1, 19));
        for garbage in ["", "{", "\"\\u12", "[[[[", "{\"a\" 1}", "\u{feff}"] {
            let _ = Locator::new(garbage);
        }
        let deep = "[".repeat(10_000);
        assert_eq!(Locator::new(&deep).value(""), at(1, 1));
    }

    #[test]
    fn repeated_keys_are_listed_with_both_positions_and_their_members_are_not() {
        let src = "{\"route\": {\"n\": 2},\n \"id\": 1,\n \"route\": {\"n\": 1}, \"route\": 3,\n \"a\": {\"b\": 1, \"b\": 2}}";
        let loc = Locator::new(src);
        let found: Vec<(&str, Position, Position)> =
            loc.duplicates().iter().map(|d| (d.path.as_str(), d.first, d.again)).collect();
        let p = |line, column| Position { line, column };
        assert_eq!(
            found,
            [("route", p(1, 2), p(3, 2)), ("route", p(1, 2), p(3, 21)), ("a.b", p(4, 8), p(4, 16))],
            "route.n must not be listed: its whole member is repeated"
        );
        assert_eq!(loc.key("route"), at(3, 21), "the last key, whose value a JSON reader keeps");
        assert!(Locator::new(RUN).duplicates().is_empty());
    }

    #[test]
    fn parent_paths_strip_one_segment() {
        assert_eq!(parent("proposed.lines[1].keys"), Some("proposed.lines[1]"));
        assert_eq!(parent("proposed.lines[1]"), Some("proposed.lines"));
        assert_eq!(parent("proposed"), Some(""));
        assert_eq!(parent(""), None);
    }
}
