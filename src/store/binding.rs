//! The store's state bound to the audit chain (DESIGN principle 6): the chain is the source of truth,
//! and every state row must be what the chain recorded.
//!
//! A [`Ledger`] is what the chain says about one run: its import (payload digest), its status changes,
//! its approvals and its exchanges. The checks below compare a run's rows with its ledger and name the
//! first disagreement. Both [`Store::verify_run`] (one run, before a decision) and
//! [`Store::verify_audit`] (every run, in one pass over the chain and one ordered scan of each table)
//! use them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::StoreError;
use super::audit::AuditEvent;
use super::ts;
use crate::model::{GovernedRun, RunId, RunStatus, RunSummary};

/// The `run.imported` event of a run.
#[derive(Debug, Clone)]
struct Imported {
    seq: i64,
    at: String,
    actor: String,
    digest: String,
    action: String,
    environment: String,
}

/// A `run.status` event.
#[derive(Debug, Clone)]
struct StatusEvent {
    seq: i64,
    at: String,
    actor: String,
    from: String,
    to: String,
    detail: Value,
}

/// An `approval.recorded` event.
#[derive(Debug, Clone)]
struct ApprovalEvent {
    seq: i64,
    at: String,
    approver: String,
    payload: Map<String, Value>,
}

/// An `exchange.recorded` event.
#[derive(Debug, Clone)]
struct ExchangeEvent {
    seq: i64,
    at: String,
    sha256: String,
}

/// What the audit chain says one run's state must be.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    imported: Option<Imported>,
    statuses: Vec<StatusEvent>,
    approvals: Vec<ApprovalEvent>,
    /// By exchange id.
    exchanges: BTreeMap<i64, ExchangeEvent>,
}

/// A disagreement about one run: the error names the run and what disagrees.
pub(crate) fn mismatch(run: &str, what: impl Into<String>) -> StoreError {
    StoreError::StateMismatch { run: RunId(run.to_string()), what: what.into() }
}

fn text<'a>(event: &'a AuditEvent, key: &str) -> Result<&'a str, String> {
    event.payload.get(key).and_then(Value::as_str).ok_or_else(|| {
        format!("its {} event #{} has no '{key}' in its payload (the event was forged)", event.kind, event.seq)
    })
}

impl Ledger {
    /// Take one of run `id`'s events after checking it alone (its hash) and against its neighbours in the
    /// chain: `before` is the previous event's hash, `after` the next event's `prev_hash`, `head` the
    /// chain's head. The same check on every backend.
    pub(crate) fn take_linked(
        &mut self,
        id: &RunId,
        event: &AuditEvent,
        before: Option<String>,
        after: Option<String>,
        head: Option<&(i64, String)>,
    ) -> Result<(), StoreError> {
        let broken =
            |reason: &str| mismatch(id.as_str(), format!("its audit event #{} is broken: {reason}", event.seq));
        if !event.hash_is_valid() {
            return Err(broken("its content does not match its hash (actor, time, run, kind or payload altered)"));
        }
        let expected_prev = if event.seq == 1 { Some(super::audit::GENESIS_HASH.to_string()) } else { before };
        if expected_prev.as_deref() != Some(event.prev_hash.as_str()) {
            return Err(broken("its prev_hash is not the hash of the event before it"));
        }
        let linked = match after {
            Some(next_prev) => next_prev == event.hash,
            None => head.is_some_and(|(seq, hash)| *seq == event.seq && *hash == event.hash),
        };
        if !linked {
            return Err(broken("the event after it (or the chain head) does not name its hash"));
        }
        self.take(event).map_err(|what| mismatch(id.as_str(), what))
    }

    /// Take in one event about this run (events arrive in seq order); kinds that hold no state are
    /// ignored. An event of a state kind without its fields is reported (only a forger writes one).
    pub(crate) fn take(&mut self, event: &AuditEvent) -> Result<(), String> {
        let at = || ts(event.at);
        match event.kind.as_str() {
            "run.imported" => {
                if let Some(first) = &self.imported {
                    return Err(format!("it is imported twice, by events #{} and #{}", first.seq, event.seq));
                }
                self.imported = Some(Imported {
                    seq: event.seq,
                    at: at(),
                    actor: event.actor.clone(),
                    digest: text(event, "digest")?.to_string(),
                    action: text(event, "action")?.to_string(),
                    environment: text(event, "environment")?.to_string(),
                });
            }
            "run.status" => self.statuses.push(StatusEvent {
                seq: event.seq,
                at: at(),
                actor: event.actor.clone(),
                from: text(event, "from")?.to_string(),
                to: text(event, "to")?.to_string(),
                detail: event.payload.get("detail").cloned().unwrap_or(Value::Null),
            }),
            "approval.recorded" => {
                let payload = event.payload.as_object().cloned().unwrap_or_default();
                self.approvals.push(ApprovalEvent { seq: event.seq, at: at(), approver: event.actor.clone(), payload });
            }
            "exchange.recorded" => {
                let id = event.payload.get("exchange").and_then(Value::as_i64).ok_or_else(|| {
                    format!("its exchange.recorded event #{} names no exchange id (the event was forged)", event.seq)
                })?;
                let sha256 = text(event, "sha256")?.to_string();
                self.exchanges.insert(id, ExchangeEvent { seq: event.seq, at: at(), sha256 });
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the chain holds any state of this run (a run row must then exist).
    pub(crate) fn holds_state(&self) -> bool {
        self.imported.is_some() || !self.statuses.is_empty() || !self.approvals.is_empty()
    }

    /// Whether the chain says this run was imported, and by which event.
    pub(crate) fn imported_by(&self) -> Option<i64> {
        self.imported.as_ref().map(|i| i.seq)
    }

    /// The first state event's seq, to name a run whose row is missing.
    pub(crate) fn first_seq(&self) -> i64 {
        let statuses = self.statuses.iter().map(|s| s.seq);
        let approvals = self.approvals.iter().map(|a| a.seq);
        self.imported.iter().map(|i| i.seq).chain(statuses).chain(approvals).min().unwrap_or(0)
    }
}

/// One `runs` row joined with its payload, as stored.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    pub id: String,
    /// `(column, stored text)` for every column derived from the payload, in schema order.
    pub columns: Vec<(&'static str, Option<String>)>,
    pub status: String,
    pub digest: String,
    pub imported_at: String,
    pub updated_at: String,
    pub payload: Option<String>,
}

/// The `runs` columns a row is read with (`r` is runs, `p` is run_payloads).
pub(crate) const RUN_ROW_SQL: &str = "r.id, r.action, r.environment, r.company, r.target, r.amount, r.currency, \
     r.requester, r.requested_at, r.expires_at, r.required_approvals, r.invoice_vendor, r.invoice_number, \
     r.status, r.digest, r.imported_at, r.updated_at, p.payload";

/// Checked against the payload, not bound by an event: the invoice key columns are a pure function of it
/// (see `store::invoice_key`), so checking them here is what keeps the duplicate rule's index honest.
pub(crate) const DERIVED: [&str; 12] = [
    "action",
    "environment",
    "company",
    "target",
    "amount",
    "currency",
    "requester",
    "requested_at",
    "expires_at",
    "required_approvals",
    "invoice_vendor",
    "invoice_number",
];

impl RunRow {
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
        let mut columns = Vec::with_capacity(DERIVED.len());
        for (i, name) in DERIVED.iter().enumerate() {
            let value = match row.get_ref(i + 1)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                other => Some(other.as_str()?.to_string()),
            };
            columns.push((*name, value));
        }
        Ok(RunRow {
            id: row.get(0)?,
            columns,
            status: row.get(DERIVED.len() + 1)?,
            digest: row.get(DERIVED.len() + 2)?,
            imported_at: row.get(DERIVED.len() + 3)?,
            updated_at: row.get(DERIVED.len() + 4)?,
            payload: row.get(DERIVED.len() + 5)?,
        })
    }
}

/// The columns of `runs` that the payload and status determine, as [`insert_run`](super::runs) writes them.
fn derived_columns(run: &GovernedRun) -> [Option<String>; 12] {
    let s = RunSummary::of(run, RunStatus::Pending);
    let (invoice_vendor, invoice_number) = super::invoice_key::key_columns(run);
    [
        Some(run.action.as_str().to_string()),
        Some(run.environment.clone()),
        s.company,
        Some(s.target),
        s.amount.map(|a| a.to_string()),
        s.currency,
        Some(s.requester),
        Some(ts(run.requested_at)),
        Some(ts(run.expires_at)),
        Some(run.route.required_approvals.to_string()),
        invoice_vendor,
        invoice_number,
    ]
}

fn shown(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "empty".to_string(), |v| format!("'{v}'"))
}

/// The run's row and payload against its `run.imported` and `run.status` events.
pub(crate) fn check_run(ledger: &Ledger, row: &RunRow) -> Result<(), String> {
    let Some(imported) = &ledger.imported else {
        return Err("it has no run.imported event (the runs table was edited)".into());
    };
    let Some(payload) = &row.payload else {
        return Err("its stored payload is missing (the run_payloads table was edited)".into());
    };
    let run: GovernedRun = serde_json::from_str(payload)
        .map_err(|e| format!("its stored payload is not a valid run ({e}): the run_payloads table was edited"))?;
    // The import stored canonical bytes and hashed them: bytes that still hash to the digest are those
    // bytes. Only a payload that does not is re-serialized, to say how it was altered.
    let sha = hex::encode(Sha256::digest(payload.as_bytes()));
    if sha != imported.digest {
        if run.canonical_json() != *payload {
            return Err("its stored payload is not in canonical form (a duplicate key, a re-escaped string or \
                        other whitespace): the run_payloads table was edited"
                .into());
        }
        return Err(format!(
            "its stored payload does not hash to the digest in its run.imported event #{} (the run_payloads \
             table was edited)",
            imported.seq
        ));
    }
    if run.id.as_str() != row.id {
        return Err(format!("its stored payload is the run '{}' (the run_payloads table was edited)", run.id));
    }
    if run.action.as_str() != imported.action || run.environment != imported.environment {
        return Err(format!(
            "its payload's action or environment differs from its run.imported event #{} (the event was forged)",
            imported.seq
        ));
    }
    if row.digest != imported.digest {
        return Err(format!(
            "runs.digest is '{}' but its run.imported event #{} says '{}' (the runs table was edited)",
            row.digest, imported.seq, imported.digest
        ));
    }
    for ((name, stored), expected) in row.columns.iter().zip(derived_columns(&run)) {
        if *stored != expected {
            return Err(format!(
                "runs.{name} is {} but its payload says {} (the runs table was edited)",
                shown(stored),
                shown(&expected)
            ));
        }
    }
    let (status, status_from) = match ledger.statuses.last() {
        Some(last) => (last.to.as_str(), format!("its last run.status event #{} says", last.seq)),
        None => (RunStatus::Pending.as_str(), format!("its run.imported event #{} left it", imported.seq)),
    };
    if row.status != status {
        return Err(format!(
            "runs.status is '{}' but {status_from} '{status}' (the runs table was edited)",
            row.status
        ));
    }
    if row.imported_at != imported.at {
        return Err(format!(
            "runs.imported_at is '{}' but its run.imported event #{} is dated '{}' (the runs table was edited)",
            row.imported_at, imported.seq, imported.at
        ));
    }
    let last_at = ledger.statuses.last().map_or(&imported.at, |s| &s.at);
    if row.updated_at != *last_at {
        return Err(format!(
            "runs.updated_at is '{}' but its last status change is dated '{last_at}' (the runs table was edited)",
            row.updated_at
        ));
    }
    Ok(())
}

/// One `status_history` row, as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryRow {
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

/// The columns of `status_history` a [`HistoryRow`] is read from, after `run_id`.
pub(crate) const HISTORY_ROW_SQL: &str = "from_status, to_status, actor, at, detail";

impl HistoryRow {
    /// Read from `row`, its columns starting at `first`.
    pub(crate) fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<HistoryRow> {
        Ok(HistoryRow {
            from: row.get(first)?,
            to: row.get(first + 1)?,
            actor: row.get(first + 2)?,
            at: row.get(first + 3)?,
            detail: row.get(first + 4)?,
        })
    }
}

/// The status history against the import and the `run.status` events, one row for one event, in order.
pub(crate) fn check_history(ledger: &Ledger, rows: &[HistoryRow]) -> Result<(), String> {
    let Some(imported) = &ledger.imported else { return Ok(()) };
    let import = (imported.seq, None, RunStatus::Pending.as_str(), &imported.actor, &imported.at);
    let import_detail = serde_json::json!({ "event": "imported" });
    let mut expected = vec![(import, &import_detail)];
    for s in &ledger.statuses {
        expected.push(((s.seq, Some(s.from.as_str()), s.to.as_str(), &s.actor, &s.at), &s.detail));
    }
    for (i, (((seq, from, to, actor, at), detail), row)) in expected.iter().zip(rows).enumerate() {
        let row_detail: Option<Value> = serde_json::from_str(&row.detail).ok();
        let same = row.from.as_deref() == *from
            && row.to == *to
            && row.actor == **actor
            && row.at == **at
            && row_detail.as_ref() == Some(*detail);
        if !same {
            return Err(format!(
                "status_history row {} ({} → '{}' by '{}' at {}) differs from event #{seq} ({} → '{to}' by '{actor}' \
                 at {at}) (the status_history table was edited)",
                i + 1,
                shown(&row.from),
                row.to,
                row.actor,
                row.at,
                from.map_or_else(|| "empty".to_string(), |f| format!("'{f}'")),
            ));
        }
    }
    if rows.len() != expected.len() {
        return Err(format!(
            "status_history holds {} row(s) but the chain records {} status change(s) (the status_history table \
             was edited)",
            rows.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// One `approvals` row, as stored: every column but `run_id`, by name, so that a column added later
/// (a signature, say) is compared with the event's payload field of the same name without a change here.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApprovalRow {
    pub approver: String,
    pub approved_at: String,
    /// Every other column, by name.
    pub fields: Vec<(String, Value)>,
}

impl ApprovalRow {
    /// Read from a `SELECT * FROM approvals` row whose column names are `names`.
    pub(crate) fn from_row(row: &rusqlite::Row<'_>, names: &[String]) -> rusqlite::Result<(String, ApprovalRow)> {
        let mut run_id = String::new();
        let mut approval = ApprovalRow { approver: String::new(), approved_at: String::new(), fields: Vec::new() };
        for (i, name) in names.iter().enumerate() {
            match name.as_str() {
                "run_id" => run_id = row.get(i)?,
                "approver" => approval.approver = row.get(i)?,
                "approved_at" => approval.approved_at = row.get(i)?,
                _ => approval.fields.push((name.clone(), column_value(row.get_ref(i)?))),
            }
        }
        Ok((run_id, approval))
    }
}

fn column_value(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(x) => Value::from(x),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(hex::encode(b)),
    }
}

/// The approvals against the `approval.recorded` events, one row for one event.
pub(crate) fn check_approvals(ledger: &Ledger, rows: &[ApprovalRow]) -> Result<(), String> {
    for row in rows {
        let Some(event) = ledger.approvals.iter().find(|e| e.approver == row.approver) else {
            return Err(format!(
                "approval by '{}' has no approval.recorded event (the approvals table was edited)",
                row.approver
            ));
        };
        if row.approved_at != event.at {
            return Err(format!(
                "approval by '{}' is dated '{}' but its approval.recorded event #{} is dated '{}' (the approvals \
                 table was edited)",
                row.approver, row.approved_at, event.seq, event.at
            ));
        }
        for (name, value) in &row.fields {
            let recorded = event.payload.get(name).unwrap_or(&Value::Null);
            if recorded != value {
                return Err(format!(
                    "approval by '{}' has {name} {value} but its approval.recorded event #{} says {recorded} (the \
                     approvals table was edited)",
                    row.approver, event.seq
                ));
            }
        }
    }
    for event in &ledger.approvals {
        if rows.iter().filter(|r| r.approver == event.approver).count() != 1 {
            return Err(format!(
                "the approval by '{}' recorded in event #{} is missing from the approvals table (it was deleted or \
                 renamed)",
                event.approver, event.seq
            ));
        }
    }
    Ok(())
}

/// One `exchanges` row, as stored: its id, time and the SHA-256 of its bytes (not the bytes, which can
/// be large).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExchangeRow {
    pub id: i64,
    pub at: String,
    pub sha256: String,
}

impl ExchangeRow {
    /// Read `id, at, json` from `row`, its columns starting at `first`.
    pub(crate) fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ExchangeRow> {
        let bytes = match row.get_ref(first + 2)? {
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t,
            _ => &[],
        };
        Ok(ExchangeRow { id: row.get(first)?, at: row.get(first + 1)?, sha256: hex::encode(Sha256::digest(bytes)) })
    }
}

/// The exchanges against the `exchange.recorded` events, one row for one event.
pub(crate) fn check_exchanges(ledger: &Ledger, rows: &[ExchangeRow]) -> Result<(), String> {
    for row in rows {
        let Some(event) = ledger.exchanges.get(&row.id) else {
            return Err(format!(
                "exchange {} has no exchange.recorded event for this run (the exchanges table was edited)",
                row.id
            ));
        };
        if row.sha256 != event.sha256 {
            return Err(format!(
                "exchange {}'s stored bytes do not hash to the sha256 in its exchange.recorded event #{} (the \
                 exchanges table was edited)",
                row.id, event.seq
            ));
        }
        if row.at != event.at {
            return Err(format!(
                "exchange {} is dated '{}' but its exchange.recorded event #{} is dated '{}' (the exchanges table \
                 was edited)",
                row.id, row.at, event.seq, event.at
            ));
        }
    }
    for (id, event) in &ledger.exchanges {
        if !rows.iter().any(|r| r.id == *id) {
            return Err(format!(
                "exchange {id} recorded in event #{} is missing from the exchanges table (it was deleted)",
                event.seq
            ));
        }
    }
    Ok(())
}
