//! Faults: drift, a 412 race, throttling, expired tokens, F&O refusals, and unknown outcomes reconciled
//! by reading F&O, never by sending twice.

use crate::review_support;

use std::sync::Arc;

use serde_json::json;
use signoff::model::{RunId, RunStatus};
use signoff::review::{DecisionKind, Outcome, Step};
use signoff::sim::{Fault, SimOptions};

use review_support::{APPROVER, Harness, propose_journal_00123, propose_vendor_us104};

#[tokio::test]
async fn drifted_vendor_is_marked_stale_and_nothing_is_written() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-DRIFT", 1);
    // Someone changes the bank account in F&O after the run was prepared.
    h.sim.edit_record("VendorsV2", &keys, json!({"BankAccountId": "TP-CHASE"})).unwrap();

    let outcome = h.decide(APPROVER, "RUN-VND-DRIFT", DecisionKind::Approve, false).await;

    let Outcome::Stale { drift, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(drift.drifts.len(), 1);
    assert_eq!(drift.drifts[0].field, "BankAccountId");
    assert_eq!(drift.drifts[0].reviewed.to_string(), "TP-BOA");
    assert_eq!(drift.drifts[0].live.to_string(), "TP-CHASE");
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_eq!(h.status("RUN-VND-DRIFT"), "stale");
    assert_eq!(outcome.exit_code(), signoff::review::exit::STALE);
}

#[tokio::test]
async fn drifted_journal_line_is_marked_stale_and_nothing_is_written() {
    let h = Harness::start().await;
    propose_journal_00123(&h, "RUN-JNL-DRIFT");
    let line = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123", "LineNumber": 2});
    h.sim.edit_record("LedgerJournalLines", &line, json!({"AccountDisplayValue": "200110-001-02"})).unwrap();

    let outcome = h.decide(APPROVER, "RUN-JNL-DRIFT", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Stale { .. }), "{outcome:?}");
    assert!(h.writes().is_empty());
    assert_eq!(
        h.sim.record("LedgerJournalHeaders", &json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123"})).unwrap()["IsPosted"],
        "No"
    );
}

#[tokio::test]
async fn an_edit_between_the_re_read_and_the_write_gets_412_and_nothing_more_is_sent() {
    let h = Arc::new(Harness::start().await);
    let keys = propose_vendor_us104(&h, "RUN-VND-RACE", 1);
    let racer = Arc::clone(&h);
    let progress: signoff::review::ProgressSink = Arc::new(move |p| {
        if p.step == Step::Sending && p.detail.starts_with("PATCH") {
            racer.sim.edit_record("VendorsV2", &keys, json!({"SalesTaxGroupCode": "WA"})).unwrap();
        }
    });

    let outcome = h.decide_with(APPROVER, "RUN-VND-RACE", DecisionKind::Approve, false, progress).await;

    assert!(matches!(outcome, Outcome::Stale { .. }), "{outcome:?}");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "only the refused PATCH: {writes:?}");
    assert_eq!(writes[0].status, 412);
    assert_eq!(h.status("RUN-VND-RACE"), "stale");
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_approval_then_executes() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-429", 1);
    h.sim.inject(Fault::Throttle { path_contains: "VendorsV2".into(), retry_after_secs: 1, times: 1 });

    let outcome = h.decide(APPROVER, "RUN-VND-429", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    let statuses: Vec<u16> = h.data_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200, 204]);
}

#[tokio::test]
async fn throttling_past_the_retry_budget_fails_cleanly_and_writes_nothing() {
    let h = Harness::start_with(SimOptions::default(), |c| c.environment.max_retries = 1).await;
    propose_vendor_us104(&h, "RUN-VND-429X", 1);
    h.sim.inject(Fault::Throttle { path_contains: "VendorsV2".into(), retry_after_secs: 1, times: 5 });

    let outcome = h.decide(APPROVER, "RUN-VND-429X", DecisionKind::Approve, false).await;

    let Outcome::NotSent { reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("throttled"), "{reason}");
    assert_eq!(outcome.exit_code(), signoff::review::exit::NOT_SENT);
    assert!(h.writes().is_empty());
    assert_eq!(h.status("RUN-VND-429X"), "pending", "a read failure leaves the run to decide again");
}

#[tokio::test]
async fn an_expired_token_mid_run_is_refreshed_once() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-401", 1);
    h.sim.inject(Fault::ExpireTokens);

    let outcome = h.decide(APPROVER, "RUN-VND-401", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.token_requests(), 1);
}

#[tokio::test]
async fn fno_refusing_the_post_fails_the_run_with_its_infolog() {
    let options = SimOptions { closed_periods: vec!["2026-01".into()], ..SimOptions::default() };
    let h = Harness::start_with(options, |_| {}).await;
    propose_journal_00123(&h, "RUN-JNL-CLOSED");

    let outcome = h.decide(APPROVER, "RUN-JNL-CLOSED", DecisionKind::Approve, false).await;

    let Outcome::Failed { reason, infolog, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(infolog.is_some() || reason.contains("period"), "{reason}");
    assert_eq!(h.status("RUN-JNL-CLOSED"), "failed");
    assert_eq!(outcome.exit_code(), signoff::review::exit::FAILED);
}

#[tokio::test]
async fn a_connection_dropped_after_the_post_is_reconciled_by_reading_with_no_second_post() {
    let h = Harness::start().await;
    let keys = propose_journal_00123(&h, "RUN-JNL-DROP");
    h.sim.inject(Fault::DropAfterProcessing { path_contains: "signoffPost".into(), times: 1 });

    let outcome = h.decide(APPROVER, "RUN-JNL-DROP", DecisionKind::Approve, false).await;

    let Outcome::Executed { answer, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(answer.messages.iter().any(|m| m.contains("reading F&O showed")), "{answer:?}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
    let posts = h.writes().into_iter().filter(|r| r.target.contains("signoffPost")).count();
    assert_eq!(posts, 1, "the post must never be sent twice");
}

#[tokio::test]
async fn a_run_left_executing_by_a_killed_process_is_reconciled_by_reading() {
    let h = Harness::start().await;
    let keys = propose_journal_00123(&h, "RUN-JNL-KILLED");
    let id = RunId::from("RUN-JNL-KILLED");
    let store = h.store();
    store.transition(&id, &[RunStatus::Pending], RunStatus::Approved, APPROVER, json!({})).unwrap();
    store
        .transition(&id, &[RunStatus::Approved], RunStatus::Executing, APPROVER, json!({"decision": "approve"}))
        .unwrap();
    // The killed process's post reached F&O; its answer was never recorded.
    let key = signoff::fno::EntityKey::new().text("dataAreaId", "usmf").text("JournalBatchNumber", "00123");
    h.client.bound_action("LedgerJournalHeaders", &key, "signoffPost", &json!({}), None).await.unwrap();
    h.sim.clear_requests();

    let outcomes = h.reviewer(APPROVER).reconcile_interrupted().await.unwrap();

    assert_eq!(outcomes.len(), 1);
    assert!(matches!(outcomes[0], Outcome::Executed { .. }), "{outcomes:?}");
    assert!(h.writes().is_empty(), "reconciliation only reads: {:?}", h.writes());
    assert_eq!(h.status("RUN-JNL-KILLED"), "executed");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
}

#[tokio::test]
async fn a_killed_run_whose_send_never_arrived_stays_unknown_until_the_window_closes_then_fails_without_resending() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        c.environment.timeout_secs = 1;
        c.environment.max_retries = 0;
        c.environment.max_retry_wait_secs = 0;
        c.environment.settle_secs = 0;
        c.store.lease_secs = 1;
    })
    .await;
    propose_vendor_us104(&h, "RUN-VND-KILLED", 1);
    let id = RunId::from("RUN-VND-KILLED");
    let store = h.store();
    store.transition(&id, &[RunStatus::Pending], RunStatus::Approved, APPROVER, json!({})).unwrap();
    store
        .transition(&id, &[RunStatus::Approved], RunStatus::Executing, APPROVER, json!({"decision": "approve"}))
        .unwrap();

    // At once: the killed process's request could still land, so its absence proves nothing yet.
    let early = h.reviewer(APPROVER).reconcile_interrupted().await.unwrap();
    assert!(matches!(early[0], Outcome::Unknown { .. }), "{early:?}");
    assert_eq!(early[0].exit_code(), signoff::review::exit::UNKNOWN);
    assert_eq!(h.status("RUN-VND-KILLED"), "unknown");

    // Once the lease (2 s) and the settle window (1 s) have passed, absence is evidence.
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let late = h.reviewer(APPROVER).reconcile_interrupted().await.unwrap();

    assert!(matches!(late[0], Outcome::Failed { .. }), "{late:?}");
    assert!(h.writes().is_empty(), "reconciliation only reads: {:?}", h.writes());
    assert_eq!(h.status("RUN-VND-KILLED"), "failed");
}
