//! `$batch` with atomic changesets, answered in F&O's multipart shape.

use crate::sim_support;

use serde_json::json;
use sim_support::*;

fn line(n: u32) -> String {
    format!("LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00478',LineNumber={n})")
}

fn changeset(base: &str, ops: &[(&str, String, String)]) -> String {
    let mut body = String::from("--batch_7d2f\r\nContent-Type: multipart/mixed; boundary=changeset_41c9\r\n\r\n");
    for (i, (method, path, json)) in ops.iter().enumerate() {
        body.push_str(&format!(
            "--changeset_41c9\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n\
             {method} {base}/data/{path} HTTP/1.1\r\nContent-Type: application/json;odata.metadata=minimal\r\n\r\n{json}\r\n",
            i + 1
        ));
    }
    body.push_str("--changeset_41c9--\r\n--batch_7d2f--\r\n");
    body
}

async fn post_batch(sim: &signoff::sim::Simulator, token: &str, body: String) -> Answer {
    let resp = client()
        .post(format!("{}/data/$batch", sim.base_url()))
        .bearer_auth(token)
        .header("content-type", "multipart/mixed; boundary=batch_7d2f")
        .body(body)
        .send()
        .await
        .unwrap();
    Answer { status: resp.status().as_u16(), headers: resp.headers().clone(), text: resp.text().await.unwrap() }
}

#[tokio::test]
async fn a_changeset_whose_second_operation_fails_applies_nothing_and_answers_one_500_part() {
    let sim = start().await;
    let token = token(&sim).await;
    let keys1 = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00478", "LineNumber": 1});
    let before = sim.record("LedgerJournalLines", &keys1).unwrap();
    let body = changeset(
        &sim.base_url(),
        &[
            ("PATCH", line(1), r#"{"Text":"Reclass corrected"}"#.into()),
            ("PATCH", line(2), r#"{"AccountDisplayValue":"777777-001-022"}"#.into()),
        ],
    );
    let a = post_batch(&sim, &token, body).await;
    assert_eq!(a.status, 200, "the outer response is 200 even when a changeset fails");
    let ct = a.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/mixed; boundary=batchresponse_"), "{ct}");
    assert_eq!(a.text.matches("HTTP/1.1 ").count(), 1, "one part for the failed changeset: {}", a.text);
    assert!(a.text.contains("HTTP/1.1 500"), "{}", a.text);
    assert!(a.text.contains("777777-001-022"), "the Infolog names the bad account");
    assert!(!a.text.contains("changesetresponse_"));
    assert_eq!(sim.record("LedgerJournalLines", &keys1).unwrap(), before, "line 1 was rolled back");
}

#[tokio::test]
async fn a_successful_changeset_applies_every_operation_and_answers_each_part() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = changeset(
        &sim.base_url(),
        &[
            ("PATCH", line(1), r#"{"Text":"Line one corrected"}"#.into()),
            ("PATCH", line(2), r#"{"Text":"Line two corrected"}"#.into()),
            (
                "POST",
                "LedgerJournalLines".into(),
                json!({"dataAreaId": "usmf", "JournalBatchNumber": "00478",
                "AccountDisplayValue": "605140-001-022", "DebitAmount": 0, "CreditAmount": 0,
                "TransDate": "2026-11-17T12:00:00Z", "Voucher": "GNJL000820"})
                .to_string(),
            ),
        ],
    );
    let a = post_batch(&sim, &token, body).await;
    assert_eq!(a.status, 200);
    assert!(a.text.contains("changesetresponse_"), "{}", a.text);
    assert_eq!(a.text.matches("HTTP/1.1 204 No Content").count(), 2, "{}", a.text);
    assert_eq!(a.text.matches("HTTP/1.1 201 Created").count(), 1, "{}", a.text);
    assert!(a.text.contains("Content-ID: 3"));
    for (n, text) in [(1, "Line one corrected"), (2, "Line two corrected")] {
        let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00478", "LineNumber": n});
        assert_eq!(sim.record("LedgerJournalLines", &keys).unwrap()["Text"], text);
    }
    assert_eq!(sim.records("LedgerJournalLines").iter().filter(|l| l["JournalBatchNumber"] == "00478").count(), 11);
}

#[tokio::test]
async fn a_stale_if_match_inside_a_changeset_fails_it_with_412() {
    let sim = start().await;
    let token = token(&sim).await;
    let base = sim.base_url();
    let body = format!(
        "--batch_7d2f\r\nContent-Type: multipart/mixed; boundary=changeset_41c9\r\n\r\n--changeset_41c9\r\n\
         Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
         PATCH {base}/data/{} HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: W/\"JzEsMSc=\"\r\n\r\n{{\"Text\":\"x\"}}\r\n\
         --changeset_41c9--\r\n--batch_7d2f--\r\n",
        line(1)
    );
    let a = post_batch(&sim, &token, body).await;
    assert!(a.text.contains("HTTP/1.1 412 Precondition Failed"), "{}", a.text);
}
