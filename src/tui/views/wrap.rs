//! Wrapping and fitting text by display width (`unicode-width`), not by `char` count: a CJK character
//! takes two columns, a combining mark none. Text reaching here is already visible-escaped.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::tui::source::Tone;

/// Columns `s` takes on screen.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Wrap one logical line of styled spans to `width` columns. Words stay whole where they fit on a line;
/// a word wider than a line is broken between characters, never dropped. Continuation lines start with
/// `indent` spaces (less when the pane is too narrow for it). Leading spaces of the line are kept.
pub fn wrap_spans(spans: &[(Tone, String)], width: usize, indent: usize) -> Vec<Vec<(Tone, String)>> {
    let width = width.max(1);
    let indent = indent.min(width / 2);
    let mut out = Wrapped { lines: vec![Vec::new()], used: 0, start: 0, width, indent };
    for (tone, text) in spans {
        for token in tokens(text) {
            out.token(*tone, token);
        }
    }
    out.lines
}

/// Wrap plain text to `width` columns (no continuation indent).
pub fn wrap_text(text: &str, width: usize) -> Vec<String> {
    wrap_spans(&[(Tone::Text, text.to_string())], width, 0)
        .into_iter()
        .map(|l| l.into_iter().map(|(_, t)| t).collect())
        .collect()
}

/// `text` in at most `width` columns: whole when it fits, else cut and ending in `…`, so a reader sees
/// that something is missing.
pub fn fit(text: &str, width: usize) -> String {
    if self::width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` padded with spaces to `width` columns (never cut).
pub fn pad(text: &str, width: usize) -> String {
    let w = self::width(text);
    if w >= width { text.to_string() } else { format!("{text}{}", " ".repeat(width - w)) }
}

/// Runs of spaces and runs of everything else.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let space = first == ' ';
        let end = rest.find(|c: char| (c == ' ') != space).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

struct Wrapped {
    lines: Vec<Vec<(Tone, String)>>,
    /// Columns used on the current line, and where its content starts (after the indent).
    used: usize,
    start: usize,
    width: usize,
    indent: usize,
}

impl Wrapped {
    fn token(&mut self, tone: Tone, token: &str) {
        let w = width(token);
        if self.used + w <= self.width {
            return self.push(tone, token, w);
        }
        if token.starts_with(' ') {
            // The break falls here; the spaces go with it.
            return self.new_line();
        }
        if self.used > self.start && self.indent + w <= self.width {
            self.new_line();
            return self.push(tone, token, w);
        }
        for c in token.chars() {
            let cw = char_width(c);
            if self.used + cw > self.width && self.used > self.start {
                self.new_line();
            }
            let mut buf = [0u8; 4];
            self.push(tone, c.encode_utf8(&mut buf), cw);
        }
    }

    fn push(&mut self, tone: Tone, text: &str, w: usize) {
        self.used += w;
        let line = self.lines.last_mut().expect("there is always a current line");
        match line.last_mut() {
            Some((t, s)) if *t == tone => s.push_str(text),
            _ => line.push((tone, text.to_string())),
        }
    }

    fn new_line(&mut self) {
        // Spaces before a break would only pad the line.
        if let Some(line) = self.lines.last_mut()
            && let Some((_, text)) = line.last_mut()
            && self.used > self.start
        {
            let kept = text.trim_end_matches(' ').len();
            text.truncate(kept);
            if text.is_empty() {
                line.pop();
            }
        }
        let mut line = Vec::new();
        if self.indent > 0 {
            line.push((Tone::Text, " ".repeat(self.indent)));
        }
        self.lines.push(line);
        self.used = self.indent;
        self.start = self.indent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Vec<(Tone, String)>]) -> Vec<String> {
        lines.iter().map(|l| l.iter().map(|(_, t)| t.as_str()).collect()).collect()
    }

    #[test]
    fn words_wrap_whole_with_an_indent_and_every_word_is_kept() {
        let text = "Vendor letter of 2026-11-12 on letterhead, confirmed by call-back to the number on file.";
        let lines = texts(&wrap_spans(&[(Tone::Text, text.into())], 40, 4));
        assert!(lines.iter().all(|l| width(l) <= 40), "{lines:#?}");
        assert!(lines.iter().skip(1).all(|l| l.starts_with("    ") && !l.starts_with("     ")), "{lines:#?}");
        let joined: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(joined.join(" "), text);
    }

    #[test]
    fn cjk_wraps_by_display_width_not_by_characters() {
        let lines = wrap_text("深圳华强电子有限公司", 7);
        assert_eq!(lines, vec!["深圳华", "强电子", "有限公", "司"]);
        assert!(lines.iter().all(|l| width(l) <= 7));
    }

    #[test]
    fn a_word_longer_than_the_line_is_broken_not_dropped() {
        assert_eq!(wrap_text(&"x".repeat(25), 10), vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
        assert_eq!(wrap_text("", 10), vec![String::new()]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let spans = [(Tone::PolicyHard, "✗ hard ".to_string()), (Tone::Text, "metadata not synced".to_string())];
        let lines = wrap_spans(&spans, 12, 2);
        assert_eq!(lines[0][0], (Tone::PolicyHard, "✗ hard".to_string()));
        assert_eq!(texts(&lines), vec!["✗ hard", "  metadata", "  not synced"]);
    }

    #[test]
    fn a_cut_value_ends_in_an_ellipsis_and_fits() {
        assert_eq!(fit("julia.funderburk@contoso.com", 14), "julia.funderb…");
        assert_eq!(fit("株式会社コントソ", 7), "株式会…");
        assert_eq!(fit("US-104", 14), "US-104");
    }
}
