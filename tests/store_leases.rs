//! Leases, approvals and status transitions are compare-and-set: two approvers cannot both win.

use crate::common;

use std::time::Duration;

use common::backends::TestDb;
use common::{invoice, journal};
use signoff::model::{RunId, RunStatus};
use signoff::store::{RunFilter, Store, StoreError};

/// Each backend's store with one journal imported; every test below runs against each.
fn stores_with_one_journal(test: &str) -> Vec<(TestDb, Store, RunId)> {
    TestDb::all(test)
        .into_iter()
        .map(|db| {
            let store = db.open();
            let run = journal("RUN-L-000001", 1, "usmf", "1250000.00");
            store.import(std::slice::from_ref(&run), "april.meyer@contoso.com").unwrap();
            (db, store, run.id)
        })
        .collect()
}

#[test]
fn a_held_lease_is_refused_naming_the_holder() {
    for (db, store, id) in stores_with_one_journal("a_held_lease_is_refused_naming_the_holder") {
        let _backend = db.name();
        store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(300)).unwrap();
        let err = store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap_err();
        match &err {
            StoreError::LeaseHeld { holder, .. } => assert_eq!(holder, "julia.funderburk"),
            other => panic!("expected LeaseHeld, got {other}"),
        }
        assert!(err.to_string().contains("julia.funderburk"), "{err}");
    }
}

#[test]
fn a_lease_is_reentrant_for_its_holder_and_shown_in_the_queue() {
    for (db, store, id) in stores_with_one_journal("a_lease_is_reentrant_for_its_holder_and_shown_in_the_queue") {
        let _backend = db.name();
        let first = store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(60)).unwrap();
        let again = store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(600)).unwrap();
        assert!(again.expires_at > first.expires_at);
        let queue = store.summaries(&RunFilter::default()).unwrap();
        assert_eq!(queue[0].lease_holder.as_deref(), Some("julia.funderburk"));
        assert_eq!(store.get(&id).unwrap().unwrap().lease.map(|l| l.holder).as_deref(), Some("julia.funderburk"));
    }
}

#[test]
fn an_expired_lease_is_reclaimable_and_no_longer_shown() {
    for (db, store, id) in stores_with_one_journal("an_expired_lease_is_reclaimable_and_no_longer_shown") {
        let _backend = db.name();
        store.acquire_lease(&id, "julia.funderburk", Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.summaries(&RunFilter::default()).unwrap()[0].lease_holder, None);
        let lease = store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap();
        assert_eq!(lease.holder, "ahmed.barnes");
        // The former holder's release must not drop the new holder's lease.
        assert!(!store.release_lease(&id, "julia.funderburk").unwrap());
        assert_eq!(store.lease(&id).unwrap().map(|l| l.holder).as_deref(), Some("ahmed.barnes"));
    }
}

#[test]
fn releasing_a_lease_frees_the_run_and_every_step_is_audited() {
    for (db, store, id) in stores_with_one_journal("releasing_a_lease_frees_the_run_and_every_step_is_audited") {
        let _backend = db.name();
        store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(300)).unwrap();
        assert!(store.release_lease(&id, "julia.funderburk").unwrap());
        store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap();
        let kinds: Vec<String> = store.audit_events(&id).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["run.imported", "lease.acquired", "lease.released", "lease.acquired"]);
    }
}

#[test]
fn a_lease_on_an_unknown_run_is_refused() {
    for (db, store, _id) in stores_with_one_journal("a_lease_on_an_unknown_run_is_refused") {
        let err = store.acquire_lease(&RunId::from("RUN-L-404"), "julia", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, StoreError::UnknownRun { .. }), "{}: {err}", db.name());
    }
}

#[test]
fn transition_refuses_a_wrong_from_state_and_changes_nothing() {
    for (db, store, id) in stores_with_one_journal("transition_refuses_a_wrong_from_state_and_changes_nothing") {
        let _backend = db.name();
        let err = store
            .transition(&id, &[RunStatus::Approved], RunStatus::Executing, "julia", serde_json::json!({}))
            .unwrap_err();
        match &err {
            StoreError::StatusConflict { actual, .. } => assert_eq!(*actual, RunStatus::Pending),
            other => panic!("expected StatusConflict, got {other}"),
        }
        assert_eq!(store.status(&id).unwrap(), Some(RunStatus::Pending));
        assert_eq!(store.get(&id).unwrap().unwrap().history.len(), 1);

        let from = store
            .transition(&id, &[RunStatus::Pending], RunStatus::Rejected, "julia", serde_json::json!({"reason": "dup"}))
            .unwrap();
        assert_eq!(from, RunStatus::Pending);
        let again = store.transition(&id, &[RunStatus::Pending], RunStatus::Approved, "ahmed", serde_json::json!({}));
        assert!(matches!(again, Err(StoreError::StatusConflict { actual: RunStatus::Rejected, .. })));
    }
}

#[test]
fn the_same_approver_twice_is_refused_and_distinct_approvers_are_counted() {
    for (db, store, id) in
        stores_with_one_journal("the_same_approver_twice_is_refused_and_distinct_approvers_are_counted")
    {
        let _backend = db.name();
        let digest = "5f1c0e7a";
        assert_eq!(store.record_approval(&id, "julia.funderburk", "coding checked", digest, "policy-3").unwrap(), 1);
        let err = store.record_approval(&id, "julia.funderburk", "again", digest, "policy-3").unwrap_err();
        assert!(matches!(err, StoreError::AlreadyApproved { .. }), "{err}");
        assert!(err.to_string().contains("already approved"), "{err}");
        assert_eq!(store.record_approval(&id, "ahmed.barnes", "matches PO", digest, "policy-3").unwrap(), 2);
        let approvals = store.approvals(&id).unwrap();
        assert_eq!(approvals.len(), 2);
        assert_eq!(store.summaries(&RunFilter::default()).unwrap()[0].approvals, 2);
    }
}

#[test]
fn a_second_process_handle_sees_the_lease_of_the_first() {
    for db in TestDb::all("a_second_process_handle_sees_the_lease_of_the_first") {
        let first = db.open();
        let run = invoice("RUN-L-000002", 2, "usmf", "12.50");
        first.import(std::slice::from_ref(&run), "ap").unwrap();
        first.acquire_lease(&run.id, "julia.funderburk", Duration::from_secs(300)).unwrap();
        let second = db.open();
        let err = second.acquire_lease(&run.id, "ahmed.barnes", Duration::from_secs(300)).unwrap_err();
        assert!(matches!(err, StoreError::LeaseHeld { .. }), "{}: {err}", db.name());
    }
}

/// Eight approvers claim the same run at the same moment, each through its own handle (its own
/// connection): exactly one claim wins, the others are refused naming the winner, and the chain holds
/// one `lease.acquired` and verifies.
#[test]
fn eight_concurrent_claims_of_one_run_leave_exactly_one_holder() {
    for db in TestDb::all("eight_concurrent_claims_of_one_run_leave_exactly_one_holder") {
        let store = db.open();
        let run = invoice("RUN-L-000003", 3, "usmf", "12.50");
        store.import(std::slice::from_ref(&run), "ap").unwrap();
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<Result<String, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (db, barrier, id) = (&db, &barrier, &run.id);
                    scope.spawn(move || {
                        let mine = db.open_as(i);
                        barrier.wait();
                        mine.acquire_lease(id, &format!("approver-{i}"), Duration::from_secs(300)).map(|l| l.holder)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{}: {results:?}", db.name());
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(refused, StoreError::LeaseHeld { holder, .. } if holder == winners[0]),
                "{}: {refused}",
                db.name()
            );
        }
        let kinds: Vec<String> = store.audit_events(&run.id).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["run.imported", "lease.acquired"], "{}", db.name());
        assert_eq!(store.verify_audit().unwrap().events, 2, "{}", db.name());
    }
}

/// At most one execution per run is a fact of the database: a run put back to `approved` behind
/// signoff's back (a bug, a hand edit) cannot be sent to F&O a second time, and nothing of the refused
/// move is recorded. Rollbacks, which may be retried, still enter `executing` as often as they are taken.
#[test]
fn a_second_execution_of_a_runs_decision_is_refused_by_the_database() {
    use RunStatus::{Approved, Executed, Executing, Failed, Pending, RollbackPartial};
    let detail = serde_json::json!({});
    for (db, store, id) in stores_with_one_journal("a_second_execution_of_a_runs_decision_is_refused_by_the_database") {
        store.transition(&id, &[Pending], Approved, "amy", detail.clone()).unwrap();
        store.transition(&id, &[Approved], Executing, "amy", detail.clone()).unwrap();
        store.transition(&id, &[Executing], Failed, "amy", detail.clone()).unwrap();
        let history = store.get(&id).unwrap().unwrap().history.len();
        let events = store.verify_audit().unwrap().events;

        assert_eq!(db.execute("UPDATE runs SET status = 'approved' WHERE id = 'RUN-L-000001'"), 1);
        let err = store.transition(&id, &[Approved], Executing, "amy", detail.clone()).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExecuted { .. }), "{}: {err}", db.name());
        assert!(err.to_string().contains("already sent to F&O once"), "{err}");
        // Undo the hand edit: the refused move left no history row and no audit event behind.
        db.execute("UPDATE runs SET status = 'failed' WHERE id = 'RUN-L-000001'");
        let stored = store.get(&id).unwrap().unwrap();
        assert_eq!(stored.status, Failed, "{}", db.name());
        assert_eq!(stored.history.len(), history, "{}", db.name());
        assert_eq!(store.verify_audit().unwrap().events, events, "{}: no event for a refused move", db.name());

        // A rollback retried after a partial one enters `executing` again: allowed.
        let other = journal("RUN-L-000002", 2, "usmf", "10.00");
        store.import(std::slice::from_ref(&other), "april.meyer@contoso.com").unwrap();
        for (from, to) in [(Pending, Approved), (Approved, Executing), (Executing, Executed)] {
            store.transition(&other.id, &[from], to, "amy", detail.clone()).unwrap();
        }
        for from in [Executed, RollbackPartial] {
            store.transition(&other.id, &[from], Executing, "amy", detail.clone()).unwrap();
            store.transition(&other.id, &[Executing], RollbackPartial, "amy", detail.clone()).unwrap();
        }
        assert_eq!(store.get(&other.id).unwrap().unwrap().status, RollbackPartial, "{}", db.name());
    }
}
