//! The decision pipeline against both simulator dialects, each configured only through its customer's
//! config file (`fixtures/config/sim/<dialect>.toml`). Judged by the simulator's state and request log,
//! not by what signoff says it did.

use crate::review_support;

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

/// Journal 00124 with two of its lines' texts corrected.
fn propose_corrected_journal(h: &Harness, id: &str) -> Value {
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124"});
    let line = |n: u32, text: &str| {
        (json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124", "LineNumber": n}), json!({"Text": text}))
    };
    let lines = vec![line(1, "Reclass petty cash travel (Houston)"), line(2, "Reclass petty cash travel (Dallas)")];
    h.propose(id, "dynamicsfinance.post-journal", "LedgerJournalHeaders", keys.clone(), json!({}), lines, 1);
    keys
}

/// The Text of each of journal 00124's first two lines, as F&O holds them now.
fn line_texts(h: &Harness) -> Vec<String> {
    let mut lines: Vec<Value> =
        h.sim.records("LedgerJournalLines").into_iter().filter(|l| l["JournalBatchNumber"] == "00124").collect();
    lines.sort_by_key(|l| l["LineNumber"].as_u64());
    lines.iter().take(2).map(|l| l["Text"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn a_post_refused_inside_the_changeset_writes_nothing_when_the_post_is_a_bound_action() {
    // January 2026 is closed in F&O (not in signoff's policy): the post inside the changeset is refused.
    let options = SimOptions { closed_periods: vec!["2026-01".into()], ..SimOptions::for_dialect(Dialect::Signoff) };
    let h = Harness::start_dialect_with(options, |_| {}).await;
    let keys = propose_corrected_journal(&h, "RUN-JNL-00124");
    let before = line_texts(&h);

    let outcome = approve_fully(&h, "RUN-JNL-00124").await;

    let Outcome::Failed { reason, infolog, .. } = &outcome else { panic!("{outcome:?}") };
    let said = format!("{reason} {}", infolog.as_deref().unwrap_or_default());
    assert!(said.contains("period") && said.contains("closed"), "F&O's own words: {said}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
    assert_eq!(line_texts(&h), before, "the changeset is atomic: no correction was committed");
    assert_eq!(h.status("RUN-JNL-00124"), "failed");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "one changeset: {writes:?}");
    assert!(writes[0].body.contains("signoffPost"), "the post travelled with the corrections");
}

#[tokio::test]
async fn corrections_committed_then_the_custom_service_post_refused_are_partly_executed_and_rolled_back_line_by_line() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let keys = propose_corrected_journal(&h, "RUN-JNL-00124");
    let before = line_texts(&h);
    let refusal = "Journal 00124 cannot be posted: the posting layer is locked for the year-end close.";
    h.sim.inject(Fault::Refuse { path_contains: "postJournal".into(), message: refusal.into(), times: 1 });

    let outcome = approve_fully(&h, "RUN-JNL-00124").await;

    let Outcome::PartlyExecuted { written, reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(written.len(), 2, "the two corrected lines: {written:?}");
    assert!(reason.contains("posting layer is locked"), "F&O's own words: {reason}");
    assert!(outcome.headline().contains("signoff rollback RUN-JNL-00124"), "{}", outcome.headline());
    assert_eq!(outcome.exit_code(), signoff::review::exit::FAILED);
    assert_eq!(h.status("RUN-JNL-00124"), "partly-executed");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
    assert_eq!(
        line_texts(&h),
        vec!["Reclass petty cash travel (Houston)".to_string(), "Reclass petty cash travel (Dallas)".to_string()]
    );
    h.sim.clear_requests();

    let undone = h.decide(APPROVER, "RUN-JNL-00124", DecisionKind::Rollback, false).await;

    assert!(matches!(undone, Outcome::RolledBack { .. }), "{undone:?}");
    assert_eq!(line_texts(&h), before, "every line is back to its before-value");
    assert_eq!(h.status("RUN-JNL-00124"), "rolled-back");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "one changeset restores the lines, no reversal of an unposted journal: {writes:?}");
    assert!(writes[0].target.ends_with("$batch") && !writes[0].body.contains("reverseJournal"));
    assert_eq!(writes[0].body.matches("If-Match: ").count(), 2, "each line under its fresh ETag");
}

#[tokio::test]
async fn an_approval_that_outlives_the_timeout_is_unknown_never_failed_and_ends_executed_after_reconciliation() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect_with(SimOptions::for_dialect(dialect), |c| {
            c.environment.timeout_secs = 1;
            c.environment.settle_secs = 1;
        })
        .await;
        let keys = propose_invoice(&h, "RUN-INV-121", "APINV-000121");
        let approve = dialect.config_operations()["invoice_approve"].action.clone().unwrap();
        let delay = Duration::from_millis(2_500);
        h.sim.inject(Fault::SlowThenApply { path_contains: approve.clone(), delay, times: 1 });
        let started = Instant::now();

        let outcome = approve_fully(&h, "RUN-INV-121").await;

        assert!(matches!(outcome, Outcome::Unknown { .. }), "{dialect}: {outcome:?}");
        assert_eq!(outcome.exit_code(), signoff::review::exit::UNKNOWN);
        assert_eq!(h.status("RUN-INV-121"), "unknown", "{dialect}: never failed while F&O may still apply it");
        while h.sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"] != "Approved" {
            assert!(started.elapsed() < delay + Duration::from_secs(5), "{dialect}: F&O never completed it");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let swept = h.reviewer(APPROVER).reconcile(Duration::from_secs(3600)).await.unwrap();

        assert_eq!(h.status("RUN-INV-121"), "executed", "{dialect}: {swept:?}");
        let calls: Vec<u16> =
            h.data_requests().iter().filter(|r| r.target.contains(approve.as_str())).map(|r| r.status).collect();
        assert_eq!(calls, vec![200], "{dialect}: exactly one approve call arrived");
    }
}

#[tokio::test]
async fn the_reversal_sent_is_the_plan_the_approver_was_shown_reversal_date_included() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let keys = propose_journal_00123(&h, "RUN-JNL-00123");
        let posted = approve_fully(&h, "RUN-JNL-00123").await;
        assert!(matches!(posted, Outcome::Executed { .. }), "{dialect}: {posted:?}");
        let stored = h.store().get(&signoff::model::RunId::from("RUN-JNL-00123")).unwrap().unwrap();
        let executed = stored.history.iter().rev().find(|c| c.to == signoff::model::RunStatus::Executed).unwrap();
        let readiness = &executed.detail["compensation"]["readiness"]["state"];
        assert_eq!(readiness, "conditional", "{dialect}: the reversal is offered (on an open period)");
        let shown = &executed.detail["compensation"]["recipe"][0];
        h.sim.clear_requests();

        let undone = h.decide(APPROVER, "RUN-JNL-00123", DecisionKind::Rollback, false).await;

        assert!(matches!(undone, Outcome::RolledBack { .. }), "{dialect}: {undone:?}");
        assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
        let writes = h.writes();
        assert_eq!(writes.len(), 1, "{dialect}: {writes:?}");
        assert_eq!(path(&writes[0]), shown["path"].as_str().unwrap(), "{dialect}");
        let planned: Value = serde_json::from_str(shown["body"].as_str().unwrap()).unwrap();
        assert_eq!(body(&writes[0]), planned, "{dialect}: the body sent is the body shown");
    }
}
