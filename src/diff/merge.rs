//! The record as it will be after the write: a state (reviewed or live) with the proposed values laid over it.
//!
//! Lines are matched by their key (`LineNumber`, `InvoiceLineNumber`), never by position, so a run whose
//! lines are listed in another order still corrects the right line.

use std::collections::HashMap;

use crate::model::{Action, FieldValue, Fields, LineSnapshot, Proposed, Snapshot};

/// A record's header and lines after the proposed values are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub fields: Fields,
    pub lines: Vec<RecordLine>,
}

/// One line of a [`Record`], with the key it is matched by.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLine {
    /// The matching key as text (`3` for `LineNumber = 3`; every key joined when the key field is absent).
    pub key: String,
    pub keys: Fields,
    pub fields: Fields,
}

/// The key field an action's lines are matched by, if it has lines.
pub fn key_field(action: Action) -> Option<&'static str> {
    action.lines().map(|(_, key)| key)
}

/// A line's matching key: the value of the key field (numbers normalised so `1` and `1.0` match), or every
/// key `name=value` joined when the key field is missing.
pub fn line_key(keys: &Fields, key_field: Option<&str>) -> String {
    if let Some(value) = key_field.and_then(|k| keys.get(k)) {
        return key_text(value);
    }
    keys.iter().map(|(k, v)| format!("{k}={}", key_text(v))).collect::<Vec<_>>().join(",")
}

fn key_text(value: &FieldValue) -> String {
    match value {
        FieldValue::Number(n) => n.normalize().to_string(),
        other => other.to_string(),
    }
}

/// Index lines by key; a later duplicate key does not replace the first (the run parser refuses duplicates).
pub fn index_lines<'a>(lines: &'a [LineSnapshot], key_field: Option<&str>) -> HashMap<String, &'a LineSnapshot> {
    let mut map = HashMap::with_capacity(lines.len());
    for line in lines {
        map.entry(line_key(&line.keys, key_field)).or_insert(line);
    }
    map
}

/// The state with the proposal applied: header fields overlaid; line corrections matched by key, new
/// lines appended in the proposal's order, removed lines dropped.
pub fn apply(state: &Snapshot, proposed: &Proposed, key_field: Option<&str>) -> Record {
    let mut fields = state.fields.clone();
    for (name, value) in &proposed.fields {
        fields.insert(name.clone(), value.clone());
    }
    let by_key: HashMap<String, &crate::model::ProposedLine> =
        proposed.lines.iter().map(|l| (line_key(&l.keys, key_field), l)).collect();
    let mut lines = Vec::with_capacity(state.lines.len() + proposed.lines.len());
    let mut seen = std::collections::HashSet::with_capacity(state.lines.len());
    for line in &state.lines {
        let key = line_key(&line.keys, key_field);
        seen.insert(key.clone());
        let mut line_fields = line.fields.clone();
        if let Some(change) = by_key.get(&key) {
            if change.remove {
                continue;
            }
            for (name, value) in &change.fields {
                line_fields.insert(name.clone(), value.clone());
            }
        }
        lines.push(RecordLine { key, keys: line.keys.clone(), fields: line_fields });
    }
    for change in &proposed.lines {
        let key = line_key(&change.keys, key_field);
        if change.remove || seen.contains(&key) {
            continue;
        }
        seen.insert(key.clone());
        lines.push(RecordLine { key, keys: change.keys.clone(), fields: change.fields.clone() });
    }
    Record { fields, lines }
}
