//! OData key and query encoding, in one place: `Set(dataAreaId='usmf',HeaderReference='APINV-000123')`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;

use super::metadata::Catalog;
use crate::model::{FieldValue, Fields};

/// One key value, typed so that it is quoted (strings) or not (numbers, dates) correctly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    Text(String),
    Number(Decimal),
    /// A date-only value; F&O stores it at 12:00Z.
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Bool(bool),
}

impl KeyValue {
    /// The OData literal: strings in `'…'` with `'` doubled, everything else bare.
    pub fn literal(&self) -> String {
        match self {
            KeyValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
            KeyValue::Number(n) => n.normalize().to_string(),
            KeyValue::Date(d) => format!("{}T12:00:00Z", d.format("%Y-%m-%d")),
            KeyValue::DateTime(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            KeyValue::Bool(b) => b.to_string(),
        }
    }
}

/// A record's full key, in the order given (F&O accepts any order; a stable order keeps URLs comparable).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntityKey {
    parts: Vec<(String, KeyValue)>,
}

impl EntityKey {
    pub fn new() -> Self {
        EntityKey::default()
    }

    /// Add a string key part.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts.push((name.to_string(), KeyValue::Text(value.to_string())));
        self
    }

    /// Add a number key part.
    pub fn number(mut self, name: &str, value: Decimal) -> Self {
        self.parts.push((name.to_string(), KeyValue::Number(value)));
        self
    }

    /// Add any typed key part.
    pub fn with(mut self, name: &str, value: KeyValue) -> Self {
        self.parts.push((name.to_string(), value));
        self
    }

    /// Build a key from a run's key fields: text is quoted, numbers and booleans are bare.
    ///
    /// Text that is a date in F&O must be given with [`EntityKey::with`] and [`KeyValue::Date`]: a string
    /// that merely looks like a date may be a string key, so it is never guessed.
    pub fn from_fields(fields: &Fields) -> Result<Self, String> {
        let mut key = EntityKey::new();
        for (name, value) in fields {
            let part = match value {
                FieldValue::Text(s) => KeyValue::Text(s.clone()),
                FieldValue::Number(n) => KeyValue::Number(*n),
                FieldValue::Bool(b) => KeyValue::Bool(*b),
                FieldValue::Null => return Err(format!("key field {name} is empty; every key field is required")),
            };
            key.parts.push((name.clone(), part));
        }
        if key.parts.is_empty() {
            return Err("the key has no fields".into());
        }
        Ok(key)
    }

    /// The key with each text part typed by the entity's `$metadata`: a date key (`Edm.DateTimeOffset`,
    /// e.g. an employment's `EmploymentStartDate`) is sent bare, as F&O wants it (FNO.md §2), never
    /// quoted like a string. A run keeps key values as F&O sends them (text), so only the catalog can
    /// tell a date key from a string that looks like one. A value that is not a valid date stays text
    /// (the `record.keys` policy rule refuses it before anything is sent).
    pub fn typed_by(&self, catalog: &Catalog, set: &str) -> EntityKey {
        let parts = self
            .parts
            .iter()
            .map(|(name, value)| {
                let typed = match (value, catalog.property(set, name).map(|p| p.type_name.as_str())) {
                    (KeyValue::Text(t), Some("Edm.DateTimeOffset")) => {
                        DateTime::parse_from_rfc3339(t).ok().map(|d| KeyValue::DateTime(d.with_timezone(&Utc)))
                    }
                    _ => None,
                };
                (name.clone(), typed.unwrap_or_else(|| value.clone()))
            })
            .collect();
        EntityKey { parts }
    }

    /// The key parts in order.
    pub fn parts(&self) -> &[(String, KeyValue)] {
        &self.parts
    }

    /// True when the key names a company (`dataAreaId`): such reads and writes need `cross-company=true`
    /// unless the company is the caller's default.
    pub fn has_company(&self) -> bool {
        self.parts.iter().any(|(n, _)| n == "dataAreaId")
    }

    /// The key as OData text, not yet percent-encoded: `(dataAreaId='usmf',LineNumber=1)`.
    pub fn odata(&self) -> String {
        let inner: Vec<String> = self.parts.iter().map(|(n, v)| format!("{n}={}", v.literal())).collect();
        format!("({})", inner.join(","))
    }

    /// The key ready for a URL path segment: `(dataAreaId='usmf',HeaderReference='APINV%20000123')`.
    pub fn path_segment(&self) -> String {
        encode_path(&self.odata())
    }
}

/// `Set(keys)`, percent-encoded for a URL path.
pub fn entity_path(set: &str, key: &EntityKey) -> String {
    format!("{}{}", encode_path(set), key.path_segment())
}

/// Percent-encode for a path segment. OData's own characters (`'(),=:`) stay readable.
pub fn encode_path(text: &str) -> String {
    encode(text, b"-._~'(),=:*!$@;")
}

/// Percent-encode a query option value (`$filter=…`): spaces become `%20`, never `+`.
pub fn encode_query_value(text: &str) -> String {
    encode(text, b"-._~'(),:*!$@/")
}

fn encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An OData string literal for `$filter` (`'O''Brien'`).
pub fn string_literal(value: &str) -> String {
    KeyValue::Text(value.to_string()).literal()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn composite_string_key_is_quoted_in_order() {
        let key = EntityKey::new().text("dataAreaId", "usmf").text("HeaderReference", "APINV-000123");
        assert_eq!(
            entity_path("VendorInvoiceHeaders", &key),
            "VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-000123')"
        );
    }

    #[test]
    fn a_date_key_is_typed_by_the_catalog_and_sent_bare() {
        let catalog = crate::fno::parse_csdl(include_str!("../../fixtures/csdl/usmf-sandbox.xml")).unwrap();
        let key = EntityKey::new()
            .text("PersonnelNumber", "000131")
            .text("LegalEntityId", "USMF")
            .text("EmploymentStartDate", "2021-06-14T12:00:00Z");
        assert_eq!(
            key.typed_by(&catalog, "Employments").odata(),
            "(PersonnelNumber='000131',LegalEntityId='USMF',EmploymentStartDate=2021-06-14T12:00:00Z)"
        );
        // A string key that looks like a date stays a string.
        let invoice = EntityKey::new().text("dataAreaId", "usmf").text("HeaderReference", "2021-06-14T12:00:00Z");
        assert_eq!(invoice.typed_by(&catalog, "VendorInvoiceHeaders"), invoice);
    }

    #[test]
    fn single_quotes_are_doubled() {
        let key = EntityKey::new().text("VendorAccountNumber", "O'Brien & Sons");
        assert_eq!(key.odata(), "(VendorAccountNumber='O''Brien & Sons')");
        assert_eq!(key.path_segment(), "(VendorAccountNumber='O''Brien%20%26%20Sons')");
    }

    #[test]
    fn numbers_and_dates_are_bare() {
        let key = EntityKey::new()
            .text("dataAreaId", "usmf")
            .text("JournalBatchNumber", "00461")
            .number("LineNumber", Decimal::from_str("1.0000").unwrap())
            .with("TransDate", KeyValue::Date(NaiveDate::from_ymd_opt(2019, 10, 4).unwrap()));
        assert_eq!(
            key.odata(),
            "(dataAreaId='usmf',JournalBatchNumber='00461',LineNumber=1,TransDate=2019-10-04T12:00:00Z)"
        );
    }

    #[test]
    fn datetimes_are_utc_with_z() {
        let t = DateTime::parse_from_rfc3339("2019-10-04T12:00:00+00:00").unwrap().with_timezone(&Utc);
        assert_eq!(KeyValue::DateTime(t).literal(), "2019-10-04T12:00:00Z");
    }

    #[test]
    fn unicode_is_percent_encoded_as_utf8() {
        let key = EntityKey::new().text("VendorAccountNumber", "Müller/Ø");
        assert_eq!(key.path_segment(), "(VendorAccountNumber='M%C3%BCller%2F%C3%98')");
    }

    #[test]
    fn reserved_url_characters_cannot_escape_the_segment() {
        let key = EntityKey::new().text("HeaderReference", "A?b#c%d+e");
        assert_eq!(key.path_segment(), "(HeaderReference='A%3Fb%23c%25d%2Be')");
    }

    #[test]
    fn keys_from_run_fields_keep_numbers_bare() {
        let mut fields = Fields::new();
        fields.insert("LineNumber".into(), FieldValue::Number(Decimal::from(2)));
        fields.insert("JournalBatchNumber".into(), FieldValue::Text("00461".into()));
        let key = EntityKey::from_fields(&fields).unwrap();
        assert_eq!(key.odata(), "(JournalBatchNumber='00461',LineNumber=2)");
    }

    #[test]
    fn an_empty_key_field_is_refused() {
        let mut fields = Fields::new();
        fields.insert("HeaderReference".into(), FieldValue::Null);
        assert!(EntityKey::from_fields(&fields).unwrap_err().contains("HeaderReference"));
    }

    #[test]
    fn filter_values_use_percent_twenty_for_spaces() {
        assert_eq!(encode_query_value("dataAreaId eq 'usmf'"), "dataAreaId%20eq%20'usmf'");
    }
}
