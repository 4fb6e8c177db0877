//! Building the demo's world: a simulator on loopback, a temporary store seeded with the demo runs, and a
//! config file pointing at both — the same files a real installation has, so the demo exercises the real
//! code paths end to end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use crate::config::Config;
use crate::config::load::load;
use crate::fno::metadata::catalog_to_json;
use crate::model::{GovernedRun, parse_run};
use crate::review::Reviewer;
use crate::sign::{KeySigner, Signer as _};
use crate::sim::{Fault, SimOptions, Simulator};
use crate::store::Store;

use super::runs::RUNS;

/// The demo approver: not the requester of any demo run, and a member of every approval group they use.
pub const DEMO_APPROVER: &str = "demo.approver@contoso.com";
const DEMO_GROUPS: &str = r#"["ap-approvers", "ap-approvers-de", "gl-controllers", "gl-controllers-de",
          "vendor-master-stewards", "it-security-admins", "hr-approvers"]"#;

/// The instant the fixtures were written against; demo runs are moved so that it falls on "now".
fn fixtures_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().unwrap_or_default()
}

/// What to rehearse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Someone edits invoice APINV-000123 in F&O after it was reviewed: approving it finds the run stale.
    Drift,
    /// F&O throttles the first decision requests (429 with Retry-After): signoff waits and retries.
    Throttling,
    /// November 2026 is closed in F&O and in the policy calendar: journal posts are blocked.
    ClosedPeriod,
}

/// A running demo: keep it alive while the TUI runs; dropping it stops the simulator and deletes the files.
pub struct DemoEnv {
    pub sim: Simulator,
    /// Held so the demo's files live as long as the demo; dropping it deletes them.
    pub _files: tempfile::TempDir,
    pub config_path: PathBuf,
    pub store_path: PathBuf,
    pub config: Config,
    /// The demo approver's throwaway key, in memory only; `allowed_signers` in the demo's files lists it.
    pub signer: Arc<KeySigner>,
}

impl DemoEnv {
    /// Start the simulator, write the config and seed the store. Nothing leaves 127.0.0.1.
    pub async fn start(scenario: Option<Scenario>) -> anyhow::Result<DemoEnv> {
        let closed = scenario == Some(Scenario::ClosedPeriod);
        let options = SimOptions {
            closed_periods: if closed { vec!["2026-11".into()] } else { Vec::new() },
            ..SimOptions::default()
        };
        let sim = Simulator::start(options).await.context("cannot start the demo simulator on 127.0.0.1")?;
        let dir = tempfile::Builder::new()
            .prefix("signoff-demo-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let secret_path = dir.path().join("client-secret");
        write_owner_only(&secret_path, &sim.options().client_secret)?;
        let store_path = dir.path().join("store.db");
        // The demo approver signs like a real one, with a key made now and an allowed-signers file naming it.
        let signer = Arc::new(KeySigner::generate());
        let allowed_path = dir.path().join("allowed_signers");
        write_owner_only(&allowed_path, &allowed_signers_text(&signer)?)?;
        let config_path = dir.path().join("config.toml");
        let text = config_text(&sim, &secret_path, &store_path, closed).replace(
            "# allowed_signers = \"/etc/signoff/allowed_signers\"",
            &format!("allowed_signers = {}", toml_string(&allowed_path)),
        );
        write_owner_only(&config_path, &text)?;
        let config = load(&config_path)?.config;

        let store = Store::open(&store_path)?;
        store.import(&demo_runs(Utc::now())?, "signoff-demo")?;
        drop(store);

        match scenario {
            Some(Scenario::Drift) => {
                // A colleague corrects the due date in F&O after the run was prepared.
                let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
                sim.edit_record("VendorInvoiceHeaders", &keys, json!({"DueDate": "2026-12-31T12:00:00Z"}))?;
            }
            Some(Scenario::Throttling) => {
                for path in ["signoffApprove", "signoffPost", "signoffReject"] {
                    sim.inject(Fault::Throttle { path_contains: path.into(), retry_after_secs: 2, times: 1 });
                }
            }
            _ => {}
        }
        Ok(DemoEnv { sim, _files: dir, config_path, store_path, config, signer })
    }
}

impl DemoEnv {
    /// The decision service for the demo approver. It first syncs the metadata catalog into the store,
    /// as `signoff connector sync-metadata` does, so policy and rollback readiness can read it.
    pub async fn reviewer(&self) -> anyhow::Result<Arc<Reviewer>> {
        let reviewer = Reviewer::from_config(&self.store_path, Arc::new(self.config.clone()), DEMO_APPROVER)
            .context("cannot connect to the demo F&O")?
            .with_signer(self.signer.clone())
            // The demo's checkpoints are remembered with its files, and go with them.
            .with_memory(crate::review::checkpoint::Memory::in_state_dir(&self._files.path().join("state")));
        let catalog = crate::fno::parse_csdl(&reviewer.client().metadata_xml().await?)?;
        Store::open(&self.store_path)?.save_catalog(&catalog_to_json(&catalog)?, "signoff-demo")?;
        Ok(Arc::new(reviewer))
    }
}

/// The demo runs, with their times moved so the fixtures are as fresh today as on the day they were
/// written (the one expired fixture stays expired).
pub fn demo_runs(now: DateTime<Utc>) -> anyhow::Result<Vec<GovernedRun>> {
    let shift = (now - fixtures_epoch()).max(chrono::Duration::zero());
    RUNS.iter()
        .map(|(name, text)| {
            let mut run = parse_run(text, name)?;
            run.requested_at += shift;
            run.expires_at += shift;
            run.before.captured_at += shift;
            Ok(run)
        })
        .collect()
}

fn config_text(sim: &Simulator, secret: &Path, store: &Path, closed_period: bool) -> String {
    let base = sim.base_url();
    let options = sim.options();
    let mut text = crate::config::template()
        .replace("# id = \"amy.rhodes@contoso.com\"", &format!("id = \"{DEMO_APPROVER}\""))
        .replace("groups = [\"ap-approvers\"]", &format!("groups = {DEMO_GROUPS}"))
        .replace("# path = \"/srv/signoff/store.db\"", &format!("path = {}", toml_string(store)))
        .replace("https://contoso-test.sandbox.operations.dynamics.com", &base)
        .replace("contoso.onmicrosoft.com", &options.tenant)
        .replace("00000000-0000-0000-0000-000000000000", &options.client_id)
        .replace("# authority_host = \"http://127.0.0.1:8443\"", &format!("authority_host = \"{base}\""))
        .replace(
            "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
            &format!("client_secret_file = {}", toml_string(secret)),
        );
    if closed_period {
        text.push_str("\n[[policy.closed_periods]]\nperiod = \"2026-11\"\ncompany = \"*\"\n");
    }
    // The demo approver's F&O workflow inbox: their F&O user is found by its alias, their UPN.
    text.push_str("\n[intake.workflow]\nenabled = true\n");
    text
}

/// `demo.approver@contoso.com ssh-ed25519 AAAA… signoff demo`.
fn allowed_signers_text(signer: &KeySigner) -> anyhow::Result<String> {
    let mut text =
        String::from("# The demo approver's throwaway key: made when the demo started, gone when it ends.\n");
    for key in signer.keys()? {
        text.push_str(&format!("{DEMO_APPROVER} {} signoff demo\n", key.to_openssh()?));
    }
    Ok(text)
}

fn toml_string(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

fn write_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}
