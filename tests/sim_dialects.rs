//! The simulator's dialects on the wire: each names its decision operations, parameters and paging its own
//! way, with the same effects; bound actions honour If-Match; faults that outlive the client or refuse.

use crate::sim_support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use signoff::fno::{FnoClient, Query, parse_csdl};
use signoff::sim::{Dialect, Fault, SimOptions, Simulator};
use sim_support::*;

const NS: &str = "Microsoft.Dynamics.DataEntities";
const CONTOSO_JOURNALS: &str = "/api/services/ContosoLedger/ContosoJournalService";

fn invoice(reference: &str) -> (String, Value) {
    (
        format!("/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='{reference}')"),
        json!({"dataAreaId": "usmf", "HeaderReference": reference}),
    )
}

fn journal_keys(number: &str) -> Value {
    json!({"dataAreaId": "usmf", "JournalBatchNumber": number})
}

async fn contoso() -> Simulator {
    start_with(SimOptions::for_dialect(Dialect::Contoso)).await
}

async fn act(sim: &Simulator, token: &str, path: &str, action: &str, headers: &[(&str, &str)], body: Value) -> Answer {
    send(sim, token, "POST", &format!("{path}/{NS}.{action}"), headers, Some(body.to_string())).await
}

async fn call_service(sim: &Simulator, token: &str, op: &str, body: Value) -> Answer {
    send(sim, token, "POST", &format!("{CONTOSO_JOURNALS}/{op}"), &[], Some(body.to_string())).await
}

/// The bound action names `$metadata` lists, as signoff's own CSDL parser reads them.
async fn metadata_actions(sim: &Simulator, token: &str) -> BTreeSet<(String, String)> {
    let xml = get(sim, token, "/data/$metadata").await.text;
    let catalog = parse_csdl(&xml).unwrap();
    catalog.actions.iter().map(|a| (a.bound_to.clone().unwrap_or_default(), a.name.clone())).collect()
}

fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(t, n)| (t.to_string(), n.to_string())).collect()
}

#[tokio::test]
async fn each_dialects_metadata_lists_exactly_its_own_bound_actions() {
    let sim = contoso().await;
    let contoso_token = token(&sim).await;
    assert_eq!(
        metadata_actions(&sim, &contoso_token).await,
        pairs(&[
            ("VendorInvoiceHeader", "approveInvoiceWF"),
            ("VendorInvoiceHeader", "rejectInvoiceWF"),
            ("VendorInvoiceHeader", "recallInvoiceWF"),
            ("CustomerV3", "blockCustomer"),
            ("CustomerV3", "unblockCustomer"),
            ("WorkflowWorkItem", "validateWorkItem"),
            ("WorkflowWorkItem", "completeWorkItem"),
        ]),
        "Contoso posts journals through its custom service only; its work item actions are its own"
    );

    let sim = start().await;
    let signoff_token = token(&sim).await;
    assert_eq!(
        metadata_actions(&sim, &signoff_token).await,
        pairs(&[
            ("VendorInvoiceHeader", "signoffApprove"),
            ("VendorInvoiceHeader", "signoffReject"),
            ("VendorInvoiceHeader", "signoffRecall"),
            ("LedgerJournalHeader", "signoffPost"),
            ("LedgerJournalHeader", "signoffReject"),
            ("LedgerJournalHeader", "signoffReverse"),
            ("CustomerV3", "signoffPlaceOnHold"),
            ("CustomerV3", "signoffReleaseHold"),
            ("WorkflowWorkItem", "validate"),
            ("WorkflowWorkItem", "complete"),
        ])
    );
}

#[tokio::test]
async fn contoso_services_describe_its_journal_operations_with_its_own_parameter_names() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let groups = get(&sim, &token, "/api/services").await.json();
    assert_eq!(groups["ServiceGroups"], json!([{"Name": "ContosoLedger"}, {"Name": "UserSessionService"}]));
    let ops = get(&sim, &token, CONTOSO_JOURNALS).await.json();
    assert_eq!(
        ops["Operations"],
        json!([{"Name": "postJournal"}, {"Name": "rejectJournal"}, {"Name": "reverseJournal"}])
    );
    let post = get(&sim, &token, &format!("{CONTOSO_JOURNALS}/postJournal")).await.json();
    assert_eq!(
        post["Parameters"],
        json!([{"Name": "_legalEntity", "Type": "String"}, {"Name": "_journalNum", "Type": "String"},
               {"Name": "_note", "Type": "String"}])
    );
    let reverse = get(&sim, &token, &format!("{CONTOSO_JOURNALS}/reverseJournal")).await.json();
    assert_eq!(reverse["Parameters"][2], json!({"Name": "_reverseOn", "Type": "Date"}));
    assert_eq!(get(&sim, &token, "/api/services/SignoffServices").await.status, 404, "signoff's own names are absent");
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

#[tokio::test]
async fn contoso_approves_an_invoice_with_its_note_and_knows_no_signoff_names() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000123");

    assert_eq!(act(&sim, &token, &path, "signoffApprove", &[], json!({})).await.status, 404);
    let wrong_param = act(&sim, &token, &path, "approveInvoiceWF", &[], json!({"_comment": "Matched"})).await;
    assert_eq!(wrong_param.status, 400, "{}", wrong_param.text);
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");

    let a = act(&sim, &token, &path, "approveInvoiceWF", &[], json!({"_note": "Matched to receipt PR-7781"})).await;

    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["value"], "Success");
    let after = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(after["VendorInvoiceReviewStatus"], "Approved");
    assert_eq!(after["ApprovedBy"], "signoff-svc");
    assert_eq!(after["WorkflowComment"], "Matched to receipt PR-7781");
}

#[tokio::test]
async fn contoso_rejects_an_invoice_only_with_a_rejection_reason() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000124");

    let no_reason = act(&sim, &token, &path, "rejectInvoiceWF", &[], json!({})).await;
    assert_eq!(no_reason.status, 500);
    assert!(infolog(&no_reason.json()).contains("A reason is required"), "{}", no_reason.text);
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");

    let a = act(&sim, &token, &path, "rejectInvoiceWF", &[], json!({"_rejectionReason": "Duplicate of SI-2026-4402"}))
        .await;

    assert_eq!(a.status, 200, "{}", a.text);
    let rejected = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(rejected["VendorInvoiceReviewStatus"], "Rejected");
    assert_eq!(rejected["WorkflowComment"], "Duplicate of SI-2026-4402");
}

#[tokio::test]
async fn contoso_posts_a_journal_through_its_custom_service_and_has_no_journal_action() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let bound = act(
        &sim,
        &token,
        "/data/LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='00123')",
        "signoffPost",
        &[],
        json!({}),
    )
    .await;
    assert_eq!(bound.status, 404);

    let a = call_service(
        &sim,
        &token,
        "postJournal",
        json!({"_legalEntity": "USMF", "_journalNum": "00123", "_note": "January accruals"}),
    )
    .await;

    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json().as_str().unwrap().starts_with("GNJL"), "the final voucher comes back: {}", a.text);
    assert_eq!(sim.record("LedgerJournalHeaders", &journal_keys("00123")).unwrap()["IsPosted"], "Yes");
    let again =
        call_service(&sim, &token, "postJournal", json!({"_legalEntity": "usmf", "_journalNum": "00123"})).await;
    assert_eq!(again.status, 500, "a posted journal cannot be posted twice");
}

#[tokio::test]
async fn a_refused_custom_service_call_answers_the_aif_fault_with_the_business_text() {
    let sim =
        start_with(SimOptions { closed_periods: vec!["2026-01".into()], ..SimOptions::for_dialect(Dialect::Contoso) })
            .await;
    let token = token(&sim).await;

    let a = call_service(&sim, &token, "postJournal", json!({"_legalEntity": "usmf", "_journalNum": "00123"})).await;

    assert_eq!(a.status, 500);
    let body = a.json();
    assert_eq!(body["ExceptionType"], "XppServicesException");
    let message = body["Message"].as_str().unwrap();
    assert!(message.contains("The period for 2026-01-31 is closed"), "{message}");
    assert_eq!(sim.record("LedgerJournalHeaders", &journal_keys("00123")).unwrap()["IsPosted"], "No");
    let unknown = call_service(&sim, &token, "postJournal", json!({"_journalBatchNumber": "00123"})).await;
    assert_eq!(unknown.status, 500, "signoff's parameter names are not Contoso's");
    assert!(unknown.json()["Message"].as_str().unwrap().contains("'_journalBatchNumber' is not a parameter"));
}

#[tokio::test]
async fn contoso_reverses_a_posted_journal_on_a_date_only_reverse_on() {
    let sim = contoso().await;
    let token = token(&sim).await;

    let a = call_service(
        &sim,
        &token,
        "reverseJournal",
        json!({"_legalEntity": "usmf", "_journalNum": "00100", "_reverseOn": "2026-02-15", "_note": "Wrong period"}),
    )
    .await;

    assert_eq!(a.status, 200, "{}", a.text);
    let number = a.json().as_str().unwrap().to_string();
    let reversal = sim.record("LedgerJournalHeaders", &journal_keys(&number)).unwrap();
    assert_eq!(reversal["IsPosted"], "Yes");
    assert_eq!(reversal["Description"], "Reversal of journal 00100: Wrong period");
    let dates: BTreeSet<String> = sim
        .records("LedgerJournalLines")
        .into_iter()
        .filter(|l| l["JournalBatchNumber"] == number.as_str())
        .map(|l| l["TransDate"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dates, BTreeSet::from(["2026-02-15T12:00:00Z".to_string()]));
}

#[tokio::test]
async fn a_bound_action_with_a_stale_if_match_is_412_and_changes_nothing() {
    for dialect in Dialect::ALL {
        let sim = start_with(SimOptions::for_dialect(dialect)).await;
        let token = token(&sim).await;
        let approve = if dialect == Dialect::Contoso { "approveInvoiceWF" } else { "signoffApprove" };
        let (path, keys) = invoice("APINV-000123");
        let read_etag = sim.record("VendorInvoiceHeaders", &keys).unwrap()["@odata.etag"].as_str().unwrap().to_string();
        // Someone edits the invoice after signoff read it.
        let live_etag =
            sim.edit_record("VendorInvoiceHeaders", &keys, json!({"InvoiceDescription": "Edited"})).unwrap();

        let stale = act(&sim, &token, &path, approve, &[("If-Match", &read_etag)], json!({})).await;

        assert_eq!(stale.status, 412, "{dialect}: {}", stale.text);
        assert!(infolog(&stale.json()).contains("does not match"), "{}", stale.text);
        let after = sim.record("VendorInvoiceHeaders", &keys).unwrap();
        assert_eq!(after["VendorInvoiceReviewStatus"], "Draft", "{dialect}");
        assert_eq!(after["@odata.etag"], live_etag.as_str(), "{dialect}: the record is untouched");

        let fresh = act(&sim, &token, &path, approve, &[("If-Match", &live_etag)], json!({})).await;
        assert_eq!(fresh.status, 200, "{dialect}: {}", fresh.text);
        let (other, other_keys) = invoice("APINV-000124");
        let without = act(&sim, &token, &other, approve, &[], json!({})).await;
        assert_eq!(without.status, 200, "{dialect}: If-Match is not required");
        assert_eq!(sim.record("VendorInvoiceHeaders", &other_keys).unwrap()["VendorInvoiceReviewStatus"], "Approved");
    }
}

/// Poll until the invoice reaches `status` (or `within` passes); returns the last status seen.
async fn wait_for_status(sim: &Simulator, keys: &Value, status: &str, within: Duration) -> String {
    let until = std::time::Instant::now() + within;
    loop {
        let seen = sim.record("VendorInvoiceHeaders", keys).unwrap()["VendorInvoiceReviewStatus"].to_string();
        if seen.trim_matches('"') == status || std::time::Instant::now() > until {
            return seen.trim_matches('"').to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn slow_then_apply_lands_the_approval_after_the_client_gave_up_and_logs_one_call() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000123");
    sim.inject(Fault::SlowThenApply {
        path_contains: "approveInvoiceWF".into(),
        delay: Duration::from_millis(1_000),
        times: 1,
    });
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().unwrap();

    let result = impatient
        .post(format!("{}{path}/{NS}.approveInvoiceWF", sim.base_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(json!({"_note": "Matched"}).to_string())
        .send()
        .await;

    assert!(result.is_err_and(|e| e.is_timeout()), "the client gives up first");
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");
    assert_eq!(wait_for_status(&sim, &keys, "Approved", Duration::from_secs(5)).await, "Approved");
    let calls: Vec<u16> =
        sim.requests().iter().filter(|r| r.target.contains("approveInvoiceWF")).map(|r| r.status).collect();
    assert_eq!(calls, vec![200], "exactly one call arrived, and it succeeded");
}

#[tokio::test]
async fn slow_is_cancelled_when_the_client_gives_up() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let (path, keys) = invoice("APINV-000123");
    sim.inject(Fault::Slow { path_contains: "approveInvoiceWF".into(), delay: Duration::from_millis(600), times: 1 });
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().unwrap();

    let result = impatient
        .post(format!("{}{path}/{NS}.approveInvoiceWF", sim.base_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await;

    assert!(result.is_err());
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");
}

#[tokio::test]
async fn refuse_answers_a_business_500_in_the_endpoints_own_shape_and_changes_nothing() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let message = "Journal 00123 cannot be posted: the posting layer is locked for the year-end close.";
    sim.inject(Fault::Refuse { path_contains: "postJournal".into(), message: message.into(), times: 1 });
    sim.inject(Fault::Refuse {
        path_contains: "approveInvoiceWF".into(),
        message: "Budget check failed.".into(),
        times: 1,
    });

    let post = call_service(&sim, &token, "postJournal", json!({"_legalEntity": "usmf", "_journalNum": "00123"})).await;
    let (path, keys) = invoice("APINV-000123");
    let approve = act(&sim, &token, &path, "approveInvoiceWF", &[], json!({})).await;

    assert_eq!(post.status, 500);
    assert_eq!(post.json()["ExceptionType"], "XppServicesException");
    assert!(post.json()["Message"].as_str().unwrap().ends_with(message));
    assert_eq!(approve.status, 500);
    assert_eq!(
        infolog(&approve.json()),
        "Exception occurred while executing action approveInvoiceWF on Entity VendorInvoiceHeader: Budget check failed."
    );
    assert_eq!(sim.record("LedgerJournalHeaders", &journal_keys("00123")).unwrap()["IsPosted"], "No");
    assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["VendorInvoiceReviewStatus"], "Draft");
    let next = call_service(&sim, &token, "postJournal", json!({"_legalEntity": "usmf", "_journalNum": "00123"})).await;
    assert_eq!(next.status, 200, "only the next call was refused: {}", next.text);
}

/// 600 extra vendors in usmf, so a cross-company read spans several Contoso pages.
fn add_vendors(sim: &Simulator) -> usize {
    let vendors: Vec<Value> = (0..600)
        .map(|i| {
            json!({"dataAreaId": "usmf", "VendorAccountNumber": format!("CT-{i:04}"),
                   "VendorOrganizationName": format!("Contoso supplier {i}")})
        })
        .collect();
    sim.insert_records("VendorsV2", vendors).unwrap();
    sim.records("VendorsV2").len()
}

#[tokio::test]
async fn contoso_pages_250_at_a_time_with_absolute_skip_links() {
    let sim = contoso().await;
    let token = token(&sim).await;
    let total = add_vendors(&sim);

    let first =
        get(&sim, &token, "/data/VendorsV2?cross-company=true&$top=300&$select=VendorAccountNumber").await.json();

    assert_eq!(first["value"].as_array().unwrap().len(), 250);
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&format!("{}/data/VendorsV2?", sim.base_url())), "an absolute link: {next}");
    assert!(next.contains("$skip=250") && next.contains("$top=50") && !next.contains("$skiptoken"), "{next}");
    let second = get(&sim, &token, next).await.json();
    assert_eq!(second["value"].as_array().unwrap().len(), 50);
    assert!(second.get("@odata.nextLink").is_none(), "the $top is used up");

    let all = get(&sim, &token, "/data/VendorsV2?cross-company=true").await.json();
    assert_eq!(all["value"].as_array().unwrap().len(), 250);
    assert!(total > 500);
}

#[tokio::test]
async fn the_client_reads_every_row_across_both_dialects_paging() {
    for dialect in Dialect::ALL {
        let sim = start_with(SimOptions::for_dialect(dialect)).await;
        let total = add_vendors(&sim);
        let client = FnoClient::new(&sim.client_settings()).unwrap();

        let query = Query { cross_company: true, select: vec!["VendorAccountNumber".into()], ..Default::default() };
        let result = client.query("VendorsV2", &query).await.unwrap();

        assert_eq!(result.rows.len(), total, "{dialect}");
        assert_eq!(result.pages as usize, total.div_ceil(dialect.page_size()), "{dialect}");
        let distinct: BTreeSet<String> =
            result.rows.iter().map(|r| format!("{:?}", r.fields.get("VendorAccountNumber"))).collect();
        assert_eq!(distinct.len(), total, "{dialect}: no row twice, none left out");
        let links = sim.requests().iter().filter(|r| r.target.contains("/data/VendorsV2?")).count();
        assert_eq!(links, result.pages as usize, "{dialect}");
    }
}
