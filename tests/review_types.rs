//! Decisions send values in the form `$metadata` declares, refuse values that break a facet before
//! anyone approves, and show F&O's own words when a custom service fails. The real simulator on
//! loopback, a real SQLite store.

use crate::review_support;

use review_support::*;
use serde_json::json;
use signoff::config::{Operation, OperationKind};
use signoff::fno::metadata::catalog_to_json;
use signoff::fno::{describe_services, parse_csdl};
use signoff::model::RunId;
use signoff::policy::Level;
use signoff::review::{DecisionKind, Outcome};
use signoff::sim::SimOptions;

#[tokio::test]
async fn disabling_and_enabling_a_user_patch_enabled_as_an_edm_boolean() {
    let h = Harness::start().await;
    let keys = json!({"UserID": "benjamin"});
    assert_eq!(h.sim.record("SystemUsers", &keys).unwrap()["Enabled"], true);
    // The human form "No" in the run: the encoder sends the boolean the property is declared as.
    h.propose(
        "RUN-USR-DISABLE",
        "dynamicsfinance.disable-user",
        "SystemUsers",
        keys.clone(),
        json!({"Enabled": "No"}),
        vec![],
        1,
    );
    let outcome = h.decide(APPROVER, "RUN-USR-DISABLE", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("SystemUsers", &keys).unwrap()["Enabled"], false);
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!((writes[0].method.as_str(), writes[0].body.as_str()), ("PATCH", r#"{"Enabled":false}"#));

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
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].body, r#"{"Enabled":true}"#);
}

#[tokio::test]
async fn a_dry_run_shows_the_encoded_body() {
    let h = Harness::start().await;
    let keys = json!({"UserID": "benjamin"});
    h.propose("RUN-USR-DRY", "dynamicsfinance.disable-user", "SystemUsers", keys, json!({"Enabled": "No"}), vec![], 1);
    let outcome = h.decide(APPROVER, "RUN-USR-DRY", DecisionKind::Approve, true).await;
    let Outcome::DryRun { requests, .. } = &outcome else { panic!("{outcome:?}") };
    let shown = serde_json::to_string(requests).unwrap();
    assert!(shown.contains(r#"{\"Enabled\":false}"#), "{shown}");
    assert!(h.writes().is_empty());
}

#[tokio::test]
async fn a_bank_account_over_max_length_is_refused_before_any_approval_and_nothing_is_written() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    h.propose(
        "RUN-VND-LONG",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys.clone(),
        json!({"BankAccountId": "WF-CHK-4410"}),
        vec![],
        2,
    );
    let before = h.sim.record("VendorsV2", &keys).unwrap()["BankAccountId"].clone();

    // What `runs show` prints: the same judgement, offline.
    let store = h.store();
    let stored = store.get(&RunId::from("RUN-VND-LONG")).unwrap().unwrap();
    let judgement = signoff::review::preview::judge(&store, &stored, &h.config, APPROVER, None, None).unwrap();
    let facet = judgement.evaluation.verdicts.iter().find(|v| v.rule == "metadata.facets").unwrap();
    assert_eq!(facet.level, Level::Hard);
    assert_eq!(facet.message, "BankAccountId allows 10 characters; 'WF-CHK-4410' has 11 (VendorsV2)");

    for dry_run in [true, false] {
        let outcome = h.decide(APPROVER, "RUN-VND-LONG", DecisionKind::Approve, dry_run).await;
        let Outcome::Refused { reason, .. } = &outcome else { panic!("{outcome:?}") };
        assert!(reason.contains("BankAccountId allows 10 characters; 'WF-CHK-4410' has 11"), "{reason}");
    }
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert!(h.store().approvals(&RunId::from("RUN-VND-LONG")).unwrap().is_empty());
    assert_eq!(h.status("RUN-VND-LONG"), "pending");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["BankAccountId"], before);
}

#[tokio::test]
async fn a_ten_character_bank_account_is_written() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    h.propose(
        "RUN-VND-FITS",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys.clone(),
        json!({"BankAccountId": "WF-CHK-441"}),
        vec![],
        1,
    );
    // A bank account is a high-risk field: a second distinct approver executes it.
    let first = h.decide(APPROVER, "RUN-VND-FITS", DecisionKind::Approve, false).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { .. }), "{first:?}");
    let outcome = h.decide(SECOND, "RUN-VND-FITS", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.writes().last().unwrap().body, r#"{"BankAccountId":"WF-CHK-441"}"#);
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["BankAccountId"], "WF-CHK-441");
}

/// Journal posting through the simulator's custom service, synced as `connector sync-metadata` does.
async fn journal_service_harness() -> Harness {
    let options = SimOptions { closed_periods: vec!["2026-01".into()], ..Default::default() };
    let h = Harness::start_with(options, |c| {
        let parameters =
            [("dataAreaId", "_dataAreaId"), ("JournalBatchNumber", "_journalBatchNumber"), ("comment", "_comment")];
        c.operations.insert(
            "journal_post".into(),
            Operation {
                kind: OperationKind::CustomService,
                entity_set: None,
                action: None,
                service: Some("SignoffServices/SignoffJournalService/post".into()),
                parameters: parameters.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
                returns: None,
                mode: None,
                handover_fields: None,
            },
        );
    })
    .await;
    let mut catalog = parse_csdl(&h.client.metadata_xml().await.unwrap()).unwrap();
    let (services, mismatches) = describe_services(&h.client, &h.config).await;
    assert_eq!(mismatches, vec![]);
    catalog.services = services;
    h.store().save_catalog(&catalog_to_json(&catalog).unwrap(), "operator").unwrap();
    h.sim.clear_requests();
    h
}

#[tokio::test]
async fn a_custom_service_in_the_synced_catalog_counts_as_a_known_operation() {
    let h = journal_service_harness().await;
    propose_journal_00123(&h, "RUN-JNL-SVC");
    let store = h.store();
    let stored = store.get(&RunId::from("RUN-JNL-SVC")).unwrap().unwrap();
    let judgement = signoff::review::preview::judge(&store, &stored, &h.config, APPROVER, None, None).unwrap();
    let op = judgement.evaluation.verdicts.iter().find(|v| v.rule == "metadata.operation").unwrap();
    assert_eq!(op.level, Level::Pass, "{}", op.message);
}

#[tokio::test]
async fn a_failing_custom_service_shows_fno_own_message() {
    let h = journal_service_harness().await;
    propose_journal_00123(&h, "RUN-JNL-CLOSED");
    let outcome = h.decide(APPROVER, "RUN-JNL-CLOSED", DecisionKind::Approve, false).await;
    let Outcome::Failed { reason, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("The period for 2026-01-31 is closed."), "{reason}");
    assert!(!reason.contains("no error message"), "{reason}");
    let writes = h.writes();
    assert!(writes.iter().any(|w| w.target.contains("/api/services/SignoffServices/SignoffJournalService/post")));
    assert_eq!(h.status("RUN-JNL-CLOSED"), "failed");
}

#[tokio::test]
async fn a_user_disabled_with_the_human_form_no_is_rolled_back_and_a_lost_answer_is_recognised_as_applied() {
    let h = Harness::start().await;
    let keys = json!({"UserID": "benjamin"});
    let set = "SystemUsers";
    h.propose("RUN-USR-NO", "dynamicsfinance.disable-user", set, keys.clone(), json!({"Enabled": "No"}), vec![], 1);
    // The PATCH lands but its answer is lost: F&O now holds `false`, the run says "No".
    h.sim.inject(signoff::sim::Fault::DropAfterProcessing { path_contains: "SystemUsers".into(), times: 1 });

    let outcome = h.decide(APPROVER, "RUN-USR-NO", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "reading F&O shows false, which is 'No': {outcome:?}");
    assert_eq!(h.sim.record(set, &keys).unwrap()["Enabled"], false);
    h.sim.clear_requests();

    let undone = h.decide(APPROVER, "RUN-USR-NO", DecisionKind::Rollback, false).await;

    assert!(matches!(undone, Outcome::RolledBack { .. }), "the record is as the run left it: {undone:?}");
    assert_eq!(h.sim.record(set, &keys).unwrap()["Enabled"], true);
    assert_eq!(h.writes()[0].body, r#"{"Enabled":true}"#);
}
