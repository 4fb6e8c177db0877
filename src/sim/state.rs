//! The simulator's tables: records with RecId/RecVersion, key lookup, defaults and ETags.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::schema::{ENTITIES, EntityDef, PropType, enum_def};

/// The empty date F&O sends for a blank date field.
pub const EMPTY_DATE: &str = "1900-01-01T12:00:00Z";

/// One row: F&O's bookkeeping plus the entity's properties.
#[derive(Debug, Clone)]
pub struct Record {
    pub rec_id: i64,
    pub rec_version: i64,
    pub fields: Map<String, Value>,
}

impl Record {
    /// `W/"<base64 of '<RecVersion>,<RecId>'>"`, the form F&O sends.
    pub fn etag(&self) -> String {
        etag_for(self.rec_version, self.rec_id)
    }
}

/// The ETag F&O would send for a version and RecId.
pub fn etag_for(rec_version: i64, rec_id: i64) -> String {
    let raw = format!("'{rec_version},{rec_id}'");
    format!("W/\"{}\"", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// One entity set's rows, in RecId order (so paging is stable), with a key index.
#[derive(Debug, Clone)]
pub struct Table {
    pub def: &'static EntityDef,
    pub rows: BTreeMap<i64, Record>,
    index: HashMap<String, i64>,
}

impl Table {
    fn new(def: &'static EntityDef) -> Self {
        Table { def, rows: BTreeMap::new(), index: HashMap::new() }
    }

    /// The RecId of the row with these key values, if any.
    pub fn find(&self, keys: &Map<String, Value>) -> Option<i64> {
        key_string(self.def, keys).and_then(|k| self.index.get(&k).copied())
    }

    pub fn get(&self, keys: &Map<String, Value>) -> Option<&Record> {
        self.find(keys).and_then(|id| self.rows.get(&id))
    }

    pub fn get_mut(&mut self, keys: &Map<String, Value>) -> Option<&mut Record> {
        let id = self.find(keys)?;
        self.rows.get_mut(&id)
    }

    /// Insert a complete record; fails when the key is taken or incomplete.
    pub fn insert(&mut self, mut record: Record) -> Result<(), String> {
        // RecId is served as a read-only property, always equal to the row's own.
        record.fields.insert("RecId".into(), Value::from(record.rec_id));
        let key = key_string(self.def, &record.fields)
            .ok_or_else(|| format!("a record of {} lacks one of its keys {:?}", self.def.set, self.def.keys))?;
        if self.index.contains_key(&key) {
            return Err("The record already exists.".into());
        }
        self.index.insert(key, record.rec_id);
        self.rows.insert(record.rec_id, record);
        Ok(())
    }

    pub fn remove(&mut self, keys: &Map<String, Value>) -> Option<Record> {
        let key = key_string(self.def, keys)?;
        let id = self.index.remove(&key)?;
        self.rows.remove(&id)
    }
}

/// Everything the simulated F&O holds.
#[derive(Debug, Clone)]
pub struct Data {
    pub tables: BTreeMap<&'static str, Table>,
    pub next_rec_id: i64,
    pub next_voucher: u64,
    pub next_journal: u64,
    /// Posted journals already reversed: `company/journal` → reversing journal number.
    pub reversed: BTreeMap<String, String>,
    /// While set, journal totals are recomputed once at the end (bulk inserts, `$batch`), not per line.
    pub deferred_totals: Option<std::collections::BTreeSet<(String, String)>>,
    /// The highest line number handed out per `company/journal` (F&O never reuses one).
    pub last_line: HashMap<String, Decimal>,
}

impl Default for Data {
    fn default() -> Self {
        Data {
            tables: ENTITIES.iter().filter(|d| storage_of(d.set) == d.set).map(|d| (d.set, Table::new(d))).collect(),
            next_rec_id: 68_719_530_000,
            next_voucher: 1_000,
            next_journal: 900,
            reversed: BTreeMap::new(),
            deferred_totals: None,
            last_line: HashMap::new(),
        }
    }
}

/// The table an entity set's rows live in: `SecurityUserRoleAssociations` is another view of the
/// assignments `SecurityUserRoles` shows (a POST to one appears in the other, with the same ETag).
pub fn storage_of(set: &str) -> &str {
    match set {
        "SecurityUserRoleAssociations" => "SecurityUserRoles",
        other => other,
    }
}

impl Data {
    pub fn table(&self, set: &str) -> Option<&Table> {
        self.tables.get(storage_of(set))
    }

    pub fn table_mut(&mut self, set: &str) -> Option<&mut Table> {
        self.tables.get_mut(storage_of(set))
    }

    pub fn new_rec_id(&mut self) -> i64 {
        self.next_rec_id += 1;
        self.next_rec_id
    }

    /// The next general journal voucher (`GNJL001001`).
    pub fn new_voucher(&mut self) -> String {
        self.next_voucher += 1;
        format!("GNJL{:06}", self.next_voucher)
    }

    /// The next journal batch number (`00901`).
    pub fn new_journal_number(&mut self) -> String {
        self.next_journal += 1;
        format!("{:05}", self.next_journal)
    }
}

/// A new RecVersion after an update: F&O uses a random int.
pub fn bump_version(old: i64) -> i64 {
    loop {
        let v = (uuid::Uuid::new_v4().as_u128() as u32 & 0x7fff_ffff) as i64;
        if v > 1 && v != old {
            return v;
        }
    }
}

/// The canonical form of a record's key: string keys compare case-insensitively (as F&O's SQL
/// collation does) and numbers by value (`1` = `1.0`).
pub fn key_string(def: &EntityDef, fields: &Map<String, Value>) -> Option<String> {
    let mut out = String::new();
    for name in def.keys {
        out.push_str(&key_part(fields.get(*name)?)?);
        out.push('\u{1f}');
    }
    Some(out)
}

/// One key value in canonical form (see [`key_string`]).
pub fn key_part(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(
            Decimal::from_str_exact(n.as_str())
                .or_else(|_| Decimal::from_scientific(n.as_str()))
                .map(|d| d.normalize().to_string())
                .unwrap_or_else(|_| n.to_string()),
        ),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value a property takes when a write leaves it out.
pub fn default_value(ty: PropType) -> Value {
    match ty {
        PropType::String(_) => Value::String(String::new()),
        PropType::Decimal | PropType::Int32 | PropType::Int64 => Value::Number(0.into()),
        PropType::Boolean => Value::Bool(false),
        PropType::DateTime => Value::String(EMPTY_DATE.into()),
        PropType::Enum(name) => {
            Value::String(enum_def(name).and_then(|e| e.members.first()).copied().unwrap_or_default().into())
        }
    }
}

/// Fill every missing property with its default, so a record always carries its whole type.
pub fn fill_defaults(def: &EntityDef, fields: &mut Map<String, Value>) {
    for p in def.props {
        fields.entry(p.name.to_string()).or_insert_with(|| default_value(p.ty));
    }
}

/// A JSON number holding exactly this decimal.
pub fn decimal_value(d: Decimal) -> Value {
    serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)
}

/// A numeric field as an exact decimal (missing or non-numeric counts as zero).
pub fn decimal_field(fields: &Map<String, Value>, name: &str) -> Decimal {
    match fields.get(name) {
        Some(Value::Number(n)) => {
            Decimal::from_str_exact(n.as_str()).or_else(|_| Decimal::from_scientific(n.as_str())).unwrap_or_default()
        }
        _ => Decimal::ZERO,
    }
}

/// A text field, or "" when missing.
pub fn text_field<'a>(fields: &'a Map<String, Value>, name: &str) -> &'a str {
    fields.get(name).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_base64_of_quoted_version_and_recid() {
        assert_eq!(etag_for(1, 68_719_512_261), "W/\"JzEsNjg3MTk1MTIyNjEn\"");
    }

    #[test]
    fn keys_match_case_insensitively_and_numbers_by_value() {
        let def = super::super::schema::entity("LedgerJournalLines").unwrap();
        let a: Map<String, Value> =
            serde_json::from_str(r#"{"dataAreaId":"USMF","JournalBatchNumber":"00123","LineNumber":1.0}"#).unwrap();
        let b: Map<String, Value> =
            serde_json::from_str(r#"{"dataAreaId":"usmf","JournalBatchNumber":"00123","LineNumber":1}"#).unwrap();
        assert_eq!(key_string(def, &a), key_string(def, &b));
    }
}
