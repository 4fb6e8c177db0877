//! Rewriting history as someone with write access to the store file would: edit events, then recompute
//! every hash after them and move the head, so that the chain itself still verifies. What catches such a
//! rewrite is a signature (approvals, checkpoints), never the chain alone.
#![allow(dead_code)]

use signoff::store::AuditEvent;

use super::backends::TestDb;

/// Every event, in order, as stored (read before the chain is touched: each must still verify).
pub fn events(db: &TestDb) -> Vec<AuditEvent> {
    let store = db.open();
    let (head, _) = store.audit_head().unwrap().expect("a chain to rewrite");
    store.audit_range(1, head).unwrap()
}

/// Replace the chain with `events` (renumbered from 1, hashes recomputed) and move the head to its end,
/// in one transaction of plain SQL past signoff.
pub fn rewrite(db: &TestDb, mut events: Vec<AuditEvent>) {
    let mut prev = signoff::store::GENESIS_HASH.to_string();
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
        e.prev_hash = prev.clone();
        e.hash = e.compute_hash();
        prev = e.hash.clone();
    }
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let mut sql = String::from("BEGIN; DELETE FROM audit_events;");
    for e in &events {
        let json: serde_json::Value = serde_json::from_str(&e.canonical_json()).unwrap();
        sql.push_str(&format!(
            "INSERT INTO audit_events (seq, at, actor, run_id, kind, payload, prev_hash, hash) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {});",
            e.seq,
            quote(json["at"].as_str().unwrap()),
            quote(&e.actor),
            e.run_id.as_ref().map_or("NULL".to_string(), |r| quote(r.as_str())),
            quote(&e.kind),
            quote(&signoff::store::canonical::canonical_json(&e.payload)),
            quote(&e.prev_hash),
            quote(&e.hash),
        ));
    }
    let last = events.last().unwrap();
    sql.push_str(&format!("UPDATE audit_head SET seq = {}, hash = {}; COMMIT;", last.seq, quote(&last.hash)));
    db.batch(&sql);
}
