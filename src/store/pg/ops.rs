//! Runs, leases, approvals, the catalog and exchanges on PostgreSQL: the SQLite store's operations,
//! statement for statement, with the run row locked (`SELECT … FOR UPDATE`) wherever SQLite's single
//! writer made a check-then-write safe.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use super::Pg;
use super::audit::append_at;
use crate::judge::{InvoiceKey, OtherInvoice};
use crate::model::{Action, GovernedRun, RunId, RunStatus, RunSummary};
use crate::store::runs::parse_status;
use crate::store::{
    Approval, Exchange, Lease, NewApproval, RunFilter, RunToJudge, StatusChange, StoreError, StoredRun, parse_ts, ts,
};

const SUMMARY: &str = "SELECT r.id, r.action, r.status, r.company, r.target, r.amount, r.currency, r.requester,
        r.requested_at, r.expires_at, (SELECT COUNT(*) FROM approvals a WHERE a.run_id = r.id),
        r.required_approvals, l.holder
     FROM runs r LEFT JOIN leases l ON l.run_id = r.id AND l.expires_at > $1";

fn summary_from_row(row: &Row) -> Result<RunSummary, StoreError> {
    let action: &str = row.try_get(1)?;
    let amount = row
        .try_get::<_, Option<&str>>(5)?
        .map(|a| Decimal::from_str_exact(a).map_err(|e| StoreError::corrupt("run amount", format!("'{a}': {e}"))))
        .transpose()?;
    Ok(RunSummary {
        id: RunId(row.try_get(0)?),
        action: Action::from_str(action).map_err(|e| StoreError::corrupt("run action", e))?,
        status: parse_status(row.try_get(2)?)?,
        company: row.try_get(3)?,
        target: row.try_get(4)?,
        amount,
        currency: row.try_get(6)?,
        requester: row.try_get(7)?,
        requested_at: parse_ts("run request time", row.try_get(8)?)?,
        expires_at: parse_ts("run expiry", row.try_get(9)?)?,
        approvals: count(row.try_get(10)?),
        required_approvals: u32::try_from(row.try_get::<_, i64>(11)?)
            .map_err(|e| StoreError::corrupt("runs.required_approvals", e))?,
        lease_holder: row.try_get(12)?,
        judged: None,
    })
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn statuses(list: &[RunStatus]) -> Vec<&'static str> {
    list.iter().map(|s| s.as_str()).collect()
}

/// Lock the run's row for the rest of the transaction; `UnknownRun` when there is none.
fn lock_run(tx: &Pg, id: &RunId) -> Result<RunStatus, StoreError> {
    match tx.query_opt("SELECT status FROM runs WHERE id = $1 FOR UPDATE", &[&id.as_str()])? {
        Some(row) => parse_status(row.try_get(0)?),
        None => Err(StoreError::UnknownRun { id: id.clone() }),
    }
}

fn lease_row(pg: &Pg, id: &RunId) -> Result<Option<Lease>, StoreError> {
    let row = pg.query_opt("SELECT holder, acquired_at, expires_at FROM leases WHERE run_id = $1", &[&id.as_str()])?;
    row.map(|row| {
        Ok(Lease {
            run_id: id.clone(),
            holder: row.try_get(0)?,
            acquired_at: parse_ts("lease time", row.try_get(1)?)?,
            expires_at: parse_ts("lease expiry", row.try_get(2)?)?,
        })
    })
    .transpose()
}

fn approval_from_row(run_id: RunId, row: &Row, first: usize) -> Result<Approval, StoreError> {
    Ok(Approval {
        run_id,
        approver: row.try_get(first)?,
        approved_at: parse_ts("approval time", row.try_get(first + 1)?)?,
        reason: row.try_get(first + 2)?,
        digest: row.try_get(first + 3)?,
        policy_version: row.try_get(first + 4)?,
        signature: row.try_get(first + 5)?,
    })
}

fn insert_history(
    tx: &Pg,
    id: &RunId,
    from: Option<RunStatus>,
    to: RunStatus,
    actor: &str,
    at: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO status_history (run_id, from_status, to_status, actor, at, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id.as_str(), &from.map(RunStatus::as_str), &to.as_str(), &actor, &at, &detail.to_string()],
    )?;
    Ok(())
}

impl Pg {
    pub(crate) fn summaries(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        let company = filter.company.as_deref().map(str::to_ascii_lowercase);
        let rows = self.query(
            &format!(
                "{SUMMARY} WHERE ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.action = $3)
                   AND ($4::text IS NULL OR r.company = $4)"
            ),
            &[&ts(Utc::now()), &filter.status.map(RunStatus::as_str), &filter.action.map(Action::as_str), &company],
        )?;
        let mut out = rows.iter().map(summary_from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_unstable_by(|a, b| a.requested_at.cmp(&b.requested_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub(crate) fn first_summaries(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.query(
            &format!("{SUMMARY} ORDER BY r.requested_at COLLATE \"C\", r.id COLLATE \"C\" LIMIT $2"),
            &[&ts(Utc::now()), &limit],
        )?;
        rows.iter().map(summary_from_row).collect()
    }

    pub(crate) fn overdue(&self, now: DateTime<Utc>) -> Result<Vec<(RunId, DateTime<Utc>)>, StoreError> {
        let rows = self.query(
            "SELECT id, expires_at FROM runs WHERE status IN ('pending', 'approved') AND expires_at <= $1
             ORDER BY expires_at COLLATE \"C\", id COLLATE \"C\"",
            &[&ts(now)],
        )?;
        rows.iter().map(|row| Ok((RunId(row.try_get(0)?), parse_ts("run expiry", row.try_get(1)?)?))).collect()
    }

    pub(crate) fn get(&self, id: &RunId) -> Result<Option<StoredRun>, StoreError> {
        let Some(row) = self.query_opt(
            "SELECT p.payload, r.status, r.digest, r.imported_at, r.updated_at
             FROM runs r JOIN run_payloads p ON p.run_id = r.id WHERE r.id = $1",
            &[&id.as_str()],
        )?
        else {
            return Ok(None);
        };
        let run: GovernedRun = serde_json::from_str(row.try_get(0)?)
            .map_err(|e| StoreError::corrupt(format!("run {id}"), format!("stored payload does not parse: {e}")))?;
        Ok(Some(StoredRun {
            run,
            status: parse_status(row.try_get(1)?)?,
            digest: row.try_get(2)?,
            imported_at: parse_ts("run import time", row.try_get(3)?)?,
            updated_at: parse_ts("run update time", row.try_get(4)?)?,
            approvals: self.approvals(id)?,
            lease: self.lease(id)?,
            history: self.history(id)?,
        }))
    }

    fn history(&self, id: &RunId) -> Result<Vec<StatusChange>, StoreError> {
        let rows = self.query(
            "SELECT from_status, to_status, actor, at, detail FROM status_history WHERE run_id = $1 ORDER BY id",
            &[&id.as_str()],
        )?;
        rows.iter()
            .map(|row| {
                Ok(StatusChange {
                    from: row.try_get::<_, Option<&str>>(0)?.map(parse_status).transpose()?,
                    to: parse_status(row.try_get(1)?)?,
                    actor: row.try_get(2)?,
                    at: parse_ts("history time", row.try_get(3)?)?,
                    detail: serde_json::from_str(row.try_get(4)?)
                        .map_err(|e| StoreError::corrupt("history detail", e))?,
                })
            })
            .collect()
    }

    pub(crate) fn status(&self, id: &RunId) -> Result<Option<RunStatus>, StoreError> {
        self.query_opt("SELECT status FROM runs WHERE id = $1", &[&id.as_str()])?
            .map(|row| parse_status(row.try_get(0)?))
            .transpose()
    }

    pub(crate) fn transition(
        &self,
        id: &RunId,
        expected_from: &[RunStatus],
        to: RunStatus,
        actor: &str,
        detail: Value,
    ) -> Result<RunStatus, StoreError> {
        let tx = self.tx()?;
        let from = lock_run(&tx, id)?;
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
        tx.execute("UPDATE runs SET status = $2, updated_at = $3 WHERE id = $1", &[&id.as_str(), &to.as_str(), &now])?;
        insert_history(&tx, id, Some(from), to, actor, &now, &detail).map_err(|e| e.second_execution(id, to))?;
        append_at(
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

    pub(crate) fn runs_in_status(&self, status: RunStatus) -> Result<Vec<RunId>, StoreError> {
        let rows = self.query(
            "SELECT id FROM runs WHERE status = $1 ORDER BY requested_at COLLATE \"C\", id COLLATE \"C\"",
            &[&status.as_str()],
        )?;
        rows.iter().map(|row| Ok(RunId(row.try_get(0)?))).collect()
    }

    pub(crate) fn count_runs(&self) -> Result<u64, StoreError> {
        let n: i64 = self.query("SELECT COUNT(*) FROM runs", &[])?.first().map_or(Ok(0), |row| row.try_get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(crate) fn acquire_lease(&self, id: &RunId, holder: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let tx = self.tx()?;
        // The claim is a database fact: the run's row stays locked until this lease is written.
        lock_run(&tx, id)?;
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
        tx.execute(
            "INSERT INTO leases (run_id, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (run_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                                                expires_at = excluded.expires_at",
            &[&id.as_str(), &holder, &ts(now), &ts(expires_at)],
        )?;
        let taken_over = previous.filter(|p| p.holder != holder).map(|p| p.holder);
        append_at(
            &tx,
            now,
            holder,
            Some(id),
            "lease.acquired",
            json!({ "expires_at": ts(expires_at), "taken_over_from": taken_over }),
        )?;
        tx.commit()?;
        Ok(lease)
    }

    pub(crate) fn renew_lease(&self, id: &RunId, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let expires_at = Utc::now().checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let n = self.execute(
            "UPDATE leases SET expires_at = $3 WHERE run_id = $1 AND holder = $2",
            &[&id.as_str(), &holder, &ts(expires_at)],
        )?;
        Ok(n == 1)
    }

    pub(crate) fn last_lease(&self, id: &RunId) -> Result<Option<Lease>, StoreError> {
        lease_row(self, id)
    }

    pub(crate) fn release_lease(&self, id: &RunId, holder: &str) -> Result<bool, StoreError> {
        let tx = self.tx()?;
        let deleted = tx.execute("DELETE FROM leases WHERE run_id = $1 AND holder = $2", &[&id.as_str(), &holder])?;
        if deleted == 0 {
            return Ok(false);
        }
        append_at(&tx, Utc::now(), holder, Some(id), "lease.released", json!({}))?;
        tx.commit()?;
        Ok(true)
    }

    pub(crate) fn lease(&self, id: &RunId) -> Result<Option<Lease>, StoreError> {
        let now = Utc::now();
        Ok(lease_row(self, id)?.filter(|lease| lease.expires_at > now))
    }

    pub(crate) fn record_signed_approval(&self, id: &RunId, a: &NewApproval<'_>) -> Result<u32, StoreError> {
        let NewApproval { approver, reason, digest, policy_version, at, signature } = *a;
        let tx = self.tx()?;
        lock_run(&tx, id)?;
        let already =
            tx.query_opt("SELECT 1 FROM approvals WHERE run_id = $1 AND approver = $2", &[&id.as_str(), &approver])?;
        if already.is_some() {
            return Err(StoreError::AlreadyApproved { id: id.clone(), approver: approver.to_string() });
        }
        tx.execute(
            "INSERT INTO approvals (run_id, approver, approved_at, reason, digest, policy_version, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&id.as_str(), &approver, &ts(at), &reason, &digest, &policy_version, &signature],
        )?;
        let mut payload = json!({ "reason": reason, "digest": digest, "policy_version": policy_version });
        if let Some(signature) = signature {
            payload["signature"] = json!(signature);
            payload["signed_at"] = json!(ts(at));
        }
        append_at(&tx, at, approver, Some(id), "approval.recorded", payload)?;
        let n: i64 = tx.query("SELECT COUNT(*) FROM approvals WHERE run_id = $1", &[&id.as_str()])?[0].try_get(0)?;
        tx.commit()?;
        Ok(count(n))
    }

    pub(crate) fn approvals(&self, id: &RunId) -> Result<Vec<Approval>, StoreError> {
        let rows = self.query(
            "SELECT approver, approved_at, reason, digest, policy_version, signature FROM approvals WHERE run_id = $1
             ORDER BY approved_at COLLATE \"C\", approver COLLATE \"C\"",
            &[&id.as_str()],
        )?;
        rows.iter().map(|row| approval_from_row(id.clone(), row, 0)).collect()
    }

    pub(crate) fn save_catalog(&self, json_text: &str, actor: &str) -> Result<DateTime<Utc>, StoreError> {
        let tx = self.tx()?;
        let now = Utc::now();
        tx.execute(
            "INSERT INTO catalog (id, json, synced_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json, synced_at = excluded.synced_at",
            &[&json_text, &ts(now)],
        )?;
        let sha256 = hex::encode(Sha256::digest(json_text.as_bytes()));
        append_at(&tx, now, actor, None, "catalog.saved", json!({ "sha256": sha256 }))?;
        tx.commit()?;
        Ok(now)
    }

    pub(crate) fn load_catalog(&self) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        self.query_opt("SELECT json, synced_at FROM catalog WHERE id = 1", &[])?
            .map(|row| Ok((row.try_get(0)?, parse_ts("catalog sync time", row.try_get(1)?)?)))
            .transpose()
    }

    pub(crate) fn record_exchange(&self, run_id: &RunId, json_text: &str, actor: &str) -> Result<Exchange, StoreError> {
        let tx = self.tx()?;
        lock_run(&tx, run_id)?;
        let at = Utc::now();
        let id: i64 = tx.query(
            "INSERT INTO exchanges (run_id, at, json) VALUES ($1, $2, $3) RETURNING id",
            &[&run_id.as_str(), &ts(at), &json_text],
        )?[0]
            .try_get(0)?;
        let sha256 = hex::encode(Sha256::digest(json_text.as_bytes()));
        append_at(&tx, at, actor, Some(run_id), "exchange.recorded", json!({ "exchange": id, "sha256": sha256 }))?;
        tx.commit()?;
        Ok(Exchange { id, run_id: run_id.clone(), at, json: json_text.to_string() })
    }

    pub(crate) fn exchanges(&self, run_id: &RunId) -> Result<Vec<Exchange>, StoreError> {
        let rows =
            self.query("SELECT id, at, json FROM exchanges WHERE run_id = $1 ORDER BY id", &[&run_id.as_str()])?;
        rows.iter()
            .map(|row| {
                Ok(Exchange {
                    id: row.try_get(0)?,
                    run_id: run_id.clone(),
                    at: parse_ts("exchange time", row.try_get(1)?)?,
                    json: row.try_get(2)?,
                })
            })
            .collect()
    }

    pub(crate) fn invoices_with_key(
        &self,
        key: &InvoiceKey,
        among: &[RunStatus],
        except: &RunId,
    ) -> Result<Vec<OtherInvoice>, StoreError> {
        let rows = self.query(
            "SELECT id FROM runs WHERE invoice_number = $1 AND invoice_vendor = $2 AND company IS NOT DISTINCT FROM $3
               AND status = ANY($4) AND id <> $5",
            &[&key.number, &key.vendor, &key.company, &statuses(among), &except.as_str()],
        )?;
        rows.iter()
            .map(|row| {
                Ok(OtherInvoice {
                    run_id: RunId(row.try_get(0)?),
                    company: key.company.clone(),
                    vendor: key.vendor.clone(),
                    invoice_number: key.number.clone(),
                })
            })
            .collect()
    }

    pub(crate) fn invoices_with_keys(
        &self,
        keys: &[InvoiceKey],
        among: &[RunStatus],
    ) -> Result<HashMap<InvoiceKey, Vec<OtherInvoice>>, StoreError> {
        let numbers: Vec<&str> = keys.iter().map(|k| k.number.as_str()).collect();
        let vendors: Vec<&str> = keys.iter().map(|k| k.vendor.as_str()).collect();
        let companies: Vec<Option<&str>> = keys.iter().map(|k| k.company.as_deref()).collect();
        // One probe of `runs_by_invoice` per distinct key, in one statement.
        let rows = self.query(
            "SELECT r.id, r.company, r.invoice_vendor, r.invoice_number
             FROM (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[], $3::text[]) AS k(number, vendor, company)) k
             JOIN runs r ON r.invoice_number = k.number AND r.invoice_vendor = k.vendor
                        AND r.company IS NOT DISTINCT FROM k.company
             WHERE r.status = ANY($4)",
            &[&numbers, &vendors, &companies, &statuses(among)],
        )?;
        let mut out: HashMap<InvoiceKey, Vec<OtherInvoice>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for row in &rows {
            let key = InvoiceKey { company: row.try_get(1)?, vendor: row.try_get(2)?, number: row.try_get(3)? };
            let other = OtherInvoice {
                run_id: RunId(row.try_get(0)?),
                company: key.company.clone(),
                vendor: key.vendor.clone(),
                invoice_number: key.number.clone(),
            };
            out.entry(key).or_default().push(other);
        }
        Ok(out)
    }

    pub(crate) fn invoice_twins(
        &self,
        among: &[RunStatus],
    ) -> Result<HashMap<InvoiceKey, Vec<(OtherInvoice, RunStatus)>>, StoreError> {
        let rows = self.query(
            "WITH keyed AS (
                 SELECT id, status, company, invoice_vendor, invoice_number FROM runs
                 WHERE invoice_number IS NOT NULL AND status = ANY($1)
             ),
             twins AS (
                 SELECT company, invoice_vendor, invoice_number FROM keyed
                 GROUP BY invoice_number, invoice_vendor, company HAVING COUNT(*) > 1
             )
             SELECT k.id, k.status, k.company, k.invoice_vendor, k.invoice_number FROM keyed k JOIN twins t
               ON k.invoice_number = t.invoice_number AND k.invoice_vendor = t.invoice_vendor
              AND k.company IS NOT DISTINCT FROM t.company",
            &[&statuses(among)],
        )?;
        let mut out: HashMap<InvoiceKey, Vec<(OtherInvoice, RunStatus)>> = HashMap::new();
        for row in &rows {
            let key = InvoiceKey { company: row.try_get(2)?, vendor: row.try_get(3)?, number: row.try_get(4)? };
            let other = OtherInvoice {
                run_id: RunId(row.try_get(0)?),
                company: key.company.clone(),
                vendor: key.vendor.clone(),
                invoice_number: key.number.clone(),
            };
            let status = parse_status(row.try_get(1)?)?;
            out.entry(key).or_default().push((other, status));
        }
        Ok(out)
    }

    /// Runs (`ids`, or every run) in one of `among` (and of `action`), with their approvals, to `each`.
    pub(crate) fn each_run_to_judge(
        &self,
        ids: Option<&[RunId]>,
        among: &[RunStatus],
        action: Option<Action>,
        mut each: impl FnMut(RunToJudge) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let ids: Option<Vec<&str>> = ids.map(|ids| ids.iter().map(RunId::as_str).collect());
        let action = action.map(Action::as_str);
        let among = statuses(among);
        // Two texts, not one with `$3 IS NULL OR r.id = ANY($3)`: after five runs of a prepared statement
        // PostgreSQL may switch to a generic plan, and one for "every id or some" walks every run even
        // when a batch of 2,000 ids was asked for (27 s instead of 3 s for a 50,000-row queue).
        let filter = if ids.is_some() {
            "r.id = ANY($3) AND r.status = ANY($1) AND ($2::text IS NULL OR r.action = $2)"
        } else {
            "r.status = ANY($1) AND ($2::text IS NULL OR r.action = $2) AND $3::text[] IS NULL"
        };
        let approval_rows = self.query(
            &format!(
                "SELECT a.run_id, a.approver, a.approved_at, a.reason, a.digest, a.policy_version, a.signature
                 FROM approvals a JOIN runs r ON r.id = a.run_id WHERE {filter}
                 ORDER BY a.run_id, a.approved_at COLLATE \"C\", a.approver COLLATE \"C\""
            ),
            &[&among, &action, &ids],
        )?;
        let mut approvals: HashMap<String, Vec<Approval>> = HashMap::new();
        for row in &approval_rows {
            let run_id: String = row.try_get(0)?;
            let approval = approval_from_row(RunId(run_id.clone()), row, 1)?;
            approvals.entry(run_id).or_default().push(approval);
        }
        let rows = self.query(
            &format!(
                "SELECT r.id, r.status, p.payload FROM runs r JOIN run_payloads p ON p.run_id = r.id WHERE {filter}"
            ),
            &[&among, &action, &ids],
        )?;
        for row in &rows {
            let id: String = row.try_get(0)?;
            let run: GovernedRun = serde_json::from_str(row.try_get(2)?)
                .map_err(|e| StoreError::corrupt(format!("run {id}"), format!("stored payload does not parse: {e}")))?;
            each(RunToJudge {
                status: parse_status(row.try_get(1)?)?,
                approvals: approvals.remove(&id).unwrap_or_default(),
                run,
            })?;
        }
        Ok(())
    }
}
