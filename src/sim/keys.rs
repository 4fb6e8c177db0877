//! Resource paths under `/data/`: `Set`, `Set(keys)`, `Set(keys)/Namespace.Action`, `Set/$count`.

use serde_json::{Map, Value};

use super::schema::{EntityDef, PropType};

/// A path split into its parts (nothing checked yet).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourcePath {
    pub set: String,
    /// The text inside the key parentheses.
    pub keys: Option<String>,
    /// What follows, without the leading `/` (`$count`, `Microsoft.Dynamics.DataEntities.signoffPost`).
    pub tail: Option<String>,
}

/// Split a decoded path (after `/data/`) into set, key text and tail. Quotes protect `(`, `)` and `/`.
pub fn split(path: &str) -> Result<ResourcePath, String> {
    let Some(open) = path.find(['(', '/']) else {
        return Ok(ResourcePath { set: path.to_string(), keys: None, tail: None });
    };
    let set = path[..open].to_string();
    let rest = &path[open..];
    if let Some(tail) = rest.strip_prefix('/') {
        return Ok(ResourcePath { set, keys: None, tail: Some(tail.to_string()) });
    }
    let mut in_quote = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            '\'' => in_quote = !in_quote,
            ')' if !in_quote => {
                let keys = rest[1..i].to_string();
                let after = &rest[i + 1..];
                let tail = match after {
                    "" => None,
                    t => {
                        Some(t.strip_prefix('/').ok_or_else(|| format!("Bad request: '{path}' is not a valid path."))?)
                    }
                };
                return Ok(ResourcePath { set, keys: Some(keys), tail: tail.map(str::to_string) });
            }
            _ => {}
        }
    }
    Err(format!("Bad request: the key in '{path}' is not closed with ')'."))
}

/// Parse the key text against the entity: every key field once, in any order.
pub fn parse(def: &EntityDef, text: &str) -> Result<Map<String, Value>, String> {
    let mismatch = || {
        format!(
            "The number of keys specified in the URI does not match number of key properties for the resource '{}'.",
            def.qualified()
        )
    };
    let mut out = Map::new();
    for part in split_commas(text) {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) if !n.trim_start().starts_with('\'') => (n.trim().to_string(), v.trim()),
            _ if def.keys.len() == 1 => (def.keys[0].to_string(), part.trim()),
            _ => return Err(mismatch()),
        };
        if !def.keys.contains(&name.as_str()) {
            return Err(mismatch());
        }
        let ty = def.prop(&name).map(|p| p.ty);
        out.insert(name.clone(), typed(literal(value)?, value, ty, &name)?);
    }
    if out.len() != def.keys.len() {
        return Err(mismatch());
    }
    Ok(out)
}

/// A key literal must be of its property's type, as OData's URI parser requires: a date key is bare
/// (`EmploymentStartDate=2021-06-14T12:00:00Z`); quoted, it is a string and refused.
fn typed(value: Value, text: &str, ty: Option<PropType>, name: &str) -> Result<Value, String> {
    let quoted = text.starts_with('\'');
    let fits = match ty {
        Some(PropType::DateTime) => !quoted,
        Some(PropType::String(_)) => quoted,
        _ => true,
    };
    if fits {
        return Ok(value);
    }
    let edm = ty.map(PropType::edm).unwrap_or_default();
    Err(format!("Bad request: the key value {text} of '{name}' is not a valid literal of type '{edm}'."))
}

/// Commas outside quotes separate key parts.
fn split_commas(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    for c in text.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                current.push(c);
            }
            ',' if !in_quote => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// One key literal: `'text'` (with `''` for a quote), a number, `true`/`false`, or an unquoted date.
fn literal(text: &str) -> Result<Value, String> {
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Ok(Value::String(inner.replace("''", "'")));
    }
    if text == "true" || text == "false" {
        return Ok(Value::Bool(text == "true"));
    }
    if text.contains('T') && chrono::DateTime::parse_from_rfc3339(text).is_ok() {
        return Ok(Value::String(text.to_string()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Number(_)) => Ok(v),
        _ => Err(format!("Bad request: the key value {text} is not a valid literal.")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::entity;
    use super::*;

    #[test]
    fn composite_keys_parse_in_any_order_with_escaped_quotes() {
        let def = entity("VendorInvoiceHeaders").unwrap();
        let path = split("VendorInvoiceHeaders(HeaderReference='O''Neil, (1)',dataAreaId='usmf')").unwrap();
        let keys = parse(def, path.keys.as_deref().unwrap()).unwrap();
        assert_eq!(keys["HeaderReference"], "O'Neil, (1)");
        assert_eq!(keys["dataAreaId"], "usmf");
        assert_eq!(path.tail, None);
    }

    #[test]
    fn numeric_keys_are_unquoted_and_actions_follow_the_key() {
        let def = entity("LedgerJournalLines").unwrap();
        let path = split("LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00123',LineNumber=2)/X.y").unwrap();
        let keys = parse(def, path.keys.as_deref().unwrap()).unwrap();
        assert_eq!(keys["LineNumber"], serde_json::json!(2));
        assert_eq!(path.tail.as_deref(), Some("X.y"));
    }

    #[test]
    fn a_missing_key_field_is_refused() {
        let def = entity("LedgerJournalLines").unwrap();
        assert!(parse(def, "dataAreaId='usmf',LineNumber=2").unwrap_err().contains("number of keys"));
    }

    #[test]
    fn a_date_key_is_bare_and_a_quoted_one_is_refused_as_a_string() {
        let def = entity("Employments").unwrap();
        let bare = "PersonnelNumber='000131',LegalEntityId='USMF',EmploymentStartDate=2021-06-14T12:00:00Z";
        assert_eq!(parse(def, bare).unwrap()["EmploymentStartDate"], "2021-06-14T12:00:00Z");
        let quoted = "PersonnelNumber='000131',LegalEntityId='USMF',EmploymentStartDate='2021-06-14T12:00:00Z'";
        let refused = parse(def, quoted).unwrap_err();
        assert!(refused.contains("EmploymentStartDate") && refused.contains("Edm.DateTimeOffset"), "{refused}");
        let unquoted_text = "PersonnelNumber=131,LegalEntityId='USMF',EmploymentStartDate=2021-06-14T12:00:00Z";
        assert!(parse(def, unquoted_text).unwrap_err().contains("'Edm.String'"));
    }

    #[test]
    fn a_single_key_may_be_unnamed() {
        let def = entity("SystemUsers").unwrap();
        assert_eq!(parse(def, "'april'").unwrap()["UserID"], "april");
    }
}
