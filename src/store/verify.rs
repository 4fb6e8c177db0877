//! Verification: the chain, and the store's state against it — every run at once (`audit verify`) or
//! one run (before each decision).
//!
//! `verify_audit` reads the chain once, in seq order, building each run's [`Ledger`] as it goes, then
//! walks `runs`, `status_history`, `approvals` and `exchanges` side by side in run-id order: five
//! queries in all, whatever the number of runs, and only one run's rows in memory at a time.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};

use super::audit::{AuditVerified, EVENT_COLUMNS, event_from_row, verify_chain};
use super::binding::{
    self, ApprovalRow, ExchangeRow, HISTORY_ROW_SQL, HistoryRow, Ledger, RUN_ROW_SQL, RunRow, mismatch,
};
use super::{Store, StoreError};
use crate::model::RunId;

/// Every state check of one run, in the order both verifications report them.
pub(crate) fn check_run_state(
    ledger: &Ledger,
    row: &RunRow,
    history: &[HistoryRow],
    approvals: &[ApprovalRow],
    exchanges: &[ExchangeRow],
) -> Result<(), StoreError> {
    binding::check_run(ledger, row)
        .and_then(|()| binding::check_history(ledger, history))
        .and_then(|()| binding::check_approvals(ledger, approvals))
        .and_then(|()| binding::check_exchanges(ledger, exchanges))
        .map_err(|what| mismatch(&row.id, what))
}

/// A table's rows read in run-id order (byte order, on both backends), handed out one run at a time.
/// `next` gives the next row's run id and row, or `None` at the end.
pub(crate) struct Groups<T, N> {
    table: &'static str,
    next: N,
    peeked: Option<(String, T)>,
}

impl<T, N> Groups<T, N>
where
    N: FnMut() -> Result<Option<(String, T)>, StoreError>,
{
    pub(crate) fn new(table: &'static str, next: N) -> Self {
        Groups { table, next, peeked: None }
    }

    fn peek(&mut self) -> Result<Option<&(String, T)>, StoreError> {
        if self.peeked.is_none() {
            self.peeked = (self.next)()?;
        }
        Ok(self.peeked.as_ref())
    }

    /// The rows of `run`. Runs come in id order, so rows of a run before it belong to no run at all.
    pub(crate) fn take(&mut self, run: &str) -> Result<Vec<T>, StoreError> {
        let table = self.table;
        let mut out = Vec::new();
        while let Some((id, _)) = self.peek()? {
            match id.as_str().cmp(run) {
                std::cmp::Ordering::Less => return Err(orphan(table, id)),
                std::cmp::Ordering::Equal => out.extend(self.peeked.take().map(|(_, row)| row)),
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(out)
    }

    /// Fails on any row left once every run was taken.
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        let table = self.table;
        match self.peek()? {
            Some((id, _)) => Err(orphan(table, id)),
            None => Ok(()),
        }
    }
}

/// A run the chain holds state of, with no row left once every run was checked: the earliest is named.
pub(crate) fn no_run_missing(ledgers: &HashMap<String, Ledger>) -> Result<(), StoreError> {
    let missing = ledgers.iter().filter(|(_, l)| l.holds_state()).min_by_key(|(_, l)| l.first_seq());
    match missing {
        Some((run, ledger)) => Err(mismatch(
            run,
            format!(
                "the chain records it (event #{}) but the runs table has no such run (it was deleted)",
                ledger.first_seq()
            ),
        )),
        None => Ok(()),
    }
}

fn orphan(table: &str, run: &str) -> StoreError {
    mismatch(run, format!("the {table} table holds rows of a run the runs table does not have"))
}

impl Store {
    /// Walk the whole chain, then check every run and exchange against it. The first problem is
    /// named: `AuditBroken { seq }` for an event, `StateMismatch { run }` for a state row.
    pub fn verify_audit(&self) -> Result<AuditVerified, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.verify_audit());
        // One read transaction: a consistent snapshot even while other processes append.
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
        let head: Option<(i64, String)> = tx
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let mut ledgers: HashMap<String, Ledger> = HashMap::new();
        let mut forged = None;
        let verified = {
            let mut stmt = tx.prepare(&format!("SELECT {EVENT_COLUMNS} FROM audit_events ORDER BY seq"))?;
            let rows = stmt.query_map([], event_from_row)?;
            let mut db_error = None;
            let events = rows
                .map_while(|row| match row {
                    Ok(event) => Some(event),
                    Err(e) => {
                        db_error = Some(e);
                        None
                    }
                })
                .inspect(|event| {
                    let Ok(event) = event else { return };
                    let Some(run) = &event.run_id else { return };
                    let ledger = match ledgers.get_mut(run.as_str()) {
                        Some(ledger) => ledger,
                        None => ledgers.entry(run.as_str().to_string()).or_default(),
                    };
                    if let Err(what) = ledger.take(event)
                        && forged.is_none()
                    {
                        forged = Some(mismatch(run.as_str(), what));
                    }
                });
            let verdict = verify_chain(events, head.as_ref().map(|(seq, hash)| (*seq, hash.as_str())));
            if let Some(e) = db_error {
                return Err(e.into());
            }
            verdict?
        };
        if let Some(e) = forged {
            return Err(e);
        }
        check_every_run(&tx, ledgers)?;
        Ok(verified)
    }

    /// Check one run's stored state against its audit events: its payload hashes to the digest its
    /// `run.imported` event recorded and is in canonical form, its `runs` row agrees with the payload
    /// and the last `run.status` event, and its history, approvals and exchanges match their events
    /// one for one. Each of its events must be intact and linked to its neighbours in the chain.
    /// `Err(StateMismatch)` names the run and what disagrees.
    pub fn verify_run(&self, id: &RunId) -> Result<(), StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.verify_run(id));
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
        let ledger = run_ledger(&tx, id)?;
        let row = tx
            .prepare_cached(&format!(
                "SELECT {RUN_ROW_SQL} FROM runs r LEFT JOIN run_payloads p ON p.run_id = r.id WHERE r.id = ?1"
            ))?
            .query_row([id.as_str()], RunRow::from_row)
            .optional()?;
        let Some(row) = row else {
            return match ledger.imported_by() {
                Some(seq) => Err(mismatch(
                    id.as_str(),
                    format!("its run.imported event #{seq} has no row in the runs table (it was deleted)"),
                )),
                None => Err(StoreError::UnknownRun { id: id.clone() }),
            };
        };
        let history = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {HISTORY_ROW_SQL} FROM status_history WHERE run_id = ?1 ORDER BY id"
            ))?;
            stmt.query_map([id.as_str()], |row| HistoryRow::from_row(row, 0))?.collect::<Result<Vec<_>, _>>()?
        };
        let approvals = {
            let mut stmt = tx.prepare_cached("SELECT * FROM approvals WHERE run_id = ?1 ORDER BY approver")?;
            let names: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
            stmt.query_map([id.as_str()], |row| ApprovalRow::from_row(row, &names).map(|(_, a)| a))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let exchanges = {
            let mut stmt = tx.prepare_cached("SELECT id, at, json FROM exchanges WHERE run_id = ?1 ORDER BY id")?;
            stmt.query_map([id.as_str()], |row| ExchangeRow::from_row(row, 0))?.collect::<Result<Vec<_>, _>>()?
        };
        check_run_state(&ledger, &row, &history, &approvals, &exchanges)
    }
}

/// One run's events, each checked alone (canonical text, hash) and against its neighbours (the event
/// before it is the one its `prev_hash` names, the event after it names it, or the head does).
fn run_ledger(tx: &Transaction<'_>, id: &RunId) -> Result<Ledger, StoreError> {
    let head: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let mut stmt = tx.prepare_cached(
        "SELECT e.seq, e.at, e.actor, e.run_id, e.kind, e.payload, e.prev_hash, e.hash, p.hash, n.prev_hash
         FROM audit_events e
         LEFT JOIN audit_events p ON p.seq = e.seq - 1
         LEFT JOIN audit_events n ON n.seq = e.seq + 1
         WHERE e.run_id = ?1 ORDER BY e.seq",
    )?;
    let mut rows = stmt.query([id.as_str()])?;
    let mut ledger = Ledger::default();
    let broken = |seq: i64, reason: &str| mismatch(id.as_str(), format!("its audit event #{seq} is broken: {reason}"));
    while let Some(row) = rows.next()? {
        let event = event_from_row(row)?.map_err(|(seq, reason)| broken(seq, &reason))?;
        let (before, after): (Option<String>, Option<String>) = (row.get(8)?, row.get(9)?);
        ledger.take_linked(id, &event, before, after, head.as_ref())?;
    }
    Ok(ledger)
}

/// Every run's rows against its ledger, the tables walked side by side in run-id order.
fn check_every_run(tx: &Transaction<'_>, mut ledgers: HashMap<String, Ledger>) -> Result<(), StoreError> {
    let mut runs_stmt = tx.prepare(&format!(
        "SELECT {RUN_ROW_SQL} FROM runs r LEFT JOIN run_payloads p ON p.run_id = r.id ORDER BY r.id"
    ))?;
    let mut history_stmt =
        tx.prepare(&format!("SELECT run_id, {HISTORY_ROW_SQL} FROM status_history ORDER BY run_id, id"))?;
    let mut approvals_stmt = tx.prepare("SELECT * FROM approvals ORDER BY run_id, approver")?;
    let approval_columns: Vec<String> = approvals_stmt.column_names().into_iter().map(String::from).collect();
    let mut exchanges_stmt = tx.prepare("SELECT run_id, id, at, json FROM exchanges ORDER BY run_id, id")?;

    let mut history_rows = history_stmt.query([])?;
    let mut history = Groups::new("status_history", || match history_rows.next()? {
        Some(row) => Ok(Some((row.get(0)?, HistoryRow::from_row(row, 1)?))),
        None => Ok(None),
    });
    let mut approval_rows = approvals_stmt.query([])?;
    let mut approvals = Groups::new("approvals", || match approval_rows.next()? {
        Some(row) => Ok(Some(ApprovalRow::from_row(row, &approval_columns)?)),
        None => Ok(None),
    });
    let mut exchange_rows = exchanges_stmt.query([])?;
    let mut exchanges = Groups::new("exchanges", || match exchange_rows.next()? {
        Some(row) => Ok(Some((row.get(0)?, ExchangeRow::from_row(row, 1)?))),
        None => Ok(None),
    });
    let mut runs = runs_stmt.query([])?;
    let none = Ledger::default();
    while let Some(row) = runs.next()? {
        let row = RunRow::from_row(row)?;
        let ledger = ledgers.remove(&row.id);
        let ledger = ledger.as_ref().unwrap_or(&none);
        let h = history.take(&row.id)?;
        let a = approvals.take(&row.id)?;
        let e = exchanges.take(&row.id)?;
        check_run_state(ledger, &row, &h, &a, &e)?;
    }
    history.finish()?;
    approvals.finish()?;
    exchanges.finish()?;
    no_run_missing(&ledgers)
}
