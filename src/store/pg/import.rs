//! A streamed import on PostgreSQL, in batches: the runs added are kept (their rows, not the parsed runs)
//! until [`BATCH`] have gathered, then written with a handful of statements per batch — one look-up of
//! which of them are stored already, one multi-row insert per table, one move of the chain's head —
//! instead of eight round trips per run. Same transaction, same rows, same audit events (hashed here,
//! from the head read once under the chain's lock) and the same report as the SQLite import; only a
//! conflicting run is reported when its batch is written (at a later `add` or at `commit`), still
//! refusing the whole import and naming the run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Pg, Tx};
use crate::model::{GovernedRun, RunId, RunStatus, RunSummary};
use crate::store::audit::next_event;
use crate::store::{ImportReport, StoreError, ts};

/// Runs written per batch: about a megabyte of payloads held at once, and a few statements per batch.
const BATCH: usize = 1_000;

/// One run added and not yet written: its row, its payload and what it supersedes.
struct Pending {
    id: String,
    action: &'static str,
    environment: String,
    company: Option<String>,
    target: String,
    amount: Option<String>,
    currency: Option<String>,
    requester: String,
    requested_at: String,
    expires_at: String,
    required_approvals: i64,
    digest: String,
    invoice_vendor: Option<String>,
    invoice_number: Option<String>,
    payload: String,
    supersedes: Option<String>,
}

impl Pending {
    fn of(run: &GovernedRun) -> Pending {
        let summary = RunSummary::of(run, RunStatus::Pending);
        let (invoice_vendor, invoice_number) = crate::store::invoice_key::key_columns(run);
        Pending {
            id: run.id.as_str().to_string(),
            action: run.action.as_str(),
            environment: run.environment.clone(),
            company: summary.company,
            target: summary.target,
            amount: summary.amount.map(|a| a.to_string()),
            currency: summary.currency,
            requester: summary.requester,
            requested_at: ts(run.requested_at),
            expires_at: ts(run.expires_at),
            required_approvals: i64::from(run.route.required_approvals),
            digest: run.payload_digest(),
            invoice_vendor,
            invoice_number,
            payload: run.canonical_json(),
            supersedes: run.supersedes.as_ref().map(|old| old.as_str().to_string()),
        }
    }
}

/// The columns of one batch's writes, one array per column.
#[derive(Default)]
struct Columns {
    runs: Vec<Pending>,
    seq: Vec<i64>,
    event_run: Vec<String>,
    kind: Vec<&'static str>,
    event_payload: Vec<String>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

/// A streamed import on PostgreSQL: one transaction holding the chain's lock from the start, so the
/// import's events are one unbroken stretch of the chain, as on SQLite.
pub(crate) struct PgImport<'s> {
    tx: Tx<'s>,
    /// The chain's head as this import has moved it (read once, under the lock).
    head: Option<(i64, String)>,
    pending: Vec<Pending>,
    now: DateTime<Utc>,
    actor: String,
}

impl<'s> PgImport<'s> {
    pub(crate) fn begin(pg: &'s Pg, now: DateTime<Utc>, actor: &str) -> Result<PgImport<'s>, StoreError> {
        let tx = pg.tx()?;
        super::audit::lock_chain(&tx)?;
        let head = super::audit::head(&tx)?;
        Ok(PgImport { tx, head, pending: Vec::with_capacity(BATCH), now, actor: actor.to_string() })
    }

    pub(crate) fn add(&mut self, run: &GovernedRun, report: &mut ImportReport) -> Result<(), StoreError> {
        self.pending.push(Pending::of(run));
        if self.pending.len() >= BATCH {
            self.flush(report)?;
        }
        Ok(())
    }

    pub(crate) fn commit(mut self, report: &mut ImportReport) -> Result<(), StoreError> {
        self.flush(report)?;
        self.tx.commit()
    }

    /// Write the runs added since the last batch, in the order they were added.
    fn flush(&mut self, report: &mut ImportReport) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        // Which of these runs, and of the runs they supersede, the store holds already (earlier batches
        // of this import included): their digests.
        let asked: Vec<&str> =
            pending.iter().flat_map(|p| std::iter::once(p.id.as_str()).chain(p.supersedes.as_deref())).collect();
        let mut stored: HashMap<String, String> = self
            .tx
            .query("SELECT id, digest FROM runs WHERE id = ANY($1)", &[&asked])?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, StoreError>>()?;
        let now = self.now;
        let mut out = Columns::default();
        let mut event = |head: &mut Option<(i64, String)>, run_id: &str, kind: &'static str, payload| {
            let id = RunId(run_id.to_string());
            let (event, text) = next_event(head.take(), now, &self.actor, Some(&id), kind, payload);
            *head = Some((event.seq, event.hash.clone()));
            out.seq.push(event.seq);
            out.event_run.push(id.0);
            out.kind.push(kind);
            out.event_payload.push(text);
            out.prev_hash.push(event.prev_hash);
            out.hash.push(event.hash);
        };
        let mut head = self.head.clone();
        let mut runs = Vec::with_capacity(pending.len());
        for p in pending {
            if let Some(stored_digest) = stored.get(&p.id) {
                if *stored_digest == p.digest {
                    report.unchanged.push(RunId(p.id));
                    continue;
                }
                return Err(StoreError::Conflict {
                    id: RunId(p.id),
                    stored_digest: stored_digest.clone(),
                    new_digest: p.digest,
                });
            }
            stored.insert(p.id.clone(), p.digest.clone());
            let mut imported = json!({ "digest": p.digest, "action": p.action, "environment": p.environment });
            if let Some(old) = &p.supersedes {
                imported["supersedes"] = json!(old);
            }
            event(&mut head, &p.id, "run.imported", imported);
            // The replaced run's own trail names its successor, so either end of the link leads to the other.
            if let Some(old) = p.supersedes.as_deref().filter(|old| stored.contains_key(*old)) {
                event(&mut head, old, "run.superseded", json!({ "by": p.id, "digest": p.digest }));
            }
            report.imported.push(RunId(p.id.clone()));
            runs.push(p);
        }
        out.runs = runs;
        self.write(&out)?;
        self.head = head;
        Ok(())
    }

    /// One batch's rows: runs, payloads, history, audit events, and the chain's new head.
    fn write(&self, c: &Columns) -> Result<(), StoreError> {
        if c.runs.is_empty() {
            return Ok(());
        }
        let now = ts(self.now);
        let col = |f: fn(&Pending) -> &str| -> Vec<&str> { c.runs.iter().map(f).collect() };
        let opt = |f: fn(&Pending) -> Option<&str>| -> Vec<Option<&str>> { c.runs.iter().map(f).collect() };
        let ids = col(|p| &p.id);
        let required: Vec<i64> = c.runs.iter().map(|p| p.required_approvals).collect();
        self.tx.execute(
            "INSERT INTO runs (id, action, status, environment, company, target, amount, currency, requester,
                               requested_at, expires_at, required_approvals, digest, imported_at, updated_at,
                               invoice_vendor, invoice_number)
             SELECT id, action, $16, environment, company, target, amount, currency, requester,
                    requested_at, expires_at, required_approvals, digest, $14, $14, invoice_vendor, invoice_number
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[], $15::text[])
                  AS u(id, action, environment, company, target, amount, currency, requester, requested_at,
                       expires_at, required_approvals, digest, invoice_vendor, invoice_number)",
            &[
                &ids,
                &col(|p| p.action),
                &col(|p| &p.environment),
                &opt(|p| p.company.as_deref()),
                &col(|p| &p.target),
                &opt(|p| p.amount.as_deref()),
                &opt(|p| p.currency.as_deref()),
                &col(|p| &p.requester),
                &col(|p| &p.requested_at),
                &col(|p| &p.expires_at),
                &required,
                &col(|p| &p.digest),
                &opt(|p| p.invoice_vendor.as_deref()),
                &now,
                &opt(|p| p.invoice_number.as_deref()),
                &RunStatus::Pending.as_str(),
            ],
        )?;
        self.tx.execute(
            "INSERT INTO run_payloads (run_id, payload) SELECT * FROM UNNEST($1::text[], $2::text[])",
            &[&ids, &col(|p| &p.payload)],
        )?;
        self.tx.execute(
            "INSERT INTO status_history (run_id, from_status, to_status, actor, at, detail)
             SELECT run_id, NULL, $5, $2, $3, $4 FROM UNNEST($1::text[]) WITH ORDINALITY AS u(run_id, n)
             ORDER BY n",
            &[&ids, &self.actor, &now, &json!({ "event": "imported" }).to_string(), &RunStatus::Pending.as_str()],
        )?;
        self.tx.execute(
            "INSERT INTO audit_events (seq, at, actor, run_id, kind, payload, prev_hash, hash)
             SELECT seq, $2, $3, run_id, kind, payload, prev_hash, hash
             FROM UNNEST($1::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                  AS u(seq, run_id, kind, payload, prev_hash, hash)",
            &[&c.seq, &now, &self.actor, &c.event_run, &c.kind, &c.event_payload, &c.prev_hash, &c.hash],
        )?;
        let (Some(seq), Some(hash)) = (c.seq.last(), c.hash.last()) else { return Ok(()) };
        self.tx.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            &[seq, hash],
        )?;
        Ok(())
    }
}
