//! A decision on a run whose stored state was edited outside signoff is refused once the run is
//! claimed, before F&O is read: the refusal names the run and what disagrees, it is audited
//! (`decision.refused`), and the simulator sees no request at all.

use crate::review_support;

use std::time::Duration;

use review_support::{APPROVER, Harness, propose_vendor_us104};
use signoff::model::{RunId, RunStatus};
use signoff::review::sweep::Swept;
use signoff::review::{DecisionKind, Outcome};

/// The approval of `id` is refused naming the run, audited, and nothing reaches F&O. Returns the reason.
async fn approval_refused_with_nothing_sent(h: &Harness, id: &str) -> String {
    h.sim.clear_requests();
    let outcome = h.decide(APPROVER, id, DecisionKind::Approve, false).await;
    let Outcome::Refused { reason, .. } = outcome else { panic!("expected a refusal, got {outcome:?}") };
    assert!(reason.starts_with(&format!("run {id}: ")), "{reason}");
    assert!(reason.contains("does not match its audit chain") || reason.contains("no longer matches"), "{reason}");
    let requests: Vec<String> = h.data_requests().iter().map(|r| format!("{} {}", r.method, r.target)).collect();
    assert!(requests.is_empty(), "nothing is read from or sent to F&O: {requests:?}");
    // The refusals only: the run's other events may be the broken ones.
    let refusals = h.store().events_of_kind_after("decision.refused", 0).unwrap();
    let refusal = refusals.iter().rev().find(|e| e.run_id.as_ref().is_some_and(|r| r.as_str() == id));
    let audited = &refusal.expect("the refusal is audited").payload;
    assert_eq!(audited["reason"], reason.as_str(), "the refusal is audited with its reason");
    reason
}

#[tokio::test]
async fn an_approval_renamed_to_let_the_same_person_approve_twice_is_refused() {
    for h in Harness::each_backend("an_approval_renamed_to_let_the_same_person_approve_twice_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-RENAMED", 2);
        let first = h.decide(APPROVER, "RUN-VND-RENAMED", DecisionKind::Approve, false).await;
        assert!(matches!(first, Outcome::ApprovalRecorded { approvals: 1, .. }), "{first:?}");
        // Renamed, the first approval no longer stops the same approver from counting a second time.
        h.db.edit("UPDATE approvals SET approver = 'bob.kelly@contoso.com'");

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-RENAMED").await;

        assert!(reason.contains("approval by 'bob.kelly@contoso.com' has no approval.recorded event"), "{reason}");
        assert_eq!(h.status("RUN-VND-RENAMED"), "pending");
    }
}

#[tokio::test]
async fn a_quorum_lowered_in_the_payload_and_the_runs_table_is_refused() {
    for h in Harness::each_backend("a_quorum_lowered_in_the_payload_and_the_runs_table_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-QUORUM", 2);
        h.db.rewrite_payload("RUN-VND-QUORUM", |p| p.replace("\"required_approvals\":2", "\"required_approvals\":1"));
        h.db.edit("UPDATE runs SET required_approvals = 1 WHERE id = 'RUN-VND-QUORUM'");

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-QUORUM").await;

        assert!(reason.contains("does not hash to the digest in its run.imported event"), "{reason}");
        assert!(h.store().approvals(&RunId::from("RUN-VND-QUORUM")).unwrap().is_empty(), "no approval was recorded");
    }
}

#[tokio::test]
async fn a_quorum_lowered_in_the_runs_table_alone_is_refused() {
    for h in Harness::each_backend("a_quorum_lowered_in_the_runs_table_alone_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-COLUMN", 2);
        h.db.edit("UPDATE runs SET required_approvals = 1 WHERE id = 'RUN-VND-COLUMN'");

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-COLUMN").await;

        assert!(reason.contains("runs.required_approvals is '1' but its payload says '2'"), "{reason}");
    }
}

#[tokio::test]
async fn a_rejected_run_set_back_to_pending_is_refused() {
    for h in Harness::each_backend("a_rejected_run_set_back_to_pending_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-REVIVED", 1);
        let rejected = h.decide(APPROVER, "RUN-VND-REVIVED", DecisionKind::Reject, false).await;
        assert!(matches!(rejected, Outcome::Rejected { .. }), "{rejected:?}");
        h.db.edit("UPDATE runs SET status = 'pending' WHERE id = 'RUN-VND-REVIVED'");
        h.db.edit("DELETE FROM status_history WHERE run_id = 'RUN-VND-REVIVED' AND to_status = 'rejected'");

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-REVIVED").await;

        assert!(reason.contains("runs.status is 'pending' but its last run.status event"), "{reason}");
        assert!(reason.contains("says 'rejected'"), "{reason}");
    }
}

#[tokio::test]
async fn a_proposed_value_changed_in_the_payload_is_refused() {
    for h in Harness::each_backend("a_proposed_value_changed_in_the_payload_is_refused").await {
        let keys = propose_vendor_us104(&h, "RUN-VND-VALUE", 1);
        h.db.rewrite_payload("RUN-VND-VALUE", |p| p.replace("\"Net30\"", "\"Net90\""));

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-VALUE").await;

        assert!(reason.contains("does not hash to the digest in its run.imported event"), "{reason}");
        assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net45", "F&O is untouched");
    }
}

#[tokio::test]
async fn a_payload_with_a_duplicate_key_is_refused() {
    for h in Harness::each_backend("a_payload_with_a_duplicate_key_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-DUPKEY", 1);
        // serde_json keeps the last of two equal keys, so this parses to the reviewed run; another reader
        // may take the first.
        h.db.rewrite_payload("RUN-VND-DUPKEY", |p| {
            p.replace(
                "\"DefaultPaymentTermsName\":\"Net30\"",
                "\"DefaultPaymentTermsName\":\"Net90\",\"DefaultPaymentTermsName\":\"Net30\"",
            )
        });

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-DUPKEY").await;

        assert!(reason.contains("run_payloads table was edited"), "{reason}");
    }
}

#[tokio::test]
async fn a_payload_with_a_re_escaped_key_is_refused() {
    for h in Harness::each_backend("a_payload_with_a_re_escaped_key_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-ESCAPE", 1);
        h.db.rewrite_payload("RUN-VND-ESCAPE", |p| {
            p.replace("\"DefaultPaymentTermsName\":\"Net30\"", "\"\\u0044efaultPaymentTermsName\":\"Net30\"")
        });

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-ESCAPE").await;

        assert!(reason.contains("not in canonical form"), "{reason}");
    }
}

#[tokio::test]
async fn a_payload_with_whitespace_added_is_refused() {
    for h in Harness::each_backend("a_payload_with_whitespace_added_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-SPACES", 1);
        h.db.rewrite_payload("RUN-VND-SPACES", |p| p.replacen('{', "{ ", 1));

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-SPACES").await;

        assert!(reason.contains("not in canonical form"), "{reason}");
    }
}

#[tokio::test]
async fn an_event_time_in_another_format_is_refused() {
    for h in Harness::each_backend("an_event_time_in_another_format_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-TIME", 1);
        h.db.edit(
            "UPDATE audit_events SET at = substr(at, 1, 29) || '+00:00' WHERE run_id = 'RUN-VND-TIME' AND kind = 'run.imported'",
        );

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-TIME").await;

        assert!(reason.contains("is broken") && reason.contains("is not in the stored form"), "{reason}");
    }
}

#[tokio::test]
async fn an_exchange_whose_bytes_changed_is_refused() {
    for h in Harness::each_backend("an_exchange_whose_bytes_changed_is_refused").await {
        propose_vendor_us104(&h, "RUN-VND-EXCHANGE", 1);
        let dry = h.decide(APPROVER, "RUN-VND-EXCHANGE", DecisionKind::Approve, true).await;
        assert!(matches!(dry, Outcome::DryRun { .. }), "{dry:?}");
        assert!(
            !h.store().exchanges(&RunId::from("RUN-VND-EXCHANGE")).unwrap().is_empty(),
            "the dry run kept evidence"
        );
        h.db.edit("UPDATE exchanges SET json = replace(json, 'Net30', 'Net90')");

        let reason = approval_refused_with_nothing_sent(&h, "RUN-VND-EXCHANGE").await;

        assert!(reason.contains("stored bytes do not hash to the sha256 in its exchange.recorded event"), "{reason}");
    }
}

#[tokio::test]
async fn reconciling_a_run_whose_payload_was_edited_is_refused_with_nothing_read() {
    for h in Harness::each_backend("reconciling_a_run_whose_payload_was_edited_is_refused_with_nothing_read").await {
        propose_vendor_us104(&h, "RUN-VND-SWEEP", 1);
        let store = h.store();
        let id = RunId::from("RUN-VND-SWEEP");
        let detail = serde_json::json!({ "decision": "approve", "prior": "approved" });
        store.transition(&id, &[RunStatus::Pending], RunStatus::Approved, APPROVER, detail.clone()).unwrap();
        store.transition(&id, &[RunStatus::Approved], RunStatus::Executing, APPROVER, detail).unwrap();
        h.db.rewrite_payload("RUN-VND-SWEEP", |p| p.replace("\"Net30\"", "\"Net90\""));
        h.sim.clear_requests();

        let swept = h.reviewer(APPROVER).reconcile(Duration::from_secs(3600)).await.unwrap();

        let [Swept::Settled { outcome: Outcome::Refused { run_id, reason } }] = swept.as_slice() else {
            panic!("expected one refusal, got {swept:?}")
        };
        assert_eq!(run_id.as_str(), "RUN-VND-SWEEP");
        assert!(reason.contains("does not hash to the digest"), "{reason}");
        assert!(h.data_requests().is_empty(), "nothing is read from F&O");
        assert_eq!(h.status("RUN-VND-SWEEP"), "executing", "the run is left as the chain recorded it");
    }
}
