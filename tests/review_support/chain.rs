//! Rewriting history as someone with write access to the store file would: edit events, then recompute
//! every hash after them and move the head, so that the chain itself still verifies. What catches such a
//! rewrite is a signature (approvals, checkpoints), never the chain alone.
#![allow(dead_code)]

use std::path::Path;

use chrono::DateTime;
use signoff::model::RunId;
use signoff::store::AuditEvent;

/// Every event, in order, as stored.
pub fn events(path: &Path) -> Vec<AuditEvent> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, at, actor, run_id, kind, payload, prev_hash, hash FROM audit_events ORDER BY seq")
        .unwrap();
    stmt.query_map([], |row| {
        let at: String = row.get(1)?;
        let payload: String = row.get(5)?;
        Ok(AuditEvent {
            seq: row.get(0)?,
            at: DateTime::parse_from_rfc3339(&at).unwrap().to_utc(),
            actor: row.get(2)?,
            run_id: row.get::<_, Option<String>>(3)?.map(RunId),
            kind: row.get(4)?,
            payload: serde_json::from_str(&payload).unwrap(),
            prev_hash: row.get(6)?,
            hash: row.get(7)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Replace the chain with `events` (renumbered from 1, hashes recomputed) and move the head to its end.
pub fn rewrite(path: &Path, mut events: Vec<AuditEvent>) {
    let mut prev = signoff::store::GENESIS_HASH.to_string();
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
        e.prev_hash = prev.clone();
        e.hash = e.compute_hash();
        prev = e.hash.clone();
    }
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute("DELETE FROM audit_events", []).unwrap();
    for e in &events {
        let json: serde_json::Value = serde_json::from_str(&e.canonical_json()).unwrap();
        tx.execute(
            "INSERT INTO audit_events (seq, at, actor, run_id, kind, payload, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                e.seq,
                json["at"].as_str().unwrap(),
                e.actor,
                e.run_id.as_ref().map(|r| r.0.clone()),
                e.kind,
                signoff::store::canonical::canonical_json(&e.payload),
                e.prev_hash,
                e.hash
            ],
        )
        .unwrap();
    }
    let last = events.last().unwrap();
    tx.execute("UPDATE audit_head SET seq = ?1, hash = ?2", rusqlite::params![last.seq, last.hash]).unwrap();
    tx.commit().unwrap();
}
