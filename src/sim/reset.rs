//! Sandbox reset: put the seed data back, all of it or one transaction (a record with its lines and its
//! workflow work items). Served on the simulator only, at `POST /_sim/reset` (docs/simulator.md).
//!
//! A transaction is named `[EntitySet:][company/]KEY`, KEY being the header's business key: an invoice's
//! `HeaderReference`, a journal's `JournalBatchNumber`, a vendor's `VendorAccountNumber` or a user's
//! `UserID`. The company and the entity set are needed only when the key alone names more than one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::reply::Reply;
use super::state::{Data, Record, text_field};

/// The admin endpoint's path: it exists on the simulator only.
pub const PATH: &str = "/_sim/reset";

/// The records a transaction restores: its header, and its lines when it has them.
struct Kind {
    set: &'static str,
    key: &'static str,
    lines: Option<&'static str>,
}

const TRANSACTIONS: &[Kind] = &[
    Kind { set: "VendorInvoiceHeaders", key: "HeaderReference", lines: Some("VendorInvoiceLines") },
    Kind { set: "LedgerJournalHeaders", key: "JournalBatchNumber", lines: Some("LedgerJournalLines") },
    Kind { set: "VendInvoiceJournalHeaders", key: "JournalBatchNumber", lines: Some("VendInvoiceJournalLines") },
    Kind { set: "VendorsV2", key: "VendorAccountNumber", lines: None },
    Kind { set: "SystemUsers", key: "UserID", lines: None },
];

/// The transaction keys the reset accepts, for messages.
pub const KEY_FORMS: &str = "an invoice's HeaderReference, a journal's JournalBatchNumber, a vendor's \
                             VendorAccountNumber or a user's UserID, optionally as [EntitySet:][company/]KEY";

/// What a reset restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// `all`, or the transaction as `EntitySet:company/KEY`.
    pub reset: String,
    /// Records put back as the seed has them (headers, lines, work items).
    pub restored: usize,
    /// Records removed because the seed does not have them (created since), or, for a full reset, how many
    /// fewer records there are.
    pub removed: usize,
}

/// `POST /_sim/reset` with `{}` (everything) or `{"transaction": "KEY"}`. Only a request addressed to a
/// loopback host and sent as JSON is served: a web page in a browser on this machine can neither send
/// JSON cross-origin without a preflight (which the simulator never answers) nor pass a rebinding DNS
/// name off as `127.0.0.1`.
pub fn handle(data: &mut Data, seed: &Data, host: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Reply {
    let refuse = |status: u16, message: String| Reply::json(status, &json!({ "error": message }));
    let host = host.unwrap_or("");
    let name =
        host.rsplit_once(':').filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()).map_or(host, |(h, _)| h);
    let loopback = ["127.0.0.1", "localhost", "[::1]"].iter().any(|l| name.eq_ignore_ascii_case(l));
    if !loopback {
        return refuse(
            403,
            format!("the reset endpoint answers only requests addressed to 127.0.0.1 (Host was '{host}')"),
        );
    }
    if !content_type.is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("application/json")) {
        return refuse(415, "send the reset as Content-Type: application/json".into());
    }
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return refuse(400, format!("the body is not JSON: {e}")),
        }
    };
    let done = match request.get("transaction") {
        None | Some(Value::Null) => reset_all(data, seed),
        Some(Value::String(name)) => match reset_transaction(data, seed, name) {
            Ok(done) => done,
            Err(message) => return refuse(404, message),
        },
        Some(_) => return refuse(400, "\"transaction\" must be a string".into()),
    };
    Reply::json(200, &serde_json::to_value(&done).unwrap_or_default())
}

/// Everything back to the seed.
pub fn reset_all(data: &mut Data, seed: &Data) -> Restored {
    let count = |d: &Data| d.tables.values().map(|t| t.rows.len()).sum::<usize>();
    let (before, after) = (count(data), count(seed));
    *data = seed.clone();
    Restored { reset: "all".into(), restored: after, removed: before.saturating_sub(after) }
}

/// One transaction back to the seed: its header, its lines and its work items. A header the seed does not
/// have (created since) is removed with its lines.
pub fn reset_transaction(data: &mut Data, seed: &Data, name: &str) -> Result<Restored, String> {
    let (kind, company, key) = find(data, seed, name)?;
    let belongs = |fields: &Map<String, Value>| {
        text_field(fields, kind.key).eq_ignore_ascii_case(&key)
            && company.as_deref().is_none_or(|c| text_field(fields, "dataAreaId").eq_ignore_ascii_case(c))
    };
    let mut restored = 0;
    let mut removed = 0;
    let mut headers = Vec::new();
    for set in std::iter::once(kind.set).chain(kind.lines) {
        let now = matching(data, set, &belongs);
        let then = matching(seed, set, &belongs);
        if set == kind.set {
            headers.extend(now.iter().chain(then.iter()).map(|r| r.rec_id));
        }
        removed += replace(data, set, &now, &then);
        restored += then.len();
    }
    // The workflow work items on the document (their RefRecId is the header's RecId).
    let on_document = |fields: &Map<String, Value>| {
        fields.get("RefRecId").and_then(Value::as_i64).is_some_and(|id| headers.contains(&id))
    };
    let now = matching(data, "WorkflowWorkItems", &on_document);
    let then = matching(seed, "WorkflowWorkItems", &on_document);
    removed += replace(data, "WorkflowWorkItems", &now, &then);
    restored += then.len();
    if kind.lines.is_some() {
        // A journal's bookkeeping: its reversal and the last line number handed out.
        for c in companies(data, seed, kind, &key, company.as_deref()) {
            let id = format!("{c}/{key}");
            match seed.reversed.get(&id) {
                Some(v) => data.reversed.insert(id.clone(), v.clone()),
                None => data.reversed.remove(&id),
            };
            match seed.last_line.get(&id) {
                Some(v) => data.last_line.insert(id.clone(), *v),
                None => data.last_line.remove(&id),
            };
        }
        for c in companies(data, seed, kind, &key, company.as_deref()) {
            super::writes::recompute_totals(data, &c, &key);
        }
    }
    let name = match &company {
        Some(c) => format!("{}:{c}/{key}", kind.set),
        None => format!("{}:{key}", kind.set),
    };
    Ok(Restored { reset: name, restored, removed })
}

/// The kind, company and key `name` designates, in the data or the seed; exactly one.
fn find(data: &Data, seed: &Data, name: &str) -> Result<(&'static Kind, Option<String>, String), String> {
    let name = name.trim();
    let (set, rest) = match name.split_once(':') {
        Some((set, rest)) => (Some(set), rest),
        None => (None, name),
    };
    let (company, key) = match rest.split_once('/') {
        Some((c, k)) => (Some(c.to_lowercase()), k.to_string()),
        None => (None, rest.to_string()),
    };
    if key.is_empty() {
        return Err(format!("no transaction key in '{name}': give {KEY_FORMS}"));
    }
    let kinds: Vec<&'static Kind> = match set {
        Some(s) => {
            let kind = TRANSACTIONS.iter().find(|k| k.set.eq_ignore_ascii_case(s)).ok_or_else(|| {
                let sets: Vec<&str> = TRANSACTIONS.iter().map(|k| k.set).collect();
                format!("'{s}' is not an entity set a transaction reset knows ({})", sets.join(", "))
            })?;
            vec![kind]
        }
        None => TRANSACTIONS.iter().collect(),
    };
    let mut found: Vec<(&'static Kind, Option<String>)> = Vec::new();
    for kind in kinds {
        for d in [data, seed] {
            let Some(table) = d.table(kind.set) else { continue };
            for r in table.rows.values() {
                if !text_field(&r.fields, kind.key).eq_ignore_ascii_case(&key) {
                    continue;
                }
                let row_company =
                    r.fields.get("dataAreaId").map(|_| text_field(&r.fields, "dataAreaId").to_lowercase());
                if company.is_some() && row_company.is_some() && company != row_company {
                    continue;
                }
                let hit = (kind, row_company.or(company.clone()));
                if !found.iter().any(|(k, c)| k.set == hit.0.set && *c == hit.1) {
                    found.push(hit);
                }
            }
        }
    }
    match found.as_slice() {
        [] => Err(format!("no transaction '{name}' in the simulator's data or seed: give {KEY_FORMS}")),
        [(kind, company)] => Ok((*kind, company.clone(), key)),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(k, c)| format!("{}:{}{key}", k.set, c.as_ref().map(|c| format!("{c}/")).unwrap_or_default()))
                .collect();
            Err(format!("'{name}' names more than one transaction: say which, as one of {}", names.join(", ")))
        }
    }
}

fn matching(data: &Data, set: &str, keep: &impl Fn(&Map<String, Value>) -> bool) -> Vec<Record> {
    data.table(set).map(|t| t.rows.values().filter(|r| keep(&r.fields)).cloned().collect()).unwrap_or_default()
}

/// Take `now` out of `set` and put `then` in; how many of `now` the seed does not have (created since).
fn replace(data: &mut Data, set: &str, now: &[Record], then: &[Record]) -> usize {
    let Some(table) = data.table_mut(set) else { return 0 };
    for r in now {
        table.remove(&r.fields);
    }
    let removed = now.iter().filter(|r| !then.iter().any(|t| t.rec_id == r.rec_id)).count();
    for r in then {
        // A record created since under the seed record's key was removed above, so the key is free.
        let _ = table.insert(r.clone());
    }
    removed
}

fn companies(data: &Data, seed: &Data, kind: &Kind, key: &str, company: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in [data, seed] {
        let Some(table) = d.table(kind.set) else { continue };
        for r in table.rows.values() {
            let c = text_field(&r.fields, "dataAreaId").to_lowercase();
            if text_field(&r.fields, kind.key).eq_ignore_ascii_case(key)
                && company.is_none_or(|want| want == c)
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice<'a>(data: &'a Data, reference: &str) -> Option<&'a Record> {
        data.table("VendorInvoiceHeaders")?
            .rows
            .values()
            .find(|r| text_field(&r.fields, "HeaderReference") == reference)
    }

    #[test]
    fn one_invoice_is_restored_with_its_lines_and_nothing_else() {
        let seed = super::super::seed::embedded().unwrap();
        let mut data = seed.clone();
        for r in data.table_mut("VendorInvoiceHeaders").unwrap().rows.values_mut() {
            r.fields.insert("IsApproved".into(), Value::String("Yes".into()));
            r.rec_version += 1;
        }
        let lines = data.table_mut("VendorInvoiceLines").unwrap();
        let line = lines.rows.values().find(|r| text_field(&r.fields, "HeaderReference") == "APINV-000123").cloned();
        lines.remove(&line.unwrap().fields);
        let done = reset_transaction(&mut data, &seed, "APINV-000123").unwrap();
        assert_eq!(done.reset, "VendorInvoiceHeaders:usmf/APINV-000123");
        let restored = invoice(&data, "APINV-000123").unwrap();
        assert_eq!(restored.fields["IsApproved"], invoice(&seed, "APINV-000123").unwrap().fields["IsApproved"]);
        assert_eq!(restored.rec_version, invoice(&seed, "APINV-000123").unwrap().rec_version);
        let count = |d: &Data| d.table("VendorInvoiceLines").unwrap().rows.len();
        assert_eq!(count(&data), count(&seed), "the deleted line is back");
        let other = data
            .table("VendorInvoiceHeaders")
            .unwrap()
            .rows
            .values()
            .find(|r| text_field(&r.fields, "HeaderReference") != "APINV-000123");
        assert_eq!(other.unwrap().fields["IsApproved"], Value::String("Yes".into()), "others are left as they are");
    }

    #[test]
    fn an_unknown_key_names_the_forms_accepted() {
        let seed = super::super::seed::embedded().unwrap();
        let mut data = seed.clone();
        let err = reset_transaction(&mut data, &seed, "NOPE-1").unwrap_err();
        assert!(err.contains("HeaderReference") && err.contains("NOPE-1"), "{err}");
    }
}
