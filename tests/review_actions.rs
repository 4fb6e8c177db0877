//! The decision pipeline against the real simulator: the happy path and the reject of every action.

use crate::review_support;

use serde_json::json;
use signoff::review::{DecisionKind, Outcome};

use review_support::{APPROVER, Harness};

fn etag_of(h: &Harness, set: &str, keys: &serde_json::Value) -> String {
    h.sim.record(set, keys).unwrap()["@odata.etag"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn approving_a_vendor_update_patches_it_under_the_live_etag() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    h.sim.edit_record("VendorsV2", &keys, json!({"DefaultPaymentTermsName": "Net45"})).unwrap();
    h.sim.clear_requests();
    let fields = json!({"DefaultPaymentTermsName": "Net30"});
    h.propose("RUN-VND-US-104", "dynamicsfinance.update-vendor", "VendorsV2", keys.clone(), fields, vec![], 1);
    let live_etag = etag_of(&h, "VendorsV2", &keys);

    let outcome = h.decide(APPROVER, "RUN-VND-US-104", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(writes[0].header("if-match"), Some(live_etag.as_str()));
    assert_eq!(h.status("RUN-VND-US-104"), "executed");
}

#[tokio::test]
async fn approving_an_invoice_sends_the_due_date_correction_and_the_approve_operation_in_one_changeset() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000121"});
    let fields = json!({"DueDate": "2026-12-31T12:00:00Z"});
    h.propose(
        "RUN-INV-121",
        "dynamicsfinance.approve-vendor-invoice",
        "VendorInvoiceHeaders",
        keys.clone(),
        fields,
        vec![],
        1,
    );
    let live_etag = etag_of(&h, "VendorInvoiceHeaders", &keys);

    let outcome = h.decide(APPROVER, "RUN-INV-121", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    let invoice = h.sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(invoice["DueDate"], "2026-12-31T12:00:00Z");
    assert_eq!(invoice["VendorInvoiceReviewStatus"], "Approved");
    // The correction and the operation travel in ONE atomic changeset: never half a decision.
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes[0].target.ends_with("$batch"), "{}", writes[0].target);
    let body = &writes[0].body;
    let patch = body.find("PATCH ").expect("the PATCH part");
    let action = body.find("signoffApprove").expect("the approve part");
    assert!(patch < action, "the correction comes before the operation");
    assert!(body[patch..action].contains(&format!("If-Match: {live_etag}")), "{body}");
}

#[tokio::test]
async fn approving_a_journal_sends_every_line_correction_and_the_post_in_one_changeset_and_captures_vouchers() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124"});
    let line = |n: u32, text: &str| {
        (json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124", "LineNumber": n}), json!({"Text": text}))
    };
    let lines = vec![
        line(1, "Reclass petty cash travel (Houston)"),
        line(2, "Reclass petty cash travel (Dallas)"),
        line(3, "Rounding difference January"),
        line(4, "Rounding difference January"),
    ];
    h.propose(
        "RUN-JNL-00124",
        "dynamicsfinance.post-journal",
        "LedgerJournalHeaders",
        keys.clone(),
        json!({}),
        lines,
        1,
    );
    let line_etags: Vec<String> = h
        .sim
        .records("LedgerJournalLines")
        .into_iter()
        .filter(|l| l["JournalBatchNumber"] == "00124")
        .map(|l| l["@odata.etag"].as_str().unwrap().to_string())
        .collect();

    let outcome = h.decide(APPROVER, "RUN-JNL-00124", DecisionKind::Approve, false).await;

    let Outcome::Executed { answer, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(!answer.vouchers.is_empty(), "{answer:?}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
    let lines = h.sim.records("LedgerJournalLines");
    let houston = lines.iter().find(|l| l["JournalBatchNumber"] == "00124" && l["LineNumber"] == 1).unwrap();
    assert_eq!(houston["Text"], "Reclass petty cash travel (Houston)");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "one $batch holding the corrections and the post: {writes:?}");
    assert!(writes[0].target.ends_with("$batch"));
    for etag in &line_etags {
        assert!(writes[0].body.contains(&format!("If-Match: {etag}")), "{etag} missing from the changeset");
    }
    let post = writes[0].body.find("signoffPost").expect("the post part");
    assert!(writes[0].body[..post].matches("PATCH ").count() == 4, "the four line corrections come first");
}

#[tokio::test]
async fn approving_a_user_disable_and_a_user_enable_patches_enabled() {
    let h = Harness::start().await;
    let keys = json!({"UserID": "benjamin"});
    h.propose(
        "RUN-USR-DISABLE",
        "dynamicsfinance.disable-user",
        "SystemUsers",
        keys.clone(),
        json!({"Enabled": false}),
        vec![],
        1,
    );
    let outcome = h.decide(APPROVER, "RUN-USR-DISABLE", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("SystemUsers", &keys).unwrap()["Enabled"], false);

    let live_etag = etag_of(&h, "SystemUsers", &keys);
    h.propose(
        "RUN-USR-ENABLE",
        "dynamicsfinance.enable-user",
        "SystemUsers",
        keys.clone(),
        json!({"Enabled": true}),
        vec![],
        1,
    );
    h.sim.clear_requests();
    let outcome = h.decide(APPROVER, "RUN-USR-ENABLE", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("SystemUsers", &keys).unwrap()["Enabled"], true);
    assert_eq!(h.writes()[0].header("if-match"), Some(live_etag.as_str()));
}

#[tokio::test]
async fn rejecting_an_invoice_and_a_journal_calls_their_reject_operations() {
    let h = Harness::start().await;
    let inv = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
    h.propose(
        "RUN-INV-123",
        "dynamicsfinance.approve-vendor-invoice",
        "VendorInvoiceHeaders",
        inv.clone(),
        json!({}),
        vec![],
        1,
    );
    let jnl = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123"});
    h.propose(
        "RUN-JNL-00123",
        "dynamicsfinance.post-journal",
        "LedgerJournalHeaders",
        jnl.clone(),
        json!({}),
        vec![],
        1,
    );

    let a = h.decide(APPROVER, "RUN-INV-123", DecisionKind::Reject, false).await;
    let b = h.decide(APPROVER, "RUN-JNL-00123", DecisionKind::Reject, false).await;

    assert!(matches!(a, Outcome::Rejected { .. }), "{a:?}");
    assert!(matches!(b, Outcome::Rejected { .. }), "{b:?}");
    assert_eq!(h.sim.record("VendorInvoiceHeaders", &inv).unwrap()["VendorInvoiceReviewStatus"], "Rejected");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &jnl).unwrap()["WorkflowApprovalStatus"], "Rejected");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &jnl).unwrap()["IsPosted"], "No");
    let writes = h.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(writes.iter().all(|w| w.target.contains("signoffReject")));
    assert_eq!((h.status("RUN-INV-123"), h.status("RUN-JNL-00123")), ("rejected".into(), "rejected".into()));
}

#[tokio::test]
async fn rejecting_a_vendor_or_user_run_writes_nothing_to_fno() {
    let h = Harness::start().await;
    let vendor = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-111"});
    h.sim.edit_record("VendorsV2", &vendor, json!({"BankAccountId": "SW-WF"})).unwrap();
    h.sim.clear_requests();
    h.propose(
        "RUN-VND-US-111",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        vendor.clone(),
        json!({"BankAccountId": "SW-CHASE"}),
        vec![],
        1,
    );
    h.propose(
        "RUN-USR-APRIL",
        "dynamicsfinance.disable-user",
        "SystemUsers",
        json!({"UserID": "april"}),
        json!({"Enabled": false}),
        vec![],
        1,
    );

    let a = h.decide(APPROVER, "RUN-VND-US-111", DecisionKind::Reject, false).await;
    let b = h.decide(APPROVER, "RUN-USR-APRIL", DecisionKind::Reject, false).await;

    assert!(matches!(a, Outcome::Rejected { .. }) && matches!(b, Outcome::Rejected { .. }), "{a:?} {b:?}");
    assert!(h.data_requests().is_empty(), "{:?}", h.data_requests());
    assert_eq!(h.sim.record("VendorsV2", &vendor).unwrap()["BankAccountId"], "SW-WF");
    assert_eq!(h.status("RUN-USR-APRIL"), "rejected");
}

#[tokio::test]
async fn an_invoice_already_in_another_live_run_is_refused_as_a_duplicate() {
    let h = Harness::start().await;
    let first = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000121"});
    let second = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
    let original = h.sim.record("VendorInvoiceHeaders", &first).unwrap();
    // The same vendor invoice keyed in twice.
    let copy = json!({"InvoiceNumber": original["InvoiceNumber"], "InvoiceAccount": original["InvoiceAccount"],
                      "VendorAccount": original["VendorAccount"]});
    h.sim.edit_record("VendorInvoiceHeaders", &second, copy).unwrap();
    let due = json!({"DueDate": "2026-12-31T12:00:00Z"});
    let set = "VendorInvoiceHeaders";
    h.propose("RUN-INV-ORIGINAL", "dynamicsfinance.approve-vendor-invoice", set, first, due.clone(), vec![], 1);
    h.propose("RUN-INV-DUPLICATE", "dynamicsfinance.approve-vendor-invoice", set, second, due, vec![], 1);
    h.sim.clear_requests();

    let outcome = h.decide(APPROVER, "RUN-INV-DUPLICATE", DecisionKind::Approve, false).await;

    let Outcome::Refused { reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("RUN-INV-ORIGINAL"), "{reason}");
    assert!(h.writes().is_empty());
}
