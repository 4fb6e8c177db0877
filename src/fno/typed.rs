//! Values people type (`--set DueDate=2026-12-20`, `--key LineNumber=3`, a string in a patch file) read
//! as the property's `$metadata` type, then put in the exact form F&O sends and accepts.
//!
//! Reading text by type is the inverse of [`super::encode_value`]; the result then goes through that same
//! encoder, so every facet (`MaxLength`, `Precision`/`Scale`, enum members, `Nullable`) is checked by the
//! one function the connector sends writes with. The value kept is the encoder's output: `"No"` for
//! a NoYes enum, `false` for an `Edm.Boolean`, `2026-12-20T12:00:00Z` for a date-only `DateTimeOffset`.

use super::encode::{EncodeError, encode_value};
use super::metadata::{Catalog, Property};
use crate::model::{FieldValue, parse_decimal};
use crate::text::visible;

/// `value` as F&O's JSON holds it for `property`: text given for a number or a boolean is read as one
/// (strictly: digits with at most one `.`, no thousands separators), then every facet is checked.
pub fn typed_value(
    field: &str,
    value: &FieldValue,
    property: &Property,
    catalog: &Catalog,
) -> Result<FieldValue, EncodeError> {
    let read = match value {
        FieldValue::Text(text) if property.enum_type.is_none() => read_text(field, text, property)?,
        other => other.clone(),
    };
    let json = encode_value(field, &read, property, catalog)?;
    // The encoder only emits scalars, which always convert back.
    FieldValue::from_json(&json).map_err(|_| EncodeError::WrongType {
        field: visible(field).into_owned(),
        type_name: visible(&property.type_name).into_owned(),
        expected: "a single value",
        found: visible(&json.to_string()).into_owned(),
    })
}

/// Text typed for `property`, as the JSON type its Edm type needs (text stays text for strings, enums
/// and dates, whose forms the encoder checks).
fn read_text(field: &str, text: &str, property: &Property) -> Result<FieldValue, EncodeError> {
    let wrong = |expected: &'static str| EncodeError::WrongType {
        field: visible(field).into_owned(),
        type_name: visible(&property.type_name).into_owned(),
        expected,
        found: format!("'{}'", visible(text)),
    };
    match property.type_name.as_str() {
        "Edm.Decimal" | "Edm.Double" | "Edm.Single" => plain_number(text)
            .ok_or_else(|| wrong("a number such as 1240.00 (digits and one '.', no thousands separators)")),
        "Edm.Int64" | "Edm.Int32" | "Edm.Int16" | "Edm.Byte" | "Edm.SByte" => {
            plain_number(text).ok_or_else(|| wrong("a whole number such as 3"))
        }
        "Edm.Boolean" => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(FieldValue::Bool(true)),
            "false" | "no" => Ok(FieldValue::Bool(false)),
            _ => Err(wrong("true or false (or yes / no)")),
        },
        _ => Ok(FieldValue::Text(text.to_string())),
    }
}

/// `-1240.00` as an exact number; anything with separators, exponents or spaces is not one.
fn plain_number(text: &str) -> Option<FieldValue> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    if !plain {
        return None;
    }
    parse_decimal(text).ok().map(FieldValue::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fno::metadata::{EnumMember, EnumType};

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        let members =
            ["No", "Yes"].iter().enumerate().map(|(i, n)| EnumMember { name: n.to_string(), value: i as i64 });
        c.enum_types.insert("NoYes".into(), EnumType { name: "NoYes".into(), members: members.collect() });
        c
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    fn decimal(precision: u32, scale: u32) -> Property {
        Property { precision: Some(precision), scale: Some(scale), ..Property::of_type("Edm.Decimal") }
    }

    #[test]
    fn typed_text_becomes_the_form_fno_sends() {
        let c = catalog();
        let date = Property::of_type("Edm.DateTimeOffset");
        assert_eq!(typed_value("DueDate", &text("2026-12-20"), &date, &c).unwrap(), text("2026-12-20T12:00:00Z"));
        let boolean = Property::of_type("Edm.Boolean");
        assert_eq!(typed_value("Enabled", &text("No"), &boolean, &c).unwrap(), FieldValue::Bool(false));
        let noyes =
            Property { enum_type: Some("NoYes".into()), ..Property::of_type("Microsoft.Dynamics.DataEntities.NoYes") };
        assert_eq!(typed_value("IsOnHold", &text("yes"), &noyes, &c).unwrap(), text("Yes"));
        let amount = typed_value("DebitAmount", &text("1240.00"), &decimal(32, 6), &c).unwrap();
        assert_eq!(amount.to_string(), "1240.00");
        let line = typed_value("LineNumber", &text("3"), &Property::of_type("Edm.Int64"), &c).unwrap();
        assert_eq!(line, FieldValue::Number(3.into()));
    }

    #[test]
    fn each_broken_rule_is_named_with_the_field() {
        let c = catalog();
        let bank = Property { max_length: Some(10), ..Property::of_type("Edm.String") };
        let err = typed_value("BankAccountId", &text("WF-CHK-4410"), &bank, &c).unwrap_err();
        assert_eq!(err.to_string(), "BankAccountId allows 10 characters; 'WF-CHK-4410' has 11");
        let err = typed_value("DebitAmount", &text("1,240.00"), &decimal(32, 6), &c).unwrap_err();
        assert!(err.to_string().starts_with("DebitAmount is Edm.Decimal: expected a number such as 1240.00"), "{err}");
        let err = typed_value("DebitAmount", &text("1.2345678"), &decimal(32, 6), &c).unwrap_err();
        assert!(err.to_string().contains("allows 6 decimal place(s)"), "{err}");
        let noyes =
            Property { enum_type: Some("NoYes".into()), ..Property::of_type("Microsoft.Dynamics.DataEntities.NoYes") };
        let err = typed_value("IsOnHold", &text("Maybe"), &noyes, &c).unwrap_err();
        assert!(err.to_string().contains("not one of its members (No, Yes)"), "{err}");
        let strict = Property { nullable: false, ..Property::of_type("Edm.String") };
        assert!(matches!(typed_value("Name", &FieldValue::Null, &strict, &c), Err(EncodeError::NotNullable { .. })));
    }

    #[test]
    fn only_plain_numbers_are_numbers() {
        for bad in ["", "-", "1.", ".5", "1e3", "1 000", "1,000", "+1", "12.5.0"] {
            assert!(plain_number(bad).is_none(), "{bad:?} is not a plain number");
        }
        assert_eq!(plain_number("-0.50").unwrap().to_string(), "-0.50");
    }
}
