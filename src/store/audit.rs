//! The tamper-evident audit log: an append-only hash chain (see `docs/audit.md`).
//!
//! Each event is hashed as
//!
//! ```text
//! hash = lowercase_hex( SHA-256( prev_hash || canonical_json(event) ) )
//! ```
//!
//! where `prev_hash` is the previous event's `hash` as 64 lowercase hex ASCII bytes ([`GENESIS_HASH`],
//! 64 zeros, for event #1), and `canonical_json(event)` is the UTF-8 text of the object
//! `{"actor":…,"at":…,"kind":…,"payload":…,"run_id":…,"seq":…}` written by [`super::canonical`]: keys
//! sorted, no whitespace, `at` as RFC 3339 UTC with nine fractional digits and `Z`, `run_id` a string or
//! `null`, `seq` an integer counting from 1 without gaps. The store also keeps the newest `(seq, hash)`
//! in `audit_head`, so deleting the newest events is detected as well.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical::{write_string, write_value};
use super::{Store, StoreError, parse_ts, ts};
use crate::model::RunId;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub run_id: Option<RunId>,
    /// What happened, e.g. `run.imported`, `run.status`, `lease.acquired`, `approval.recorded`.
    pub kind: String,
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// A chain that verified: how many events it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuditVerified {
    pub events: u64,
}

impl AuditEvent {
    /// The canonical JSON the hash covers (everything but the two hashes).
    pub fn canonical_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"actor\":");
        write_string(&mut out, &self.actor);
        out.push_str(",\"at\":");
        write_string(&mut out, &ts(self.at));
        out.push_str(",\"kind\":");
        write_string(&mut out, &self.kind);
        out.push_str(",\"payload\":");
        write_value(&mut out, &self.payload);
        out.push_str(",\"run_id\":");
        match &self.run_id {
            Some(id) => write_string(&mut out, id.as_str()),
            None => out.push_str("null"),
        }
        out.push_str(",\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push('}');
        out
    }

    /// The hash this event must carry, given its `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(self.canonical_json().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Whether the stored hash matches the content (checks one event alone, e.g. in an evidence bundle).
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }
}

/// Walk a whole chain in seq order; the first broken event is named.
/// `head` is the `(seq, hash)` recorded as newest, if any.
pub fn verify_chain<I>(events: I, head: Option<(i64, &str)>) -> Result<AuditVerified, StoreError>
where
    I: IntoIterator<Item = Result<AuditEvent, (i64, String)>>,
{
    let broken = |seq: i64, reason: String| StoreError::AuditBroken { seq, reason };
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    for event in events {
        let event = event.map_err(|(seq, reason)| broken(seq, reason))?;
        if event.seq > expected_seq {
            return Err(broken(
                expected_seq,
                format!("the event is missing (deleted?): the next stored event is #{}", event.seq),
            ));
        }
        if event.seq < expected_seq {
            return Err(broken(event.seq, format!("events are out of order: expected #{expected_seq}")));
        }
        if event.prev_hash != prev_hash {
            return Err(broken(event.seq, "its prev_hash is not the hash of the event before it".into()));
        }
        if !event.hash_is_valid() {
            return Err(broken(
                event.seq,
                "its content does not match its hash (actor, time, run, kind or payload altered)".into(),
            ));
        }
        prev_hash = event.hash;
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    match head {
        None if last == 0 => {}
        None => return Err(broken(last, "the chain head record is missing".into())),
        Some((seq, _)) if seq > last => {
            return Err(broken(last + 1, format!("events #{}..#{seq} are missing (deleted?)", last + 1)));
        }
        Some((seq, hash)) if seq != last || hash != prev_hash => {
            return Err(broken(last, format!("the chain head records #{seq}, which does not match this event")));
        }
        Some(_) => {}
    }
    Ok(AuditVerified { events: u64::try_from(last).unwrap_or(0) })
}

/// Append one event inside the caller's write transaction.
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    run_id: Option<&RunId>,
    kind: &str,
    payload: Value,
) -> Result<AuditEvent, StoreError> {
    append_at(conn, Utc::now(), actor, run_id, kind, payload)
}

/// Append one event dated `at`: the time of the row it records, so the row's time can be checked
/// against the chain byte for byte.
pub(crate) fn append_at(
    conn: &Connection,
    at: DateTime<Utc>,
    actor: &str,
    run_id: Option<&RunId>,
    kind: &str,
    payload: Value,
) -> Result<AuditEvent, StoreError> {
    let head: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (event, payload_text) = next_event(head, at, actor, run_id, kind, payload);
    conn.prepare_cached(
        "INSERT INTO audit_events (seq, at, actor, run_id, kind, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        event.seq,
        ts(event.at),
        event.actor,
        event.run_id.as_ref().map(RunId::as_str),
        event.kind,
        payload_text,
        event.prev_hash,
        event.hash
    ])?;
    conn.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![event.seq, event.hash])?;
    Ok(event)
}

pub(crate) const EVENT_COLUMNS: &str = "seq, at, actor, run_id, kind, payload, prev_hash, hash";

/// Read one row; a row that cannot even be read, or whose stored text is not the exact form signoff
/// writes, is reported as broken at its seq.
///
/// The hash covers the canonical form, and parsing forgives: serde_json keeps the last of two equal
/// keys, reads `"\u0061ction"` as `"action"`, skips whitespace, and RFC 3339 has many spellings of one
/// time. So the stored text must *be* its canonical serialization, byte for byte; otherwise a row
/// rewritten as `{"action":"EVIL","action":"…"}` would still verify.
pub(crate) fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AuditEvent, (i64, String)>> {
    Ok(event_from_parts(StoredEvent {
        seq: row.get(0)?,
        at: row.get_ref(1)?.as_str()?,
        actor: row.get(2)?,
        run_id: row.get(3)?,
        kind: row.get(4)?,
        payload: row.get_ref(5)?.as_str()?,
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    }))
}

/// One `audit_events` row as stored, whichever backend read it.
pub(crate) struct StoredEvent<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: String,
    pub run_id: Option<String>,
    pub kind: String,
    pub payload: &'a str,
    pub prev_hash: String,
    pub hash: String,
}

/// The event a stored row holds, or why it is broken (see [`event_from_row`]).
pub(crate) fn event_from_parts(row: StoredEvent<'_>) -> Result<AuditEvent, (i64, String)> {
    let StoredEvent { seq, at: at_text, payload: payload_text, .. } = row;
    let at = match parse_ts("audit time", at_text) {
        Ok(at) => at,
        Err(e) => return Err((seq, e.to_string())),
    };
    if ts(at) != at_text {
        return Err((
            seq,
            format!("its time '{at_text}' is not in the stored form ({}): the at column was altered", ts(at)),
        ));
    }
    let payload = match serde_json::from_str(payload_text) {
        Ok(p) => p,
        Err(e) => return Err((seq, format!("its payload is not valid JSON: {e}"))),
    };
    let mut canonical = String::with_capacity(payload_text.len());
    write_value(&mut canonical, &payload);
    if canonical != payload_text {
        return Err((
            seq,
            "its stored payload is not in canonical form (a duplicate key, a re-escaped string, other \
             whitespace or key order): the payload was altered"
                .into(),
        ));
    }
    Ok(AuditEvent {
        seq,
        at,
        actor: row.actor,
        run_id: row.run_id.map(RunId),
        kind: row.kind,
        payload,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

/// The next event after `head` (`None`: the chain is empty), hashed, and its payload's stored text.
pub(crate) fn next_event(
    head: Option<(i64, String)>,
    at: DateTime<Utc>,
    actor: &str,
    run_id: Option<&RunId>,
    kind: &str,
    payload: Value,
) -> (AuditEvent, String) {
    let (last_seq, prev_hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
    let mut event = AuditEvent {
        seq: last_seq + 1,
        at,
        actor: actor.to_string(),
        run_id: run_id.cloned(),
        kind: kind.to_string(),
        payload,
        prev_hash,
        hash: String::new(),
    };
    event.hash = event.compute_hash();
    let mut payload_text = String::new();
    write_value(&mut payload_text, &event.payload);
    (event, payload_text)
}

impl Store {
    /// Append an audit event in its own transaction.
    pub fn append_audit(
        &self,
        actor: &str,
        run_id: Option<&RunId>,
        kind: &str,
        payload: Value,
    ) -> Result<AuditEvent, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.append_audit(actor, run_id, kind, payload));
        let tx = super::write_tx(conn)?;
        let event = append(&tx, actor, run_id, kind, payload)?;
        tx.commit()?;
        Ok(event)
    }

    /// The newest event's `(seq, hash)`, as `audit_head` records it; `None` for an empty chain.
    pub fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.audit_head());
        Ok(conn
            .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    /// Events `first..=last` of the whole chain, every run's and none, in order (an evidence bundle's
    /// chain segment). Each is read in its stored canonical form, or reported broken.
    pub fn audit_range(&self, first: i64, last: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.audit_range(first, last));
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq"
        ))?;
        collect(stmt.query_map(params![first, last], event_from_row)?)
    }

    /// Every event of `kind`, in order (e.g. the signed checkpoints).
    pub fn audit_events_of_kind(&self, kind: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.audit_events_of_kind(kind));
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE kind = ?1 ORDER BY seq"))?;
        collect(stmt.query_map([kind], event_from_row)?)
    }

    /// Every audit event about one run, in order (for an evidence bundle).
    pub fn audit_events(&self, run_id: &RunId) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.audit_events(run_id));
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE run_id = ?1 ORDER BY seq"))?;
        collect(stmt.query_map([run_id.as_str()], event_from_row)?)
    }

    /// Event `seq`, if the chain holds it.
    pub fn audit_event(&self, seq: i64) -> Result<Option<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.audit_event(seq));
        events_where(conn, "seq = ?1", rusqlite::params![seq]).map(|mut e| e.pop())
    }

    /// The newest event of `kind` not about a run (checkpoints, catalog syncs).
    pub fn newest_store_event(&self, kind: &str) -> Result<Option<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.newest_store_event(kind));
        events_where(conn, "run_id IS NULL AND kind = ?1 ORDER BY seq DESC LIMIT 1", rusqlite::params![kind])
            .map(|mut e| e.pop())
    }

    /// Every event after `seq`, oldest first.
    pub fn events_after(&self, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.events_after(seq));
        events_where(conn, "seq > ?1 ORDER BY seq", rusqlite::params![seq])
    }

    /// `run_id`'s events after `seq`, oldest first.
    pub fn run_events_after(&self, run_id: &RunId, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.run_events_after(run_id, seq));
        events_where(conn, "run_id = ?1 AND seq > ?2 ORDER BY seq", rusqlite::params![run_id.as_str(), seq])
    }

    /// Events of `kind` after `seq`, oldest first (activation steps: `connector.validated`, …).
    pub fn events_of_kind_after(&self, kind: &str, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.events_of_kind_after(kind, seq));
        events_where(conn, "seq > ?1 AND kind = ?2 ORDER BY seq", rusqlite::params![seq, kind])
    }

    /// Status transitions into `to` after `seq`, oldest first.
    pub fn status_events_after(&self, to: crate::model::RunStatus, seq: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.status_events_after(to, seq));
        events_where(
            conn,
            "seq > ?1 AND kind = 'run.status' AND json_extract(payload, '$.to') = ?2 ORDER BY seq",
            rusqlite::params![seq, to.as_str()],
        )
    }
}

fn events_where(conn: &Connection, clause: &str, params: impl rusqlite::Params) -> Result<Vec<AuditEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE {clause}"))?;
    collect(stmt.query_map(params, event_from_row)?)
}

/// Read rows of events; the first unreadable or non-canonical one is reported broken at its seq.
fn collect<I>(rows: I) -> Result<Vec<AuditEvent>, StoreError>
where
    I: Iterator<Item = rusqlite::Result<Result<AuditEvent, (i64, String)>>>,
{
    let mut events = Vec::new();
    for row in rows {
        events.push(row?.map_err(|(seq, reason)| StoreError::AuditBroken { seq, reason })?);
    }
    Ok(events)
}
