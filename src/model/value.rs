//! Field values as F&O sends them: text (also enums and dates), exact numbers, booleans, null.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Money and every other number: exact decimal, never `f64`.
pub type Money = Decimal;

/// A record's fields by name, sorted so the canonical JSON is stable.
pub type Fields = BTreeMap<String, FieldValue>;

/// One field value. Numbers keep their exact decimal value (the JSON text is parsed without floats).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Number(Decimal),
    Text(String),
}

impl FieldValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<Decimal> {
        match self {
            FieldValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The same value as F&O holds it, whichever form the run wrote: a run may keep a human form that the
    /// connector encodes by `$metadata` (`"No"` for an `Edm.Boolean` false, `2026-12-31` for a date-time
    /// F&O returns as `2026-12-31T12:00:00Z`, `100` for `100.00`). Comparisons of a run's proposed values
    /// with what F&O shows go through this, never through `==` alone.
    pub fn same_value(&self, other: &FieldValue) -> bool {
        fn yes_no(s: &str) -> Option<bool> {
            match s.to_ascii_lowercase().as_str() {
                "yes" | "true" => Some(true),
                "no" | "false" => Some(false),
                _ => None,
            }
        }
        fn date_only(s: &str) -> &str {
            s.strip_suffix("T12:00:00Z").filter(|d| d.len() == 10).unwrap_or(s)
        }
        match (self, other) {
            (a, b) if a == b => true,
            (FieldValue::Bool(b), FieldValue::Text(t)) | (FieldValue::Text(t), FieldValue::Bool(b)) => {
                yes_no(t) == Some(*b)
            }
            (FieldValue::Number(a), FieldValue::Number(b)) => a == b,
            (FieldValue::Text(a), FieldValue::Text(b)) => date_only(a) == date_only(b),
            _ => false,
        }
    }

    /// The JSON type name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            FieldValue::Null => "null",
            FieldValue::Bool(_) => "boolean",
            FieldValue::Number(_) => "number",
            FieldValue::Text(_) => "string",
        }
    }

    /// Convert a JSON value (parsed with exact numbers) into a field value.
    pub fn from_json(value: &serde_json::Value) -> Result<FieldValue, String> {
        match value {
            serde_json::Value::Null => Ok(FieldValue::Null),
            serde_json::Value::Bool(b) => Ok(FieldValue::Bool(*b)),
            serde_json::Value::String(s) => Ok(FieldValue::Text(s.clone())),
            serde_json::Value::Number(n) => parse_decimal(n.as_str()).map(FieldValue::Number),
            serde_json::Value::Array(_) => Err("expected a string, number, boolean or null, found an array".into()),
            serde_json::Value::Object(_) => Err("expected a string, number, boolean or null, found an object".into()),
        }
    }

    /// The JSON value, numbers written exactly.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Null => serde_json::Value::Null,
            FieldValue::Bool(b) => serde_json::Value::Bool(*b),
            FieldValue::Text(s) => serde_json::Value::String(s.clone()),
            FieldValue::Number(n) => serde_json::Value::Number(
                serde_json::Number::from_str(&n.to_string()).expect("a decimal always prints as a JSON number"),
            ),
        }
    }
}

/// Parse a JSON number's text exactly (plain or scientific notation).
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let parsed = if text.contains(['e', 'E']) { Decimal::from_scientific(text) } else { Decimal::from_str_exact(text) };
    parsed.map_err(|_| format!("the number {text} cannot be held exactly (at most 28 significant digits)"))
}

impl fmt::Display for FieldValue {
    /// Plain rendering; callers that show it to people must pass it through [`crate::text::visible`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("(empty)"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Number(n) => write!(f, "{n}"),
            FieldValue::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        FieldValue::from_json(&value).map_err(D::Error::custom)
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_string())
    }
}

impl From<Decimal> for FieldValue {
    fn from(n: Decimal) -> Self {
        FieldValue::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_fractional_amounts_round_trip_exactly() {
        for text in ["1250000.00", "12.50", "98765432109876543.21", "0.0000001", "-4711.10"] {
            let value: FieldValue = serde_json::from_str(text).unwrap();
            assert_eq!(value, FieldValue::Number(Decimal::from_str_exact(text).unwrap()));
            assert_eq!(serde_json::to_string(&value).unwrap(), text);
        }
    }

    #[test]
    fn nested_values_are_refused_with_their_kind() {
        let err = serde_json::from_str::<FieldValue>("[1,2]").unwrap_err();
        assert!(err.to_string().contains("found an array"), "{err}");
    }
}

#[cfg(test)]
mod same_value_tests {
    use super::FieldValue;

    #[test]
    fn human_forms_are_the_same_value_as_fno_holds_them() {
        let t = |s: &str| FieldValue::Text(s.into());
        assert!(t("No").same_value(&FieldValue::Bool(false)));
        assert!(FieldValue::Bool(true).same_value(&t("Yes")));
        assert!(!t("No").same_value(&FieldValue::Bool(true)));
        assert!(t("2026-12-31").same_value(&t("2026-12-31T12:00:00Z")));
        assert!(!t("2026-12-31").same_value(&t("2026-12-30T12:00:00Z")));
        assert!(!t("WF-CHK-441").same_value(&t("WF-CHK-4410")));
        assert!(!FieldValue::Null.same_value(&t("")));
    }
}
