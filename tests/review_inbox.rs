//! The F&O workflow inbox (`[intake.workflow]`) against both simulator dialects, each configured through
//! its customer's config file: work items become runs, and deciding one sends validate, then complete
//! with the outcome and the reason. Judged by the simulator's state and request log.

use crate::review_support;

use serde_json::{Value, json};
use signoff::model::{Action, RunId};
use signoff::review::{DecisionKind, Outcome};
use signoff::sim::{Dialect, Fault, LoggedRequest};

use review_support::{APPROVER, Harness, SECOND};

const INVOICE_ITEM: &str = "WI-000101";
const JOURNAL_ITEM: &str = "WI-000102";

fn run_of(item: &str) -> String {
    format!("wf-{item}")
}

fn reason(kind: DecisionKind) -> String {
    format!("{} after checking the supporting documents", kind.as_str())
}

fn item(h: &Harness, id: &str) -> Value {
    h.sim.record("WorkflowWorkItems", &json!({"InstanceId": id})).unwrap()
}

/// The calls to the work item actions, in order: (action, parameters).
fn item_calls(h: &Harness) -> Vec<(String, Value)> {
    h.data_requests()
        .into_iter()
        .filter(|r: &LoggedRequest| r.method == "POST" && r.target.starts_with("/data/WorkflowWorkItems/"))
        .map(|r| {
            let action = r.target.rsplit('.').next().unwrap_or_default().to_string();
            (action, serde_json::from_str(&r.body).unwrap())
        })
        .collect()
}

async fn synced(dialect: Dialect) -> Harness {
    let h = Harness::start_dialect(dialect).await;
    let report = h.reviewer(APPROVER).sync_inbox().await.unwrap();
    assert_eq!(report.user, "demoapprover", "{dialect}");
    h.sim.clear_requests();
    h
}

#[tokio::test]
async fn sync_turns_the_pending_items_of_the_approvers_fno_user_into_runs_and_a_second_sync_changes_nothing() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let reviewer = h.reviewer(APPROVER);

        let first = reviewer.sync_inbox().await.unwrap();

        // WI-000103 is completed and WI-000104 awaits another user: neither is this approver's to decide.
        let added: Vec<String> = first.added.iter().map(|id| id.to_string()).collect();
        assert_eq!(added, [run_of(INVOICE_ITEM), run_of(JOURNAL_ITEM)], "{dialect}");
        let stored = h.store().get(&RunId::from(run_of(INVOICE_ITEM).as_str())).unwrap().unwrap();
        let run = stored.run;
        assert_eq!(run.action, Action::ApproveWorkflowItem);
        assert_eq!(stored.status.to_string(), "pending");
        let item = run.work_item.as_ref().unwrap();
        assert_eq!((item.id.as_str(), item.user_id.as_str()), (INVOICE_ITEM, "demoapprover"));
        assert!(item.subject.contains("APINV-000170"), "{}", item.subject);
        assert_eq!(
            item.instructions.as_deref(),
            Some("Check the chairs against the facilities budget before approving.")
        );
        assert_eq!(item.due_at.map(|d| d.to_rfc3339()), Some("2026-12-04T12:00:00+00:00".into()));
        // The before snapshot is the invoice as F&O serves it: its ETag and every line with theirs.
        let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000170"});
        let live = h.sim.record("VendorInvoiceHeaders", &keys).unwrap();
        assert_eq!(run.before.etag.as_str(), live["@odata.etag"].as_str().unwrap());
        assert_eq!(run.target.entity_set, "VendorInvoiceHeaders");
        assert_eq!(run.before.lines.len(), 2);
        let journal = h.store().get(&RunId::from(run_of(JOURNAL_ITEM).as_str())).unwrap().unwrap().run;
        assert_eq!(journal.target.entity_set, "LedgerJournalHeaders");
        assert_eq!(journal.before.lines.len(), 2);

        let events = h.store().audit_events_of_kind("run.imported").unwrap().len();
        let second = reviewer.sync_inbox().await.unwrap();
        assert!(second.added.is_empty() && second.stale.is_empty(), "{dialect}: {second:?}");
        assert_eq!(second.unchanged.len(), 2, "{dialect}");
        assert_eq!(h.store().audit_events_of_kind("run.imported").unwrap().len(), events, "{dialect}");
        assert_eq!(h.store().count_runs().unwrap(), 2, "{dialect}");
    }
}

#[tokio::test]
async fn approving_an_invoice_item_validates_it_then_completes_it_with_the_reason_as_comment() {
    for dialect in Dialect::ALL {
        let h = synced(dialect).await;
        let names = dialect.work_items();

        let outcome = h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;

        assert!(matches!(outcome, Outcome::Executed { .. }), "{dialect}: {outcome:?}");
        let item = item(&h, INVOICE_ITEM);
        assert_eq!(item["Status"], "Completed", "{dialect}");
        assert_eq!(item["Comment"], reason(DecisionKind::Approve).as_str(), "{dialect}");
        assert_eq!(item["Outcome"], names.approve, "{dialect}");
        assert_eq!(item["CompletedBy"], "demoapprover", "{dialect}");
        let invoice =
            h.sim.record("VendorInvoiceHeaders", &json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000170"}));
        assert_eq!(invoice.unwrap()["VendorInvoiceReviewStatus"], "Approved", "{dialect}");
        // Validate right before complete, each named as the dialect names it; nothing else was written.
        let calls = item_calls(&h);
        let actions: Vec<&str> = calls.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, [names.validate, names.complete], "{dialect}");
        assert_eq!(calls[1].1[names.outcome], names.approve, "{dialect}");
        assert_eq!(calls[1].1[names.work_item], INVOICE_ITEM, "{dialect}");
        assert_eq!(calls[1].1[names.user], "demoapprover", "{dialect}");
        assert_eq!(h.writes().len(), 2, "{dialect}: {:?}", h.writes());
        assert_eq!(h.status(&run_of(INVOICE_ITEM)), "executed");
    }
}

#[tokio::test]
async fn rejecting_an_item_completes_it_in_fno_with_the_reject_outcome_unlike_a_plain_reject() {
    for dialect in Dialect::ALL {
        let h = synced(dialect).await;
        let names = dialect.work_items();

        let outcome = h.decide(APPROVER, &run_of(JOURNAL_ITEM), DecisionKind::Reject, false).await;

        assert!(matches!(outcome, Outcome::Rejected { .. }), "{dialect}: {outcome:?}");
        let item = item(&h, JOURNAL_ITEM);
        assert_eq!((item["Status"].as_str(), item["Outcome"].as_str()), (Some("Completed"), Some(names.reject)));
        assert_eq!(item["Comment"], reason(DecisionKind::Reject).as_str());
        let journal =
            h.sim.record("LedgerJournalHeaders", &json!({"dataAreaId": "usmf", "JournalBatchNumber": "00490"}));
        assert_eq!(journal.unwrap()["WorkflowApprovalStatus"], "Rejected", "{dialect}");
        let actions: Vec<String> = item_calls(&h).into_iter().map(|(a, _)| a).collect();
        assert_eq!(actions, [names.validate, names.complete], "{dialect}");
        assert_eq!(h.status(&run_of(JOURNAL_ITEM)), "rejected");
    }
}

#[tokio::test]
async fn an_item_decided_in_fno_meanwhile_comes_back_stale_and_nothing_is_sent() {
    for dialect in Dialect::ALL {
        let h = synced(dialect).await;
        h.sim.complete_work_item(INVOICE_ITEM, "demoapprover", true, "approved from the F&O action center").unwrap();

        let outcome = h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;

        // Deciding it in F&O moved the invoice on too: the re-read already shows it, before validate.
        assert!(matches!(outcome, Outcome::Stale { .. }), "{dialect}: {outcome:?}");
        assert_eq!(h.status(&run_of(INVOICE_ITEM)), "stale");
        let complete = dialect.work_items().complete;
        assert!(item_calls(&h).iter().all(|(a, _)| a != complete), "{dialect}: no complete call");
        assert!(h.writes().iter().all(|r| !r.target.contains(complete)), "{dialect}");
        assert_eq!(item(&h, INVOICE_ITEM)["Comment"], "approved from the F&O action center");
    }
}

#[tokio::test]
async fn an_item_delegated_in_fno_is_stale_by_validate_and_complete_is_never_called() {
    for dialect in Dialect::ALL {
        let h = synced(dialect).await;
        // Delegated to a colleague in F&O: the document is untouched, only the item's user changed.
        h.sim
            .edit_record("WorkflowWorkItems", &json!({"InstanceId": INVOICE_ITEM}), json!({"UserId": "benjamin"}))
            .unwrap();
        h.sim.clear_requests();

        let outcome = h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;

        let Outcome::Stale { reason, .. } = &outcome else { panic!("{dialect}: {outcome:?}") };
        assert!(reason.contains("no longer awaits demoapprover"), "{reason}");
        assert_eq!(h.status(&run_of(INVOICE_ITEM)), "stale");
        let actions: Vec<String> = item_calls(&h).into_iter().map(|(a, _)| a).collect();
        assert_eq!(actions, [dialect.work_items().validate], "{dialect}: validate only, no complete call");
        assert!(h.writes().iter().all(|r| r.target.contains(dialect.work_items().validate)), "{dialect}");
        assert_eq!(item(&h, INVOICE_ITEM)["Status"], "Pending");
    }
}

#[tokio::test]
async fn sync_makes_the_run_of_an_item_decided_in_fno_stale_not_lost() {
    let h = synced(Dialect::Signoff).await;
    h.sim.complete_work_item(JOURNAL_ITEM, "demoapprover", false, "wrong period").unwrap();

    let report = h.reviewer(APPROVER).sync_inbox().await.unwrap();

    assert_eq!(report.stale, [RunId::from(run_of(JOURNAL_ITEM).as_str())]);
    assert_eq!(h.status(&run_of(JOURNAL_ITEM)), "stale");
    assert_eq!(h.status(&run_of(INVOICE_ITEM)), "pending");
    assert!(item_calls(&h).is_empty(), "a sync never calls validate or complete");
}

#[tokio::test]
async fn a_lost_complete_answer_is_settled_by_reading_the_items_status_without_sending_again() {
    let h = synced(Dialect::Signoff).await;
    h.sim.inject(Fault::DropAfterProcessing { path_contains: "DataEntities.complete".into(), times: 1 });

    let outcome = h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;

    let Outcome::Executed { answer, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(answer.messages.iter().any(|m| m.contains("the answer was lost")), "{answer:?}");
    let completes = item_calls(&h).into_iter().filter(|(a, _)| a == "complete").count();
    assert_eq!(completes, 1, "complete is never sent twice");
    assert_eq!(h.status(&run_of(INVOICE_ITEM)), "executed");
}

#[tokio::test]
async fn an_approver_who_is_not_the_items_fno_user_is_refused_before_anything_is_sent() {
    let h = synced(Dialect::Signoff).await;

    let outcome = h.decide(SECOND, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;

    let reason = review_support::refusal(&outcome);
    assert!(reason.contains("no F&O user is known for approver alicia.thornber@contoso.com"), "{reason}");
    assert!(item_calls(&h).is_empty());
    assert_eq!(item(&h, INVOICE_ITEM)["Status"], "Pending");
}

#[tokio::test]
async fn a_workflow_item_cannot_be_rolled_back_from_outside_fno() {
    let h = synced(Dialect::Signoff).await;
    h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Approve, false).await;
    h.sim.clear_requests();

    let outcome = h.decide(APPROVER, &run_of(INVOICE_ITEM), DecisionKind::Rollback, false).await;

    let reason = review_support::refusal(&outcome);
    assert!(reason.contains("a completed workflow step cannot be undone from outside F&O"), "{reason}");
    assert!(h.writes().is_empty());
}

#[tokio::test]
async fn sync_with_the_inbox_off_says_how_to_turn_it_on() {
    let h = Harness::start().await;

    let err = h.reviewer(APPROVER).sync_inbox().await.unwrap_err().to_string();

    assert!(err.contains("set `enabled = true` under [intake.workflow]"), "{err}");
    assert!(h.data_requests().is_empty());
}
