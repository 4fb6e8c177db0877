//! Small readers for F&O field values, shared by the rules. Everything that reaches a message is escaped.

use rust_decimal::Decimal;

use crate::model::{FieldValue, Fields};
use crate::text::visible;

/// The string made visible, owned (for messages).
pub fn vis(s: &str) -> String {
    visible(s).into_owned()
}

/// A value shown in a message: visible-escaped and quoted.
pub fn shown(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => format!("'{}'", vis(s)),
        other => other.to_string(),
    }
}

/// A text field's value.
pub fn text<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    fields.get(name).and_then(FieldValue::as_text)
}

/// A number field's value (absent or non-numeric → `None`).
pub fn number(fields: &Fields, name: &str) -> Option<Decimal> {
    fields.get(name).and_then(FieldValue::as_number)
}

/// F&O's `NoYes` enum (`"Yes"`) or a JSON boolean.
pub fn is_yes(value: Option<&FieldValue>) -> bool {
    match value {
        Some(FieldValue::Text(s)) => s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true"),
        Some(FieldValue::Bool(b)) => *b,
        _ => false,
    }
}

/// Two identities are the same person: compared trimmed and case-insensitively (UPNs and F&O user ids are
/// case-insensitive).
pub fn same_actor(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// An amount with thousands separators, exact (`1,250,000.00`).
pub fn money(amount: Decimal) -> String {
    let text = amount.abs().to_string();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut grouped = String::with_capacity(text.len() + int.len() / 3 + 1);
    if amount.is_sign_negative() && !amount.is_zero() {
        grouped.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(frac) = frac {
        grouped.push('.');
        grouped.push_str(frac);
    }
    grouped
}

/// The label of a line for messages and verdict fields (`lines[LineNumber=3]`).
pub fn line_label(key_field: Option<&str>, key: &str) -> String {
    match key_field {
        Some(k) => format!("lines[{k}={}]", vis(key)),
        None => format!("lines[{}]", vis(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_exactly() {
        assert_eq!(money(Decimal::new(125_000_000, 2)), "1,250,000.00");
        assert_eq!(money(Decimal::new(1250, 2)), "12.50");
        assert_eq!(money(Decimal::new(-100_000, 2)), "-1,000.00");
    }
}
