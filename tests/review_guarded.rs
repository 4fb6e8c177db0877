//! Every write guarded, every outcome observed: a record edited between the re-read and the operation,
//! a 503 on a write, rollback in reverse order with a step that fails, and the requests a decision costs.
//! Judged by the simulator's state and request log, in both dialects where the operation differs.

use crate::review_support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use signoff::review::{DecisionKind, Outcome, Progress, ProgressSink, Step, exit};
use signoff::sim::{Dialect, Fault, LoggedRequest, SimOptions};

use review_support::{APPROVER, Harness, SECOND, propose_journal_00123};

/// Approve until F&O is told (a second approver joins when policy asks for one); the deciding approval
/// reports its progress to `progress`.
async fn approve_fully(h: &Harness, id: &str, progress: ProgressSink) -> Outcome {
    match h.decide_with(APPROVER, id, DecisionKind::Approve, false, progress.clone()).await {
        Outcome::ApprovalRecorded { .. } => h.decide_with(SECOND, id, DecisionKind::Approve, false, progress).await,
        other => other,
    }
}

fn quiet() -> ProgressSink {
    signoff::review::no_progress()
}

fn invoice_keys() -> Value {
    json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000121"})
}

fn line_keys() -> Value {
    json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000121", "InvoiceLineNumber": 1})
}

fn approve_action(dialect: Dialect) -> String {
    dialect.config_operations()["invoice_approve"].action.clone().unwrap()
}

fn calls<'a>(requests: &'a [LoggedRequest], needle: &str) -> Vec<&'a LoggedRequest> {
    requests.iter().filter(|r| r.target.contains(needle) || r.body.contains(needle)).collect()
}

#[tokio::test]
async fn an_edit_landing_between_the_reread_and_the_operation_is_412_stale_and_fno_keeps_the_edit() {
    for dialect in Dialect::ALL {
        let h = Arc::new(Harness::start_dialect(dialect).await);
        h.propose(
            "RUN-INV-121",
            "dynamicsfinance.approve-vendor-invoice",
            "VendorInvoiceHeaders",
            invoice_keys(),
            json!({}),
            vec![],
            1,
        );
        // Another user puts the invoice on hold just as signoff calls the approve operation.
        let sim = Arc::clone(&h);
        let edit: ProgressSink = Arc::new(move |p: Progress| {
            if p.step == Step::Sending && p.detail.contains("calling the") {
                sim.sim.edit_record("VendorInvoiceHeaders", &invoice_keys(), json!({"IsOnHold": "Yes"})).unwrap();
            }
        });

        let outcome = approve_fully(&h, "RUN-INV-121", edit).await;

        assert!(matches!(outcome, Outcome::Stale { .. }), "{dialect}: {outcome:?}");
        assert_eq!(outcome.exit_code(), exit::STALE);
        assert_eq!(h.status("RUN-INV-121"), "stale");
        let invoice = h.sim.record("VendorInvoiceHeaders", &invoice_keys()).unwrap();
        assert_eq!(
            (invoice["IsOnHold"].as_str(), invoice["VendorInvoiceReviewStatus"].as_str()),
            (Some("Yes"), Some("Draft"))
        );
        let requests = h.data_requests();
        let op: Vec<u16> = calls(&requests, &approve_action(dialect)).iter().map(|r| r.status).collect();
        assert_eq!(op, vec![412], "{dialect}: the operation carried If-Match and F&O refused it");
    }
}

#[tokio::test]
async fn a_503_on_the_operation_is_never_resent_the_record_is_reread_first() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        c.environment.timeout_secs = 1;
        c.environment.settle_secs = 0;
    })
    .await;
    h.propose(
        "RUN-INV-121",
        "dynamicsfinance.approve-vendor-invoice",
        "VendorInvoiceHeaders",
        invoice_keys(),
        json!({}),
        vec![],
        1,
    );
    h.sim.inject(Fault::Unavailable { path_contains: "signoffApprove".into(), retry_after_secs: 0, times: 1 });

    let outcome = approve_fully(&h, "RUN-INV-121", quiet()).await;

    assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?}");
    assert_eq!(outcome.exit_code(), exit::UNKNOWN);
    let requests = h.data_requests();
    let op = requests.iter().position(|r| r.target.contains("signoffApprove")).unwrap();
    assert_eq!(calls(&requests, "signoffApprove").len(), 1, "sent once: {requests:?}");
    assert!(
        requests[op + 1..].iter().any(|r| r.method == "GET" && r.target.contains("VendorInvoiceHeaders")),
        "re-read after the 503"
    );
    assert!(requests[op + 1..].iter().all(|r| r.method == "GET"), "nothing but reads after the 503");

    // The 503 did not process it: once the window has closed, its absence is evidence.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    h.reviewer(APPROVER).reconcile(Duration::from_secs(3600)).await.unwrap();

    assert_eq!(h.status("RUN-INV-121"), "failed");
    assert_eq!(calls(&h.data_requests(), "signoffApprove").len(), 1, "still sent once");
}

/// Invoice 121 with its due date and its first line's main account corrected, approved and executed.
async fn executed_corrected_invoice(h: &Harness) {
    h.propose(
        "RUN-INV-121",
        "dynamicsfinance.approve-vendor-invoice",
        "VendorInvoiceHeaders",
        invoice_keys(),
        json!({"DueDate": "2026-03-13T12:00:00Z"}),
        vec![(line_keys(), json!({"MainAccountDisplayValue": "605140-001-02"}))],
        1,
    );
    let outcome = approve_fully(h, "RUN-INV-121", quiet()).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("VendorInvoiceLines", &line_keys()).unwrap()["MainAccountDisplayValue"], "605140-001-02");
    h.sim.clear_requests();
}

#[tokio::test]
async fn rolling_back_a_corrected_invoice_recalls_it_then_restores_the_due_date_and_the_line() {
    let h = Harness::start().await;
    executed_corrected_invoice(&h).await;

    let outcome = h.decide(APPROVER, "RUN-INV-121", DecisionKind::Rollback, false).await;

    let Outcome::RolledBack { answer, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(answer.reversing_journal.is_none(), "an invoice has no reversing journal: {answer:?}");
    let invoice = h.sim.record("VendorInvoiceHeaders", &invoice_keys()).unwrap();
    assert_eq!(invoice["VendorInvoiceReviewStatus"], "Draft", "recalled");
    assert_eq!(invoice["DueDate"], "2026-02-11T12:00:00Z", "due date restored");
    assert_eq!(h.sim.record("VendorInvoiceLines", &line_keys()).unwrap()["MainAccountDisplayValue"], "605160-001-02");
    assert_eq!(h.status("RUN-INV-121"), "rolled-back");
    // In reverse order of the run's writes: the recall (guarded), then both corrections in one changeset.
    let writes = h.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(writes[0].target.contains("signoffRecall") && writes[0].header("if-match").is_some());
    assert!(writes[1].target.ends_with("$batch"));
    assert!(writes[1].body.contains("2026-02-11T12:00:00Z") && writes[1].body.contains("605160-001-02"));
    assert_eq!(writes[1].body.matches("If-Match: ").count(), 2, "header and line each under its fresh ETag");
}

#[tokio::test]
async fn a_rollback_whose_second_step_fails_is_rollback_partial_and_a_second_rollback_finishes_it() {
    let h = Harness::start().await;
    executed_corrected_invoice(&h).await;
    let refusal = "The invoice is locked by the month-end accrual batch job.";
    h.sim.inject(Fault::Refuse { path_contains: "$batch".into(), message: refusal.into(), times: 1 });

    let outcome = h.decide(APPROVER, "RUN-INV-121", DecisionKind::Rollback, false).await;

    let Outcome::RollbackPartial { done, reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(done.len(), 1, "the recall landed: {done:?}");
    assert!(reason.contains("locked by the month-end accrual"), "{reason}");
    assert_eq!(outcome.exit_code(), exit::FAILED);
    assert_eq!(h.status("RUN-INV-121"), "rollback-partial");
    let invoice = h.sim.record("VendorInvoiceHeaders", &invoice_keys()).unwrap();
    assert_eq!(
        (invoice["VendorInvoiceReviewStatus"].as_str(), invoice["DueDate"].as_str()),
        (Some("Draft"), Some("2026-03-13T12:00:00Z"))
    );
    h.sim.clear_requests();

    let again = h.decide(APPROVER, "RUN-INV-121", DecisionKind::Rollback, false).await;

    assert!(matches!(again, Outcome::RolledBack { .. }), "{again:?}");
    assert_eq!(h.sim.record("VendorInvoiceHeaders", &invoice_keys()).unwrap()["DueDate"], "2026-02-11T12:00:00Z");
    assert_eq!(h.sim.record("VendorInvoiceLines", &line_keys()).unwrap()["MainAccountDisplayValue"], "605160-001-02");
    assert!(calls(&h.writes(), "signoffRecall").is_empty(), "nothing is recalled twice");
    assert_eq!(h.status("RUN-INV-121"), "rolled-back");
}

#[tokio::test]
async fn a_plain_invoice_approval_costs_the_protocol_minimum_and_a_journal_post_adds_one_read() {
    // Each dialect's customer config says its post answers with the vouchers it posted; the second pass
    // leaves that out, as a customer whose post answers nothing would, and pays for the read-back.
    for (dialect, declared) in Dialect::ALL.into_iter().flat_map(|d| [(d, true), (d, false)]) {
        let h = Harness::start_dialect_with(SimOptions::for_dialect(dialect), |c| {
            if !declared {
                c.operations.get_mut("journal_post").unwrap().returns = None;
            }
        })
        .await;
        h.propose(
            "RUN-INV-121",
            "dynamicsfinance.approve-vendor-invoice",
            "VendorInvoiceHeaders",
            invoice_keys(),
            json!({}),
            vec![],
            1,
        );
        let journal_keys = propose_journal_00123(&h, "RUN-JNL-00123");

        // Counted on the deciding approval alone (a first approval of a two-person run reads F&O too).
        h.sim.clear_requests();
        let invoice = h.decide(APPROVER, "RUN-INV-121", DecisionKind::Approve, false).await;
        let (invoice, requests) = match invoice {
            Outcome::ApprovalRecorded { .. } => {
                h.sim.clear_requests();
                (h.decide(SECOND, "RUN-INV-121", DecisionKind::Approve, false).await, h.data_requests())
            }
            other => (other, h.data_requests()),
        };
        assert!(matches!(invoice, Outcome::Executed { .. }), "{dialect}: {invoice:?}");
        let shape: Vec<String> =
            requests.iter().map(|r| format!("{} {}", r.method, r.target.split('?').next().unwrap())).collect();
        assert_eq!(requests.len(), 3, "{dialect}: header, lines, operation: {shape:#?}");
        assert!(shape[0].starts_with("GET /data/VendorInvoiceHeaders("), "{shape:?}");
        assert!(shape[1].starts_with("GET /data/VendorInvoiceLines"), "{shape:?}");
        assert!(shape[2].contains(&approve_action(dialect)), "{shape:?}");
        assert!(h.token_requests() <= 1, "one token per process");

        h.sim.clear_requests();
        let journal = h.decide(APPROVER, "RUN-JNL-00123", DecisionKind::Approve, false).await;
        let (journal, requests) = match journal {
            Outcome::ApprovalRecorded { .. } => {
                h.sim.clear_requests();
                (h.decide(SECOND, "RUN-JNL-00123", DecisionKind::Approve, false).await, h.data_requests())
            }
            other => (other, h.data_requests()),
        };
        let Outcome::Executed { answer, .. } = &journal else { panic!("{dialect}: {journal:?}") };
        let shape: Vec<String> =
            requests.iter().map(|r| format!("{} {}", r.method, r.target.split('?').next().unwrap())).collect();
        let reads = requests.iter().filter(|r| r.method == "GET").count();
        let writes = requests.len() - reads;
        // The minimum: header, lines, the post. Policy reads the main accounts live (the one read beyond
        // it); the vouchers come from the post's answer, or are read back when the config does not say
        // the post answers with them.
        let expected = if declared { (3, 1) } else { (4, 1) };
        assert_eq!((reads, writes), expected, "{dialect}, returns declared: {declared}: {shape:#?}");
        assert!(shape.iter().any(|s| s.starts_with("GET /data/MainAccounts")), "{shape:?}");
        // The recorded vouchers are the ones posting left on the journal's lines in F&O.
        let mut posted: Vec<String> = h
            .sim
            .records("LedgerJournalLines")
            .iter()
            .filter(|l| l["dataAreaId"] == journal_keys["dataAreaId"] && l["JournalBatchNumber"] == "00123")
            .map(|l| l["Voucher"].as_str().unwrap().to_string())
            .collect();
        posted.sort();
        posted.dedup();
        assert!(!posted.is_empty() && !posted.iter().any(|v| v.is_empty()));
        assert_eq!(answer.vouchers, posted, "{dialect}, returns declared: {declared}");
        eprintln!("{dialect} (returns declared: {declared}): journal post requests: {shape:?}");
    }
}
