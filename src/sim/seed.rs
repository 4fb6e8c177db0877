//! Seed data: the embedded `fixtures/fno/` files, or one `--seed FILE` in the same format.
//!
//! Format (`signoff.sim-seed/v1`): `{"format": …, "entities": {"<EntitySet>": [{"RecId": n,
//! "RecVersion": n, "<Property>": value, …}, …]}}`. `RecVersion` defaults to 1; properties left out take
//! their type's default, as F&O fills them on insert.

use serde_json::{Map, Value};

use super::SimError;
use super::schema::entity;
use super::state::{Data, Record, fill_defaults};

/// The seed format name.
pub const SEED_FORMAT: &str = "signoff.sim-seed/v1";

/// The embedded seed files, merged in this order.
const EMBEDDED: &[(&str, &str)] = &[
    ("fixtures/fno/master.json", include_str!("../../fixtures/fno/master.json")),
    ("fixtures/fno/invoices.json", include_str!("../../fixtures/fno/invoices.json")),
    ("fixtures/fno/journals.json", include_str!("../../fixtures/fno/journals.json")),
    ("fixtures/fno/workflow.json", include_str!("../../fixtures/fno/workflow.json")),
    ("fixtures/fno/customers.json", include_str!("../../fixtures/fno/customers.json")),
    ("fixtures/fno/security.json", include_str!("../../fixtures/fno/security.json")),
    ("fixtures/fno/workers.json", include_str!("../../fixtures/fno/workers.json")),
];

/// The embedded seed, loaded.
pub fn embedded() -> Result<Data, SimError> {
    let mut data = Data::default();
    for (origin, text) in EMBEDDED {
        load_into(&mut data, text, origin)?;
    }
    Ok(data)
}

/// A seed from one file's text.
pub fn from_text(text: &str, origin: &str) -> Result<Data, SimError> {
    let mut data = Data::default();
    load_into(&mut data, text, origin)?;
    Ok(data)
}

fn bad(origin: &str, message: String) -> SimError {
    SimError::Seed { origin: origin.to_string(), message }
}

/// Add one seed document's records to `data`.
pub fn load_into(data: &mut Data, text: &str, origin: &str) -> Result<(), SimError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(origin, e.to_string()))?;
    let format = doc.get("format").and_then(Value::as_str).unwrap_or("");
    if format != SEED_FORMAT {
        return Err(bad(origin, format!("\"format\" is '{format}'; expected '{SEED_FORMAT}'")));
    }
    let Some(entities) = doc.get("entities").and_then(Value::as_object) else {
        return Err(bad(origin, "\"entities\" must be an object of entity set → records".into()));
    };
    for (set, rows) in entities {
        let Some(def) = entity(set) else {
            return Err(bad(origin, format!("unknown entity set '{set}'")));
        };
        let Some(rows) = rows.as_array() else {
            return Err(bad(origin, format!("entities.{set} must be an array of records")));
        };
        for (i, row) in rows.iter().enumerate() {
            let at = format!("entities.{set}[{i}]");
            let Some(obj) = row.as_object() else {
                return Err(bad(origin, format!("{at} must be an object")));
            };
            let record = record_from(def, obj).map_err(|m| bad(origin, format!("{at}: {m}")))?;
            if record.rec_id >= data.next_rec_id {
                data.next_rec_id = record.rec_id;
            }
            let table = data.table_mut(set).ok_or_else(|| bad(origin, format!("no table for '{set}'")))?;
            table.insert(record).map_err(|m| bad(origin, format!("{at}: {m}")))?;
        }
    }
    Ok(())
}

fn record_from(def: &super::schema::EntityDef, obj: &Map<String, Value>) -> Result<Record, String> {
    let rec_id = obj.get("RecId").and_then(Value::as_i64).ok_or("\"RecId\" (an integer) is required")?;
    let rec_version =
        obj.get("RecVersion").map_or(Some(1), Value::as_i64).ok_or("\"RecVersion\" must be an integer")?;
    let mut fields = Map::new();
    for (k, v) in obj {
        if k == "RecId" || k == "RecVersion" {
            continue;
        }
        let Some(prop) = def.prop(k) else {
            return Err(format!("'{k}' is not a property of {}", def.type_name));
        };
        // Seed data is what F&O holds, so each value must have its declared type. Lengths are not
        // checked: the hostile fixtures deliberately carry over-long text (a 10 KB description) so the
        // views prove they escape and wrap it; F&O's write path refuses such values, as `writes` does.
        if let Err(super::writes::BadValue::Type(m)) = super::writes::check_type(def, prop.ty, k, v) {
            return Err(m);
        }
        fields.insert(k.clone(), v.clone());
    }
    fill_defaults(def, &mut fields);
    Ok(Record { rec_id, rec_version, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_seed_loads() {
        let data = embedded().unwrap();
        assert!(!data.table("VendorInvoiceHeaders").unwrap().rows.is_empty());
        assert!(!data.table("SysAADClients").unwrap().rows.is_empty());
    }

    #[test]
    fn a_seed_value_of_the_wrong_type_is_refused() {
        let text = r#"{"format":"signoff.sim-seed/v1","entities":{"SystemUsers":[{"RecId":1,"UserID":"akumar","Enabled":"No"}]}}"#;
        let err = from_text(text, "seed.json").unwrap_err().to_string();
        assert!(err.contains("Cannot convert the literal 'No' to the expected type 'Edm.Boolean'"), "{err}");
    }

    #[test]
    fn an_unknown_property_in_a_seed_is_named() {
        let text = r#"{"format":"signoff.sim-seed/v1","entities":{"VendorsV2":[{"RecId":1,"dataAreaId":"usmf","VendorAccountNumber":"V1","Colour":"red"}]}}"#;
        let err = from_text(text, "seed.json").unwrap_err().to_string();
        assert!(err.contains("seed.json") && err.contains("'Colour'"), "{err}");
    }
}
