//! Rollback: the compensation recipe, after checking the record is still as the executed run left it.

use crate::review_support;

use serde_json::json;
use signoff::review::{DecisionKind, Outcome};

use review_support::{APPROVER, Harness, SECOND, propose_journal_00123, propose_vendor_us104};

#[tokio::test]
async fn rolling_back_a_posted_journal_creates_the_reversing_journal() {
    let h = Harness::start().await;
    propose_journal_00123(&h, "RUN-JNL-ROLLBACK");
    let executed = h.decide(APPROVER, "RUN-JNL-ROLLBACK", DecisionKind::Approve, false).await;
    assert!(matches!(executed, Outcome::Executed { .. }), "{executed:?}");
    let journals_before = h.sim.records("LedgerJournalHeaders").len();
    h.sim.clear_requests();

    let outcome = h.decide(SECOND, "RUN-JNL-ROLLBACK", DecisionKind::Rollback, false).await;

    let Outcome::RolledBack { answer, .. } = &outcome else { panic!("{outcome:?}") };
    let reversing = answer.reversing_journal.clone().expect("the reversing journal's number");
    let headers = h.sim.records("LedgerJournalHeaders");
    assert_eq!(headers.len(), journals_before + 1);
    let new = headers.iter().find(|j| j["JournalBatchNumber"] == reversing.as_str()).unwrap();
    assert_eq!(new["IsPosted"], "Yes");
    assert!(new["Description"].as_str().unwrap().contains("00123"));
    let lines: Vec<_> = h
        .sim
        .records("LedgerJournalLines")
        .into_iter()
        .filter(|l| l["JournalBatchNumber"] == reversing.as_str())
        .collect();
    assert_eq!(lines.len(), 2);
    let credits: Vec<String> = lines.iter().map(|l| l["CreditAmount"].to_string()).collect();
    assert!(
        credits.iter().any(|c| c == "1840.00" || c == "1840.0" || c == "1840"),
        "debit and credit swap: {credits:?}"
    );
    assert_eq!(h.status("RUN-JNL-ROLLBACK"), "rolled-back");
    let writes = h.writes();
    assert_eq!(writes.len(), 1);
    assert!(writes[0].target.contains("signoffReverse"));
}

#[tokio::test]
async fn rolling_back_a_vendor_update_patches_the_before_values_under_the_new_etag() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-ROLLBACK", 1);
    h.decide(APPROVER, "RUN-VND-ROLLBACK", DecisionKind::Approve, false).await;
    let etag_after = h.sim.record("VendorsV2", &keys).unwrap()["@odata.etag"].as_str().unwrap().to_string();
    h.sim.clear_requests();

    let outcome = h.decide(APPROVER, "RUN-VND-ROLLBACK", DecisionKind::Rollback, false).await;

    assert!(matches!(outcome, Outcome::RolledBack { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net45");
    let writes = h.writes();
    assert_eq!(writes[0].header("if-match"), Some(etag_after.as_str()));
}

#[tokio::test]
async fn a_rollback_is_refused_when_the_record_changed_since_execution() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-ROLLBACK-DRIFT", 1);
    h.decide(APPROVER, "RUN-VND-ROLLBACK-DRIFT", DecisionKind::Approve, false).await;
    h.sim.edit_record("VendorsV2", &keys, json!({"DefaultPaymentTermsName": "Net10"})).unwrap();
    h.sim.clear_requests();

    let outcome = h.decide(APPROVER, "RUN-VND-ROLLBACK-DRIFT", DecisionKind::Rollback, false).await;

    assert!(matches!(outcome, Outcome::Stale { .. }), "{outcome:?}");
    assert!(h.writes().is_empty());
    assert_eq!(h.status("RUN-VND-ROLLBACK-DRIFT"), "executed");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net10");
}
