//! Bulk approval: one action, every verdict passing, each run re-validated and audited on its own.

use crate::review_support;

use std::sync::Arc;

use serde_json::json;
use signoff::model::RunId;
use signoff::model::filter::Filter;
use signoff::review::{BulkError, Outcome, no_progress};

use review_support::{APPROVER, Harness};

fn propose_terms_change(h: &Harness, id: &str, vendor: &str) {
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": vendor});
    h.propose(
        id,
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys,
        json!({"DefaultPaymentTermsName": "Net60"}),
        vec![],
        1,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_matching_run_is_revalidated_and_executed_on_its_own() {
    let h = Harness::start().await;
    for (id, vendor) in [("RUN-BULK-1", "US-104"), ("RUN-BULK-2", "US-111"), ("RUN-BULK-3", "1001")] {
        propose_terms_change(&h, id, vendor);
    }
    let reviewer = Arc::new(h.reviewer(APPROVER));
    let filter = Filter::parse("action:vendor").unwrap();

    let report = reviewer
        .approve_all(&filter, "Terms harmonised per procurement memo 2026-11", 2, &no_progress())
        .await
        .unwrap();

    assert_eq!(report.outcomes.len(), 3);
    assert!(report.outcomes.iter().all(|o| matches!(o, Outcome::Executed { .. })), "{report:?}");
    assert_eq!(report.exit_code(), 0);
    let reads = h.data_requests().iter().filter(|r| r.method == "GET").count();
    let writes = h.writes();
    assert_eq!((reads, writes.len()), (3, 3), "each run re-read and written once");
    assert!(writes.iter().all(|w| w.header("if-match").is_some()));
    for id in ["RUN-BULK-1", "RUN-BULK-2", "RUN-BULK-3"] {
        let kinds: Vec<String> =
            h.store().audit_events(&RunId::from(id)).unwrap().into_iter().map(|e| e.kind).collect();
        assert!(kinds.iter().any(|k| k == "approval.recorded"), "{id}: {kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_several_actions_are_refused_as_a_whole() {
    let h = Harness::start().await;
    propose_terms_change(&h, "RUN-BULK-VND", "US-104");
    review_support::propose_journal_00123(&h, "RUN-BULK-JNL");
    let reviewer = Arc::new(h.reviewer(APPROVER));

    let err = reviewer.approve_all(&Filter::default(), "Month end", 4, &no_progress()).await.unwrap_err();

    assert!(matches!(err, BulkError::MixedActions(2)), "{err}");
    assert!(h.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_a_soft_verdict_refuses_the_bulk_and_nothing_is_decided() {
    let h = Harness::start().await;
    propose_terms_change(&h, "RUN-BULK-OK", "US-104");
    // A bank account change is high risk: a soft verdict needing a second approver.
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-111"});
    h.propose(
        "RUN-BULK-BANK",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys,
        json!({"BankAccountId": "SW-CHASE"}),
        vec![],
        1,
    );
    let reviewer = Arc::new(h.reviewer(APPROVER));
    let filter = Filter::parse("action:vendor").unwrap();

    let err = reviewer.approve_all(&filter, "Month end", 4, &no_progress()).await.unwrap_err();

    let BulkError::NotAllPass(refused) = &err else { panic!("{err}") };
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0.as_str(), "RUN-BULK-BANK");
    assert!(h.writes().is_empty());
    assert_eq!(h.status("RUN-BULK-OK"), "pending");
}
