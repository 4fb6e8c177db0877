//! Runs: import, the queue's summaries, one run in full, and status transitions.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::leases::{Approval, Lease, active_lease, approvals_of};
use super::{Store, StoreError, audit, parse_ts, ts};
use crate::model::{Action, GovernedRun, RunId, RunStatus, RunSummary};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Runs new to the store, now `pending`.
    pub imported: Vec<RunId>,
    /// Runs already present with the same payload digest: nothing changed.
    pub unchanged: Vec<RunId>,
}

/// Which runs the queue shows; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub action: Option<Action>,
    /// A `dataAreaId`, matched case-insensitively.
    pub company: Option<String>,
}

/// One status change of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusChange {
    /// `None` for the import that created the run.
    pub from: Option<RunStatus>,
    pub to: RunStatus,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub detail: Value,
}

/// A run as the store holds it: the document, where it is in its lifecycle, and who is on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    pub run: GovernedRun,
    pub status: RunStatus,
    /// SHA-256 of the run's canonical JSON, as imported.
    pub digest: String,
    pub imported_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub approvals: Vec<Approval>,
    /// The unexpired lease, if anyone holds one.
    pub lease: Option<Lease>,
    pub history: Vec<StatusChange>,
}

/// A run's summary columns, as [`summary_from_row`] reads them, from `runs r` (with the index `index`
/// names, if any) and its unexpired lease (`?1` is now).
fn summary_sql(index: &str, rest: &str) -> String {
    format!(
        "SELECT r.id, r.action, r.status, r.company, r.target, r.amount, r.currency, r.requester,
            r.requested_at, r.expires_at, (SELECT COUNT(*) FROM approvals a WHERE a.run_id = r.id),
            r.required_approvals, l.holder
         FROM runs r {index} LEFT JOIN leases l ON l.run_id = r.id AND l.expires_at > ?1 {rest}"
    )
}

/// The overdue open runs, through the expiry index of schema migration 4 (named: on a store without
/// statistics SQLite would pick the status index and visit every pending run). The status list is that
/// partial index's own condition, word for word, as SQLite requires to use it.
const OVERDUE: &str = "SELECT id, expires_at FROM runs INDEXED BY runs_open_by_expiry
     WHERE status IN ('pending', 'approved') AND expires_at <= ?1 ORDER BY expires_at, id";

impl Store {
    /// The queue: one summary per matching run, oldest request first, with approvals counted and the
    /// holder of an unexpired lease, all in one query.
    pub fn summaries(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.summaries(filter));
        let mut stmt = conn.prepare_cached(&summary_sql(
            "",
            "WHERE (?2 IS NULL OR r.status = ?2) AND (?3 IS NULL OR r.action = ?3) AND (?4 IS NULL OR r.company = ?4)",
        ))?;
        let company = filter.company.as_deref().map(str::to_ascii_lowercase);
        let mut rows = stmt.query(params![
            ts(Utc::now()),
            filter.status.map(RunStatus::as_str),
            filter.action.map(Action::as_str),
            company
        ])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(summary_from_row(row)?);
        }
        // Sorting here is several times cheaper than ORDER BY, which walks an index and then looks up
        // every row; the pair is unique, so an unstable sort is deterministic.
        out.sort_unstable_by(|a, b| a.requested_at.cmp(&b.requested_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The first `limit` summaries in the order [`Store::summaries`] gives them (oldest request first),
    /// read through the age index: what a screen shows first, in the same time at any store size.
    pub fn first_summaries(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.first_summaries(limit));
        let sql = summary_sql("INDEXED BY runs_by_age", "ORDER BY r.requested_at, r.id LIMIT ?2");
        let mut stmt = conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![ts(Utc::now()), limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(summary_from_row(row)?);
        }
        Ok(out)
    }

    /// The runs still open for approval (`pending`, or `approved` short of its quorum) whose expiry is at
    /// or before `now`, with that expiry: one probe of the open runs' expiry index, whatever the history.
    pub fn overdue(&self, now: DateTime<Utc>) -> Result<Vec<(RunId, DateTime<Utc>)>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.overdue(now));
        let mut stmt = conn.prepare_cached(OVERDUE)?;
        let mut rows = stmt.query([ts(now)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push((RunId(row.get(0)?), parse_ts("run expiry", borrowed_text(row, 1)?)?));
        }
        Ok(out)
    }

    /// One run in full, or `None` if the store has no such id.
    pub fn get(&self, id: &RunId) -> Result<Option<StoredRun>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.get(id));
        let row: Option<(String, String, String, String, String)> = conn
            .prepare_cached(
                "SELECT p.payload, r.status, r.digest, r.imported_at, r.updated_at
                 FROM runs r JOIN run_payloads p ON p.run_id = r.id WHERE r.id = ?1",
            )?
            .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
            .optional()?;
        let Some((payload, status, digest, imported_at, updated_at)) = row else {
            return Ok(None);
        };
        let run: GovernedRun = serde_json::from_str(&payload)
            .map_err(|e| StoreError::corrupt(format!("run {id}"), format!("stored payload does not parse: {e}")))?;
        Ok(Some(StoredRun {
            run,
            status: parse_status(&status)?,
            digest,
            imported_at: parse_ts("run import time", &imported_at)?,
            updated_at: parse_ts("run update time", &updated_at)?,
            approvals: approvals_of(conn, id)?,
            lease: active_lease(conn, id, Utc::now())?,
            history: history_of(conn, id)?,
        }))
    }

    /// The current status of a run, or `None` if the store has no such id.
    pub fn status(&self, id: &RunId) -> Result<Option<RunStatus>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.status(id));
        current_status(conn, id)?.map(|s| parse_status(&s)).transpose()
    }

    /// Compare-and-set the status: refused unless the run is in one of `expected_from`. The change, its
    /// history row and its audit event (`run.status`) commit together. Returns the previous status.
    pub fn transition(
        &self,
        id: &RunId,
        expected_from: &[RunStatus],
        to: RunStatus,
        actor: &str,
        detail: Value,
    ) -> Result<RunStatus, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.transition(id, expected_from, to, actor, detail));
        let tx = super::write_tx(conn)?;
        let Some(current) = current_status(&tx, id)? else {
            return Err(StoreError::UnknownRun { id: id.clone() });
        };
        let from = parse_status(&current)?;
        if !expected_from.contains(&from) {
            return Err(StoreError::StatusConflict {
                id: id.clone(),
                actual: from,
                expected: expected_from.to_vec(),
                to,
            });
        }
        let at = Utc::now();
        let now = ts(at);
        tx.prepare_cached("UPDATE runs SET status = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![
            id.as_str(),
            to.as_str(),
            now
        ])?;
        insert_history(&tx, id, Some(from), to, actor, &now, &detail).map_err(|e| e.second_execution(id, to))?;
        audit::append_at(
            &tx,
            at,
            actor,
            Some(id),
            "run.status",
            json!({ "from": from.as_str(), "to": to.as_str(), "detail": detail }),
        )?;
        tx.commit()?;
        Ok(from)
    }

    /// The ids of every run in `status`, oldest request first (e.g. runs left `executing` by a crash).
    pub fn runs_in_status(&self, status: RunStatus) -> Result<Vec<RunId>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.runs_in_status(status));
        let mut stmt = conn.prepare_cached("SELECT id FROM runs WHERE status = ?1 ORDER BY requested_at, id")?;
        let ids = stmt.query_map([status.as_str()], |row| row.get::<_, String>(0).map(RunId))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// How many runs the store holds.
    pub fn count_runs(&self) -> Result<u64, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.count_runs());
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM runs", [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

pub(super) fn insert_run(
    conn: &Connection,
    run: &GovernedRun,
    payload: &str,
    digest: &str,
    now: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let summary = RunSummary::of(run, RunStatus::Pending);
    let (invoice_vendor, invoice_number) = super::invoice_key::key_columns(run);
    conn.prepare_cached(
        "INSERT INTO runs (id, action, status, environment, company, target, amount, currency, requester,
                           requested_at, expires_at, required_approvals, digest, imported_at, updated_at,
                           invoice_vendor, invoice_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16)",
    )?
    .execute(params![
        run.id.as_str(),
        run.action.as_str(),
        RunStatus::Pending.as_str(),
        run.environment,
        summary.company,
        summary.target,
        summary.amount.map(|a| a.to_string()),
        summary.currency,
        summary.requester,
        ts(run.requested_at),
        ts(run.expires_at),
        run.route.required_approvals,
        digest,
        now,
        invoice_vendor,
        invoice_number
    ])?;
    conn.prepare_cached("INSERT INTO run_payloads (run_id, payload) VALUES (?1, ?2)")?
        .execute(params![run.id.as_str(), payload])?;
    insert_history(conn, &run.id, None, RunStatus::Pending, actor, now, &json!({ "event": "imported" }))
}

fn insert_history(
    conn: &Connection,
    id: &RunId,
    from: Option<RunStatus>,
    to: RunStatus,
    actor: &str,
    at: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO status_history (run_id, from_status, to_status, actor, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id.as_str(), from.map(RunStatus::as_str), to.as_str(), actor, at, detail.to_string()])?;
    Ok(())
}

fn current_status(conn: &Connection, id: &RunId) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT status FROM runs WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?)
}

fn history_of(conn: &Connection, id: &RunId) -> Result<Vec<StatusChange>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_status, to_status, actor, at, detail FROM status_history WHERE run_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([id.as_str()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let from: Option<String> = row.get(0)?;
        let detail: String = row.get(4)?;
        out.push(StatusChange {
            from: from.as_deref().map(parse_status).transpose()?,
            to: parse_status(&row.get::<_, String>(1)?)?,
            actor: row.get(2)?,
            at: parse_ts("history time", &row.get::<_, String>(3)?)?,
            detail: serde_json::from_str(&detail).map_err(|e| StoreError::corrupt("history detail", e))?,
        });
    }
    Ok(out)
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> Result<RunSummary, StoreError> {
    // Borrow the columns that are parsed rather than kept: 100,000 rows, five allocations saved each.
    let action = borrowed_text(row, 1)?;
    let amount = match row.get_ref(5)? {
        ValueRef::Null => None,
        _ => {
            let a = borrowed_text(row, 5)?;
            Some(Decimal::from_str_exact(a).map_err(|e| StoreError::corrupt("run amount", format!("'{a}': {e}")))?)
        }
    };
    Ok(RunSummary {
        id: RunId(row.get(0)?),
        action: Action::from_str(action).map_err(|e| StoreError::corrupt("run action", e))?,
        status: parse_status(borrowed_text(row, 2)?)?,
        company: row.get(3)?,
        target: row.get(4)?,
        amount,
        currency: row.get(6)?,
        requester: row.get(7)?,
        requested_at: parse_ts("run request time", borrowed_text(row, 8)?)?,
        expires_at: parse_ts("run expiry", borrowed_text(row, 9)?)?,
        approvals: row.get(10)?,
        required_approvals: row.get(11)?,
        lease_holder: row.get(12)?,
        judged: None,
    })
}

fn borrowed_text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<&'r str, StoreError> {
    row.get_ref(index)?.as_str().map_err(|e| StoreError::corrupt(format!("runs column {index}"), e))
}

pub(crate) fn parse_status(text: &str) -> Result<RunStatus, StoreError> {
    RunStatus::from_str(text).map_err(|e| StoreError::corrupt("run status", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overdue_question_probes_the_open_runs_expiry_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let plan: Vec<String> = store
            .sqlite_conn()
            .unwrap()
            .prepare(&format!("EXPLAIN QUERY PLAN {OVERDUE}"))
            .unwrap()
            .query_map([ts(Utc::now())], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("USING INDEX runs_open_by_expiry")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.starts_with("SCAN runs")), "{plan:?}");
    }

    #[test]
    fn the_events_of_one_kind_are_found_through_the_kind_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        // `Store::events_of_kind_after`'s question.
        let sql = "EXPLAIN QUERY PLAN SELECT seq FROM audit_events WHERE seq > ?1 AND kind = ?2 ORDER BY seq";
        let conn = store.sqlite_conn().unwrap();
        let plan: Vec<String> = conn
            .prepare(sql)
            .unwrap()
            .query_map(rusqlite::params![0, "connector.saved"], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("audit_events_by_kind")), "{plan:?}");
    }
}
