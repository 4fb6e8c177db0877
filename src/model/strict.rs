//! Reading a JSON text into a [`Value`] while noticing duplicate object keys.
//!
//! serde_json keeps the last of two equal keys without a word, so `"required_approvals": 2, …,
//! "required_approvals": 1` would import as 1 while a reviewer reading the file sees 2. This visitor
//! builds the same `Value` in the same single pass and only raises a flag; the (rare) file that has a
//! duplicate is then scanned by [`super::locate::Locator`] to name every one with both positions.

use std::fmt;
use std::str::FromStr;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The key serde_json (with `arbitrary_precision`) uses to hand a number's text through a map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A seed that deserializes any JSON value, setting `*duplicate` when some object repeats a key.
pub(crate) struct Strict<'a> {
    pub(crate) duplicate: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict { duplicate: &mut *self.duplicate })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if std::mem::take(&mut first) && key == NUMBER_TOKEN {
                // Not an object: an exact number, carried as its text.
                let text: String = map.next_value()?;
                return Number::from_str(&text).map(Value::Number).map_err(A::Error::custom);
            }
            let value = map.next_value_seed(Strict { duplicate: &mut *self.duplicate })?;
            if object.insert(key, value).is_some() {
                *self.duplicate = true;
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Value, bool) {
        let mut duplicate = false;
        let value =
            Strict { duplicate: &mut duplicate }.deserialize(&mut serde_json::Deserializer::from_str(text)).unwrap();
        (value, duplicate)
    }

    #[test]
    fn builds_the_same_value_as_serde_json_digit_for_digit() {
        let text = r#"{"a": [1, -2, 12.50, 98765432109876543.21, 1e3, true, null, "x"], "b": {"c": {}}}"#;
        let (value, duplicate) = read(text);
        assert!(!duplicate);
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(value["a"][3].to_string(), "98765432109876543.21");
        assert_eq!(value["a"][2].to_string(), "12.50");
    }

    #[test]
    fn a_repeated_key_at_any_depth_raises_the_flag() {
        assert!(read(r#"{"a": 1, "a": 2}"#).1);
        assert!(read(r#"{"a": [{"b": {"c": 1, "c": 1}}]}"#).1);
        assert!(!read(r#"{"a": {"c": 1}, "b": {"c": 1}}"#).1, "equal keys in different objects are fine");
    }
}
