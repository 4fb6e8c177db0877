//! `audit verify` and the per-decision run check on PostgreSQL: the same checks as on SQLite
//! (`store::binding`), over rows read in one repeatable-read snapshot.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio_postgres::Row;
use tokio_postgres::types::Type;

use super::Pg;
use super::audit::{EVENT_COLUMNS, event_from_row, head};
use super::cursor::Cursor;
use crate::model::RunId;
use crate::store::StoreError;
use crate::store::audit::{AuditVerified, verify_chain};
use crate::store::binding::{
    ApprovalRow, DERIVED, ExchangeRow, HISTORY_ROW_SQL, HistoryRow, Ledger, RUN_ROW_SQL, RunRow, mismatch,
};
use crate::store::verify::{Groups, check_run_state, no_run_missing};

fn run_row(row: &Row) -> Result<RunRow, StoreError> {
    let mut columns = Vec::with_capacity(DERIVED.len());
    for (i, name) in DERIVED.iter().enumerate() {
        let value = if *row.columns()[i + 1].type_() == Type::INT8 {
            row.try_get::<_, Option<i64>>(i + 1)?.map(|n| n.to_string())
        } else {
            row.try_get::<_, Option<String>>(i + 1)?
        };
        columns.push((*name, value));
    }
    let n = DERIVED.len();
    Ok(RunRow {
        id: row.try_get(0)?,
        columns,
        status: row.try_get(n + 1)?,
        digest: row.try_get(n + 2)?,
        imported_at: row.try_get(n + 3)?,
        updated_at: row.try_get(n + 4)?,
        payload: row.try_get(n + 5)?,
    })
}

fn history_row(row: &Row, first: usize) -> Result<HistoryRow, StoreError> {
    Ok(HistoryRow {
        from: row.try_get(first)?,
        to: row.try_get(first + 1)?,
        actor: row.try_get(first + 2)?,
        at: row.try_get(first + 3)?,
        detail: row.try_get(first + 4)?,
    })
}

/// A `SELECT * FROM approvals` row: every column but `run_id` by name, as on SQLite.
fn approval_row(row: &Row) -> Result<(String, ApprovalRow), StoreError> {
    let mut run_id = String::new();
    let mut approval = ApprovalRow { approver: String::new(), approved_at: String::new(), fields: Vec::new() };
    for (i, column) in row.columns().iter().enumerate() {
        match column.name() {
            "run_id" => run_id = row.try_get(i)?,
            "approver" => approval.approver = row.try_get(i)?,
            "approved_at" => approval.approved_at = row.try_get(i)?,
            name => {
                let value = if *column.type_() == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::from)
                } else {
                    row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::String)
                };
                approval.fields.push((name.to_string(), value));
            }
        }
    }
    Ok((run_id, approval))
}

fn exchange_row(row: &Row, first: usize) -> Result<ExchangeRow, StoreError> {
    let json: &str = row.try_get(first + 2)?;
    Ok(ExchangeRow {
        id: row.try_get(first)?,
        at: row.try_get(first + 1)?,
        sha256: hex::encode(Sha256::digest(json.as_bytes())),
    })
}

impl Pg {
    /// A read-only transaction on one snapshot, for the verifications and `store migrate`.
    pub(crate) fn snapshot(&self) -> Result<super::Tx<'_>, StoreError> {
        let tx = self.tx()?;
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &[])?;
        Ok(tx)
    }

    pub(crate) fn verify_audit(&self) -> Result<AuditVerified, StoreError> {
        let tx = self.snapshot()?;
        verify_in(&tx)
    }

    pub(crate) fn verify_run(&self, id: &RunId) -> Result<(), StoreError> {
        let tx = self.snapshot()?;
        let ledger = run_ledger(&tx, id)?;
        let row = tx.query_opt(
            &format!("SELECT {RUN_ROW_SQL} FROM runs r LEFT JOIN run_payloads p ON p.run_id = r.id WHERE r.id = $1"),
            &[&id.as_str()],
        )?;
        let Some(row) = row else {
            return match ledger.imported_by() {
                Some(seq) => Err(mismatch(
                    id.as_str(),
                    format!("its run.imported event #{seq} has no row in the runs table (it was deleted)"),
                )),
                None => Err(StoreError::UnknownRun { id: id.clone() }),
            };
        };
        let row = run_row(&row)?;
        let history = tx
            .query(
                &format!("SELECT {HISTORY_ROW_SQL} FROM status_history WHERE run_id = $1 ORDER BY id"),
                &[&id.as_str()],
            )?
            .iter()
            .map(|row| history_row(row, 0))
            .collect::<Result<Vec<_>, _>>()?;
        let approvals = tx
            .query("SELECT * FROM approvals WHERE run_id = $1 ORDER BY approver COLLATE \"C\"", &[&id.as_str()])?
            .iter()
            .map(|row| approval_row(row).map(|(_, a)| a))
            .collect::<Result<Vec<_>, _>>()?;
        let exchanges = tx
            .query("SELECT id, at, json FROM exchanges WHERE run_id = $1 ORDER BY id", &[&id.as_str()])?
            .iter()
            .map(|row| exchange_row(row, 0))
            .collect::<Result<Vec<_>, _>>()?;
        check_run_state(&ledger, &row, &history, &approvals, &exchanges)
    }
}

/// One run's events, each checked alone and against its neighbours in the chain (as on SQLite).
fn run_ledger(tx: &Pg, id: &RunId) -> Result<Ledger, StoreError> {
    let head = head(tx)?;
    let rows = tx.query(
        "SELECT e.seq, e.at, e.actor, e.run_id, e.kind, e.payload, e.prev_hash, e.hash, p.hash, n.prev_hash
         FROM audit_events e
         LEFT JOIN audit_events p ON p.seq = e.seq - 1
         LEFT JOIN audit_events n ON n.seq = e.seq + 1
         WHERE e.run_id = $1 ORDER BY e.seq",
        &[&id.as_str()],
    )?;
    let mut ledger = Ledger::default();
    let broken = |seq: i64, reason: &str| mismatch(id.as_str(), format!("its audit event #{seq} is broken: {reason}"));
    for row in &rows {
        let event = event_from_row(row, 0)?.map_err(|(seq, reason)| broken(seq, &reason))?;
        let (before, after): (Option<String>, Option<String>) = (row.try_get(8)?, row.try_get(9)?);
        ledger.take_linked(id, &event, before, after, head.as_ref())?;
    }
    Ok(ledger)
}

/// `audit verify`'s checks on `tx`'s view of the store (a snapshot, or `store migrate`'s own transaction
/// before it commits the copy). As on SQLite: the chain read once in seq order building each run's
/// ledger, then `runs`, `status_history`, `approvals` and `exchanges` walked side by side in run-id
/// order — every table through a cursor, so memory holds a batch of rows, not the store.
pub(crate) fn verify_in(tx: &Pg) -> Result<AuditVerified, StoreError> {
    let head = head(tx)?;
    let mut ledgers: HashMap<String, Ledger> = HashMap::new();
    let mut forged = None;
    let verified = {
        let mut rows = Cursor::open(
            tx,
            "signoff_verify_events",
            &format!("SELECT {EVENT_COLUMNS} FROM audit_events ORDER BY seq"),
        )?;
        let mut db_error = None;
        let events = std::iter::from_fn(|| {
            let read = rows.next().and_then(|row| row.map(|row| event_from_row(&row, 0)).transpose());
            read.unwrap_or_else(|e| {
                db_error = Some(e);
                None
            })
        })
        .inspect(|event| {
            if let Ok(event) = event
                && let Some(run) = &event.run_id
                && let Err(what) = ledgers.entry(run.as_str().to_string()).or_default().take(event)
                && forged.is_none()
            {
                forged = Some(mismatch(run.as_str(), what));
            }
        });
        let verdict = verify_chain(events, head.as_ref().map(|(seq, hash)| (*seq, hash.as_str())));
        if let Some(e) = db_error {
            return Err(e);
        }
        verdict?
    };
    if let Some(e) = forged {
        return Err(e);
    }
    check_every_run(tx, ledgers)?;
    Ok(verified)
}

/// Every run's rows against its ledger, the tables walked side by side in run-id order (`COLLATE "C"`:
/// byte order, as Rust compares the ids).
fn check_every_run(tx: &Pg, mut ledgers: HashMap<String, Ledger>) -> Result<(), StoreError> {
    let mut history_rows = Cursor::open(
        tx,
        "signoff_verify_history",
        &format!("SELECT run_id, {HISTORY_ROW_SQL} FROM status_history ORDER BY run_id COLLATE \"C\", id"),
    )?;
    let mut history = Groups::new("status_history", || match history_rows.next()? {
        Some(row) => Ok(Some((row.try_get(0)?, history_row(&row, 1)?))),
        None => Ok(None),
    });
    let mut approval_rows = Cursor::open(
        tx,
        "signoff_verify_approvals",
        "SELECT * FROM approvals ORDER BY run_id COLLATE \"C\", approver COLLATE \"C\"",
    )?;
    let mut approvals = Groups::new("approvals", || match approval_rows.next()? {
        Some(row) => Ok(Some(approval_row(&row)?)),
        None => Ok(None),
    });
    let mut exchange_rows = Cursor::open(
        tx,
        "signoff_verify_exchanges",
        "SELECT run_id, id, at, json FROM exchanges ORDER BY run_id COLLATE \"C\", id",
    )?;
    let mut exchanges = Groups::new("exchanges", || match exchange_rows.next()? {
        Some(row) => Ok(Some((row.try_get(0)?, exchange_row(&row, 1)?))),
        None => Ok(None),
    });
    let mut runs = Cursor::open(
        tx,
        "signoff_verify_runs",
        &format!(
            "SELECT {RUN_ROW_SQL} FROM runs r LEFT JOIN run_payloads p ON p.run_id = r.id ORDER BY r.id COLLATE \"C\""
        ),
    )?;
    let none = Ledger::default();
    while let Some(row) = runs.next()? {
        let row = run_row(&row)?;
        let ledger = ledgers.remove(&row.id);
        let h = history.take(&row.id)?;
        let a = approvals.take(&row.id)?;
        let e = exchanges.take(&row.id)?;
        check_run_state(ledger.as_ref().unwrap_or(&none), &row, &h, &a, &e)?;
    }
    history.finish()?;
    approvals.finish()?;
    exchanges.finish()?;
    no_run_missing(&ledgers)
}
