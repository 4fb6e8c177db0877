//! The troubleshooting report of `connector validate` and `connector sync-metadata`: every row of its
//! table is provoked here on the simulator (faults, a changed F&O state, real TLS and proxies on
//! loopback) and its words are checked in the real binary's text and `--json` output.

use std::any::Any;
use std::path::Path;

use serde_json::{Value, json};
use signoff::fno::diagnosis::Kind;
use signoff::sim::{Fault, SimOptions, Simulator};

use super::fno_cli::{config_at, config_text, run_with, text, with_environment};
use super::net_support::{AppCertificate, ConnectProxy, Pki, tls_simulator};

/// One row to provoke: its problem, the command that meets it, and words its row must carry.
struct Case {
    problem: &'static str,
    command: &'static str,
    words: &'static [&'static str],
}

const fn case(problem: &'static str, command: &'static str, words: &'static [&'static str]) -> Case {
    Case { problem, command, words }
}

const AUTH: &[Case] = &[
    case("config", "validate", &["SIGNOFF_CLIENT_SECRET", "signoff config check"]),
    case("secret-wrong", "validate", &["AADSTS7000215", "Secret ID", "Certificates & secrets"]),
    case("secret-expired", "validate", &["AADSTS7000222", "client secret expired", "create a new client secret"]),
    case("secret-expired", "sync-metadata", &["AADSTS7000222", "client secret expired"]),
    case("app-not-in-tenant", "validate", &["AADSTS700016", "Application (client) ID"]),
    case("tenant-not-found", "validate", &["AADSTS90002", "Directory (tenant) ID"]),
    case("resource-not-found", "validate", &["AADSTS500011", "environment.url", "without /data"]),
    case("certificate-rejected", "validate", &["AADSTS700027", "Certificates & secrets > Certificates"]),
    case("entra-refused", "validate", &["AADSTS70011", "https://login.microsoftonline.com/error?code=70011"]),
    case("entra-busy", "validate", &["Entra ID busy", "status.azure.com"]),
    case("entra-unreachable", "validate", &["Entra ID token endpoint http://127.0.0.1:1", "auth.authority_host"]),
    case("managed-identity", "validate", &["managed identity refused", "user-assigned"]),
];

const FNO: &[Case] = &[
    case(
        "app-not-mapped",
        "validate",
        &["401 Unauthorized", "Microsoft Entra ID applications", "SysAADClientTable", "System administration > Setup"],
    ),
    case(
        "forbidden",
        "validate",
        &["403 Forbidden from F&O on VendorInvoiceHeaders", "F&O user signoff-svc", "\"Data services\""],
    ),
    case(
        "empty-reads",
        "validate",
        &["VendorInvoiceHeaders", "default company (dat)", "company usmf", "System administration > Users"],
    ),
    case("throttled", "validate", &["429 Too Many Requests", "Retry-After was 7s", "max_retries"]),
    case("unreachable", "validate", &["no answer from F&O at", "environment.url"]),
    case("fno-failed", "validate", &["F&O failed", "Database is in maintenance mode."]),
    case("fno-failed", "sync-metadata", &["F&O failed", "Database is in maintenance mode."]),
];

const METADATA: &[Case] = &[
    case(
        "missing-entity",
        "sync-metadata",
        &["InvoiceDescripton", "did you mean InvoiceDescription", "case-sensitive"],
    ),
    case("missing-operation", "sync-metadata", &["recallInvoice", "[operations.invoice_recall]", "extension"]),
];

const NETWORK: &[Case] = &[
    case("tls-untrusted", "validate", &["unknown issuer", "ca_file"]),
    case("tls-pin-mismatch", "validate", &["pinned_sha256", "intercepts the connection"]),
    case("tls-expired", "validate", &["has expired", "clock"]),
    case("tls-refused", "validate", &["not valid for this host name", "environment.url"]),
    case("proxy-auth", "validate", &["407 Proxy Authentication Required", "proxy_credentials_env"]),
    case("proxy-unreachable", "validate", &["no connection through the proxy http://127.0.0.1:1", "HTTPS_PROXY"]),
];

/// What one case runs against: the config, the environment, and whatever must live while it runs.
struct Setup {
    config: String,
    vars: Vec<(&'static str, String)>,
    _keep: Vec<Box<dyn Any + Send>>,
}

fn secret_vars(sim: &Simulator) -> Vec<(&'static str, String)> {
    vec![("SIGNOFF_CLIENT_SECRET", sim.options().client_secret.clone())]
}

fn plain(sim: Simulator, config: String) -> Setup {
    Setup { vars: secret_vars(&sim), config, _keep: vec![Box::new(sim)] }
}

/// Put the simulator (or the network around it) in the state that provokes `problem`.
async fn provoke(problem: &str, dir: &Path) -> Setup {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let config = config_text(&sim);
    let base = sim.base_url();
    let no_retries = |c: &str| c.replace("max_retries = 3", "max_retries = 0");
    match problem {
        "config" => Setup { config, vars: Vec::new(), _keep: vec![Box::new(sim)] },
        "secret-wrong" => Setup {
            config,
            vars: vec![("SIGNOFF_CLIENT_SECRET", "Wr0ng~secret-value-9911".into())],
            _keep: vec![Box::new(sim)],
        },
        "secret-expired" => {
            sim.inject(Fault::EntraError { code: 7_000_222, times: 50 });
            plain(sim, config)
        }
        "app-not-in-tenant" => {
            let other = config.replace(&sim.options().client_id, "0f0e0d0c-5150-4f0a-9c1e-00000000abcd");
            plain(sim, other)
        }
        "tenant-not-found" => {
            let typo =
                config.replace("tenant = \"contoso.onmicrosoft.com\"", "tenant = \"contoso-typo.onmicrosoft.com\"");
            plain(sim, typo)
        }
        "resource-not-found" => {
            let wrong = base.replace("127.0.0.1", "localhost");
            let other = config.replace(&format!("url = \"{base}\""), &format!("url = \"{wrong}\""));
            plain(sim, other)
        }
        "certificate-rejected" => {
            // The app has no certificate registered: Entra refuses the assertion its key signed.
            let cert = AppCertificate::new("signoff-usmf-app");
            let file = cert.write(dir, "app-cert.pem", 0o600);
            let config = config.replace(
                "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
                &format!("client_certificate_file = {file:?}"),
            );
            Setup { config, vars: Vec::new(), _keep: vec![Box::new(sim)] }
        }
        "entra-refused" => {
            sim.inject(Fault::EntraError { code: 70_011, times: 50 });
            plain(sim, config)
        }
        "entra-busy" => {
            sim.inject(Fault::Unavailable { path_contains: "/oauth2/".into(), retry_after_secs: 0, times: 50 });
            plain(sim, no_retries(&config))
        }
        "entra-unreachable" => {
            let config =
                config.replace(&format!("authority_host = \"{base}\""), "authority_host = \"http://127.0.0.1:1\"");
            plain(sim, config)
        }
        "managed-identity" => {
            let endpoint = format!("{base}/metadata/identity/oauth2/token");
            let config = config
                .replace(
                    "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
                    &format!("managed_identity = true\nmanaged_identity_endpoint = \"{endpoint}\""),
                )
                .replace(&sim.options().client_id, "0f0e0d0c-5150-4f0a-9c1e-00000000abcd");
            Setup { config, vars: Vec::new(), _keep: vec![Box::new(sim)] }
        }
        "app-not-mapped" => {
            // The app's row in Microsoft Entra ID applications points at no F&O user any more.
            let keys = json!({"AADClientId": sim.options().client_id});
            sim.edit_record("SysAADClients", &keys, json!({"UserId": "left-the-company"})).unwrap();
            plain(sim, config)
        }
        "forbidden" => {
            sim.inject(Fault::Forbid { path_contains: "/data/VendorInvoiceHeaders".into(), times: 50 });
            plain(sim, config)
        }
        "empty-reads" => {
            // The app's user works in a company that holds none of the records.
            sim.edit_record("SystemUsers", &json!({"UserID": "signoff-svc"}), json!({"Company": "dat"})).unwrap();
            plain(sim, config)
        }
        "throttled" => {
            sim.inject(Fault::Throttle { path_contains: "/data/SystemUsers".into(), retry_after_secs: 7, times: 50 });
            plain(sim, no_retries(&config))
        }
        "unreachable" => {
            sim.inject(Fault::DropBeforeProcessing { path_contains: "/data/SystemUsers".into(), times: 50 });
            plain(sim, no_retries(&config))
        }
        "fno-failed" => {
            let message = "Database is in maintenance mode.".to_string();
            sim.inject(Fault::Refuse {
                path_contains: "/data/SystemUsers".into(),
                message: message.clone(),
                times: 50,
            });
            sim.inject(Fault::Refuse { path_contains: "/data/$metadata".into(), message, times: 50 });
            plain(sim, config)
        }
        "missing-entity" => {
            let typo = config.replace(
                "fields = [\"DueDate\", \"InvoiceDescription\",",
                "fields = [\"DueDate\", \"InvoiceDescripton\",",
            );
            plain(sim, typo)
        }
        "missing-operation" => plain(sim, config.replace("action = \"signoffRecall\"", "action = \"recallInvoice\"")),
        network => provoke_network(network, dir).await,
    }
}

/// The TLS and proxy rows: the simulator behind a TLS front a private CA issued for `localhost`.
async fn provoke_network(problem: &str, dir: &Path) -> Setup {
    let pki = Pki::new(problem == "tls-expired");
    let (sim, url) = tls_simulator(&pki, SimOptions::default()).await;
    let ca = pki.write_ca(dir);
    let trusted = with_environment(&config_at(&url, &sim.options().client_id), &format!("ca_file = {ca:?}"));
    let mut keep: Vec<Box<dyn Any + Send>> = Vec::new();
    let config = match problem {
        "tls-untrusted" => config_at(&url, &sim.options().client_id),
        "tls-pin-mismatch" => {
            let other = super::net_support::sha256_b64(b"another server's public key");
            with_environment(
                &config_at(&url, &sim.options().client_id),
                &format!("ca_file = {ca:?}\npinned_sha256 = \"{other}\""),
            )
        }
        "tls-expired" => trusted,
        // The certificate names localhost; 127.0.0.1 is not in it.
        "tls-refused" => trusted.replace("https://localhost:", "https://127.0.0.1:"),
        "proxy-auth" => {
            let proxy = ConnectProxy::start(Some("svc-signoff:Pr0xy~pass-7781")).await;
            let config = with_environment(&trusted, &format!("proxy = \"{}\"", proxy.url()));
            keep.push(Box::new(proxy));
            config
        }
        "proxy-unreachable" => with_environment(&trusted, "proxy = \"http://127.0.0.1:1\""),
        other => panic!("no way to provoke {other}"),
    };
    let vars = secret_vars(&sim);
    keep.push(Box::new(sim));
    Setup { config, vars, _keep: keep }
}

/// The text block of one row: from its `[problem]` line to the blank line after it.
fn text_row<'a>(shown: &'a str, problem: &str) -> &'a str {
    let start = shown.find(&format!("[{problem}]")).unwrap_or_else(|| panic!("no [{problem}] row in:\n{shown}"));
    let rest = &shown[start..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// Provoke each case and check its row in the text report and in `--json`.
/// Provoke each case through the binary and check its row (text and `--json`); returns the problem of the
/// one row `--json` showed for each case, in order.
async fn check(cases: &[Case]) -> Vec<String> {
    let mut shown_rows = Vec::new();
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let setup = provoke(case.problem, dir.path()).await;
        let vars: Vec<(&str, &str)> = setup.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args = ["connector", case.command];
        let out = run_with(dir.path(), &setup.config, &vars, &args).await;
        let shown = text(&out);
        let what = format!("{} in `connector {}`", case.problem, case.command);
        assert_eq!(out.status.code(), Some(1), "{what}:\n{shown}");
        let row = text_row(&shown, case.problem);
        for word in case.words {
            assert!(row.contains(word), "{what}: the row lacks {word:?}:\n{row}\n---\n{shown}");
        }
        for part in ["symptom:", "cause:", "fix:"] {
            assert!(row.contains(part), "{what}: no {part} in\n{row}");
        }
        assert!(shown.contains("SIGNOFF_LOG=debug") && shown.contains("--verbose"), "{what}:\n{shown}");

        let out = run_with(dir.path(), &setup.config, &vars, &["--json", "connector", case.command]).await;
        assert_eq!(out.status.code(), Some(1), "{what} --json:\n{}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{what}: --json is not JSON ({e}):\n{}", text(&out)));
        let rows = report["troubleshooting"].as_array().unwrap_or_else(|| panic!("{what}: {report:#}"));
        let ours = rows.iter().find(|r| r["problem"] == case.problem).unwrap_or_else(|| panic!("{what}: {report:#}"));
        let words = format!("{} {} {}", ours["symptom"], ours["cause"], ours["fix"]).replace("\\\"", "\"");
        for word in case.words {
            assert!(words.contains(word), "{what} --json: the row lacks {word:?}: {ours:#}");
        }
        assert!(ours["check"].as_str().is_some_and(|c| !c.is_empty()), "{ours:#}");
        assert!(report["more_detail"].as_str().is_some_and(|m| m.contains("SIGNOFF_LOG=debug")), "{report:#}");
        // Only what was met: one failure, one row (a TLS refusal met twice is still one row).
        assert_eq!(rows.len(), 1, "{what}: rows for problems not met: {report:#}");
        shown_rows.push(rows[0]["problem"].as_str().unwrap_or_default().to_string());
    }
    shown_rows
}

/// The problems of `cases`, in order: what each case must make the binary show.
fn problems(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|c| c.problem.to_string()).collect()
}

#[test]
fn every_row_of_the_table_is_provoked_by_a_case() {
    let provoked: Vec<&str> = [AUTH, FNO, METADATA, NETWORK].iter().flat_map(|c| c.iter().map(|c| c.problem)).collect();
    for kind in Kind::ALL {
        assert!(provoked.contains(&kind.id()), "no test provokes the {} row", kind.id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_and_config_rows_are_provoked_and_worded() {
    assert_eq!(check(AUTH).await, problems(AUTH), "each case showed its own row, and only it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fno_rows_are_provoked_and_worded() {
    assert_eq!(check(FNO).await, problems(FNO), "each case showed its own row, and only it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_rows_are_provoked_and_worded() {
    assert_eq!(check(METADATA).await, problems(METADATA), "each case showed its own row, and only it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_proxy_rows_are_provoked_and_worded() {
    assert_eq!(check(NETWORK).await, problems(NETWORK), "each case showed its own row, and only it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_connection_prints_no_troubleshooting_rows() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vars = [("SIGNOFF_CLIENT_SECRET", sim.options().client_secret.as_str())];
    for command in ["validate", "sync-metadata"] {
        let out = run_with(dir.path(), &config_text(&sim), &vars, &["connector", command]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(!text(&out).contains("TROUBLESHOOTING"), "{}", text(&out));
        let out = run_with(dir.path(), &config_text(&sim), &vars, &["--json", "connector", command]).await;
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["troubleshooting"], json!([]), "{report:#}");
    }
    let out = run_with(dir.path(), &config_text(&sim), &vars, &["--json", "connector", "validate"]).await;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let company = report["checks"].as_array().unwrap().iter().find(|c| c["check"] == "company").cloned();
    let company = company.unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(company["outcome"], "pass", "{report:#}");
    assert!(company["detail"].as_str().unwrap().contains("default company usmf"), "{report:#}");
}
