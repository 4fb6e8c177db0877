//! Canonical JSON: the one byte sequence a JSON value hashes as.
//!
//! Object keys are sorted by their UTF-8 bytes at every depth, there is no whitespace, strings are
//! escaped as serde_json writes them (`"`, `\` and control characters only), and numbers are written
//! exactly as their source text (serde_json is built with `arbitrary_precision`, so `12.50` stays
//! `12.50`). Sorting here rather than relying on serde_json's map type keeps the bytes stable even if a
//! dependency turns on `preserve_order`.

use serde_json::Value;

/// The canonical text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

pub(crate) fn write_string(out: &mut String, s: &str) {
    // Serializing a &str to JSON cannot fail; the fallback keeps this total without a panic path.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_numbers_keep_their_text() {
        let value: Value =
            serde_json::from_str(r#"{ "z": 1, "a": { "y": 12.50, "b": [0.0000001, "x"] }, "m": null }"#).unwrap();
        assert_eq!(canonical_json(&value), r#"{"a":{"b":[0.0000001,"x"],"y":12.50},"m":null,"z":1}"#);
    }

    #[test]
    fn control_characters_in_strings_are_escaped() {
        let value = Value::String("Contoso\u{1b}]52;c;\u{7}\"".into());
        assert_eq!(canonical_json(&value), r#""Contoso\u001b]52;c;\u0007\"""#);
    }
}
