//! The decision operations have real effects: invoice approve/reject/recall, journal post/reject/reverse.

use crate::sim_support;

use serde_json::{Value, json};
use signoff::sim::{SimOptions, Simulator};
use sim_support::*;

const NS: &str = "Microsoft.Dynamics.DataEntities";

fn invoice(reference: &str) -> (String, Value) {
    (
        format!("/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='{reference}')"),
        json!({"dataAreaId": "usmf", "HeaderReference": reference}),
    )
}

fn journal(number: &str) -> (String, Value) {
    (
        format!("/data/LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='{number}')"),
        json!({"dataAreaId": "usmf", "JournalBatchNumber": number}),
    )
}

async fn act(sim: &Simulator, token: &str, path: &str, action: &str, body: Value) -> Answer {
    send(sim, token, "POST", &format!("{path}/{NS}.{action}"), &[], Some(body.to_string())).await
}

#[tokio::test]
async fn approving_an_invoice_sets_approved_fields_and_bumps_the_etag() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000123");
    let before = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    let a = act(&sim, &token, &path, "signoffApprove", json!({"_comment": "Matched to receipt"})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["value"], "Success");
    let after = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(after["IsApproved"], "Yes");
    assert_eq!(after["ApprovedBy"], "signoff-svc", "the app's mapped F&O user approves");
    assert_eq!(after["VendorInvoiceReviewStatus"], "Approved");
    assert_eq!(after["WorkflowComment"], "Matched to receipt");
    assert_ne!(after["@odata.etag"], before["@odata.etag"]);
    let again = act(&sim, &token, &path, "signoffApprove", json!({})).await;
    assert_eq!(again.status, 500);
    assert_eq!(again.json()["error"]["innererror"]["type"], "System.InvalidOperationException");
    assert!(
        infolog(&again.json())
            .starts_with("Exception occurred while executing action signoffApprove on Entity VendorInvoiceHeader:")
    );
}

#[tokio::test]
async fn rejecting_an_invoice_needs_a_reason_and_recall_returns_it_to_draft() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000124");
    let no_reason = act(&sim, &token, &path, "signoffReject", json!({})).await;
    assert_eq!(no_reason.status, 500);
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");

    let a = act(&sim, &token, &path, "signoffReject", json!({"_comment": "Duplicate of SI-2026-4402"})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let rejected = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(rejected["VendorInvoiceReviewStatus"], "Rejected");
    assert_eq!(rejected["WorkflowComment"], "Duplicate of SI-2026-4402");

    let r = act(&sim, &token, &path, "signoffRecall", json!({"_comment": "Rejected by mistake"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let recalled = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(recalled["VendorInvoiceReviewStatus"], "Draft");
    assert_eq!(recalled["IsApproved"], "No");

    let nothing_to_recall = act(&sim, &token, &path, "signoffRecall", json!({})).await;
    assert_eq!(nothing_to_recall.status, 500, "a Draft invoice has no workflow to recall");
}

#[tokio::test]
async fn an_unknown_action_parameter_is_a_400() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, _) = invoice("APINV-000123");
    let a = act(&sim, &token, &path, "signoffApprove", json!({"_recid": 1})).await;
    assert_eq!(a.status, 400);
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("'_recid'"));
    assert_eq!(act(&sim, &token, &path, "autoApproveWFVendorInvoice", json!({})).await.status, 404);
}

#[tokio::test]
async fn posting_a_journal_assigns_final_vouchers_and_marks_it_posted() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, keys) = journal("00478");
    let a = act(&sim, &token, &path, "signoffPost", json!({"_comment": "Month-end accruals"})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let vouchers: Vec<String> = a.json()["value"].as_str().unwrap().split(',').map(str::to_string).collect();
    assert!(!vouchers.is_empty() && vouchers.iter().all(|v| v.starts_with("GNJL")), "{vouchers:?}");
    assert_eq!(sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
    let lines: Vec<Value> =
        sim.records("LedgerJournalLines").into_iter().filter(|l| l["JournalBatchNumber"] == "00478").collect();
    assert_eq!(lines.len(), 10);
    for l in &lines {
        assert!(
            vouchers.contains(&l["Voucher"].as_str().unwrap().to_string()),
            "line voucher {} was assigned",
            l["Voucher"]
        );
    }
    let twice = act(&sim, &token, &path, "signoffPost", json!({})).await;
    assert_eq!(twice.status, 500);
    assert!(infolog(&twice.json()).contains("already posted"));
}

#[tokio::test]
async fn an_unbalanced_journal_is_refused_with_the_voucher_named() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, keys) = journal("00125");
    let a = act(&sim, &token, &path, "signoffPost", json!({})).await;
    assert_eq!(a.status, 500);
    let body = a.json();
    assert_eq!(body["error"]["innererror"]["type"], "System.InvalidOperationException");
    assert!(infolog(&body).contains("The transactions on voucher GNJL000455 do not balance"), "{}", infolog(&body));
    assert_eq!(sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
}

#[tokio::test]
async fn a_journal_dated_in_a_closed_period_is_refused() {
    let sim = start_with(SimOptions { closed_periods: vec!["2025-12".into()], ..Default::default() }).await;
    let token = token(&sim).await;
    let (path, keys) = journal("00126");
    let a = act(&sim, &token, &path, "signoffPost", json!({})).await;
    assert_eq!(a.status, 500);
    assert!(infolog(&a.json()).contains("is closed"), "{}", a.text);
    assert_eq!(sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
}

#[tokio::test]
async fn rejecting_a_journal_stops_it_from_being_posted() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, keys) = journal("00461");
    assert_eq!(act(&sim, &token, &path, "signoffReject", json!({"_comment": "Wrong period"})).await.status, 200);
    assert_eq!(sim.record("LedgerJournalHeaders", &keys).unwrap()["WorkflowApprovalStatus"], "Rejected");
    assert_eq!(act(&sim, &token, &path, "signoffPost", json!({})).await.status, 500);
}

#[tokio::test]
async fn reversing_a_posted_journal_creates_a_posted_journal_with_debit_and_credit_swapped() {
    let sim = start().await;
    let token = token(&sim).await;
    let (path, _) = journal("00100");
    let a = act(
        &sim,
        &token,
        &path,
        "signoffReverse",
        json!({"_reversalDate": "2026-02-01T12:00:00Z", "_comment": "Posted twice"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let number = a.json()["value"].as_str().unwrap().to_string();
    let (_, new_keys) = journal(&number);
    let header = sim.record("LedgerJournalHeaders", &new_keys).unwrap();
    assert_eq!(header["IsPosted"], "Yes");
    assert!(header["Description"].as_str().unwrap().starts_with("Reversal of journal 00100"));
    let lines: Vec<Value> =
        sim.records("LedgerJournalLines").into_iter().filter(|l| l["JournalBatchNumber"] == number.as_str()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["CreditAmount"].to_string(), "145.00");
    assert_eq!(lines[1]["DebitAmount"].to_string(), "145.00");
    assert!(lines.iter().all(|l| l["TransDate"] == "2026-02-01T12:00:00Z"));
    let again = act(&sim, &token, &path, "signoffReverse", json!({})).await;
    assert!(infolog(&again.json()).contains("already been reversed"));
    let (unposted, _) = journal("00123");
    assert_eq!(act(&sim, &token, &unposted, "signoffReverse", json!({})).await.status, 500);
}

#[tokio::test]
async fn the_journal_custom_service_describes_itself_and_posts() {
    let sim = start().await;
    let token = token(&sim).await;
    let groups = get(&sim, &token, "/api/services").await.json();
    assert!(groups["ServiceGroups"].as_array().unwrap().iter().any(|g| g["Name"] == "SignoffServices"));
    let op = "/api/services/SignoffServices/SignoffJournalService/post";
    let describe = get(&sim, &token, op).await.json();
    assert_eq!(describe["Parameters"][1]["Name"], "_journalBatchNumber");
    assert_eq!(describe["Return"]["Type"], "String");
    let a = send(
        &sim,
        &token,
        "POST",
        op,
        &[],
        Some(json!({"_dataAreaId": "usmf", "_journalBatchNumber": "00461"}).to_string()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json().as_str().unwrap().starts_with("GNJL"));
    let twice = send(
        &sim,
        &token,
        "POST",
        op,
        &[],
        Some(json!({"_dataAreaId": "usmf", "_journalBatchNumber": "00461"}).to_string()),
    )
    .await;
    assert_eq!(twice.status, 500);
    assert!(twice.json()["Message"].as_str().unwrap().contains("already posted"));
    let session = send(
        &sim,
        &token,
        "POST",
        "/api/services/UserSessionService/AifUserSessionService/GetUserSessionInfo",
        &[],
        None,
    )
    .await;
    assert_eq!(session.json()["UserId"], "signoff-svc");
}
