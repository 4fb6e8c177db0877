//! Who may approve: a quorum of distinct people, segregation of duties, leases and the production guard.

use crate::review_support;

use std::sync::Arc;

use serde_json::json;
use signoff::config::EnvironmentKind;
use signoff::model::RunId;
use signoff::review::{Cancel, DecisionKind, DecisionRequest, Outcome, exit, no_progress};
use signoff::sim::SimOptions;

use review_support::{APPROVER, Harness, REQUESTER, SECOND, propose_vendor_us104};

#[tokio::test]
async fn the_first_of_two_approvals_is_recorded_without_writing_and_the_second_executes() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-QUORUM", 2);

    let first = h.decide(APPROVER, "RUN-VND-QUORUM", DecisionKind::Approve, false).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { approvals: 1, required: 2, .. }), "{first:?}");
    assert!(h.writes().is_empty(), "the first approval writes nothing");
    assert_eq!(h.status("RUN-VND-QUORUM"), "pending");

    let second = h.decide(SECOND, "RUN-VND-QUORUM", DecisionKind::Approve, false).await;
    assert!(matches!(second, Outcome::Executed { .. }), "{second:?}");
    assert_eq!(h.writes().len(), 1);
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    let approvals = h.store().approvals(&RunId::from("RUN-VND-QUORUM")).unwrap();
    assert_eq!(approvals.len(), 2);
    assert_eq!(approvals[0].digest, approvals[1].digest, "both approvals cover the same payload and versions");
}

#[tokio::test]
async fn the_same_person_approving_twice_is_refused() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-TWICE", 2);
    h.decide(APPROVER, "RUN-VND-TWICE", DecisionKind::Approve, false).await;

    let again = h.decide(APPROVER, "RUN-VND-TWICE", DecisionKind::Approve, false).await;

    let Outcome::Refused { reason, .. } = &again else { panic!("{again:?}") };
    assert!(reason.contains("already approved"), "{reason}");
    assert!(h.writes().is_empty());
    assert_eq!(again.exit_code(), exit::REFUSED);
}

#[tokio::test]
async fn the_requester_cannot_approve_their_own_run() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-SOD", 1);

    let outcome = h.decide(REQUESTER, "RUN-VND-SOD", DecisionKind::Approve, false).await;

    let Outcome::Refused { reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("segregation of duties"), "{reason}");
    assert!(h.data_requests().is_empty(), "a refusal costs no request at all");
    assert_eq!(h.status("RUN-VND-SOD"), "pending");
}

#[tokio::test]
async fn an_approval_made_against_an_older_record_version_does_not_count() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-VERSION", 2);
    h.decide(APPROVER, "RUN-VND-VERSION", DecisionKind::Approve, false).await;
    // An unrelated field changes: no drift on what the run touches, but the record version moved.
    h.sim.edit_record("VendorsV2", &keys, json!({"VendorGroupId": "30"})).unwrap();

    let second = h.decide(SECOND, "RUN-VND-VERSION", DecisionKind::Approve, false).await;

    assert!(matches!(second, Outcome::Stale { .. }), "{second:?}");
    assert!(h.writes().is_empty());
}

#[tokio::test]
async fn a_run_leased_by_another_approver_is_refused() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-LEASED", 1);
    h.store().acquire_lease(&RunId::from("RUN-VND-LEASED"), SECOND, std::time::Duration::from_secs(300)).unwrap();

    let outcome = h.decide(APPROVER, "RUN-VND-LEASED", DecisionKind::Approve, false).await;

    let Outcome::Refused { reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains(SECOND), "{reason}");
    assert!(h.data_requests().is_empty());
}

#[tokio::test]
async fn the_lease_is_released_after_every_decision() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-RELEASE", 1);
    h.decide(REQUESTER, "RUN-VND-RELEASE", DecisionKind::Approve, false).await; // refused
    assert!(h.store().lease(&RunId::from("RUN-VND-RELEASE")).unwrap().is_none());
    h.decide(APPROVER, "RUN-VND-RELEASE", DecisionKind::Approve, false).await; // executed
    assert!(h.store().lease(&RunId::from("RUN-VND-RELEASE")).unwrap().is_none());
}

#[tokio::test]
async fn production_writes_need_the_config_switch_and_the_typed_environment_name() {
    let production = |allow: bool| {
        move |c: &mut signoff::config::Config| {
            c.environment.kind = EnvironmentKind::Production;
            c.environment.allow_production_writes = allow;
        }
    };
    let h = Harness::start_with(SimOptions::default(), production(false)).await;
    propose_vendor_us104(&h, "RUN-VND-PROD", 1);
    let refused = h.decide(APPROVER, "RUN-VND-PROD", DecisionKind::Approve, false).await;
    let Outcome::Refused { reason, .. } = &refused else { panic!("{refused:?}") };
    assert!(reason.contains("allow_production_writes"), "{reason}");

    let h = Harness::start_with(SimOptions::default(), production(true)).await;
    propose_vendor_us104(&h, "RUN-VND-PROD", 1);
    let unconfirmed = h.decide(APPROVER, "RUN-VND-PROD", DecisionKind::Approve, false).await;
    let Outcome::Refused { reason, .. } = &unconfirmed else { panic!("{unconfirmed:?}") };
    assert!(reason.contains("--confirm-environment usmf-sandbox"), "{reason}");
    assert!(h.writes().is_empty());

    let reviewer = Arc::new(h.reviewer(APPROVER));
    let request = DecisionRequest {
        run_id: RunId::from("RUN-VND-PROD"),
        kind: DecisionKind::Approve,
        reason: "Vendor letter verified by call-back".into(),
        dry_run: false,
        confirm_environment: Some("usmf-sandbox".into()),
        reviewed_digest: h.digest_of("RUN-VND-PROD"),
    };
    let confirmed = reviewer.decide(&request, &no_progress(), &Cancel::new()).await.unwrap();
    assert!(matches!(confirmed, Outcome::Executed { .. }), "{confirmed:?}");
}

#[tokio::test]
async fn a_cancelled_decision_sends_nothing() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-CANCEL", 1);
    let cancel = Cancel::new();
    cancel.cancel();
    let request = DecisionRequest {
        run_id: RunId::from("RUN-VND-CANCEL"),
        kind: DecisionKind::Approve,
        reason: "Checked".into(),
        dry_run: false,
        confirm_environment: None,
        reviewed_digest: h.digest_of("RUN-VND-CANCEL"),
    };

    let outcome = h.reviewer(APPROVER).decide(&request, &no_progress(), &cancel).await.unwrap();

    assert!(matches!(outcome, Outcome::Cancelled { .. }), "{outcome:?}");
    assert!(h.writes().is_empty());
    assert_eq!(h.status("RUN-VND-CANCEL"), "pending");
}

#[tokio::test]
async fn progress_reports_each_step_in_order() {
    use signoff::review::{Progress, Step};
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-PROGRESS", 1);
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Step>::new()));
    let sink = Arc::clone(&seen);
    let progress: signoff::review::ProgressSink = Arc::new(move |p: Progress| sink.lock().unwrap().push(p.step));

    h.decide_with(APPROVER, "RUN-VND-PROGRESS", DecisionKind::Approve, false, progress).await;

    let mut steps = seen.lock().unwrap().clone();
    steps.dedup();
    assert_eq!(
        steps,
        vec![Step::Claimed, Step::Rereading, Step::Comparing, Step::Evaluating, Step::Sending, Step::Recorded]
    );
    let kinds: Vec<String> =
        h.store().audit_events(&RunId::from("RUN-VND-PROGRESS")).unwrap().into_iter().map(|e| e.kind).collect();
    for kind in ["lease.acquired", "decision.revalidated", "approval.recorded", "exchange.recorded", "lease.released"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn a_decision_that_names_no_reviewed_run_or_another_one_is_refused_before_anything_is_read() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-SHOWN", 1);
    propose_vendor_us104(&h, "RUN-VND-OTHER", 1);
    h.sim.clear_requests();
    let request = |digest: String| DecisionRequest {
        run_id: RunId::from("RUN-VND-SHOWN"),
        kind: DecisionKind::Approve,
        reason: "Vendor letter verified by call-back".into(),
        dry_run: false,
        confirm_environment: None,
        reviewed_digest: digest,
    };
    let reviewer = h.reviewer(APPROVER);

    let unseen = reviewer.decide(&request(String::new()), &no_progress(), &Cancel::new()).await.unwrap();
    let Outcome::Refused { reason, .. } = &unseen else { panic!("{unseen:?}") };
    assert!(reason.contains("digest of the run that was reviewed"), "{reason}");
    let other = h.digest_of("RUN-VND-OTHER");
    assert_ne!(other, h.digest_of("RUN-VND-SHOWN"));
    let mismatched = reviewer.decide(&request(other), &no_progress(), &Cancel::new()).await.unwrap();
    let Outcome::Refused { reason, .. } = &mismatched else { panic!("{mismatched:?}") };
    assert!(reason.contains("not the run that was reviewed"), "{reason}");
    assert_eq!(mismatched.exit_code(), exit::REFUSED);
    // Judged by F&O's log and the store: nothing was read or written, the run still waits.
    assert!(h.data_requests().is_empty(), "{:?}", h.data_requests());
    assert_eq!(h.status("RUN-VND-SHOWN"), "pending");

    let shown = reviewer.decide(&request(h.digest_of("RUN-VND-SHOWN")), &no_progress(), &Cancel::new()).await;
    assert!(matches!(shown.unwrap(), Outcome::Executed { .. }));
    assert_eq!(h.writes().len(), 1);
}
