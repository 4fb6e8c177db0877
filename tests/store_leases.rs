//! Leases, approvals and status transitions are compare-and-set: two approvers cannot both win.

use crate::common;

use std::time::Duration;

use common::{invoice, journal};
use signoff::model::{RunId, RunStatus};
use signoff::store::{RunFilter, Store, StoreError};

fn store_with_one_journal() -> (tempfile::TempDir, Store, RunId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db")).unwrap();
    let run = journal("RUN-L-000001", 1, "usmf", "1250000.00");
    store.import(std::slice::from_ref(&run), "april.meyer@contoso.com").unwrap();
    (dir, store, run.id)
}

#[test]
fn a_held_lease_is_refused_naming_the_holder() {
    let (_dir, store, id) = store_with_one_journal();
    store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(300)).unwrap();
    let err = store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap_err();
    match &err {
        StoreError::LeaseHeld { holder, .. } => assert_eq!(holder, "julia.funderburk"),
        other => panic!("expected LeaseHeld, got {other}"),
    }
    assert!(err.to_string().contains("julia.funderburk"), "{err}");
}

#[test]
fn a_lease_is_reentrant_for_its_holder_and_shown_in_the_queue() {
    let (_dir, store, id) = store_with_one_journal();
    let first = store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(60)).unwrap();
    let again = store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(600)).unwrap();
    assert!(again.expires_at > first.expires_at);
    let queue = store.summaries(&RunFilter::default()).unwrap();
    assert_eq!(queue[0].lease_holder.as_deref(), Some("julia.funderburk"));
    assert_eq!(store.get(&id).unwrap().unwrap().lease.map(|l| l.holder).as_deref(), Some("julia.funderburk"));
}

#[test]
fn an_expired_lease_is_reclaimable_and_no_longer_shown() {
    let (_dir, store, id) = store_with_one_journal();
    store.acquire_lease(&id, "julia.funderburk", Duration::ZERO).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(store.summaries(&RunFilter::default()).unwrap()[0].lease_holder, None);
    let lease = store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap();
    assert_eq!(lease.holder, "ahmed.barnes");
    // The former holder's release must not drop the new holder's lease.
    assert!(!store.release_lease(&id, "julia.funderburk").unwrap());
    assert_eq!(store.lease(&id).unwrap().map(|l| l.holder).as_deref(), Some("ahmed.barnes"));
}

#[test]
fn releasing_a_lease_frees_the_run_and_every_step_is_audited() {
    let (_dir, store, id) = store_with_one_journal();
    store.acquire_lease(&id, "julia.funderburk", Duration::from_secs(300)).unwrap();
    assert!(store.release_lease(&id, "julia.funderburk").unwrap());
    store.acquire_lease(&id, "ahmed.barnes", Duration::from_secs(300)).unwrap();
    let kinds: Vec<String> = store.audit_events(&id).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["run.imported", "lease.acquired", "lease.released", "lease.acquired"]);
}

#[test]
fn a_lease_on_an_unknown_run_is_refused() {
    let (_dir, store, _id) = store_with_one_journal();
    let err = store.acquire_lease(&RunId::from("RUN-L-404"), "julia", Duration::from_secs(1)).unwrap_err();
    assert!(matches!(err, StoreError::UnknownRun { .. }), "{err}");
}

#[test]
fn transition_refuses_a_wrong_from_state_and_changes_nothing() {
    let (_dir, store, id) = store_with_one_journal();
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

#[test]
fn the_same_approver_twice_is_refused_and_distinct_approvers_are_counted() {
    let (_dir, store, id) = store_with_one_journal();
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

#[test]
fn a_second_process_handle_sees_the_lease_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let first = Store::open(&path).unwrap();
    let run = invoice("RUN-L-000002", 2, "usmf", "12.50");
    first.import(std::slice::from_ref(&run), "ap").unwrap();
    first.acquire_lease(&run.id, "julia.funderburk", Duration::from_secs(300)).unwrap();
    let second = Store::open(&path).unwrap();
    let err = second.acquire_lease(&run.id, "ahmed.barnes", Duration::from_secs(300)).unwrap_err();
    assert!(matches!(err, StoreError::LeaseHeld { .. }), "{err}");
}
