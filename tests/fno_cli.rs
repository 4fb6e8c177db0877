//! `signoff connector validate|sync-metadata|init` as real processes against the simulator.

use std::path::Path;
use std::process::Output;

use signoff::sim::{SimOptions, Simulator};

/// The template config pointed at the simulator (its operation names are the simulator's).
pub(crate) fn config_text(sim: &Simulator) -> String {
    config_at(&sim.base_url(), &sim.options().client_id)
}

/// The template config with F&O and Entra both at `url`.
pub(crate) fn config_at(url: &str, client_id: &str) -> String {
    signoff::config::template()
        .replace("https://contoso-test.sandbox.operations.dynamics.com", url)
        .replace("00000000-0000-0000-0000-000000000000", client_id)
        .replace("# authority_host = \"http://127.0.0.1:8443\"", &format!("authority_host = \"{url}\""))
}

/// `config` with `lines` added to its `[environment]` table.
pub(crate) fn with_environment(config: &str, lines: &str) -> String {
    config.replacen("[environment]\n", &format!("[environment]\n{lines}\n"), 1)
}

async fn run(dir: &Path, config: &str, secret: &str, args: &[&str]) -> Output {
    run_with(dir, config, &[("SIGNOFF_CLIENT_SECRET", secret)], args).await
}

/// Run `signoff --config <dir>/config.toml ARGS` with `vars` set and no proxy variables from the caller.
pub(crate) async fn run_with(dir: &Path, config: &str, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
    cmd.arg("--config").arg(&path).args(args).env("HOME", dir);
    for k in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "SIGNOFF_CONFIG"] {
        cmd.env_remove(k);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.env("XDG_STATE_HOME", dir).env("XDG_DATA_HOME", dir);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

pub(crate) fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_passes_against_the_simulator() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &config_text(&sim), &sim.options().client_secret, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    for check in ["config", "token", "instance", "identity"] {
        assert!(shown.lines().any(|l| l.starts_with(check) && l.contains(" pass ")), "{check} in:\n{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_with_a_wrong_secret_fails_with_the_fix_and_never_prints_it() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &config_text(&sim), "Wr0ng~secret-value-9911", &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("FAIL") && shown.contains("AADSTS7000215") && shown.contains("Certificates & secrets"),
        "{shown}"
    );
    assert!(!shown.contains("Wr0ng~secret-value-9911"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_with_an_unknown_tenant_fails_naming_the_tenant() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config =
        config_text(&sim).replace("tenant = \"contoso.onmicrosoft.com\"", "tenant = \"contoso-typo.onmicrosoft.com\"");
    let out = run(dir.path(), &config, &sim.options().client_secret, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("AADSTS90002") && shown.contains("contoso-typo.onmicrosoft.com"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_with_a_wrong_environment_url_fails_with_the_url_advice() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Same simulator reached through another name: Entra does not know that resource.
    let wrong = sim.base_url().replace("127.0.0.1", "localhost");
    let config = config_text(&sim).replace(&format!("url = \"{}\"", sim.base_url()), &format!("url = \"{wrong}\""));
    let out = run(dir.path(), &config, &sim.options().client_secret, &["connector", "validate"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("AADSTS500011") && shown.contains("environment.url"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_metadata_passes_for_a_config_the_simulator_satisfies() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &config_text(&sim), &sim.options().client_secret, &["connector", "sync-metadata"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("catalog: ") && shown.contains("ok: 7 managed object(s) and 6 operation(s) verified"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_metadata_stores_a_described_custom_service_in_the_catalog() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_text(&sim).replace(
        "kind = \"bound-action\"\nentity_set = \"LedgerJournalHeaders\"\naction = \"signoffReverse\"\nparameters = { reversal_date = \"_reversalDate\", comment = \"_comment\" }",
        "kind = \"custom-service\"\nservice = \"SignoffServices/SignoffJournalService/reverse\"\nparameters = { comment = \"_comment\", reversal_date = \"_reversalDate\" }",
    );
    assert!(config.contains("SignoffJournalService/reverse"), "the template's journal_reverse was replaced");
    let out = run(dir.path(), &config, &sim.options().client_secret, &["connector", "sync-metadata"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let store_path = shown.lines().find_map(|l| l.strip_prefix("stored in ")).and_then(|l| l.rsplit_once(" at "));
    let store = signoff::store::Store::open(Path::new(store_path.unwrap().0)).unwrap();
    let (json, _) = store.load_catalog().unwrap().unwrap();
    let catalog = signoff::fno::metadata::catalog_from_json(&json).unwrap();
    let service = catalog.service("SignoffServices/SignoffJournalService/reverse").expect("the service is stored");
    let names: Vec<&str> = service.parameters.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["_dataAreaId", "_journalBatchNumber", "_reversalDate", "_comment"]);
    assert_eq!(service.return_type.as_deref(), Some("String"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_metadata_reports_a_missing_field_and_a_missing_operation() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_text(&sim)
        .replace("fields = [\"DueDate\", \"InvoiceDescription\",", "fields = [\"DueDate\", \"InvoiceDescripton\",")
        .replace("action = \"signoffRecall\"", "action = \"recallInvoice\"")
        .replace(
            "kind = \"bound-action\"\nentity_set = \"LedgerJournalHeaders\"\naction = \"signoffReverse\"",
            "kind = \"custom-service\"\nservice = \"SignoffServices/SignoffJournalService/reverseVoucher\"",
        );
    let out = run(dir.path(), &config, &sim.options().client_secret, &["connector", "sync-metadata"]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("3 mismatch(es)"), "{shown}");
    assert!(
        shown.contains(
            "field InvoiceDescripton does not exist on VendorInvoiceHeaders; did you mean InvoiceDescription?"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("operation `invoice_recall`: action recallInvoice is not bound to VendorInvoiceHeaders"),
        "{shown}"
    );
    assert!(shown.contains("operation `journal_reverse`: custom service SignoffServices/SignoffJournalService/reverseVoucher could not be described"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_writes_the_template_and_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signoff").join("config.toml");
    let init = |force: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.arg("--config").arg(&path).args(["connector", "init"]).env("HOME", dir.path());
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    assert_eq!(init(false).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), signoff::config::template());
    std::fs::write(&path, "# my edited config\n").unwrap();
    let refused = init(false);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# my edited config\n");
    assert_eq!(init(true).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), signoff::config::template());
}
