//! Credentials without a client secret, against the simulator's Entra and metadata endpoints: a client
//! assertion signed with a registered certificate (the simulator checks signature, thumbprint, audience,
//! issuer and expiry), and a managed identity token from the metadata endpoint's stand-in.

use std::sync::OnceLock;

use signoff::sim::{SimOptions, Simulator};

use super::fno_cli::{config_text, run_with, text};
use super::net_support::AppCertificate;

/// RSA key generation is slow in a debug build: two certificates, made once for every test.
fn certificates() -> &'static (AppCertificate, AppCertificate) {
    static CERTS: OnceLock<(AppCertificate, AppCertificate)> = OnceLock::new();
    CERTS.get_or_init(|| (AppCertificate::new("signoff-usmf-app"), AppCertificate::new("some other app")))
}

fn with_certificate(config: &str, path: &std::path::Path) -> String {
    config.replace("client_secret_env = \"SIGNOFF_CLIENT_SECRET\"", &format!("client_certificate_file = {path:?}"))
}

async fn registered_sim() -> Simulator {
    let options = SimOptions { client_certificate: Some(certificates().0.cert_pem.clone()), ..SimOptions::default() };
    Simulator::start(options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_credential_gets_a_token_through_a_validated_assertion() {
    let sim = registered_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = certificates().0.write(dir.path(), "app-cert.pem", 0o600);
    let out = run_with(dir.path(), &with_certificate(&config_text(&sim), &file), &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let token_requests: Vec<_> = sim.requests().into_iter().filter(|r| r.target.contains("/oauth2/")).collect();
    assert_eq!(token_requests.len(), 1, "{token_requests:?}");
    let body = &token_requests[0].body;
    assert!(
        body.contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer")
            && body.contains("client_assertion=***")
            && !body.contains("client_secret"),
        "{body}"
    );
    assert_eq!(token_requests[0].status, 200);
    assert!(sim.requests().iter().any(|r| r.target.starts_with("/data/SystemUsers") && r.status == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_certificate_is_not_registered_is_refused_with_the_fix() {
    let sim = registered_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = certificates().1.write(dir.path(), "wrong-cert.pem", 0o600);
    let out = run_with(dir.path(), &with_certificate(&config_text(&sim), &file), &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("AADSTS700027") && shown.contains("Certificates & secrets > Certificates"), "{shown}");
    assert!(shown.contains("wrong-cert.pem"), "the file to fix is named: {shown}");
    assert!(!shown.contains("PRIVATE KEY") && !shown.contains("eyJ"), "no key or assertion is shown: {shown}");
    assert_eq!(sim.requests().iter().filter(|r| r.target.starts_with("/data/")).count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_for_another_token_endpoint_is_refused_for_its_audience() {
    let sim = registered_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = certificates().0.write(dir.path(), "app-cert.pem", 0o600);
    // The same simulator under another name: the assertion's audience is not the endpoint Entra knows.
    let other = sim.base_url().replace("127.0.0.1", "localhost");
    let config = with_certificate(&config_text(&sim), &file)
        .replace(&format!("authority_host = \"{}\"", sim.base_url()), &format!("authority_host = \"{other}\""));
    let out = run_with(dir.path(), &config, &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("AADSTS700023"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_file_readable_by_others_is_refused_before_anything_is_sent() {
    let sim = registered_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = certificates().0.write(dir.path(), "app-cert.pem", 0o644);
    let out = run_with(dir.path(), &with_certificate(&config_text(&sim), &file), &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("auth.client_certificate_file") && shown.contains("chmod 600"), "{shown}");
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_identity_token_comes_from_the_metadata_endpoint_stand_in() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("{}/metadata/identity/oauth2/token", sim.base_url());
    let config = config_text(&sim).replace(
        "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
        &format!("managed_identity = true\nmanaged_identity_endpoint = \"{endpoint}\""),
    );
    let out = run_with(dir.path(), &config, &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let asked: Vec<_> = sim.requests().into_iter().filter(|r| r.target.starts_with("/metadata/")).collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].method, "GET");
    assert_eq!(asked[0].header("metadata"), Some("true"));
    assert!(asked[0].target.contains("api-version=2018-02-01"), "{}", asked[0].target);
    assert!(asked[0].target.contains(&format!("resource={}", sim.base_url())), "{}", asked[0].target);
    assert!(sim.requests().iter().all(|r| !r.target.contains("/oauth2/v2.0/token")), "Entra was not asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_identity_the_endpoint_does_not_know_is_refused_with_what_to_check() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("{}/metadata/identity/oauth2/token", sim.base_url());
    let config = config_text(&sim)
        .replace(
            "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
            &format!("managed_identity = true\nmanaged_identity_endpoint = \"{endpoint}\""),
        )
        .replace(&sim.options().client_id, "0f0e0d0c-5150-4f0a-9c1e-00000000abcd");
    let out = run_with(dir.path(), &config, &[], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("Identity not found") && shown.contains("user-assigned"), "{shown}");
}
