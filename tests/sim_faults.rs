//! Injected faults and the request log.

use crate::sim_support;

use std::time::{Duration, Instant};

use serde_json::json;
use signoff::sim::{Fault, MASK, THROTTLE_MESSAGE};
use sim_support::*;

const VENDOR: &str = "/data/VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-104')";

#[tokio::test]
async fn throttle_answers_429_with_retry_after_the_given_number_of_times() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.inject(Fault::Throttle { path_contains: "/data/VendorsV2".into(), retry_after_secs: 2, times: 2 });
    for _ in 0..2 {
        let a = get(&sim, &token, VENDOR).await;
        assert_eq!(a.status, 429);
        assert_eq!(a.header("retry-after").as_deref(), Some("2"));
        assert_eq!(a.json()["error"]["message"], THROTTLE_MESSAGE);
    }
    assert_eq!(get(&sim, &token, VENDOR).await.status, 200, "the fault is used up");
    assert_eq!(get(&sim, &token, "/data/LegalEntities").await.status, 200, "other paths were never throttled");
}

#[tokio::test]
async fn unavailable_answers_503_with_retry_after() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.inject(Fault::Unavailable { path_contains: "/data/".into(), retry_after_secs: 5, times: 1 });
    let a = get(&sim, &token, VENDOR).await;
    assert_eq!((a.status, a.header("retry-after").as_deref()), (503, Some("5")));
    assert_eq!(get(&sim, &token, VENDOR).await.status, 200);
}

#[tokio::test]
async fn slow_delays_the_answer_and_latency_applies_to_every_request() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.inject(Fault::Slow { path_contains: "VendorsV2".into(), delay: Duration::from_millis(300), times: 1 });
    let t = Instant::now();
    assert_eq!(get(&sim, &token, VENDOR).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    sim.set_latency(Duration::from_millis(50));
    let t = Instant::now();
    assert_eq!(get(&sim, &token, "/data/LegalEntities").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn drop_after_processing_applies_the_effect_but_never_answers() {
    let sim = start().await;
    let token = token(&sim).await;
    let path = "/data/LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='00461')/Microsoft.Dynamics.DataEntities.signoffPost";
    sim.inject(Fault::DropAfterProcessing { path_contains: "signoffPost".into(), times: 1 });
    let result = client().post(format!("{}{path}", sim.base_url())).bearer_auth(&token).body("{}").send().await;
    assert!(result.is_err(), "the connection is closed without a response: {result:?}");
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00461"});
    assert_eq!(sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes", "the post happened");
    let log = sim.requests();
    assert_eq!(log.last().unwrap().status, 0, "the log records that nothing was answered");
}

#[tokio::test]
async fn a_hung_write_is_held_logged_unanswered_and_never_applied_and_released_when_the_client_gives_up() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.inject(Fault::Hang { path_contains: "VendorsV2".into(), times: 1 });
    let patch = client()
        .patch(format!("{}{VENDOR}", sim.base_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(2))
        .body(r#"{"DefaultPaymentTermsName":"Net10"}"#)
        .send();
    let watch = async {
        let started = Instant::now();
        while sim.held() == 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "the PATCH never arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let (result, ()) = tokio::join!(patch, watch);
    assert!(result.is_err(), "never answered: {result:?}");
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    assert_ne!(sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net10", "never applied");
    let patches: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 1, "logged once, on arrival");
    assert_eq!(patches[0].status, 0, "with nothing answered");
    let started = Instant::now();
    while sim.held() != 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the client hung up; the request is no longer held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(get(&sim, &token, VENDOR).await.status, 200, "the fault is used up");
}

#[tokio::test]
async fn drop_before_processing_closes_the_connection_and_changes_nothing() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.inject(Fault::DropBeforeProcessing { path_contains: "VendorsV2".into(), times: 1 });
    let result = client()
        .patch(format!("{}{VENDOR}", sim.base_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"DefaultPaymentTermsName":"Net10"}"#)
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    assert_ne!(sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net10");
    assert_eq!(get(&sim, &token, VENDOR).await.status, 200, "the next connection works");
}

#[tokio::test]
async fn the_request_log_keeps_every_request_and_masks_every_secret() {
    let sim = start().await;
    let o = sim.options().clone();
    let token = token(&sim).await;
    let rt = sim.issue_refresh_token();
    let (status, refreshed) = token_request(
        &sim,
        &format!("/{}/oauth2/v2.0/token", o.tenant),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let new_access = refreshed["access_token"].as_str().unwrap().to_string();
    let _ = token_request(
        &sim,
        &format!("/{}/oauth2/v2.0/token", o.tenant),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &o.client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", "eyJhbGciOi.payload.signature"),
        ],
    )
    .await;
    assert_eq!(get(&sim, &token, &format!("{VENDOR}?probe={token}")).await.status, 200);

    let log = sim.requests();
    assert_eq!(log.len(), 4);
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    let everything = format!("{log:?}");
    for secret in
        [o.client_secret.as_str(), token.as_str(), rt.as_str(), new_access.as_str(), "eyJhbGciOi.payload.signature"]
    {
        assert!(!everything.contains(secret), "a secret leaked into the request log: {everything}");
    }
    let data_call = log.iter().find(|r| r.target.starts_with("/data/VendorsV2")).unwrap();
    assert_eq!(data_call.method, "GET");
    assert_eq!(data_call.status, 200);
    assert_eq!(data_call.header("authorization"), Some(format!("Bearer {MASK}").as_str()));
    assert!(data_call.target.contains(&format!("probe={MASK}")));
    assert!(log[0].body.contains(&format!("client_secret={MASK}")), "{}", log[0].body);
    assert!(log[0].body.contains("grant_type=client_credentials"), "non-secret fields stay readable");
}
