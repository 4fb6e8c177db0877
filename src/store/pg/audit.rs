//! The audit chain on PostgreSQL: the same events and hashes as on SQLite. The next `seq` is taken
//! under the chain's table lock, so appends from every host queue up and the chain cannot fork (the
//! primary key on `seq` would refuse a fork anyway).

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;

use super::Pg;
use crate::model::{RunId, RunStatus};
use crate::store::audit::{AuditEvent, StoredEvent, event_from_parts, next_event};
use crate::store::{StoreError, ts};

pub(crate) const EVENT_COLUMNS: &str = "seq, at, actor, run_id, kind, payload, prev_hash, hash";

/// Take the chain's lock for the rest of the transaction: one appender at a time, readers unhindered.
pub(crate) fn lock_chain(tx: &Pg) -> Result<(), StoreError> {
    tx.execute("LOCK TABLE audit_head IN SHARE ROW EXCLUSIVE MODE", &[])?;
    Ok(())
}

/// Append one event dated `at`, inside the caller's transaction.
pub(crate) fn append_at(
    tx: &Pg,
    at: DateTime<Utc>,
    actor: &str,
    run_id: Option<&RunId>,
    kind: &str,
    payload: Value,
) -> Result<AuditEvent, StoreError> {
    lock_chain(tx)?;
    let head = head(tx)?;
    let (event, payload_text) = next_event(head, at, actor, run_id, kind, payload);
    tx.execute(
        "INSERT INTO audit_events (seq, at, actor, run_id, kind, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &event.seq,
            &ts(event.at),
            &event.actor,
            &event.run_id.as_ref().map(RunId::as_str),
            &event.kind,
            &payload_text,
            &event.prev_hash,
            &event.hash,
        ],
    )?;
    tx.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        &[&event.seq, &event.hash],
    )?;
    Ok(event)
}

pub(crate) fn head(pg: &Pg) -> Result<Option<(i64, String)>, StoreError> {
    Ok(pg.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?.map(|row| (row.get(0), row.get(1))))
}

/// Read one row (columns as [`EVENT_COLUMNS`], from `first`): the event, or why it is broken.
pub(crate) fn event_from_row(row: &Row, first: usize) -> Result<Result<AuditEvent, (i64, String)>, StoreError> {
    Ok(event_from_parts(StoredEvent {
        seq: row.try_get(first)?,
        at: row.try_get(first + 1)?,
        actor: row.try_get(first + 2)?,
        run_id: row.try_get(first + 3)?,
        kind: row.try_get(first + 4)?,
        payload: row.try_get(first + 5)?,
        prev_hash: row.try_get(first + 6)?,
        hash: row.try_get(first + 7)?,
    }))
}

fn collect(rows: &[Row]) -> Result<Vec<AuditEvent>, StoreError> {
    rows.iter()
        .map(|row| event_from_row(row, 0)?.map_err(|(seq, reason)| StoreError::AuditBroken { seq, reason }))
        .collect()
}

impl Pg {
    pub(crate) fn append_audit(
        &self,
        actor: &str,
        run_id: Option<&RunId>,
        kind: &str,
        payload: Value,
    ) -> Result<AuditEvent, StoreError> {
        let tx = self.tx()?;
        let event = append_at(&tx, Utc::now(), actor, run_id, kind, payload)?;
        tx.commit()?;
        Ok(event)
    }

    pub(crate) fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        head(self)
    }

    fn events_where(
        &self,
        clause: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<AuditEvent>, StoreError> {
        collect(&self.query(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE {clause}"), params)?)
    }

    pub(crate) fn audit_range(&self, first: i64, last: i64) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("seq BETWEEN $1 AND $2 ORDER BY seq", &[&first, &last])
    }

    pub(crate) fn audit_events_of_kind(&self, kind: &str) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("kind = $1 ORDER BY seq", &[&kind])
    }

    pub(crate) fn audit_events(&self, run_id: &RunId) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("run_id = $1 ORDER BY seq", &[&run_id.as_str()])
    }

    pub(crate) fn audit_event(&self, seq: i64) -> Result<Option<AuditEvent>, StoreError> {
        self.events_where("seq = $1", &[&seq]).map(|mut e| e.pop())
    }

    pub(crate) fn newest_store_event(&self, kind: &str) -> Result<Option<AuditEvent>, StoreError> {
        self.events_where("run_id IS NULL AND kind = $1 ORDER BY seq DESC LIMIT 1", &[&kind]).map(|mut e| e.pop())
    }

    pub(crate) fn events_after(&self, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("seq > $1 ORDER BY seq", &[&seq])
    }

    pub(crate) fn run_events_after(&self, run_id: &RunId, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("run_id = $1 AND seq > $2 ORDER BY seq", &[&run_id.as_str(), &seq])
    }

    pub(crate) fn events_of_kind_after(&self, kind: &str, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        self.events_where("seq > $1 AND kind = $2 ORDER BY seq", &[&seq, &kind])
    }

    pub(crate) fn status_events_after(&self, to: RunStatus, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        // The payload is canonical JSON text (never jsonb, which would re-order it); cast only to read.
        self.events_where(
            "seq > $1 AND kind = 'run.status' AND (payload::jsonb ->> 'to') = $2 ORDER BY seq",
            &[&seq, &to.as_str()],
        )
    }
}
