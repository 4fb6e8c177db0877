//! The audit chain verifies when intact and names the first event that was altered or removed.

use crate::common;

use std::time::Duration;

use common::backends::TestDb;
use common::mixed_runs;
use signoff::model::RunId;
use signoff::store::{GENESIS_HASH, Store, StoreError, verify_chain};

/// Each backend's store with six runs imported and one lease taken (seven events); every test below runs
/// against each, tampering through the database itself (`TestDb::execute`), as someone with write access.
fn stores_with_events(test: &str) -> Vec<(TestDb, Store)> {
    TestDb::all(test)
        .into_iter()
        .map(|db| {
            let store = db.open();
            store.import(&mixed_runs("AU", 6), "april.meyer@contoso.com").unwrap();
            store.acquire_lease(&RunId::from("RUN-AU-000001"), "julia.funderburk", Duration::from_secs(60)).unwrap();
            (db, store)
        })
        .collect()
}

fn broken_seq(store: &Store) -> (i64, String) {
    match store.verify_audit() {
        Err(StoreError::AuditBroken { seq, reason }) => (seq, reason),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn a_fresh_store_verifies_with_no_events() {
    for db in TestDb::all("a_fresh_store_verifies_with_no_events") {
        assert_eq!(db.open().verify_audit().unwrap().events, 0, "{}", db.name());
    }
}

#[test]
fn the_chain_verifies_after_imports_and_links_each_event_to_the_previous() {
    for (db, store) in stores_with_events("the_chain_verifies_after_imports_and_links_each_event_to_the_previous") {
        let _backend = db.name();
        assert_eq!(store.verify_audit().unwrap().events, 7);
        let events = store.audit_events(&RunId::from("RUN-AU-000001")).unwrap();
        assert_eq!(events[0].seq, 1);
        assert_eq!(events[0].prev_hash, GENESIS_HASH);
        assert!(events.iter().all(|e| e.hash_is_valid()));
        assert_eq!(events[1].kind, "lease.acquired");
    }
}

#[test]
fn an_altered_payload_is_named_by_its_seq() {
    for (db, store) in stores_with_events("an_altered_payload_is_named_by_its_seq") {
        let _backend = db.name();
        let changed =
            db.execute("UPDATE audit_events SET payload = replace(payload, 'usmf-sandbox', 'usmf-prod') WHERE seq = 4");
        assert_eq!(changed, 1);
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 4);
        assert!(reason.contains("does not match its hash"), "{reason}");
    }
}

#[test]
fn an_altered_actor_is_named_by_its_seq() {
    for (db, store) in stores_with_events("an_altered_actor_is_named_by_its_seq") {
        let _backend = db.name();
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2");
        assert_eq!(broken_seq(&store).0, 2);
    }
}

#[test]
fn a_deleted_event_is_named_by_its_missing_seq() {
    for (db, store) in stores_with_events("a_deleted_event_is_named_by_its_missing_seq") {
        let _backend = db.name();
        db.execute("DELETE FROM audit_events WHERE seq = 3");
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 3);
        assert!(reason.contains("missing"), "{reason}");
    }
}

#[test]
fn deleting_the_newest_events_is_detected_through_the_head() {
    for (db, store) in stores_with_events("deleting_the_newest_events_is_detected_through_the_head") {
        let _backend = db.name();
        db.execute("DELETE FROM audit_events WHERE seq >= 6");
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 6);
        assert!(reason.contains("missing"), "{reason}");
    }
}

#[test]
fn swapped_sequence_numbers_are_detected() {
    for (db, store) in stores_with_events("swapped_sequence_numbers_are_detected") {
        let _backend = db.name();
        db.batch(
            "UPDATE audit_events SET seq = -1 WHERE seq = 2;
             UPDATE audit_events SET seq = 2 WHERE seq = 3;
             UPDATE audit_events SET seq = 3 WHERE seq = -1;",
        );
        assert_eq!(broken_seq(&store).0, 2);
    }
}

#[test]
fn a_rehashed_forgery_still_breaks_the_link_to_the_next_event() {
    for (db, store) in stores_with_events("a_rehashed_forgery_still_breaks_the_link_to_the_next_event") {
        let _backend = db.name();
        // A forger who edits event 3 and recomputes its hash still breaks event 4's prev_hash.
        let mut events = store.audit_events(&RunId::from("RUN-AU-000003")).unwrap();
        let mut forged = events.remove(0);
        assert_eq!(forged.seq, 3);
        forged.actor = "mallory".into();
        forged.hash = forged.compute_hash();
        db.execute(&format!(
            "UPDATE audit_events SET actor = '{}', hash = '{}' WHERE seq = 3",
            forged.actor, forged.hash
        ));
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 4);
        assert!(reason.contains("prev_hash"), "{reason}");
    }
}

#[test]
fn verify_chain_checks_an_exported_list_offline() {
    for (db, store) in stores_with_events("verify_chain_checks_an_exported_list_offline") {
        let _backend = db.name();
        let mut all = Vec::new();
        for n in 1..=6 {
            all.extend(store.audit_events(&RunId::from(format!("RUN-AU-{n:06}").as_str())).unwrap());
        }
        all.sort_by_key(|e| e.seq);
        let head = all.last().map(|e| (e.seq, e.hash.clone())).unwrap();
        let verified = verify_chain(all.iter().cloned().map(Ok), Some((head.0, head.1.as_str()))).unwrap();
        assert_eq!(verified.events, 7);
        all[0].payload = serde_json::json!({"digest": "forged"});
        assert!(matches!(verify_chain(all.into_iter().map(Ok), None), Err(StoreError::AuditBroken { seq: 1, .. })));
    }
}
