//! The one encoder from a run's field values to the JSON F&O's `$metadata` declares (FNO.md §2).
//!
//! A run may hold a value in its human form (`"Enabled": "No"`, `"DueDate": "2026-12-18"`); F&O wants
//! the form of the property's Edm type (`false`, `"2026-12-18T12:00:00Z"`). [`encode_value`] maps one
//! value through its catalog [`Property`] and checks the facets (`Nullable`, `MaxLength`, `Precision`,
//! `Scale`, enum members) on the way, so a value F&O would refuse is refused here, naming the field,
//! the type and the value. Policy uses the same function to judge a run before anyone approves it.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::metadata::{Catalog, Property};
use crate::model::{FieldValue, Fields};
use crate::text::visible;

/// Why a value cannot be sent as its property's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("entity set {set} is not in the synced metadata: run `signoff connector sync-metadata`")]
    UnknownSet { set: String },
    #[error("field '{field}' does not exist on {set} in the synced metadata")]
    UnknownField { set: String, field: String },
    #[error("{field} allows {max} characters; '{value}' has {chars}")]
    TooLong { field: String, max: u32, value: String, chars: usize },
    #[error("{field} cannot be empty (null): {type_name} is declared Nullable=\"false\"")]
    NotNullable { field: String, type_name: String },
    #[error("{field} allows {scale} decimal place(s) ({type_name}, Scale={scale}); {value} has {found}")]
    TooManyDecimals { field: String, type_name: String, scale: u32, value: String, found: u32 },
    #[error("{field} allows {allowed} digit(s) before the decimal point ({type_name}, {facets}); {value} has {found}")]
    TooManyDigits { field: String, type_name: String, facets: String, allowed: u32, value: String, found: u32 },
    #[error("{field} is the enum {enum_name}: '{value}' is not one of its members ({members})")]
    NotMember { field: String, enum_name: String, value: String, members: String },
    #[error("{field} is {type_name}: expected {expected}, found {found}")]
    WrongType { field: String, type_name: String, expected: &'static str, found: String },
}

impl EncodeError {
    /// The field the error is about.
    pub fn field(&self) -> &str {
        match self {
            EncodeError::UnknownSet { set } => set,
            EncodeError::UnknownField { field, .. }
            | EncodeError::TooLong { field, .. }
            | EncodeError::NotNullable { field, .. }
            | EncodeError::TooManyDecimals { field, .. }
            | EncodeError::TooManyDigits { field, .. }
            | EncodeError::NotMember { field, .. }
            | EncodeError::WrongType { field, .. } => field,
        }
    }
}

/// The value as F&O's JSON needs it for `property`, or why it cannot be sent. `catalog` supplies the
/// members of an enum-typed property.
pub fn encode_value(
    field: &str,
    value: &FieldValue,
    property: &Property,
    catalog: &Catalog,
) -> Result<Value, EncodeError> {
    let field_name = visible(field).into_owned();
    let type_name = visible(&property.type_name).into_owned();
    let wrong = |expected: &'static str| EncodeError::WrongType {
        field: field_name.clone(),
        type_name: type_name.clone(),
        expected,
        found: describe(value),
    };
    if let FieldValue::Null = value {
        return if property.nullable {
            Ok(Value::Null)
        } else {
            Err(EncodeError::NotNullable { field: field_name, type_name })
        };
    }
    if let Some(enum_name) = &property.enum_type {
        let members: Vec<&str> = catalog
            .enum_types
            .get(enum_name)
            .map(|e| e.members.iter().map(|m| m.name.as_str()).collect())
            .unwrap_or_default();
        return encode_enum(&field_name, enum_name, &members, value);
    }
    match property.type_name.as_str() {
        "Edm.Boolean" => match value {
            FieldValue::Bool(b) => Ok(Value::Bool(*b)),
            FieldValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" => Ok(Value::Bool(true)),
                "no" | "false" => Ok(Value::Bool(false)),
                _ => Err(wrong("true or false (or \"Yes\"/\"No\")")),
            },
            _ => Err(wrong("true or false (or \"Yes\"/\"No\")")),
        },
        "Edm.String" | "Edm.Guid" => match value {
            FieldValue::Text(s) => {
                let chars = s.chars().count();
                match property.max_length {
                    Some(max) if chars > max as usize => {
                        Err(EncodeError::TooLong { field: field_name, max, value: visible(s).into_owned(), chars })
                    }
                    _ => Ok(Value::String(s.clone())),
                }
            }
            _ => Err(wrong("text (a JSON string)")),
        },
        "Edm.Decimal" => match value {
            FieldValue::Number(n) => {
                check_decimal(&field_name, &type_name, *n, property)?;
                Ok(exact_number(*n))
            }
            _ => Err(wrong("a number (a JSON number, no quotes)")),
        },
        "Edm.Double" | "Edm.Single" => match value {
            FieldValue::Number(n) => Ok(exact_number(*n)),
            _ => Err(wrong("a number (a JSON number, no quotes)")),
        },
        "Edm.Int64" | "Edm.Int32" | "Edm.Int16" | "Edm.Byte" | "Edm.SByte" => match value {
            FieldValue::Number(n) if n.fract().is_zero() && fits_integer(&property.type_name, *n) => {
                Ok(exact_number(n.trunc()))
            }
            FieldValue::Number(_) => Err(wrong("a whole number in the type's range")),
            _ => Err(wrong("a whole number (a JSON number, no quotes)")),
        },
        "Edm.DateTimeOffset" => match value {
            FieldValue::Text(s) => date_time(s).map(Value::String).ok_or_else(|| {
                wrong("a date (2026-12-18, sent as 2026-12-18T12:00:00Z) or an RFC 3339 time (2026-12-18T12:00:00Z)")
            }),
            _ => Err(wrong("a date or time as text (2026-12-18T12:00:00Z)")),
        },
        "Edm.Date" => match value {
            FieldValue::Text(s) => date_only(s).map(Value::String).ok_or_else(|| wrong("a date (2026-12-18)")),
            _ => Err(wrong("a date as text (2026-12-18)")),
        },
        // A type signoff does not model (complex types, enums of another schema): sent as the run holds it.
        _ => Ok(value.to_json()),
    }
}

fn encode_enum(field: &str, enum_name: &str, members: &[&str], value: &FieldValue) -> Result<Value, EncodeError> {
    let not_member = |shown: String| EncodeError::NotMember {
        field: field.to_string(),
        enum_name: visible(enum_name).into_owned(),
        value: shown,
        members: members.iter().map(|m| visible(m).into_owned()).collect::<Vec<_>>().join(", "),
    };
    match value {
        FieldValue::Text(s) => members
            .iter()
            .find(|m| m.eq_ignore_ascii_case(s.trim()))
            .map(|m| Value::String(m.to_string()))
            .ok_or_else(|| not_member(visible(s).into_owned())),
        // The human form of a NoYes-like enum.
        FieldValue::Bool(b) => {
            let name = if *b { "Yes" } else { "No" };
            members
                .iter()
                .find(|m| **m == name)
                .map(|m| Value::String(m.to_string()))
                .ok_or_else(|| not_member(b.to_string()))
        }
        FieldValue::Number(_) | FieldValue::Null => Err(EncodeError::WrongType {
            field: field.to_string(),
            type_name: format!("the enum {}", visible(enum_name)),
            expected: "a member name as text",
            found: describe(value),
        }),
    }
}

fn check_decimal(field: &str, type_name: &str, n: Decimal, property: &Property) -> Result<(), EncodeError> {
    let normal = n.normalize();
    let decimals = normal.scale();
    if let Some(scale) = property.scale
        && decimals > scale
    {
        return Err(EncodeError::TooManyDecimals {
            field: field.to_string(),
            type_name: type_name.to_string(),
            scale,
            value: n.to_string(),
            found: decimals,
        });
    }
    if let Some(precision) = property.precision {
        let integer_digits = integer_digits(normal);
        // Decimal(p, s) holds p - s digits before the point; without a scale, p digits in all.
        let (allowed, found, facets) = match property.scale {
            Some(scale) => {
                (precision.saturating_sub(scale), integer_digits, format!("Precision={precision}, Scale={scale}"))
            }
            None => (precision.saturating_sub(decimals), integer_digits, format!("Precision={precision}")),
        };
        if found > allowed {
            return Err(EncodeError::TooManyDigits {
                field: field.to_string(),
                type_name: type_name.to_string(),
                facets,
                allowed,
                value: n.to_string(),
                found,
            });
        }
    }
    Ok(())
}

fn integer_digits(n: Decimal) -> u32 {
    let whole = n.trunc().abs();
    if whole.is_zero() { 0 } else { whole.to_string().len() as u32 }
}

fn fits_integer(type_name: &str, n: Decimal) -> bool {
    let (min, max): (i128, i128) = match type_name {
        "Edm.Int64" => (i64::MIN.into(), i64::MAX.into()),
        "Edm.Int32" => (i32::MIN.into(), i32::MAX.into()),
        "Edm.Int16" => (i16::MIN.into(), i16::MAX.into()),
        "Edm.Byte" => (0, 255),
        _ => (-128, 127),
    };
    i128::try_from(n.trunc()).is_ok_and(|v| (min..=max).contains(&v))
}

/// A JSON number with exactly the decimal's digits (serde_json's arbitrary precision keeps the text).
fn exact_number(n: Decimal) -> Value {
    Value::Number(serde_json::Number::from_str(&n.to_string()).expect("a decimal always prints as a JSON number"))
}

/// F&O's form of a date-time: an RFC 3339 time as given; a bare date at noon UTC, as F&O stores
/// date-only fields (FNO.md §2).
fn date_time(text: &str) -> Option<String> {
    let t = text.trim();
    if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Some(t.to_string());
    }
    let day = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
    Some(format!("{}T12:00:00Z", day.format("%Y-%m-%d")))
}

fn date_only(text: &str) -> Option<String> {
    let t = text.trim();
    let day = chrono::NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
    (t.len() == 10 || chrono::DateTime::parse_from_rfc3339(t).is_ok()).then(|| day.format("%Y-%m-%d").to_string())
}

/// A value for a message: its JSON kind and text (`the string 'No'`, `the number 12.50`).
fn describe(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => format!("the string '{}'", visible(s)),
        FieldValue::Number(n) => format!("the number {n}"),
        FieldValue::Bool(b) => format!("the boolean {b}"),
        FieldValue::Null => "null".into(),
    }
}

/// How a client turns fields into a request body: through the synced catalog, or (none synced) as the
/// run holds them, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encoder<'c> {
    catalog: Option<&'c Catalog>,
}

impl<'c> Encoder<'c> {
    pub fn new(catalog: Option<&'c Catalog>) -> Self {
        Encoder { catalog }
    }

    /// The JSON object for writing `fields` to entity set `set`. With a catalog, every field must exist
    /// on the set and fit its type and facets (fail closed: nothing unknown is sent).
    pub fn object(&self, set: &str, fields: &Fields) -> Result<Map<String, Value>, EncodeError> {
        let Some(catalog) = self.catalog else {
            return Ok(fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect());
        };
        let ty =
            catalog.entity_type_of(set).ok_or_else(|| EncodeError::UnknownSet { set: visible(set).into_owned() })?;
        let mut out = Map::new();
        for (name, value) in fields {
            let property = ty.properties.get(name).ok_or_else(|| EncodeError::UnknownField {
                set: visible(set).into_owned(),
                field: visible(name).into_owned(),
            })?;
            out.insert(name.clone(), encode_value(name, value, property, catalog)?);
        }
        Ok(out)
    }

    /// [`Encoder::object`] as the request body text.
    pub fn body(&self, set: &str, fields: &Fields) -> Result<String, EncodeError> {
        self.object(set, fields).map(|m| Value::Object(m).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fno::metadata::{EntityType, EnumMember, EnumType};

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.enum_types.insert(
            "NoYes".into(),
            EnumType {
                name: "NoYes".into(),
                members: vec![EnumMember { name: "No".into(), value: 0 }, EnumMember { name: "Yes".into(), value: 1 }],
            },
        );
        let mut ty = EntityType { name: "VendorV2".into(), ..Default::default() };
        let mut add = |name: &str, p: Property| {
            ty.properties.insert(name.into(), p);
        };
        add("BankAccountId", Property { max_length: Some(10), ..Property::of_type("Edm.String") });
        add("Enabled", Property { nullable: false, ..Property::of_type("Edm.Boolean") });
        add(
            "IsOnHold",
            Property {
                nullable: false,
                enum_type: Some("NoYes".into()),
                ..Property::of_type("Microsoft.Dynamics.DataEntities.NoYes")
            },
        );
        add("ImportedAmount", Property { precision: Some(32), scale: Some(6), ..Property::of_type("Edm.Decimal") });
        add("Price", Property { precision: Some(5), scale: Some(2), ..Property::of_type("Edm.Decimal") });
        add("DueDate", Property::of_type("Edm.DateTimeOffset"));
        add("RecId", Property { nullable: false, ..Property::of_type("Edm.Int64") });
        c.entity_types.insert("VendorV2".into(), ty);
        c.entity_sets.insert("VendorsV2".into(), "VendorV2".into());
        c
    }

    fn enc(field: &str, value: FieldValue) -> Result<Value, EncodeError> {
        let c = catalog();
        let p = c.property("VendorsV2", field).unwrap().clone();
        encode_value(field, &value, &p, &c)
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    fn num(s: &str) -> FieldValue {
        FieldValue::Number(Decimal::from_str_exact(s).unwrap())
    }

    #[test]
    fn a_boolean_is_sent_as_true_or_false_whatever_form_the_run_used() {
        assert_eq!(enc("Enabled", FieldValue::Bool(false)).unwrap(), Value::Bool(false));
        assert_eq!(enc("Enabled", text("No")).unwrap(), Value::Bool(false));
        assert_eq!(enc("Enabled", text("Yes")).unwrap(), Value::Bool(true));
        let err = enc("Enabled", text("Perhaps")).unwrap_err().to_string();
        assert_eq!(
            err,
            "Enabled is Edm.Boolean: expected true or false (or \"Yes\"/\"No\"), found the string 'Perhaps'"
        );
        assert!(enc("Enabled", num("1")).is_err(), "a number is not a boolean");
    }

    #[test]
    fn an_enum_is_sent_by_member_name_and_a_non_member_is_named() {
        assert_eq!(enc("IsOnHold", text("No")).unwrap(), Value::String("No".into()));
        assert_eq!(enc("IsOnHold", FieldValue::Bool(true)).unwrap(), Value::String("Yes".into()));
        let err = enc("IsOnHold", text("Maybe")).unwrap_err().to_string();
        assert_eq!(err, "IsOnHold is the enum NoYes: 'Maybe' is not one of its members (No, Yes)");
    }

    #[test]
    fn decimals_are_exact_and_their_scale_and_precision_are_checked() {
        let big = enc("ImportedAmount", num("98765432109876543.21")).unwrap();
        assert_eq!(big.to_string(), "98765432109876543.21");
        assert_eq!(enc("ImportedAmount", num("12.50")).unwrap().to_string(), "12.50", "trailing zeros kept");
        let err = enc("Price", num("12.505")).unwrap_err().to_string();
        assert_eq!(err, "Price allows 2 decimal place(s) (Edm.Decimal, Scale=2); 12.505 has 3");
        assert!(enc("Price", num("999.990")).is_ok(), "a trailing zero is no extra decimal place");
        let err = enc("Price", num("1000.00")).unwrap_err().to_string();
        assert_eq!(
            err,
            "Price allows 3 digit(s) before the decimal point (Edm.Decimal, Precision=5, Scale=2); 1000.00 has 4"
        );
        let err = enc("ImportedAmount", text("12.50")).unwrap_err().to_string();
        assert_eq!(
            err,
            "ImportedAmount is Edm.Decimal: expected a number (a JSON number, no quotes), found the string '12.50'"
        );
    }

    #[test]
    fn a_date_only_value_is_sent_at_noon_utc_and_a_full_time_as_given() {
        assert_eq!(enc("DueDate", text("2026-12-18")).unwrap(), Value::String("2026-12-18T12:00:00Z".into()));
        assert_eq!(enc("DueDate", text("2026-12-18T12:00:00Z")).unwrap(), Value::String("2026-12-18T12:00:00Z".into()));
        assert!(enc("DueDate", text("18/12/2026")).unwrap_err().to_string().contains("found the string '18/12/2026'"));
    }

    #[test]
    fn null_is_sent_only_where_the_property_is_nullable() {
        assert_eq!(enc("BankAccountId", FieldValue::Null).unwrap(), Value::Null);
        let err = enc("IsOnHold", FieldValue::Null).unwrap_err().to_string();
        assert_eq!(
            err,
            "IsOnHold cannot be empty (null): Microsoft.Dynamics.DataEntities.NoYes is declared Nullable=\"false\""
        );
    }

    #[test]
    fn max_length_counts_characters_not_bytes() {
        assert!(enc("BankAccountId", text("WF-CHK-441")).is_ok());
        assert!(enc("BankAccountId", text("ÄÖÜ-CHK-44")).is_ok(), "10 characters, 13 bytes");
        let err = enc("BankAccountId", text("WF-CHK-4410")).unwrap_err().to_string();
        assert_eq!(err, "BankAccountId allows 10 characters; 'WF-CHK-4410' has 11");
        assert!(enc("BankAccountId", num("4410")).is_err(), "a number where text is declared");
    }

    #[test]
    fn integers_must_be_whole() {
        assert_eq!(enc("RecId", num("5637144621")).unwrap().to_string(), "5637144621");
        assert!(enc("RecId", num("1.5")).is_err());
    }

    #[test]
    fn with_a_catalog_a_body_is_encoded_and_unknown_fields_are_refused() {
        let c = catalog();
        let mut fields = Fields::new();
        fields.insert("Enabled".into(), text("No"));
        fields.insert("ImportedAmount".into(), num("1250.50"));
        let body = Encoder::new(Some(&c)).body("VendorsV2", &fields).unwrap();
        assert_eq!(body, r#"{"Enabled":false,"ImportedAmount":1250.50}"#);
        assert_eq!(
            Encoder::new(None).body("VendorsV2", &fields).unwrap(),
            r#"{"Enabled":"No","ImportedAmount":1250.50}"#
        );
        fields.insert("Colour".into(), text("red"));
        let err = Encoder::new(Some(&c)).body("VendorsV2", &fields).unwrap_err();
        assert_eq!(err.to_string(), "field 'Colour' does not exist on VendorsV2 in the synced metadata");
        assert!(matches!(Encoder::new(Some(&c)).body("Vendors", &fields), Err(EncodeError::UnknownSet { .. })));
    }
}
