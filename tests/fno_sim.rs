//! The F&O client against the simulator over loopback: auth errors, token reuse, throttling, paging, metadata.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use signoff::config::secret::Secret;
use signoff::config::{Config, TokenEndpoint};
use signoff::fno::{
    AuthError, Credential, EntityKey, FnoClient, FnoError, FnoSettings, Query, parse_csdl, verify, verify_services,
};
use signoff::sim::{Fault, SimOptions, Simulator};

fn settings(sim: &Simulator) -> FnoSettings {
    sim.client_settings()
}

/// The template config: its operation names are the set the simulator ships.
pub fn sim_config() -> Config {
    toml::from_str(signoff::config::template()).unwrap()
}

fn token_requests(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.target.contains("/oauth2/")).count()
}

fn journal_header_key(batch: &str) -> EntityKey {
    EntityKey::new().text("dataAreaId", "usmf").text("JournalBatchNumber", batch)
}

async fn auth_error(change: impl FnOnce(&mut FnoSettings)) -> AuthError {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut s = settings(&sim);
    change(&mut s);
    let client = FnoClient::new(&s).unwrap();
    match client.token_check().await {
        Err(FnoError::Auth(e)) => e,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_secret_says_to_create_a_new_secret() {
    let err = auth_error(|s| s.auth.credential = Credential::ClientSecret(Secret::new("wrong-secret-value"))).await;
    assert!(matches!(err, AuthError::WrongSecret), "{err}");
    assert!(err.to_string().contains("Certificates & secrets"), "{err}");
}

#[tokio::test]
async fn an_unknown_tenant_names_the_tenant_to_fix() {
    let err = auth_error(|s| s.auth.tenant = "fabrikam-typo.onmicrosoft.com".into()).await;
    assert!(matches!(err, AuthError::TenantNotFound { .. }), "{err}");
    assert!(err.to_string().contains("fabrikam-typo.onmicrosoft.com"), "{err}");
}

#[tokio::test]
async fn a_wrong_environment_url_is_explained() {
    let err = auth_error(|s| s.auth.resource = "https://contoso-prod.operations.dynamics.com".into()).await;
    assert!(matches!(err, AuthError::WrongEnvironmentUrl { .. }), "{err}");
    assert!(err.to_string().contains("environment.url"), "{err}");
}

#[tokio::test]
async fn an_app_missing_from_the_tenant_is_explained() {
    let err = auth_error(|s| s.auth.client_id = "11111111-2222-3333-4444-555555555555".into()).await;
    assert!(matches!(err, AuthError::AppNotInTenant { .. }), "{err}");
}

#[tokio::test]
async fn the_v1_endpoint_with_string_numbers_gives_a_usable_token() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut s = settings(&sim);
    s.auth.endpoint = TokenEndpoint::V1;
    let client = FnoClient::new(&s).unwrap();
    let journal = client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap();
    assert_eq!(journal.fields["Description"].to_string(), "Accrue January office supplies");
    assert!(sim.requests().iter().any(|r| r.target.ends_with("/oauth2/token")));
}

#[tokio::test]
async fn a_token_is_fetched_once_and_shared_by_concurrent_requests() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = Arc::new(FnoClient::new(&settings(&sim)).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let c = client.clone();
        tasks.push(tokio::spawn(
            async move { c.get_entity("LedgerJournalHeaders", &journal_header_key("00124")).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    client.query("LedgerJournalLines", &Query { top: Some(5), ..Default::default() }).await.unwrap();
    assert_eq!(token_requests(&sim), 1, "one token for the whole process");
    assert_eq!(client.token_fetches().await, 1);
    assert_eq!(sim.requests().len(), 14);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_request_retried() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = FnoClient::new(&settings(&sim)).unwrap();
    client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap();
    sim.inject(Fault::ExpireTokens);
    client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap();
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 200, 401, 200, 200], "token, read, 401, new token, retried read");
    assert_eq!(token_requests(&sim), 2);
}

#[tokio::test]
async fn a_429_with_retry_after_two_is_retried_two_seconds_later() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = FnoClient::new(&settings(&sim)).unwrap();
    client.token_check().await.unwrap();
    sim.inject(Fault::Throttle { path_contains: "LedgerJournalHeaders".into(), retry_after_secs: 2, times: 1 });
    client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap();
    let reads: Vec<_> = sim.requests().into_iter().filter(|r| r.target.contains("LedgerJournalHeaders")).collect();
    assert_eq!(reads.iter().map(|r| r.status).collect::<Vec<_>>(), vec![429, 200]);
    let gap = reads[1].at - reads[0].at;
    assert!(gap >= Duration::from_secs(2), "retried after {gap:?}");
}

#[tokio::test]
async fn throttling_beyond_the_budget_fails_clearly() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut s = settings(&sim);
    s.retry.max_retries = 1;
    let client = FnoClient::new(&s).unwrap();
    sim.inject(Fault::Throttle { path_contains: "LedgerJournalHeaders".into(), retry_after_secs: 0, times: 5 });
    let err = client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap_err();
    assert!(matches!(err, FnoError::Throttled { attempts: 2, .. }), "{err}");
    assert!(err.to_string().contains("F&O throttled us"), "{err}");
}

#[tokio::test]
async fn a_journal_post_dropped_after_processing_is_outcome_unknown_and_not_resent() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = FnoClient::new(&settings(&sim)).unwrap();
    client.token_check().await.unwrap();
    sim.inject(Fault::DropAfterProcessing { path_contains: "SignoffJournalService/post".into(), times: 1 });
    let err = client
        .invoke_service(
            "SignoffServices/SignoffJournalService/post",
            &json!({"_dataAreaId":"usmf","_journalBatchNumber":"00123"}),
        )
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    let posts = sim.requests().iter().filter(|r| r.target.contains("SignoffJournalService/post")).count();
    assert_eq!(posts, 1);
    let journal = client.get_entity("LedgerJournalHeaders", &journal_header_key("00123")).await.unwrap();
    assert_eq!(journal.fields["IsPosted"].to_string(), "Yes", "reconciling by reading shows it took effect");
}

#[tokio::test]
async fn ten_thousand_journal_lines_are_read_through_paging() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let lines: Vec<_> = (1..=2_500)
        .map(|n| {
            json!({"dataAreaId":"usmf","JournalBatchNumber":"00124","LineNumber": 1000 + n,"AccountType":"Ledger",
            "AccountDisplayValue":"605140-001-02","DebitAmount": 12.5,"CreditAmount":0,"CurrencyCode":"USD",
            "TransDate":"2026-02-27T12:00:00Z","Voucher":"GNJL000777","Text":"Paging test"})
        })
        .collect();
    sim.insert_records("LedgerJournalLines", lines).unwrap();
    let client = FnoClient::new(&settings(&sim)).unwrap();
    let q = Query { filter: Some("JournalBatchNumber eq '00124'".into()), count: true, ..Default::default() };
    let result = client.query("LedgerJournalLines", &q).await.unwrap();
    assert!(result.rows.len() >= 2_500, "{}", result.rows.len());
    assert_eq!(result.count, Some(result.rows.len() as u64));
    assert!(result.pages >= 3);
}

#[tokio::test]
async fn the_simulators_metadata_satisfies_a_config_using_its_operations() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = FnoClient::new(&settings(&sim)).unwrap();
    let catalog = parse_csdl(&client.metadata_xml().await.unwrap()).unwrap();
    let config = sim_config();
    assert_eq!(verify(&catalog, &config), vec![]);
    assert_eq!(verify_services(&client, &config).await, vec![]);
}
