//! Many runs at once, for judging a whole queue: documents and approvals in two queries instead of a
//! `get` (five queries) per run.

use std::collections::HashMap;

use rusqlite::params;

use super::leases::Approval;
use super::runs::parse_status;
use super::{Store, StoreError, parse_ts};
use crate::model::{Action, GovernedRun, RunId, RunStatus};

/// A run's document, status and approvals: what judging it needs (no history, no lease).
#[derive(Debug, Clone, PartialEq)]
pub struct RunToJudge {
    pub run: GovernedRun,
    pub status: RunStatus,
    /// Oldest first, as [`Store::approvals`] lists them.
    pub approvals: Vec<Approval>,
}

/// The runs with these ids (`?1`, a JSON array) in these statuses (`?2`), found by id: the `+` keeps SQLite
/// from walking the status index instead, which would visit every open run of the store.
const RUNS_BY_ID: &str = "SELECT r.id, r.status, p.payload FROM runs r JOIN run_payloads p ON p.run_id = r.id
     WHERE r.id IN (SELECT value FROM json_each(?1)) AND +r.status IN (SELECT value FROM json_each(?2))";

impl Store {
    /// Every run whose status is one of `statuses` (and whose action is `action`, when given), with its
    /// approvals. In no particular order.
    pub fn runs_to_judge(&self, statuses: &[RunStatus], action: Option<Action>) -> Result<Vec<RunToJudge>, StoreError> {
        let mut out = Vec::new();
        self.each_run_to_judge(statuses, action, |run| {
            out.push(run);
            Ok(())
        })?;
        Ok(out)
    }

    /// The runs with these ids that are in one of `statuses`, one at a time, as [`Store::each_run_to_judge`]
    /// gives them: what the queue judges first, the rows on screen.
    pub fn each_run_to_judge_of(
        &self,
        ids: &[RunId],
        statuses: &[RunStatus],
        each: impl FnMut(RunToJudge) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.each_run_to_judge(Some(ids), statuses, None, each));
        let ids = json_list(ids.iter().map(RunId::as_str));
        let statuses = json_list(statuses.iter().map(|s| s.as_str()));
        let approvals = Store::grouped_approvals(
            conn,
            "SELECT a.run_id, a.approver, a.approved_at, a.reason, a.digest, a.policy_version, a.signature
             FROM approvals a WHERE a.run_id IN (SELECT value FROM json_each(?1))
             ORDER BY a.run_id, a.approved_at, a.approver",
            params![ids],
        )?;
        Store::stream_runs(conn, RUNS_BY_ID, params![ids, statuses], approvals, each)
    }

    /// [`Store::runs_to_judge`] one run at a time: `each` gets every run as it is read, so a caller that
    /// keeps a few bytes per run never holds 100,000 payloads at once.
    pub fn each_run_to_judge(
        &self,
        statuses: &[RunStatus],
        action: Option<Action>,
        each: impl FnMut(RunToJudge) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.each_run_to_judge(None, statuses, action, each));
        // The statuses travel as one JSON array parameter (`json_each`), so the SQL text stays fixed and cached.
        let statuses = json_list(statuses.iter().map(|s| s.as_str()));
        let action = action.map(Action::as_str);
        let approvals = Store::grouped_approvals(
            conn,
            "SELECT a.run_id, a.approver, a.approved_at, a.reason, a.digest, a.policy_version, a.signature
             FROM approvals a JOIN runs r ON r.id = a.run_id
             WHERE r.status IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR r.action = ?2)
             ORDER BY a.run_id, a.approved_at, a.approver",
            params![statuses, action],
        )?;
        Store::stream_runs(
            conn,
            "SELECT r.id, r.status, p.payload FROM runs r JOIN run_payloads p ON p.run_id = r.id
             WHERE r.status IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR r.action = ?2)",
            params![statuses, action],
            approvals,
            each,
        )
    }

    /// The approvals `sql` selects (`run_id, approver, approved_at, reason, digest, policy_version,
    /// signature`, in order), grouped by run.
    fn grouped_approvals(
        conn: &rusqlite::Connection,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<HashMap<String, Vec<Approval>>, StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out: HashMap<String, Vec<Approval>> = HashMap::new();
        while let Some(row) = rows.next()? {
            let run_id: String = row.get(0)?;
            let approval = Approval {
                run_id: RunId(run_id.clone()),
                approver: row.get(1)?,
                approved_at: parse_ts("approval time", &row.get::<_, String>(2)?)?,
                reason: row.get(3)?,
                digest: row.get(4)?,
                policy_version: row.get(5)?,
                signature: row.get(6)?,
            };
            out.entry(run_id).or_default().push(approval);
        }
        Ok(out)
    }

    /// Each run `sql` selects (`id, status, payload`), parsed, with its approvals, handed to `each`.
    fn stream_runs(
        conn: &rusqlite::Connection,
        sql: &str,
        params: impl rusqlite::Params,
        mut approvals: HashMap<String, Vec<Approval>>,
        mut each: impl FnMut(RunToJudge) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let payload = row.get_ref(2)?.as_str().map_err(|e| StoreError::corrupt(format!("run {id}"), e))?;
            let run: GovernedRun = serde_json::from_str(payload)
                .map_err(|e| StoreError::corrupt(format!("run {id}"), format!("stored payload does not parse: {e}")))?;
            each(RunToJudge {
                status: parse_status(row.get_ref(1)?.as_str().map_err(|e| StoreError::corrupt("run status", e))?)?,
                approvals: approvals.remove(&id).unwrap_or_default(),
                run,
            })?;
        }
        Ok(())
    }
}

/// A JSON array of strings: one SQL parameter that `json_each` unpacks, so the SQL text stays fixed.
fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.collect::<Vec<_>>()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_asked_for_by_id_are_found_by_id_not_by_status() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let plan: Vec<String> = store
            .sqlite_conn()
            .unwrap()
            .prepare(&format!("EXPLAIN QUERY PLAN {RUNS_BY_ID}"))
            .unwrap()
            .query_map(params!["[\"a\"]", "[\"pending\"]"], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|step| step.contains("SEARCH r USING INDEX sqlite_autoindex_runs_1 (id=?)")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|step| step.contains("runs_by_status") || step.starts_with("SCAN r")), "{plan:?}");
    }
}
