//! `connector validate` over real TLS on loopback: the simulator behind a TLS front whose certificate a
//! private CA (made in the test) issued, and a CONNECT proxy the test runs.

use signoff::sim::SimOptions;

use super::fno_cli::{config_at, run_with, text, with_environment};
use super::net_support::{CA_NAME, ConnectProxy, Pki, SERVER_NAME, tls_simulator};

fn row<'a>(shown: &'a str, check: &str) -> &'a str {
    shown.lines().find(|l| l.starts_with(&format!("{check} "))).unwrap_or_else(|| panic!("no {check} row in:\n{shown}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_refused_without_ca_file_with_a_message_naming_the_fix() {
    let pki = Pki::new(false);
    let (sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = sim.options().client_secret.clone();
    let config = config_at(&url, &sim.options().client_id);
    let out = run_with(dir.path(), &config, &[("SIGNOFF_CLIENT_SECRET", &secret)], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(row(&shown, "token").contains("FAIL") && shown.contains("unknown issuer"), "{shown}");
    assert!(shown.contains("add your company CA with [environment] ca_file"), "{shown}");
    assert!(row(&shown, "tls").contains("FAIL") && row(&shown, "tls").contains(SERVER_NAME), "{shown}");
    assert!(sim.requests().is_empty(), "nothing may reach the server over an untrusted connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_ca_file_the_connection_is_trusted_and_validate_shows_version_chain_and_trust() {
    let pki = Pki::new(false);
    let (sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let secret = sim.options().client_secret.clone();
    let config = with_environment(&config_at(&url, &sim.options().client_id), &format!("ca_file = {ca:?}"));
    let out = run_with(dir.path(), &config, &[("SIGNOFF_CLIENT_SECRET", &secret)], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let tls = row(&shown, "tls");
    assert!(tls.contains(&format!("TLS 1.3, chain: CN={SERVER_NAME} <- ")), "{shown}");
    assert!(tls.contains(&format!("CN={CA_NAME}")), "the issuing CA is named: {shown}");
    assert!(tls.contains(&pki.server_pin), "the key pin to copy into pinned_sha256 is shown: {shown}");
    let network = row(&shown, "network");
    assert!(network.contains("+ ca_file") && network.contains("(1 certificate(s))"), "{shown}");
    assert!(network.contains("direct (no proxy configured"), "{shown}");
    // The simulator saw the token request and the data calls, all through TLS.
    let paths: Vec<String> = sim.requests().iter().map(|r| r.target.clone()).collect();
    assert!(paths.iter().any(|p| p.contains("/oauth2/v2.0/token")) && paths.iter().any(|p| p.starts_with("/data/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_key_mismatch_is_refused_and_the_right_pin_passes() {
    let pki = Pki::new(false);
    let (sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let secret = sim.options().client_secret.clone();
    let base = config_at(&url, &sim.options().client_id);
    let other_key = super::net_support::sha256_b64(b"another server's public key");
    let pinned = |pin: &str| with_environment(&base, &format!("ca_file = {ca:?}\npinned_sha256 = \"{pin}\""));
    let vars = [("SIGNOFF_CLIENT_SECRET", secret.as_str())];
    let out = run_with(dir.path(), &pinned(&other_key), &vars, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("does not match [environment] pinned_sha256"), "{shown}");
    assert!(shown.contains(&format!("it presented {}", pki.server_pin)), "{shown}");
    assert!(sim.requests().is_empty(), "nothing is sent to a server whose key is not the pinned one");

    let out = run_with(dir.path(), &pinned(&pki.server_pin), &vars, &["connector", "validate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(row(&text(&out), "network").contains("server key pinned (1 pin(s))"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_server_certificate_is_refused_as_expired() {
    let pki = Pki::new(true);
    let (_sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let config = with_environment(&config_at(&url, &SimOptions::default().client_id), &format!("ca_file = {ca:?}"));
    let out = run_with(dir.path(), &config, &[("SIGNOFF_CLIENT_SECRET", "x")], &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("the server's certificate has expired"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_proxy_carries_every_request_with_its_credentials_and_validate_names_it() {
    let pki = Pki::new(false);
    let (sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let proxy = ConnectProxy::start(Some("svc-signoff:Pr0xy~pass-7781")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let secret = sim.options().client_secret.clone();
    let config = with_environment(
        &config_at(&url, &sim.options().client_id),
        &format!(
            "ca_file = {ca:?}\nproxy = \"{}\"\nproxy_credentials_env = \"SIGNOFF_PROXY_CREDENTIALS\"",
            proxy.url()
        ),
    );
    let vars =
        [("SIGNOFF_CLIENT_SECRET", secret.as_str()), ("SIGNOFF_PROXY_CREDENTIALS", "svc-signoff:Pr0xy~pass-7781")];
    let out = run_with(dir.path(), &config, &vars, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let network = row(&shown, "network");
    assert!(
        network.contains(&format!("F&O: proxy {} (from environment.proxy, with credentials (not shown))", proxy.url())),
        "{shown}"
    );
    assert!(!shown.contains("Pr0xy~pass") && !shown.contains("svc-signoff"), "credentials leaked: {shown}");
    let host = url.trim_start_matches("https://");
    let lines = proxy.lines();
    assert!(!lines.is_empty() && lines.iter().all(|l| l == &format!("CONNECT {host} HTTP/1.1")), "{lines:?}");
    assert!(!sim.requests().is_empty(), "the requests reached F&O through the tunnel");

    // Without the credentials the proxy refuses the tunnel, and validate says the token endpoint is unreachable.
    let without = config.replace("proxy_credentials_env = \"SIGNOFF_PROXY_CREDENTIALS\"\n", "");
    let out = run_with(dir.path(), &without, &vars[..1], &["connector", "validate"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(proxy.lines().iter().any(|l| l.starts_with("407 CONNECT")), "{:?}", proxy.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_from_the_environment_leaves_loopback_direct_and_validate_says_so() {
    let pki = Pki::new(false);
    let (_sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let proxy = ConnectProxy::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let secret = SimOptions::default().client_secret;
    let config = with_environment(&config_at(&url, &SimOptions::default().client_id), &format!("ca_file = {ca:?}"));
    // Loopback from HTTPS_PROXY goes direct (as with curl and NO_PROXY=localhost): validate says so.
    let vars = [("SIGNOFF_CLIENT_SECRET", secret.as_str()), ("HTTPS_PROXY", &proxy.url())];
    let out = run_with(dir.path(), &config, &vars, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(row(&shown, "network").contains("direct (NO_PROXY or loopback)"), "{shown}");
    assert!(proxy.lines().is_empty(), "{:?}", proxy.lines());
}
