//! Who is deciding a run (leases) and who has approved it (approvals).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::{Store, StoreError, audit, parse_ts, ts};
use crate::model::RunId;

/// A claim on a run while one approver decides it: visible to others, and reclaimable once expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub run_id: RunId,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One approver's approval, bound to the payload digest and policy version they approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub run_id: RunId,
    pub approver: String,
    pub approved_at: DateTime<Utc>,
    pub reason: String,
    /// The approval digest (run payload + ETags + policy version) computed by the pipeline.
    pub digest: String,
    pub policy_version: String,
    /// The approver's armored SSH signature over the approval (`sign::DecisionMessage`), when signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// An approval to record, signed or not.
#[derive(Debug, Clone, Copy)]
pub struct NewApproval<'a> {
    pub approver: &'a str,
    pub reason: &'a str,
    pub digest: &'a str,
    pub policy_version: &'a str,
    /// The time the approver signed; stored exactly, since the signature covers it.
    pub at: DateTime<Utc>,
    pub signature: Option<&'a str>,
}

impl Store {
    /// Claim `id` for `holder` for `ttl`. Re-entrant for the same holder string only (holders are unique
    /// per claim, see `review::claim::holder`). An expired lease is taken over. A live lease of someone else is refused with `LeaseHeld` naming them.
    pub fn acquire_lease(&self, id: &RunId, holder: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.acquire_lease(id, holder, ttl));
        let tx = super::write_tx(conn)?;
        ensure_run(&tx, id)?;
        let now = Utc::now();
        let previous = lease_row(&tx, id)?;
        if let Some(current) = &previous
            && current.expires_at > now
            && current.holder != holder
        {
            return Err(StoreError::LeaseHeld {
                id: id.clone(),
                holder: current.holder.clone(),
                expires: current.expires_at,
            });
        }
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let expires_at = now.checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let lease = Lease { run_id: id.clone(), holder: holder.to_string(), acquired_at: now, expires_at };
        tx.prepare_cached(
            "INSERT INTO leases (run_id, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (run_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                                                expires_at = excluded.expires_at",
        )?
        .execute(params![id.as_str(), holder, ts(now), ts(expires_at)])?;
        let taken_over = previous.filter(|p| p.holder != holder).map(|p| p.holder);
        audit::append(
            &tx,
            holder,
            Some(id),
            "lease.acquired",
            json!({ "expires_at": ts(expires_at), "taken_over_from": taken_over }),
        )?;
        tx.commit()?;
        Ok(lease)
    }

    /// Extend `holder`'s lease on `id` to `ttl` from now; false when `holder` no longer holds it. Not an
    /// audit event: a renewal changes who may decide nothing, it only keeps the claim from lapsing.
    pub fn renew_lease(&self, id: &RunId, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.renew_lease(id, holder, ttl));
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let expires_at = Utc::now().checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC);
        // A renewal is best effort: it must not hold a decision up behind another process's long write
        // (the lease already outlives one request), so it waits briefly instead of the busy timeout.
        conn.busy_timeout(self.busy_timeout.min(Duration::from_millis(500)))?;
        let result = (|| {
            let tx = super::write_tx(conn)?;
            let n = tx
                .prepare_cached("UPDATE leases SET expires_at = ?3 WHERE run_id = ?1 AND holder = ?2")?
                .execute(params![id.as_str(), holder, ts(expires_at)])?;
            tx.commit()?;
            Ok(n == 1)
        })();
        conn.busy_timeout(self.busy_timeout)?;
        result
    }

    /// The last lease taken on `id`, expired or not (reconciliation dates a killed process's sends by it).
    pub fn last_lease(&self, id: &RunId) -> Result<Option<Lease>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.last_lease(id));
        lease_row(conn, id)
    }

    /// Release `holder`'s lease on `id`. Returns false (and changes nothing) when `holder` does not hold
    /// it, e.g. because it expired and someone else took it over.
    pub fn release_lease(&self, id: &RunId, holder: &str) -> Result<bool, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.release_lease(id, holder));
        let tx = super::write_tx(conn)?;
        let deleted = tx
            .prepare_cached("DELETE FROM leases WHERE run_id = ?1 AND holder = ?2")?
            .execute(params![id.as_str(), holder])?;
        if deleted == 0 {
            return Ok(false);
        }
        audit::append(&tx, holder, Some(id), "lease.released", json!({}))?;
        tx.commit()?;
        Ok(true)
    }

    /// The unexpired lease on `id`, if any.
    pub fn lease(&self, id: &RunId) -> Result<Option<Lease>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.lease(id));
        active_lease(conn, id, Utc::now())
    }

    /// Record `approver`'s approval of `id`; refused if they already approved it. Returns the number of
    /// distinct approvals now counted.
    pub fn record_approval(
        &self,
        id: &RunId,
        approver: &str,
        reason: &str,
        digest: &str,
        policy_version: &str,
    ) -> Result<u32, StoreError> {
        let approval = NewApproval { approver, reason, digest, policy_version, at: Utc::now(), signature: None };
        self.record_signed_approval(id, &approval)
    }

    /// Record an approval with the time and signature it was signed with; the signature also goes into
    /// the `approval.recorded` audit event. Refused if this approver already approved `id`.
    pub fn record_signed_approval(&self, id: &RunId, a: &NewApproval<'_>) -> Result<u32, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.record_signed_approval(id, a));
        let NewApproval { approver, reason, digest, policy_version, at, signature } = *a;
        let tx = super::write_tx(conn)?;
        ensure_run(&tx, id)?;
        let already: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM approvals WHERE run_id = ?1 AND approver = ?2)")?
            .query_row(params![id.as_str(), approver], |row| row.get(0))?;
        if already {
            return Err(StoreError::AlreadyApproved { id: id.clone(), approver: approver.to_string() });
        }
        tx.prepare_cached(
            "INSERT INTO approvals (run_id, approver, approved_at, reason, digest, policy_version, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![id.as_str(), approver, ts(at), reason, digest, policy_version, signature])?;
        // The row and its event share one time (the signing time), so the state check compares them exactly.
        let mut payload = json!({ "reason": reason, "digest": digest, "policy_version": policy_version });
        if let Some(signature) = signature {
            payload["signature"] = json!(signature);
            payload["signed_at"] = json!(ts(at));
        }
        audit::append_at(&tx, at, approver, Some(id), "approval.recorded", payload)?;
        let count: u32 = tx
            .prepare_cached("SELECT COUNT(*) FROM approvals WHERE run_id = ?1")?
            .query_row([id.as_str()], |row| row.get(0))?;
        tx.commit()?;
        Ok(count)
    }

    /// Every approval of `id`, oldest first.
    pub fn approvals(&self, id: &RunId) -> Result<Vec<Approval>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.approvals(id));
        approvals_of(conn, id)
    }
}

pub(crate) fn ensure_run(conn: &Connection, id: &RunId) -> Result<(), StoreError> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)")?
        .query_row([id.as_str()], |row| row.get(0))?;
    if exists { Ok(()) } else { Err(StoreError::UnknownRun { id: id.clone() }) }
}

fn lease_row(conn: &Connection, id: &RunId) -> Result<Option<Lease>, StoreError> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached("SELECT holder, acquired_at, expires_at FROM leases WHERE run_id = ?1")?
        .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    row.map(|(holder, acquired_at, expires_at)| {
        Ok(Lease {
            run_id: id.clone(),
            holder,
            acquired_at: parse_ts("lease time", &acquired_at)?,
            expires_at: parse_ts("lease expiry", &expires_at)?,
        })
    })
    .transpose()
}

pub(crate) fn active_lease(conn: &Connection, id: &RunId, now: DateTime<Utc>) -> Result<Option<Lease>, StoreError> {
    Ok(lease_row(conn, id)?.filter(|lease| lease.expires_at > now))
}

pub(crate) fn approvals_of(conn: &Connection, id: &RunId) -> Result<Vec<Approval>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT approver, approved_at, reason, digest, policy_version, signature FROM approvals WHERE run_id = ?1
         ORDER BY approved_at, approver",
    )?;
    let mut rows = stmt.query([id.as_str()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(Approval {
            run_id: id.clone(),
            approver: row.get(0)?,
            approved_at: parse_ts("approval time", &row.get::<_, String>(1)?)?,
            reason: row.get(2)?,
            digest: row.get(3)?,
            policy_version: row.get(4)?,
            signature: row.get(5)?,
        });
    }
    Ok(out)
}
