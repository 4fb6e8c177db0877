//! The simulator's Entra token endpoints and F&O's bearer checks, over loopback.

use crate::sim_support;

use base64::Engine as _;
use serde_json::Value;
use signoff::sim::Fault;
use sim_support::*;

fn v2(tenant: &str) -> String {
    format!("/{tenant}/oauth2/v2.0/token")
}

async fn expect_aadsts(
    sim: &signoff::sim::Simulator,
    path: &str,
    pairs: &[(&str, &str)],
    status: u16,
    error: &str,
    code: u64,
) {
    let (got, body) = token_request(sim, path, pairs).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
    for line in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        assert!(description.contains(line), "{description}");
    }
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "{field} missing: {body}");
    }
    assert_eq!(body["error_uri"], format!("https://login.microsoftonline.com/error?code={code}"));
}

#[tokio::test]
async fn v2_client_credentials_returns_a_bearer_token_that_opens_the_data_endpoint() {
    let sim = start().await;
    let o = sim.options().clone();
    let scope = format!("{}/.default", sim.base_url());
    let (status, body) = token_request(
        &sim,
        &v2(&o.tenant),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body.get("refresh_token").is_none(), "client credentials never return a refresh token");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(get(&sim, token, "/data/LegalEntities").await.status, 200);
}

#[tokio::test]
async fn v1_token_has_numbers_as_strings_and_the_resource() {
    let sim = start().await;
    let o = sim.options().clone();
    let base = sim.base_url();
    let (status, body) = token_request(
        &sim,
        &format!("/{}/oauth2/token", o.tenant_id),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("resource", &base),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], "3599");
    let on: i64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    let before: i64 = body["not_before"].as_str().unwrap().parse().unwrap();
    assert_eq!(on - before, 3599);
    assert_eq!(body["resource"], base);
}

#[tokio::test]
async fn basic_auth_carries_the_client_credentials() {
    let sim = start().await;
    let o = sim.options().clone();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", o.client_id, o.client_secret));
    let resp = client()
        .post(format!("{}{}", sim.base_url(), v2(&o.tenant)))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("grant_type", "client_credentials"), ("scope", &format!("{}/.default", sim.base_url()))]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn each_entra_failure_has_its_aadsts_code_and_status() {
    let sim = start().await;
    let o = sim.options().clone();
    let scope = format!("{}/.default", sim.base_url());
    let grant = ("grant_type", "client_credentials");
    let (id, secret, scope) =
        (("client_id", o.client_id.as_str()), ("client_secret", o.client_secret.as_str()), ("scope", scope.as_str()));
    let here = v2(&o.tenant);

    expect_aadsts(
        &sim,
        &here,
        &[grant, id, ("client_secret", "not-the-secret"), scope],
        401,
        "invalid_client",
        7000215,
    )
    .await;
    let stranger = ("client_id", "11111111-2222-3333-4444-555555555555");
    expect_aadsts(&sim, &here, &[grant, stranger, secret, scope], 400, "unauthorized_client", 700016).await;
    expect_aadsts(&sim, &v2("fabrikam.onmicrosoft.com"), &[grant, id, secret, scope], 400, "invalid_tenant", 90002)
        .await;
    expect_aadsts(&sim, &v2("common"), &[grant, id, secret, scope], 400, "invalid_request", 9001023).await;
    expect_aadsts(&sim, &v2("consumers"), &[grant, id, secret, scope], 400, "invalid_request", 9001023).await;
    expect_aadsts(&sim, &here, &[grant, id, scope], 400, "invalid_request", 7000218).await;
    let prod = ("scope", "https://contoso-prod.operations.dynamics.com/.default");
    expect_aadsts(&sim, &here, &[grant, id, secret, prod], 400, "invalid_resource", 500011).await;
    let prod_v1 = ("resource", "https://contoso-prod.operations.dynamics.com");
    let v1 = format!("/{}/oauth2/token", o.tenant);
    expect_aadsts(&sim, &v1, &[grant, id, secret, prod_v1], 400, "invalid_resource", 500011).await;
}

#[tokio::test]
async fn refresh_token_grant_returns_a_new_access_and_refresh_token() {
    let sim = start().await;
    let o = sim.options().clone();
    let rt = sim.issue_refresh_token();
    let scope = format!("{}/.default", sim.base_url());
    let (status, body) = token_request(
        &sim,
        &v2(&o.tenant),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("refresh_token", &rt),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].as_str().is_some_and(|t| t != rt));
    assert!(body["id_token"].is_string() && body["scope"].is_string());
    let (status, body) = token_request(
        &sim,
        &v2(&o.tenant),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &o.client_id),
            ("refresh_token", "made-up"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!((status, body["error"].clone()), (400, Value::from("invalid_grant")));
}

#[tokio::test]
async fn data_calls_without_or_with_a_bad_or_expired_token_get_401_with_www_authenticate() {
    let sim = start().await;
    let resp = client().get(format!("{}/data/VendorsV2", sim.base_url())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    assert_eq!(get(&sim, "forged-token", "/data/VendorsV2").await.status, 401);

    let token = token(&sim).await;
    assert_eq!(get(&sim, &token, "/data/VendorsV2").await.status, 200);
    sim.inject(Fault::ExpireTokens);
    let expired = get(&sim, &token, "/data/VendorsV2").await;
    assert_eq!(expired.status, 401);
    assert!(expired.header("www-authenticate").is_some());
    let fresh = sim_support::token(&sim).await;
    assert_eq!(get(&sim, &fresh, "/data/VendorsV2").await.status, 200, "a new token works again");
}

#[tokio::test]
async fn an_app_without_a_sysaadclients_mapping_gets_401() {
    let sim = start().await;
    let token = token(&sim).await;
    let client_id = sim.options().client_id.clone();
    let path = format!("/data/SysAADClients(AADClientId='{client_id}')");
    assert_eq!(send(&sim, &token, "DELETE", &path, &[], None).await.status, 204);
    assert_eq!(get(&sim, &token, "/data/VendorsV2").await.status, 401);
}
