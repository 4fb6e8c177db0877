//! Shared set-up for the decision pipeline tests: the real simulator on loopback, a real SQLite store
//! in a tempdir, a USMF sandbox config with the simulator's decision operations, and runs whose before
//! snapshot is the simulator's current record (so they re-validate cleanly unless a test changes F&O).
#![allow(dead_code)]

pub mod agent;
// The store tests' backends, for the harness's store; a binary that also holds store_common has the file
// twice (two distinct types, never mixed).
#[allow(clippy::duplicate_mod)]
#[path = "../store_common/backends.rs"]
pub mod backends;
pub mod chain;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use signoff::config::secret::Secret;
use signoff::config::{Config, ManagedObject, Operation, OperationKind};
use signoff::fno::metadata::catalog_to_json;
use signoff::fno::{FnoClient, FnoSettings, parse_csdl};
use signoff::model::{GovernedRun, RunId, parse_run};
use signoff::review::{Cancel, DecisionKind, DecisionRequest, Outcome, ProgressSink, Reviewer, no_progress};
use signoff::sim::{Dialect, LoggedRequest, SimOptions, Simulator};
use signoff::store::Store;

pub const REQUESTER: &str = "tony.krijnen@contoso.com";
pub const APPROVER: &str = "julia.funderburk@contoso.com";
pub const SECOND: &str = "alicia.thornber@contoso.com";

pub struct Harness {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
    /// The SQLite file (a store on PostgreSQL has none: see [`Harness::db`]).
    pub store_path: PathBuf,
    /// The store itself, on either backend: open it, or edit it past signoff as a tamperer would.
    pub db: backends::TestDb,
    pub config: Arc<Config>,
    pub client: Arc<FnoClient>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn bound(set: &str, action: &str, params: &[(&str, &str)]) -> Operation {
    Operation {
        kind: OperationKind::BoundAction,
        entity_set: Some(set.into()),
        action: Some(action.into()),
        service: None,
        parameters: params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        returns: None,
        mode: None,
        handover_fields: None,
    }
}

/// The USMF sandbox config pointing at the simulator.
pub fn config_for(base: &str, options: &SimOptions) -> Config {
    let mut c = Config::default();
    c.environment.name = "usmf-sandbox".into();
    c.environment.url = Some(base.into());
    c.environment.max_retries = 3;
    c.environment.max_retry_wait_secs = 10;
    c.environment.timeout_secs = 5;
    c.auth.tenant = Some(options.tenant.clone());
    c.auth.client_id = Some(options.client_id.clone());
    c.auth.authority_host = Some(base.into());
    c.approver.groups = strings(&["ap-approvers", "gl-approvers", "vendor-master-stewards", "it-security"]);
    let object = |set: &str, fields: &[&str], lines: Option<(&str, &[&str])>| ManagedObject {
        entity_set: set.into(),
        fields: strings(fields),
        line_entity_set: lines.map(|(s, _)| s.to_string()),
        line_fields: lines.map(|(_, f)| strings(f)).unwrap_or_default(),
        high_risk_fields: Vec::new(),
        ..ManagedObject::default()
    };
    c.managed_objects.insert(
        "vendor".into(),
        object("VendorsV2", &["BankAccountId", "DefaultPaymentTermsName", "OnHoldStatus"], None),
    );
    c.managed_objects.insert(
        "vendor_invoice".into(),
        object(
            "VendorInvoiceHeaders",
            &["DueDate", "InvoiceDescription"],
            Some(("VendorInvoiceLines", &["MainAccountDisplayValue", "DimensionDisplayValue"])),
        ),
    );
    c.managed_objects.insert(
        "ledger_journal".into(),
        object(
            "LedgerJournalHeaders",
            &["Description"],
            Some(("LedgerJournalLines", &["Text", "AccountDisplayValue"])),
        ),
    );
    c.managed_objects.insert("user".into(), object("SystemUsers", &["Enabled"], None));
    let comment = [("comment", "_comment")];
    c.operations.insert("invoice_approve".into(), bound("VendorInvoiceHeaders", "signoffApprove", &comment));
    c.operations.insert("invoice_reject".into(), bound("VendorInvoiceHeaders", "signoffReject", &comment));
    c.operations.insert("invoice_recall".into(), bound("VendorInvoiceHeaders", "signoffRecall", &comment));
    c.operations.insert("journal_post".into(), bound("LedgerJournalHeaders", "signoffPost", &comment));
    c.operations.insert("journal_reject".into(), bound("LedgerJournalHeaders", "signoffReject", &comment));
    c.operations.insert(
        "journal_reverse".into(),
        bound("LedgerJournalHeaders", "signoffReverse", &[("comment", "_comment"), ("reversal_date", "_reversalDate")]),
    );
    c
}

/// A client for the simulator (the secret given directly, as the config's secret source would).
pub fn client_for(config: &Config, options: &SimOptions) -> FnoClient {
    let settings = FnoSettings::from_config(
        &config.environment,
        &config.auth,
        Some(Secret::new(options.client_secret.clone())),
        None,
    )
    .unwrap();
    FnoClient::new(&settings).unwrap()
}

impl Harness {
    /// The harness config written as a TOML file a `signoff` process can load, its secret read from the
    /// environment variable `secret_var` (the test sets it on the process).
    pub fn write_config(&self, secret_var: &str) -> PathBuf {
        let mut config = (*self.config).clone();
        config.auth.client_secret_env = Some(secret_var.into());
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
        path
    }

    /// The payload digest of run `id` as stored: what an approver who opened it was shown.
    pub fn digest_of(&self, id: &str) -> String {
        self.store().get(&RunId::from(id)).unwrap().map(|s| s.digest).unwrap_or_default()
    }

    pub async fn start() -> Harness {
        Harness::start_with(SimOptions::default(), |_| {}).await
    }

    pub async fn start_with(options: SimOptions, tweak: impl FnOnce(&mut Config)) -> Harness {
        let sim = Simulator::start(options.clone()).await.unwrap();
        let mut config = config_for(&sim.base_url(), &options);
        tweak(&mut config);
        let client = client_for(&config, &options);
        let dir = tempfile::tempdir().unwrap();
        let store_path = dir.path().join("store.db");
        let db = backends::TestDb::Sqlite(store_path, None);
        Harness::synced(sim, dir, db, config, client).await
    }

    /// One harness per store backend (SQLite, and PostgreSQL when the test cluster is there): the same
    /// simulator set-up, the pipeline's store on each.
    pub async fn each_backend(test: &str) -> Vec<Harness> {
        Harness::each_backend_with(test, |_| {}).await
    }

    /// As [`Harness::each_backend`], `tweak` adjusting each config.
    pub async fn each_backend_with(test: &str, tweak: impl Fn(&mut Config)) -> Vec<Harness> {
        let mut out = Vec::new();
        for db in backends::TestDb::all(test) {
            let options = SimOptions::default();
            let sim = Simulator::start(options.clone()).await.unwrap();
            let mut config = config_for(&sim.base_url(), &options);
            tweak(&mut config);
            let client = client_for(&config, &options);
            out.push(Harness::synced(sim, tempfile::tempdir().unwrap(), db, config, client).await);
        }
        out
    }

    /// A simulator speaking `dialect`, and signoff configured as that dialect's customer would: the
    /// file `fixtures/config/sim/<dialect>.toml` with the simulator's address filled in, loaded by the
    /// real config loader, its secret read from the owner-only file the config names.
    pub async fn start_dialect(dialect: Dialect) -> Harness {
        Harness::start_dialect_with(SimOptions::for_dialect(dialect), |_| {}).await
    }

    /// As [`Harness::start_dialect`] for `options.dialect`; `tweak` adjusts the loaded config (a shorter
    /// timeout, say) the way a customer would edit the file.
    pub async fn start_dialect_with(options: SimOptions, tweak: impl FnOnce(&mut Config)) -> Harness {
        let sim = Simulator::start(options.clone()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/config/sim")
            .join(format!("{}.toml", options.dialect.name()));
        let text = std::fs::read_to_string(&fixture).unwrap().replace("{{BASE_URL}}", &sim.base_url());
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, text).unwrap();
        let secret_path = dir.path().join("client-secret");
        std::fs::write(&secret_path, format!("{}\n", options.client_secret)).unwrap();
        std::fs::set_permissions(&secret_path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

        let loaded = signoff::config::load::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let mut config = loaded.config;
        tweak(&mut config);
        let source = config.auth.client_secret_source().expect("the fixture names a client secret source");
        let secret = signoff::config::secret::resolve(&source).unwrap_or_else(|e| panic!("{e}"));
        let settings = FnoSettings::from_config(&config.environment, &config.auth, Some(secret), None).unwrap();
        let client = FnoClient::new(&settings).unwrap();
        let store_path = config.store.path.clone().expect("the fixture names its store");
        Harness::synced(sim, dir, backends::TestDb::Sqlite(store_path, None), config, client).await
    }

    /// Open the store and record the metadata sync an operator runs once, then forget the set-up requests.
    async fn synced(
        sim: Simulator,
        dir: tempfile::TempDir,
        db: backends::TestDb,
        config: Config,
        client: FnoClient,
    ) -> Harness {
        let store = db.open();
        // The metadata sync an operator runs once (`connector sync-metadata`): `$metadata`, and every
        // configured custom service described, form the catalog policy checks fields and operations against.
        let mut catalog = parse_csdl(&client.metadata_xml().await.unwrap()).unwrap();
        let (services, mismatches) = signoff::fno::verify::describe_services(&client, &config).await;
        assert!(mismatches.is_empty(), "the config's custom services exist: {mismatches:?}");
        catalog.services = services;
        store.save_catalog(&catalog_to_json(&catalog).unwrap(), "operator").unwrap();
        let store_path = db.location().file().map(PathBuf::from).unwrap_or_default();
        let harness = Harness { sim, dir, store_path, db, config: Arc::new(config), client: Arc::new(client) };
        harness.sim.clear_requests();
        harness
    }

    pub fn reviewer(&self, approver: &str) -> Reviewer {
        Reviewer::new(self.db.location(), Arc::clone(&self.config), Arc::new(self.client.fork(false)), approver)
    }

    /// A reviewer whose decisions are signed through `signer` (the config must name allowed signers).
    pub fn signed_reviewer(&self, approver: &str, signer: Arc<dyn signoff::sign::Signer>) -> Reviewer {
        let memory = signoff::review::checkpoint::Memory::in_state_dir(&self.dir.path().join("state"));
        self.reviewer(approver).with_signer(signer).with_memory(memory)
    }

    /// Decide through a reviewer that signs with `signer`.
    pub async fn decide_signed(
        &self,
        approver: &str,
        signer: Arc<dyn signoff::sign::Signer>,
        id: &str,
        kind: DecisionKind,
    ) -> Outcome {
        let request = DecisionRequest {
            run_id: RunId::from(id),
            kind,
            reason: format!("{} after checking the supporting documents", kind.as_str()),
            dry_run: false,
            confirm_environment: None,
            reviewed_digest: self.digest_of(id),
        };
        let reviewer = self.signed_reviewer(approver, signer);
        reviewer.decide(&request, &no_progress(), &Cancel::new()).await.unwrap()
    }

    pub fn store(&self) -> Store {
        self.db.open()
    }

    /// Build a run whose before snapshot is the simulator's current record (and lines), and import it.
    #[allow(clippy::too_many_arguments)]
    pub fn propose(
        &self,
        id: &str,
        action: &str,
        set: &str,
        keys: Value,
        fields: Value,
        lines: Vec<(Value, Value)>,
        required_approvals: u32,
    ) -> GovernedRun {
        self.propose_opts(id, action, set, keys, fields, lines, required_approvals, true)
    }

    /// As [`Harness::propose`]; `capture_lines` false gives a header-only run (a single record).
    #[allow(clippy::too_many_arguments)]
    pub fn propose_opts(
        &self,
        id: &str,
        action: &str,
        set: &str,
        keys: Value,
        fields: Value,
        lines: Vec<(Value, Value)>,
        required_approvals: u32,
        capture_lines: bool,
    ) -> GovernedRun {
        let run = self.live_run(id, action, set, keys, fields, lines, required_approvals, capture_lines);
        self.store().import(std::slice::from_ref(&run), REQUESTER).unwrap();
        run
    }

    /// The run [`Harness::propose_opts`] imports, built from the simulator's current record and not
    /// imported anywhere (for a test that imports it elsewhere, e.g. through the binary).
    #[allow(clippy::too_many_arguments)]
    pub fn live_run(
        &self,
        id: &str,
        action: &str,
        set: &str,
        keys: Value,
        fields: Value,
        lines: Vec<(Value, Value)>,
        required_approvals: u32,
        capture_lines: bool,
    ) -> GovernedRun {
        let record = self.sim.record(set, &keys).unwrap_or_else(|| panic!("no {set} {keys} in the simulator"));
        let etag = record["@odata.etag"].as_str().unwrap().to_string();
        let before_fields = strip(&record);
        let line_set = match set {
            _ if !capture_lines => None,
            "LedgerJournalHeaders" => Some(("LedgerJournalLines", "LineNumber")),
            "VendorInvoiceHeaders" => Some(("VendorInvoiceLines", "InvoiceLineNumber")),
            _ => None,
        };
        let mut before_lines = Vec::new();
        if let Some((lset, lkey)) = line_set {
            for line in self.sim.records(lset) {
                if keys.as_object().unwrap().iter().all(|(k, v)| line[k.as_str()] == *v) {
                    let mut lkeys = keys.as_object().unwrap().clone();
                    lkeys.insert(lkey.into(), line[lkey].clone());
                    before_lines.push(json!({
                        "keys": lkeys, "etag": line["@odata.etag"], "fields": strip(&line)
                    }));
                }
            }
        }
        let now = Utc::now();
        let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let proposed_lines: Vec<Value> = lines.into_iter().map(|(k, f)| json!({ "keys": k, "fields": f })).collect();
        let mut before = json!({ "etag": etag, "captured_at": ts(now - Duration::hours(2)), "fields": before_fields });
        if !before_lines.is_empty() {
            before["lines"] = Value::Array(before_lines);
        }
        let managed = match set {
            "VendorsV2" => "vendor",
            "VendorInvoiceHeaders" => "vendor_invoice",
            "LedgerJournalHeaders" => "ledger_journal",
            _ => "user",
        };
        let mut proposed = json!({ "fields": fields });
        if !proposed_lines.is_empty() {
            proposed["lines"] = Value::Array(proposed_lines);
        }
        let run = json!({
            "format": "signoff.run/v1",
            "id": id,
            "action": action,
            "environment": "usmf-sandbox",
            "requester": { "id": REQUESTER, "kind": "person" },
            "requested_at": ts(now - Duration::hours(1)),
            "expires_at": ts(now + Duration::days(7)),
            "justification": "Month-end close, reviewed against the supporting documents",
            "target": { "entity_set": set, "managed_object": managed, "keys": keys },
            "before": before,
            "proposed": proposed,
            "route": { "required_approvals": required_approvals, "eligible_groups": ["ap-approvers", "gl-approvers", "vendor-master-stewards", "it-security"] }
        });
        parse_run(&run.to_string(), id).unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn decide(&self, approver: &str, id: &str, kind: DecisionKind, dry_run: bool) -> Outcome {
        self.decide_with(approver, id, kind, dry_run, no_progress()).await
    }

    /// Decide, reporting progress to `progress` (tests use it to act at a precise step).
    pub async fn decide_with(
        &self,
        approver: &str,
        id: &str,
        kind: DecisionKind,
        dry_run: bool,
        progress: ProgressSink,
    ) -> Outcome {
        let request = DecisionRequest {
            run_id: RunId::from(id),
            kind,
            reason: format!("{} after checking the supporting documents", kind.as_str()),
            dry_run,
            confirm_environment: None,
            reviewed_digest: self.digest_of(id),
        };
        self.reviewer(approver).decide(&request, &progress, &Cancel::new()).await.unwrap()
    }

    /// Requests to F&O's data and service endpoints (token requests left out).
    pub fn data_requests(&self) -> Vec<LoggedRequest> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.target.starts_with("/data") || r.target.starts_with("/api"))
            .collect()
    }

    /// Requests that write (anything but GET), token requests left out.
    pub fn writes(&self) -> Vec<LoggedRequest> {
        self.data_requests().into_iter().filter(|r| r.method != "GET").collect()
    }

    pub fn token_requests(&self) -> usize {
        self.sim.requests().iter().filter(|r| r.target.contains("/oauth2/")).count()
    }

    pub fn status(&self, id: &str) -> String {
        self.store().status(&RunId::from(id)).unwrap().unwrap().to_string()
    }
}

/// A record's fields without OData annotations and RecId.
fn strip(record: &Value) -> Map<String, Value> {
    record
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.contains('@') && *k != "RecId")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The journal 00123 (two balanced lines, 1,840.00) as a post-journal run with no corrections.
pub fn propose_journal_00123(h: &Harness, id: &str) -> Value {
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123"});
    h.propose(id, "dynamicsfinance.post-journal", "LedgerJournalHeaders", keys.clone(), json!({}), vec![], 1);
    keys
}

/// Vendor US-104's payment terms change as an update-vendor run.
pub fn propose_vendor_us104(h: &Harness, id: &str, required: u32) -> Value {
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    // Pin the starting state the tests assert on, whatever the seed holds.
    h.sim
        .edit_record("VendorsV2", &keys, json!({"DefaultPaymentTermsName": "Net45", "BankAccountId": "TP-BOA"}))
        .unwrap();
    h.sim.clear_requests();
    h.propose(
        id,
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys.clone(),
        json!({"DefaultPaymentTermsName": "Net30"}),
        vec![],
        required,
    );
    keys
}

/// The simulator harness with decisions signed against an allowed-signers file in the agent's tempdir
/// (written by the test with [`agent::write_allowed_signers`]; it is read at every decision).
pub async fn signed_harness(agent: &agent::Agent) -> (Harness, std::path::PathBuf) {
    let allowed = agent.dir.path().join("allowed_signers");
    let path = allowed.clone();
    let h = Harness::start_with(signoff::sim::SimOptions::default(), move |c| c.approver.allowed_signers = Some(path))
        .await;
    (h, allowed)
}

/// [`signed_harness`] on each store backend (one allowed-signers file for all).
pub async fn signed_harnesses(agent: &agent::Agent, test: &str) -> (Vec<Harness>, std::path::PathBuf) {
    let allowed = agent.dir.path().join("allowed_signers");
    let harnesses = Harness::each_backend_with(test, |c| c.approver.allowed_signers = Some(allowed.clone())).await;
    (harnesses, allowed)
}

/// The reason of a refusal; any other outcome fails the test.
pub fn refusal(outcome: &signoff::review::Outcome) -> &str {
    match outcome {
        signoff::review::Outcome::Refused { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
