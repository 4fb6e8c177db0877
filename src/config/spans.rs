//! Where things sit in the TOML text: byte spans to line:column, and key paths to and from spans.
//!
//! serde stops at the first error, so the loader finds the key an error points at, removes it and
//! deserializes again; these helpers do the finding and the removing on toml's spanned document.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A dotted key path as users write it: `policy.quorum[0].approvals`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The last key name, if the path ends with a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The path without its last step.
    pub fn parent(&self) -> KeyPath {
        let mut segs = self.0.clone();
        segs.pop();
        KeyPath(segs)
    }

    /// The path up to and including its last key (array indices after it dropped).
    pub fn up_to_last_key(&self) -> KeyPath {
        let mut segs = self.0.clone();
        while matches!(segs.last(), Some(Seg::Index(_))) {
            segs.pop();
        }
        KeyPath(segs)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How a table at this path is written in a file: `[environment]`, `[[policy.quorum]] #2`.
    pub fn as_table_header(&self) -> String {
        match self.0.last() {
            Some(Seg::Index(i)) => format!("[[{}]] #{}", self.parent(), i + 1),
            _ => format!("[{self}]"),
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    if b.start == b.end {
        a.start <= b.start && b.start < a.end.max(a.start + 1)
    } else {
        a.start < b.end && b.start < a.end
    }
}

/// The deepest key whose key or value overlaps `span`.
pub(crate) fn locate(doc: &DeTable<'_>, span: &Range<usize>) -> KeyPath {
    let mut path = Vec::new();
    find_in_table(doc, span, &mut path);
    KeyPath(path)
}

fn find_in_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<Seg>) -> bool {
    // Implicit tables (`policy` in `[[policy.quorum]]`) have spans that cover nothing useful, so the
    // whole tree is searched and the deepest hit wins.
    for (key, value) in table.iter() {
        path.push(Seg::Key(key.get_ref().to_string()));
        if find_in_value(value, span, path) || overlaps(&key.span(), span) || overlaps(&value.span(), span) {
            return true;
        }
        path.pop();
    }
    false
}

fn find_in_value(value: &Spanned<DeValue<'_>>, span: &Range<usize>, path: &mut Vec<Seg>) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => find_in_table(t, span, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                if find_in_value(item, span, path) || overlaps(&item.span(), span) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

/// Remove the entry at `path` (up to its last key); true when something was removed.
pub(crate) fn remove(doc: &mut DeTable<'_>, path: &KeyPath) -> bool {
    let path = path.up_to_last_key();
    let Some((Seg::Key(last), parents)) = path.0.split_last() else { return false };
    let mut table = doc;
    let mut segs = parents.iter().peekable();
    while let Some(seg) = segs.next() {
        let Seg::Key(k) = seg else { return false };
        let Some(value) = table.get_mut(k.as_str()) else { return false };
        let mut value = value.get_mut();
        while let Some(Seg::Index(i)) = segs.peek() {
            let DeValue::Array(items) = value else { return false };
            let Some(item) = items.get_mut(*i) else { return false };
            value = item.get_mut();
            segs.next();
        }
        let DeValue::Table(t) = value else { return false };
        table = t;
    }
    table.remove(last.as_str()).is_some()
}

/// Rewrite TOML floats at money keys as strings of their literal text, so `10000.005` reaches the
/// decimal type exactly instead of through `f64`.
pub(crate) fn exact_decimals(doc: &mut DeTable<'_>) {
    let Some(policy) = doc.get_mut("policy") else { return };
    let DeValue::Table(policy) = policy.get_mut() else { return };
    for key in ["invoice_amount_tolerance", "round_amount_multiple"] {
        if let Some(v) = policy.get_mut(key) {
            float_to_string(v);
        }
    }
    let Some(quorum) = policy.get_mut("quorum") else { return };
    let DeValue::Array(rules) = quorum.get_mut() else { return };
    for rule in rules.iter_mut() {
        if let DeValue::Table(rule) = rule.get_mut()
            && let Some(v) = rule.get_mut("min_amount")
        {
            float_to_string(v);
        }
    }
}

fn float_to_string(value: &mut Spanned<DeValue<'_>>) {
    if let DeValue::Float(f) = value.get_ref() {
        let literal = f.as_str().replace('_', "");
        *value.get_mut() = DeValue::String(literal.into());
    }
}

/// Every key path in the document with the byte offset of its key (for arrays, of each element).
pub(crate) fn index(doc: &DeTable<'_>) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    index_table(doc, &mut Vec::new(), &mut out);
    out
}

fn index_table(table: &DeTable<'_>, path: &mut Vec<Seg>, out: &mut HashMap<String, usize>) {
    for (key, value) in table.iter() {
        path.push(Seg::Key(key.get_ref().to_string()));
        out.entry(KeyPath(path.clone()).to_string()).or_insert(key.span().start);
        index_value(value, path, out);
        path.pop();
    }
}

fn index_value(value: &Spanned<DeValue<'_>>, path: &mut Vec<Seg>, out: &mut HashMap<String, usize>) {
    match value.get_ref() {
        DeValue::Table(t) => index_table(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.entry(KeyPath(path.clone()).to_string()).or_insert(item.span().start);
                index_value(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "a = 1\n[environment]\nürl = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let url = text.find("rl").unwrap_or(0);
        assert_eq!(line_col(text, url), (3, 2));
    }

    #[test]
    fn money_floats_become_their_literal_text() {
        let text = "[policy]\nround_amount_multiple = 1_000.10\n[[policy.quorum]]\naction = \"*\"\napprovals = 2\nmin_amount = 10000.005\n";
        let Ok(mut doc) = DeTable::parse(text) else { panic!("fixture parses") };
        exact_decimals(doc.get_mut());
        let config = <crate::config::Config as serde::Deserialize>::deserialize(toml::de::Deserializer::from(doc));
        let config = config.unwrap_or_else(|e| panic!("decimals deserialize: {}", e.message()));
        assert_eq!(config.policy.round_amount_multiple.to_string(), "1000.10");
        assert_eq!(config.policy.quorum[0].min_amount.to_string(), "10000.005");
    }

    #[test]
    fn a_key_inside_an_array_of_tables_is_located_and_removed() {
        let text = "[[policy.quorum]]\naction = \"*\"\n[[policy.quorum]]\naction = \"journal\"\napprovals = \"two\"\n";
        let Ok(mut doc) = DeTable::parse(text) else { panic!("fixture parses") };
        let start = text.find("\"two\"").unwrap_or(0);
        let path = locate(doc.get_ref(), &(start..start + 5));
        assert_eq!(path.to_string(), "policy.quorum[1].approvals");
        assert!(remove(doc.get_mut(), &path));
        assert!(!index(doc.get_ref()).contains_key("policy.quorum[1].approvals"));
    }
}
