//! The decision pipeline against both simulator dialects, each configured only through its customer's
//! config file (`fixtures/config/sim/<dialect>.toml`). Judged by the simulator's state and request log,
//! not by what signoff says it did.

mod review_support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signoff::review::{DecisionKind, Outcome};
use signoff::sim::{Dialect, Fault, LoggedRequest, SimOptions};

use review_support::{APPROVER, Harness, SECOND, propose_journal_00123};

const NS: &str = "Microsoft.Dynamics.DataEntities";

/// The reason text `Harness::decide` gives a decision.
fn reason(kind: DecisionKind) -> String {
    format!("{} after checking the supporting documents", kind.as_str())
}

fn body(r: &LoggedRequest) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

/// The call's path without its query (`?cross-company=true`): the entity set, keys and operation.
fn path(r: &LoggedRequest) -> &str {
    r.target.split('?').next().unwrap_or(&r.target)
}

/// Approve until F&O is told: a second approver joins when policy asks for more than one (quorum is
/// policy's business, not what these tests are about).
async fn approve_fully(h: &Harness, id: &str) -> Outcome {
    match h.decide(APPROVER, id, DecisionKind::Approve, false).await {
        Outcome::ApprovalRecorded { .. } => h.decide(SECOND, id, DecisionKind::Approve, false).await,
        other => other,
    }
}

const INVOICE_121: &str = "/data/VendorInvoiceHeaders(HeaderReference='APINV-000121',dataAreaId='usmf')";
const INVOICE_123: &str = "/data/VendorInvoiceHeaders(HeaderReference='APINV-000123',dataAreaId='usmf')";
const JOURNAL_00123: &str = "/data/LedgerJournalHeaders(JournalBatchNumber='00123',dataAreaId='usmf')";

fn propose_invoice(h: &Harness, id: &str, reference: &str) -> Value {
    let keys = json!({"dataAreaId": "usmf", "HeaderReference": reference});
    let set = "VendorInvoiceHeaders";
    h.propose(id, "dynamicsfinance.approve-vendor-invoice", set, keys.clone(), json!({}), vec![], 1);
    keys
}

#[tokio::test]
async fn each_dialects_config_file_configures_exactly_the_operations_its_simulator_serves() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;

        assert_eq!(h.config.operations, dialect.config_operations(), "{dialect}");
        assert_eq!(h.config.environment.url.as_deref(), Some(h.sim.base_url().as_str()), "{dialect}");
    }
}

#[tokio::test]
async fn an_invoice_approval_calls_the_dialects_approve_action_with_its_own_parameter() {
    for (dialect, action, param) in
        [(Dialect::Signoff, "signoffApprove", "_comment"), (Dialect::Contoso, "approveInvoiceWF", "_note")]
    {
        let h = Harness::start_dialect(dialect).await;
        let keys = propose_invoice(&h, "RUN-INV-121", "APINV-000121");

        let outcome = approve_fully(&h, "RUN-INV-121").await;

        let invoice = h.sim.record("VendorInvoiceHeaders", &keys).unwrap();
        assert_eq!(invoice["VendorInvoiceReviewStatus"], "Approved", "{dialect}: {outcome:?}");
        assert_eq!(invoice["WorkflowComment"], reason(DecisionKind::Approve).as_str(), "{dialect}");
        let writes = h.writes();
        assert_eq!(writes.len(), 1, "{dialect}: {writes:?}");
        assert_eq!(path(&writes[0]), format!("{INVOICE_121}/{NS}.{action}"), "{dialect}");
        assert_eq!(body(&writes[0]), json!({ param: reason(DecisionKind::Approve) }), "{dialect}");
        assert_eq!(writes[0].status, 200, "{dialect}");
    }
}

#[tokio::test]
async fn rejecting_an_invoice_and_a_journal_calls_the_dialects_reject_operations() {
    let signoff_jnl = json!({"_comment": reason(DecisionKind::Reject)});
    let contoso_jnl = json!({"_legalEntity": "usmf", "_journalNum": "00123",
                             "_rejectionReason": reason(DecisionKind::Reject)});
    for (dialect, invoice_call, invoice_body, journal_call, journal_body) in [
        (
            Dialect::Signoff,
            format!("{INVOICE_123}/{NS}.signoffReject"),
            json!({"_comment": reason(DecisionKind::Reject)}),
            format!("{JOURNAL_00123}/{NS}.signoffReject"),
            signoff_jnl,
        ),
        (
            Dialect::Contoso,
            format!("{INVOICE_123}/{NS}.rejectInvoiceWF"),
            json!({"_rejectionReason": reason(DecisionKind::Reject)}),
            "/api/services/ContosoLedger/ContosoJournalService/rejectJournal".to_string(),
            contoso_jnl,
        ),
    ] {
        let h = Harness::start_dialect(dialect).await;
        let inv = propose_invoice(&h, "RUN-INV-123", "APINV-000123");
        let jnl = propose_journal_00123(&h, "RUN-JNL-00123");

        let a = h.decide(APPROVER, "RUN-INV-123", DecisionKind::Reject, false).await;
        let b = h.decide(APPROVER, "RUN-JNL-00123", DecisionKind::Reject, false).await;

        let invoice = h.sim.record("VendorInvoiceHeaders", &inv).unwrap();
        assert_eq!(invoice["VendorInvoiceReviewStatus"], "Rejected", "{dialect}: {a:?}");
        assert_eq!(invoice["WorkflowComment"], reason(DecisionKind::Reject).as_str(), "{dialect}");
        let journal = h.sim.record("LedgerJournalHeaders", &jnl).unwrap();
        assert_eq!(journal["WorkflowApprovalStatus"], "Rejected", "{dialect}: {b:?}");
        assert_eq!(journal["IsPosted"], "No", "{dialect}");
        let writes = h.writes();
        assert_eq!(writes.len(), 2, "{dialect}: {writes:?}");
        assert_eq!((path(&writes[0]), body(&writes[0])), (invoice_call.as_str(), invoice_body), "{dialect}");
        assert_eq!((path(&writes[1]), body(&writes[1])), (journal_call.as_str(), journal_body), "{dialect}");
    }
}

#[tokio::test]
async fn the_signoff_dialect_posts_a_journal_through_its_bound_action() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let keys = propose_journal_00123(&h, "RUN-JNL-00123");

    let outcome = approve_fully(&h, "RUN-JNL-00123").await;

    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes", "{outcome:?}");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(path(&writes[0]), format!("{JOURNAL_00123}/{NS}.signoffPost"));
    assert_eq!(body(&writes[0]), json!({"_comment": reason(DecisionKind::Approve)}));
}

#[tokio::test]
#[ignore = "needs custom services in the catalog (types-facets branch)"]
async fn the_contoso_dialect_posts_a_journal_through_its_custom_service_with_its_own_parameter_names() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let keys = propose_journal_00123(&h, "RUN-JNL-00123");

    let outcome = approve_fully(&h, "RUN-JNL-00123").await;

    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes", "{outcome:?}");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(path(&writes[0]), "/api/services/ContosoLedger/ContosoJournalService/postJournal");
    assert_eq!(
        body(&writes[0]),
        json!({"_legalEntity": "usmf", "_journalNum": "00123", "_note": reason(DecisionKind::Approve)})
    );
    assert_eq!(writes[0].status, 200);
}

#[tokio::test]
async fn corrections_committed_then_the_post_refused_leave_corrected_lines_on_an_unposted_journal() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124"});
    let line = |n: u32, text: &str| {
        (json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124", "LineNumber": n}), json!({"Text": text}))
    };
    let lines = vec![line(1, "Reclass petty cash travel (Houston)"), line(2, "Reclass petty cash travel (Dallas)")];
    let set = "LedgerJournalHeaders";
    h.propose("RUN-JNL-00124", "dynamicsfinance.post-journal", set, keys.clone(), json!({}), lines, 1);
    let refusal = "Journal 00124 cannot be posted: the posting layer is locked for the year-end close.";
    h.sim.inject(Fault::Refuse { path_contains: "signoffPost".into(), message: refusal.into(), times: 1 });

    let outcome = approve_fully(&h, "RUN-JNL-00124").await;

    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record(set, &keys).unwrap()["IsPosted"], "No");
    let houston = h
        .sim
        .records("LedgerJournalLines")
        .into_iter()
        .find(|l| l["JournalBatchNumber"] == "00124" && l["LineNumber"] == 1)
        .unwrap();
    assert_eq!(houston["Text"], "Reclass petty cash travel (Houston)", "the corrections were committed");
    let writes: Vec<(String, u16)> = h.writes().iter().map(|w| (w.method.clone(), w.status)).collect();
    assert_eq!(writes, vec![("POST".to_string(), 200), ("POST".to_string(), 500)], "{:?}", h.writes());
    assert!(path(&h.writes()[1]).ends_with(".signoffPost"));
}

#[tokio::test]
async fn an_approval_that_outlives_signoffs_timeout_still_lands_in_fno_once() {
    let options = SimOptions::for_dialect(Dialect::Contoso);
    let h = Harness::start_dialect_with(options, |c| c.environment.timeout_secs = 1).await;
    let keys = propose_invoice(&h, "RUN-INV-121", "APINV-000121");
    let delay = Duration::from_millis(2_500);
    h.sim.inject(Fault::SlowThenApply { path_contains: "approveInvoiceWF".into(), delay, times: 1 });
    let started = Instant::now();

    let outcome = approve_fully(&h, "RUN-INV-121").await;

    let mut status = String::new();
    while started.elapsed() < delay + Duration::from_secs(3) {
        status = h.sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"].to_string();
        if status == "\"Approved\"" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "\"Approved\"", "F&O completed the approval after signoff gave up");
    let calls: Vec<u16> =
        h.data_requests().iter().filter(|r| r.target.contains("approveInvoiceWF")).map(|r| r.status).collect();
    assert_eq!(calls, vec![200], "exactly one approve call arrived");
    // What signoff concluded, for the record (the run store, not F&O, is signoff's word).
    eprintln!("signoff said: {outcome:?}; run status {}", h.status("RUN-INV-121"));
}
