//! The real binary on each store backend against one simulator on loopback. A [`Site`] is the review
//! harness's simulator and config with `[store]` pointed at one [`TestDb`] — a SQLite file, or PostgreSQL
//! with the password from `[store] password_env` — and the metadata catalog synced into that store.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::backends::TestDb;
use crate::review_support::{Harness, REQUESTER};
use serde_json::{Value, json};
use signoff::config::Config;
use signoff::model::{GovernedRun, RunId, RunStatus};
use signoff::sim::{LoggedRequest, SimOptions};
use signoff::store::Store;

const SECRET_VAR: &str = "SIGNOFF_E2E_CLIENT_SECRET";
const PASSWORD_VAR: &str = "SIGNOFF_E2E_STORE_PASSWORD";

/// Every backend for `test` (PostgreSQL when its cluster is there), made off the caller's runtime: the
/// PostgreSQL schema is created on a runtime of its own.
pub fn backends(test: &'static str) -> Vec<TestDb> {
    std::thread::spawn(move || TestDb::all(test)).join().unwrap()
}

/// One simulator, one store, and the config file every `signoff` process of the test runs on.
pub struct Site {
    pub h: Harness,
    pub db: TestDb,
    pub config: PathBuf,
    password: Option<String>,
}

impl Site {
    /// The harness's simulator and config (`tweak`ed), on `db`.
    pub async fn start(db: TestDb, tweak: impl FnOnce(&mut Config)) -> Site {
        let h = Harness::start_with(SimOptions::default(), tweak).await;
        let mut config = (*h.config).clone();
        config.auth.client_secret_env = Some(SECRET_VAR.into());
        let password = db.configure(&mut config.store, PASSWORD_VAR);
        let path = h.dir.path().join(format!("config-{}.toml", db.name()));
        std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
        // The metadata sync an operator runs once, as the harness recorded it in its own store.
        let (catalog, _) = h.store().load_catalog().unwrap().expect("the harness synced the catalog");
        db.open().save_catalog(&catalog, "operator").unwrap();
        Site { h, db, config: path, password }
    }

    pub fn name(&self) -> &'static str {
        self.db.name()
    }

    /// The binary as `approver` on this site's config alone (no `--store`: the config's `[store]` decides).
    pub fn command(&self, approver: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.args(["--config", self.config.to_str().unwrap()])
            .args(args)
            .env(SECRET_VAR, &self.h.sim.options().client_secret)
            .env("SIGNOFF_APPROVER", approver)
            .env("XDG_STATE_HOME", self.h.dir.path().join("state"))
            .env("XDG_DATA_HOME", self.h.dir.path().join("data"))
            .env_remove("SIGNOFF_CONFIG")
            .env_remove("SIGNOFF_STORE");
        match &self.password {
            Some(password) => cmd.env(PASSWORD_VAR, password),
            None => cmd.env_remove(PASSWORD_VAR),
        };
        cmd
    }

    /// Run the binary to its end, off the async runtime the simulator serves on.
    pub async fn run(&self, approver: &str, args: &[&str]) -> Output {
        let mut cmd = self.command(approver, args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
    }

    /// A new handle on the store, as another process would open it.
    pub fn store(&self) -> Store {
        self.db.open()
    }

    pub fn status(&self, id: &str) -> RunStatus {
        self.store().status(&RunId::from(id)).unwrap().unwrap_or_else(|| panic!("{}: no run {id}", self.name()))
    }

    /// Import `runs` through the binary, from run files, as their requester.
    pub async fn import(&self, runs: &[GovernedRun]) {
        let dir = self.h.dir.path().join(format!("runs-{}", uuid::Uuid::new_v4().simple()));
        crate::common::write_runs(&dir, runs);
        let out = self.run(REQUESTER, &["runs", "import", dir.to_str().unwrap()]).await;
        assert!(out.status.success(), "{}: import failed: {}", self.name(), text(&out));
    }

    /// Journal 00123 as a post-journal run `id` (no corrections: the post is its only write), imported
    /// through the binary, the simulator's log cleared after; returns the journal's keys.
    pub async fn import_post_journal(&self, id: &str) -> Value {
        let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123"});
        let run = self.h.live_run(
            id,
            "dynamicsfinance.post-journal",
            "LedgerJournalHeaders",
            keys.clone(),
            json!({}),
            vec![],
            1,
            true,
        );
        self.import(&[run]).await;
        self.h.sim.clear_requests();
        keys
    }

    /// `audit verify` through the binary passes, and the store's own verification agrees.
    pub async fn assert_chain_verified(&self) {
        let out = self.run(REQUESTER, &["audit", "verify"]).await;
        assert_eq!(out.status.code(), Some(0), "{}: {}", self.name(), text(&out));
        assert!(text(&out).contains("audit chain verified"), "{}: {}", self.name(), text(&out));
        let store = self.store();
        let events = store.verify_audit().unwrap().events;
        assert_eq!(events, store.audit_head().unwrap().unwrap().0 as u64, "{}: every event verified", self.name());
    }

    /// The requests that wrote to F&O (anything but GET) whose target contains `needle`.
    pub fn writes_to(&self, needle: &str) -> Vec<LoggedRequest> {
        self.h.writes().into_iter().filter(|r| r.target.contains(needle)).collect()
    }
}

/// A vendor of its own in the simulator (usmf), its payment terms Net45: a run changing them to Net30
/// writes to this record alone, so the simulator's log tells its writes from every other run's.
pub fn new_vendor(h: &Harness, account: &str) -> Value {
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": account});
    let mut fields = keys.clone();
    fields.as_object_mut().unwrap().extend(
        json!({
            "VendorOrganizationName": format!("Load Test Supplier {account}"),
            "VendorGroupId": "10", "CurrencyCode": "USD", "DefaultPaymentTermsName": "Net45",
            "OnHoldStatus": "No", "SalesTaxGroupCode": "CA", "BankAccountId": "BOA-0001",
        })
        .as_object()
        .unwrap()
        .clone(),
    );
    h.sim.insert_record("VendorsV2", fields).unwrap();
    keys
}

/// The run changing vendor `keys`'s payment terms to Net30, built from the live record, not imported.
pub fn terms_run(h: &Harness, id: &str, keys: &Value, required_approvals: u32) -> GovernedRun {
    h.live_run(
        id,
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys.clone(),
        json!({"DefaultPaymentTermsName": "Net30"}),
        vec![],
        required_approvals,
        false,
    )
}

/// Standard output and standard error of a finished process.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Wait until `ready`, polling every 20 ms; after `limit` the test fails naming `what`.
pub async fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
