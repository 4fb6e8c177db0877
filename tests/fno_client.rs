//! The F&O client against a loopback F&O over real HTTP: reads, writes, operations, faults.

use crate::fno_support;

use std::time::Duration;

use fno_support::{FakeFno, settings_for, start_dropper};
use rust_decimal::Decimal;
use serde_json::json;
use signoff::fno::{BatchOp, EntityKey, FnoClient, FnoError, Query, Sent};
use signoff::model::{ETag, FieldValue, Fields};

fn invoice_key() -> EntityKey {
    EntityKey::new().text("dataAreaId", "usmf").text("HeaderReference", "APINV-000123")
}

fn due_date_change() -> Fields {
    let mut f = Fields::new();
    f.insert("DueDate".into(), FieldValue::Text("2026-04-15T12:00:00Z".into()));
    f
}

#[tokio::test]
async fn invoice_is_read_with_its_etag_and_exact_amount() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let invoice = client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap();
    assert_eq!(invoice.etag, ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into()));
    assert_eq!(
        invoice.fields["ImportedAmount"],
        FieldValue::Number("98765432109876543.21".parse::<Decimal>().unwrap())
    );
    assert_eq!(invoice.fields["VendorAccount"], FieldValue::Text("US-104".into()));
    let sent = &fake.data_requests()[0];
    assert_eq!(
        sent.target,
        "/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-000123')?cross-company=true"
    );
}

#[tokio::test]
async fn journal_lines_are_read_across_pages_following_next_link() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let q = Query {
        filter: Some("JournalBatchNumber eq '00461'".into()),
        count: true,
        cross_company: true,
        ..Default::default()
    };
    let result = client.query("LedgerJournalLines", &q).await.unwrap();
    assert_eq!(result.rows.len(), 2_500);
    assert_eq!(result.pages, 3);
    assert_eq!(result.count, Some(2_500));
    assert_eq!(result.rows[2_499].fields["LineNumber"], FieldValue::Number(Decimal::from(2_500)));
    assert_eq!(result.rows[0].fields["DebitAmount"], FieldValue::Number("100.00".parse().unwrap()));
    let first = &fake.data_requests()[0];
    assert_eq!(
        first.target,
        "/data/LedgerJournalLines?$filter=JournalBatchNumber eq '00461'&$count=true&cross-company=true"
    );
}

#[tokio::test]
async fn a_next_link_outside_the_environment_is_refused() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().foreign_next_link = true;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let err = client.query("LedgerJournalLines", &Query::default()).await.unwrap_err();
    assert!(matches!(err, FnoError::InvalidUrl { .. }), "{err}");
    assert!(err.to_string().contains("outside the configured environment"), "{err}");
}

#[tokio::test]
async fn patch_sends_if_match_and_the_odata_headers() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let etag = ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into());
    let sent = client.patch("VendorInvoiceHeaders", &invoice_key(), &due_date_change(), &etag).await.unwrap();
    assert!(matches!(sent, Sent::Done(_)));
    let patch = fake.data_requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch.header("if-match"), Some("W/\"JzEsNjg3MTk1MTIyNjEn\""));
    assert_eq!(patch.header("odata-version"), Some("4.0"));
    assert_eq!(patch.header("odata-maxversion"), Some("4.0"));
    assert_eq!(patch.header("accept"), Some("application/json;odata.metadata=minimal"));
    assert_eq!(patch.header("content-type"), Some("application/json;odata.metadata=minimal"));
    assert!(patch.header("authorization").is_some_and(|a| a.starts_with("Bearer eyJ")));
    assert_eq!(patch.body, r#"{"DueDate":"2026-04-15T12:00:00Z"}"#);
}

#[tokio::test]
async fn a_changed_record_gives_precondition_failed() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    fake.state.lock().unwrap().invoice_etag = "W/\"JzIsOTk5Jw==\"".into();
    // Someone else saved the invoice after we read it.
    let stale = ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into());
    let err = client.patch("VendorInvoiceHeaders", &invoice_key(), &due_date_change(), &stale).await.unwrap_err();
    assert!(matches!(err, FnoError::PreconditionFailed { .. }), "{err}");
    assert!(err.to_string().contains("changed by someone else"), "{err}");
}

#[tokio::test]
async fn forbidden_names_the_entity_set_and_shows_the_infolog() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let err = client.query("VendorsV2", &Query::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, FnoError::Forbidden { .. }), "{text}");
    assert!(text.contains("VendorsV2") && text.contains("privilege") && text.contains("Access denied"), "{text}");
}

#[tokio::test]
async fn an_unknown_record_is_not_found() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let key = EntityKey::new().text("dataAreaId", "usmf").text("HeaderReference", "APINV-999999");
    let err = client.get_entity("VendorInvoiceHeaders", &key).await.unwrap_err();
    assert!(matches!(err, FnoError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("APINV-999999"), "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_two_is_waited_out_and_retried() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().throttle = (1, 2, 429);
    let client = FnoClient::new(&fake.settings()).unwrap();
    let invoice = client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap();
    assert_eq!(invoice.fields["InvoiceNumber"], FieldValue::Text("INV-88412".into()));
    let calls = fake.data_requests();
    assert_eq!(calls.len(), 2, "one throttled request and one retry");
    let gap = calls[1].at.duration_since(calls[0].at);
    assert!(gap >= Duration::from_secs(2), "the retry came {gap:?} after the 429");
    let statuses: Vec<Option<u16>> =
        client.take_exchanges().iter().filter(|e| !e.url.contains("oauth2")).map(|e| e.status).collect();
    assert_eq!(statuses, vec![Some(429), Some(200)]);
}

#[tokio::test]
async fn a_503_on_a_post_is_an_unknown_outcome_and_is_never_sent_again() {
    // A 503 can come from a gateway after F&O processed the request: only a read may follow it.
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().throttle = (1, 0, 503);
    let client = FnoClient::new(&fake.settings()).unwrap();
    let sent = client
        .bound_action("VendorInvoiceHeaders", &invoice_key(), "approveInvoice", &json!({"_comment":"ok"}), None)
        .await;
    let err = sent.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(fake.data_requests().len(), 1, "the action was sent once");
}

#[tokio::test]
async fn a_503_on_a_read_is_retried() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().throttle = (1, 0, 503);
    let client = FnoClient::new(&fake.settings()).unwrap();
    client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap();
    assert_eq!(fake.data_requests().len(), 2, "one refused read and one retry");
}

#[tokio::test]
async fn throttling_past_the_retry_budget_is_a_clear_error() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().throttle = (10, 0, 429);
    let mut settings = fake.settings();
    settings.retry.max_retries = 2;
    let client = FnoClient::new(&settings).unwrap();
    let err = client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, FnoError::Throttled { status: 429, attempts: 3, .. }), "{text}");
    assert!(text.contains("F&O throttled us") && text.contains("high resource utilization"), "{text}");
    assert_eq!(fake.data_requests().len(), 3, "the first attempt and two retries, no more");
}

#[tokio::test]
async fn a_retry_after_beyond_the_wait_budget_is_not_waited() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().throttle = (1, 120, 429);
    let client = FnoClient::new(&fake.settings()).unwrap();
    let err = client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap_err();
    assert!(matches!(err, FnoError::Throttled { attempts: 1, .. }), "{err}");
}

#[tokio::test]
async fn a_dropped_connection_after_an_action_is_outcome_unknown_and_never_resent() {
    let fake = FakeFno::start().await;
    let (dropper, seen) = start_dropper().await;
    // Entra answers normally; the "F&O" host processes the action and drops the connection.
    let mut settings = settings_for(&dropper, &fake.base, fno_support::SECRET);
    settings.auth.resource = fake.base.clone();
    let client = FnoClient::new(&settings).unwrap();
    let err = client
        .bound_action("VendorInvoiceHeaders", &invoice_key(), "approveInvoice", &json!({"_comment":"ok"}), None)
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("read the record"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 1, "the action was sent exactly once");
}

#[tokio::test]
async fn a_timed_out_post_is_outcome_unknown() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().slow_posts = Some(Duration::from_secs(3));
    let mut settings = fake.settings();
    settings.timeout = Duration::from_secs(1);
    let client = FnoClient::new(&settings).unwrap();
    client.token_check().await.unwrap();
    let err = client.invoke_service("SignoffServices/LedgerJournalService/post", &json!({})).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(fake.data_requests().iter().filter(|r| r.method == "POST").count(), 1);
}

#[tokio::test]
async fn a_dropped_read_is_retried() {
    let fake = FakeFno::start().await;
    let (dropper, seen) = start_dropper().await;
    let mut settings = settings_for(&dropper, &fake.base, fno_support::SECRET);
    settings.auth.resource = fake.base.clone();
    settings.retry.max_retries = 2;
    let client = FnoClient::new(&settings).unwrap();
    let err = client.get_entity("VendorInvoiceHeaders", &invoice_key()).await.unwrap_err();
    assert!(matches!(err, FnoError::ReadFailed { .. }), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 3, "a read may be repeated within the budget");
}

#[tokio::test]
async fn an_unreachable_environment_says_nothing_was_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let fake = FakeFno::start().await;
    let mut settings = settings_for(&format!("http://127.0.0.1:{port}"), &fake.base, fno_support::SECRET);
    settings.auth.resource = fake.base.clone();
    let client = FnoClient::new(&settings).unwrap();
    let err = client.post("VendorInvoiceHeaders", &due_date_change()).await.unwrap_err();
    assert!(matches!(err, FnoError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_anything_is_sent() {
    let fake = FakeFno::start().await;
    for (env, authority) in
        [("http://fno.example.com", fake.base.as_str()), (fake.base.as_str(), "http://login.example.com")]
    {
        let err = FnoClient::new(&settings_for(env, authority, fno_support::SECRET)).unwrap_err();
        assert!(matches!(err, FnoError::InsecureUrl { .. }), "{err}");
        assert!(err.to_string().contains("loopback"), "{err}");
    }
    assert!(fake.requests().is_empty(), "nothing reached any server");
}

#[tokio::test]
async fn dry_run_records_the_exact_write_and_sends_nothing() {
    let fake = FakeFno::start().await;
    let mut settings = fake.settings();
    settings.dry_run = true;
    let client = FnoClient::new(&settings).unwrap();
    let etag = ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into());
    let sent = client.patch("VendorInvoiceHeaders", &invoice_key(), &due_date_change(), &etag).await.unwrap();
    assert_eq!(sent, Sent::DryRun);
    let action = client.bound_action("VendorInvoiceHeaders", &invoice_key(), "approveInvoice", &json!({}), None).await;
    assert_eq!(action.unwrap(), Sent::DryRun);
    assert!(fake.requests().is_empty(), "a dry run sends nothing, not even a token request");
    let recorded = client.take_exchanges();
    assert_eq!(recorded.len(), 2);
    let patch = &recorded[0];
    assert!(patch.dry_run && patch.status.is_none());
    assert_eq!(patch.method, "PATCH");
    assert!(
        patch.url.ends_with(
            "/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-000123')?cross-company=true"
        )
    );
    assert!(patch.request_headers.contains(&("If-Match".into(), "W/\"JzEsNjg3MTk1MTIyNjEn\"".into())));
    assert!(patch.request_headers.contains(&("Authorization".into(), "Bearer ***".into())));
    assert_eq!(patch.request_body.as_deref(), Some(r#"{"DueDate":"2026-04-15T12:00:00Z"}"#));
    assert!(recorded[1].url.ends_with("/Microsoft.Dynamics.DataEntities.approveInvoice?cross-company=true"));
}

fn journal_line_ops() -> Vec<BatchOp> {
    (1..=3)
        .map(|n| {
            let key = EntityKey::new()
                .text("dataAreaId", "usmf")
                .text("JournalBatchNumber", "00461")
                .number("LineNumber", n.into());
            let mut f = Fields::new();
            f.insert("DebitAmount".into(), FieldValue::Number(Decimal::new(125_050, 2)));
            BatchOp::patch("LedgerJournalLines", &key, &f, &ETag(format!("W/\"line{n}\"")))
        })
        .collect()
}

#[tokio::test]
async fn a_batch_changeset_returns_one_answer_per_operation() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let Sent::Done(parts) = client.batch(&journal_line_ops()).await.unwrap() else { panic!("not sent") };
    assert_eq!(parts.iter().map(|p| p.status).collect::<Vec<_>>(), vec![204, 204, 204]);
    let sent = fake.data_requests();
    assert_eq!(sent.len(), 1, "all lines in one $batch");
    assert!(sent[0].header("content-type").is_some_and(|c| c.starts_with("multipart/mixed; boundary=batch_")));
    assert_eq!(sent[0].body.matches("If-Match: W/\"line").count(), 3);
}

#[tokio::test]
async fn a_failed_changeset_inside_a_200_is_an_error_with_the_infolog() {
    let fake = FakeFno::start().await;
    fake.state.lock().unwrap().batch_fails = true;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let err = client.batch(&journal_line_ops()).await.unwrap_err();
    assert!(matches!(err, FnoError::ChangesetFailed { status: 500, .. }), "{err}");
    assert_eq!(
        err.infolog(),
        Some(
            "Write failed for table row of type 'LedgerJournalLineEntity'. Infolog: Error: Voucher GNJL000001 is out of balance."
        )
    );
}

#[tokio::test]
async fn custom_services_are_described_and_invoked() {
    let fake = FakeFno::start().await;
    let client = FnoClient::new(&fake.settings()).unwrap();
    let d = client.describe_service("SignoffServices/LedgerJournalService/reverse").await.unwrap();
    let names: Vec<&str> = d.parameters.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["_voucher", "_dataAreaId", "_reversalDate", "_comment"]);
    let out = client
        .invoke_service(
            "SignoffServices/LedgerJournalService/post",
            &json!({"_journalBatchNumber":"00461","_dataAreaId":"usmf"}),
        )
        .await
        .unwrap();
    assert_eq!(out, Sent::Done(json!({"Voucher":"GNJL000123","Posted":true})));
}
