//! `signoff connector validate|sync-metadata|init`: onboarding checks for the F&O connection.

use std::fmt::Write as _;

use clap::Subcommand;
use serde::Serialize;

use crate::config::Config;
use crate::config::paths::resolve;
use crate::fno::diagnosis::{Problem, Scene, diagnose, of_mismatch};
use crate::fno::metadata::Catalog;
use crate::fno::{FnoClient, FnoError, FnoSettings, Mismatch, Query, describe_services, keys, parse_csdl, verify};
use crate::review::activation;
use crate::text::visible;

use super::output::{self, say};
use super::troubleshoot::{self, Report};
use super::{Context, Globals, exit};

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Get a token, make a cheap call to the instance, and check the app's F&O user mapping.
    Validate,
    /// Fetch $metadata and prove every managed entity set, allowlisted field and decision operation exists.
    SyncMetadata,
    /// Write a commented config template to the config path.
    Init {
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Save, validate and sync a connector in one call from an ActionPlane-style connect payload (JSON).
    Connect(super::connect::ConnectArgs),
    /// The five activation steps, each with its state and evidence, from the store's audit log.
    Status,
}

pub fn run(globals: &Globals, cmd: ConnectorCommand) -> anyhow::Result<u8> {
    match cmd {
        ConnectorCommand::Init { force } => init(globals, force),
        ConnectorCommand::Validate => {
            let ctx = Context::load(globals)?;
            runtime()?.block_on(validate(&ctx))
        }
        ConnectorCommand::SyncMetadata => {
            let ctx = Context::load(globals)?;
            runtime()?.block_on(sync_metadata(&ctx))
        }
        ConnectorCommand::Connect(args) => super::connect::run(globals, &args),
        ConnectorCommand::Status => super::connect::status(globals),
    }
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Resolve secrets and build the client; any failure is a message saying what to set.
pub(super) fn client_for(config: &Config) -> Result<FnoClient, String> {
    let settings = FnoSettings::resolve(config).map_err(|e| e.to_string())?;
    FnoClient::new(&settings).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Serialize)]
pub(super) struct Check {
    check: &'static str,
    outcome: Outcome,
    /// What was found, or on failure the cause and the fix.
    detail: String,
}

/// The checks of one `connector validate`, and the troubleshooting rows for the problems they met.
#[derive(Default)]
pub(super) struct Validation {
    checks: Vec<Check>,
    report: Report,
}

impl Validation {
    /// Whether every check passed: a skipped check either follows a failed one or does not apply (no
    /// TLS to the simulator).
    pub(super) fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    fn push(&mut self, check: &'static str, outcome: Outcome, detail: String) {
        self.checks.push(Check { check, outcome, detail });
    }

    /// A failed check, and the row for the problem behind it.
    fn fail(&mut self, check: &'static str, detail: String, problem: &Problem) {
        self.push(check, Outcome::Fail, detail);
        self.report.add(check, problem);
    }
}

/// What `connector validate --json` prints.
#[derive(Serialize)]
struct ValidateJson<'a> {
    checks: &'a [Check],
    troubleshooting: &'a [troubleshoot::Row],
    more_detail: String,
}

async fn validate(ctx: &Context) -> anyhow::Result<u8> {
    let v = validation(ctx).await;
    print_validation(ctx, &v)?;
    Ok(if v.passed() { exit::OK } else { exit::FAILURE })
}

/// Run the checks and record them in the audit log (`connector.validated`, an activation step).
pub(super) async fn validation(ctx: &Context) -> Validation {
    let config = &ctx.loaded.config;
    let mut v = Validation::default();
    match client_for(config) {
        Err(fix) => {
            v.fail("config", fix.clone(), &Problem::Config { message: fix });
            for name in ["token", "instance", "identity", "company", "network", "tls"] {
                v.push(name, Outcome::Skip, "not run: the config check failed".into());
            }
        }
        Ok(client) => {
            v.push("config", Outcome::Pass, format!("environment {}", client.base_url()));
            validate_live(&client, config, &mut v).await;
            report_connection(&client, &mut v);
        }
    }
    let failures: Vec<(&str, &str)> =
        v.checks.iter().filter(|c| c.outcome == Outcome::Fail).map(|c| (c.check, c.detail.as_str())).collect();
    record(ctx, |store, actor| activation::record_validated(store, actor, config, &failures));
    v
}

/// The checks and the troubleshooting rows for what they met, as text or (`--json`) one document.
pub(super) fn print_validation(ctx: &Context, v: &Validation) -> anyhow::Result<()> {
    let log_file = ctx.paths.log_file.display().to_string();
    if ctx.globals.json {
        let more_detail = troubleshoot::more_detail("connector validate", &log_file);
        return output::json(&ValidateJson { checks: &v.checks, troubleshooting: v.report.rows(), more_detail });
    }
    print_checks(&v.checks)?;
    output::text(&v.report.text("connector validate", &log_file))
}

/// Record an activation event; a store that cannot be written costs the record, not the check's answer.
fn record(
    ctx: &Context,
    write: impl FnOnce(&crate::store::Store, &str) -> Result<crate::store::AuditEvent, crate::store::StoreError>,
) {
    let result = ctx.open_store().and_then(|store| write(&store, &ctx.actor()));
    if let Err(e) = result {
        output::warn(&format!("warning: could not record this in the store's audit log: {e}"));
    }
}

async fn validate_live(client: &FnoClient, config: &Config, v: &mut Validation) {
    let client_id = config.auth.client_id.as_deref();
    let scene = |user| Scene { connection: client.connection(), client_id, user };
    if let Err(e) = client.token_check().await {
        v.fail("token", e.to_string(), &diagnose(&e, &scene(None)));
        for name in ["instance", "identity", "company"] {
            v.push(name, Outcome::Skip, "not run: no token".into());
        }
        return;
    }
    v.push("token", Outcome::Pass, format!("a token for the environment from {}", client.token_url()));
    let cheap = Query { top: Some(1), select: vec!["UserID".into()], ..Default::default() };
    if let Err(e) = client.query("SystemUsers", &cheap).await {
        v.fail("instance", e.to_string(), &diagnose(&e, &scene(None)));
        for name in ["identity", "company"] {
            v.push(name, Outcome::Skip, "not run: the instance check failed".into());
        }
        return;
    }
    v.push("instance", Outcome::Pass, "F&O answered GET /data/SystemUsers?$top=1".into());
    let user = check_identity(client, client_id, v).await;
    check_company(client, config, user.as_deref(), v).await;
}

/// The F&O user the app is mapped to (Microsoft Entra ID applications), when it can be read.
async fn check_identity(client: &FnoClient, client_id: Option<&str>, v: &mut Validation) -> Option<String> {
    let Some(client_id) = client_id else {
        v.push("identity", Outcome::Skip, "no auth.client_id (the VM's system-assigned identity): not checked".into());
        return None;
    };
    let mapping = Query {
        filter: Some(format!("AADClientId eq {}", keys::string_literal(client_id))),
        top: Some(1),
        ..Default::default()
    };
    let scene = Scene { connection: client.connection(), client_id: Some(client_id), user: None };
    match client.query("SysAADClients", &mapping).await {
        Ok(result) => match result.rows.first() {
            Some(row) => {
                let user = row.fields.get("UserId").map(ToString::to_string).unwrap_or_else(|| "?".into());
                v.push("identity", Outcome::Pass, format!("the app acts as F&O user {}", visible(&user)));
                Some(user)
            }
            None => {
                let url = client.base_url().to_string();
                v.fail(
                    "identity",
                    format!(
                        "client id {client_id} is not in Microsoft Entra ID applications: in F&O open System \
                         administration > Setup > Microsoft Entra ID applications, add it and map it to an enabled user"
                    ),
                    &Problem::AppNotMapped { url, client_id: Some(client_id.to_string()) },
                );
                None
            }
        },
        Err(FnoError::Forbidden { .. } | FnoError::NotFound { .. }) => {
            v.push(
                "identity",
                Outcome::Pass,
                "SysAADClients is not readable by this user; the working instance call shows the app is mapped".into(),
            );
            None
        }
        Err(e) => {
            v.fail("identity", e.to_string(), &diagnose(&e, &scene));
            None
        }
    }
}

/// Read each managed entity set in the app user's default company: an empty answer while other companies
/// hold rows is the classic "wrong default company"; a 403 names the entity whose privilege is missing.
async fn check_company(client: &FnoClient, config: &Config, user: Option<&str>, v: &mut Validation) {
    let scene = Scene { connection: client.connection(), client_id: config.auth.client_id.as_deref(), user };
    let company = match user {
        Some(user) => user_company(client, user).await,
        None => None,
    };
    let mut sets: Vec<&str> = config.managed_objects.values().map(|m| m.entity_set.as_str()).collect();
    sets.sort_unstable();
    sets.dedup();
    let (mut empty, mut found_in, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    let first = Query { top: Some(1), ..Default::default() };
    for set in &sets {
        let rows = match client.query(set, &first).await {
            Ok(r) => r.rows,
            Err(e) => {
                failed.push((e.to_string(), diagnose(&e, &scene)));
                continue;
            }
        };
        if !rows.is_empty() {
            continue;
        }
        let everywhere = Query { top: Some(1), cross_company: true, ..Default::default() };
        if let Ok(r) = client.query(set, &everywhere).await
            && let Some(row) = r.rows.first()
        {
            empty.push(set.to_string());
            let other = row.fields.get("dataAreaId").map(ToString::to_string).unwrap_or_else(|| "?".into());
            if !found_in.contains(&other) {
                found_in.push(other);
            }
        }
    }
    let company_text = company.clone().unwrap_or_else(|| "not readable".into());
    if !empty.is_empty() {
        let problem = Problem::EmptyReads {
            user: user.map(str::to_string),
            company: company_text.clone(),
            entity_sets: empty.clone(),
            found_in: found_in.clone(),
        };
        let detail = format!(
            "default company {company_text}: no rows in {} (company {} has some)",
            empty.join(", "),
            found_in.join(", ")
        );
        v.fail("company", detail, &problem);
    }
    for (detail, problem) in &failed {
        v.fail("company", detail.clone(), problem);
    }
    if empty.is_empty() && failed.is_empty() {
        let mut detail = format!("default company {company_text}; {} managed entity set(s) read", sets.len());
        if let (Some(configured), Some(actual)) = (&config.environment.default_company, &company)
            && !configured.eq_ignore_ascii_case(actual)
        {
            write!(detail, "; note: [environment] default_company is {configured}").ok();
        }
        v.push("company", Outcome::Pass, detail);
    }
}

/// The default company (`Company`) of F&O user `user`, if this user may read it.
async fn user_company(client: &FnoClient, user: &str) -> Option<String> {
    let query = Query {
        filter: Some(format!("UserID eq {}", keys::string_literal(user))),
        select: vec!["UserID".into(), "Company".into()],
        top: Some(1),
        ..Default::default()
    };
    let rows = client.query("SystemUsers", &query).await.ok()?.rows;
    rows.first()?.fields.get("Company").map(|c| c.to_string().to_lowercase())
}

/// The proxy and trust used, and what each TLS handshake showed (or why it was refused).
fn report_connection(client: &FnoClient, v: &mut Validation) {
    let connection = client.connection();
    let fno = client.base_url();
    let token = client.token_url();
    let mut route = format!("F&O: {}", connection.proxy.describe(fno));
    if token.host_str() != fno.host_str() || token.port_or_known_default() != fno.port_or_known_default() {
        write!(route, "; token endpoint: {}", connection.proxy.describe(token)).ok();
    }
    write!(route, "; trust: {}", connection.trust).ok();
    v.push("network", Outcome::Pass, route);
    let handshakes = connection.tls.handshakes();
    if handshakes.is_empty() {
        let why = if fno.scheme() == "http" && token.scheme() == "http" {
            "plain http to loopback (the simulator): no TLS"
        } else {
            "no TLS handshake was made"
        };
        v.push("tls", Outcome::Skip, why.into());
        return;
    }
    let mut refused = Vec::new();
    let lines: Vec<String> = handshakes
        .iter()
        .map(|(host, h)| match &h.refused {
            Some(fault) => {
                refused.push(Problem::Tls { host: host.clone(), fault: fault.clone() });
                format!("{host}: refused: {fault} (chain: {})", h.chain.join(" <- "))
            }
            None => format!(
                "{host}: {}, chain: {}; key pin (pinned_sha256) {}",
                if h.version.is_empty() { "TLS" } else { &h.version },
                h.chain.join(" <- "),
                h.spki_pin
            ),
        })
        .collect();
    let outcome = if refused.is_empty() { Outcome::Pass } else { Outcome::Fail };
    v.push("tls", outcome, lines.join(" | "));
    for problem in &refused {
        v.report.add("tls", problem);
    }
}

fn print_checks(checks: &[Check]) -> anyhow::Result<()> {
    let mut out = String::new();
    writeln!(out, "{:<10} {:<6} DETAIL / FIX", "CHECK", "RESULT")?;
    for c in checks {
        let outcome = match c.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        };
        writeln!(out, "{:<10} {:<6} {}", c.check, outcome, visible(&c.detail))?;
    }
    output::text(&out)
}

/// What `connector sync-metadata` found (`--json` prints it as it is).
#[derive(Debug, Serialize)]
pub(super) struct SyncReport {
    /// What the catalog holds; none when `$metadata` could not be read.
    summary: Option<String>,
    /// Why the sync could not run, if it could not.
    error: Option<String>,
    mismatches: Vec<Mismatch>,
    troubleshooting: Vec<troubleshoot::Row>,
    more_detail: String,
    /// When the catalog was stored, if it was.
    #[serde(skip)]
    synced_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl SyncReport {
    /// The catalog was read and stored, and the config matches it.
    pub(super) fn passed(&self) -> bool {
        self.error.is_none() && self.mismatches.is_empty()
    }
}

async fn sync_metadata(ctx: &Context) -> anyhow::Result<u8> {
    let report = sync_report(ctx).await?;
    print_sync(ctx, &report)?;
    Ok(if report.passed() { exit::OK } else { exit::FAILURE })
}

/// Fetch, store and verify the catalog, and record the sync in the audit log (`metadata.synced`, an
/// activation step). F&O's (or the config's) refusal is the report's `error`, with its troubleshooting.
pub(super) async fn sync_report(ctx: &Context) -> anyhow::Result<SyncReport> {
    let config = &ctx.loaded.config;
    let mut report = Report::default();
    let log_file = ctx.paths.log_file.display().to_string();
    let more_detail = troubleshoot::more_detail("connector sync-metadata", &log_file);
    let failed = |message: String, report: Report| -> SyncReport {
        record(ctx, |store, actor| activation::record_synced(store, actor, config, Err(&message)));
        SyncReport {
            summary: None,
            error: Some(message),
            mismatches: Vec::new(),
            troubleshooting: report.rows().to_vec(),
            more_detail: more_detail.clone(),
            synced_at: None,
        }
    };
    let client = match client_for(config) {
        Ok(c) => c,
        Err(fix) => {
            report.add("config", &Problem::Config { message: fix.clone() });
            return Ok(failed(fix, report));
        }
    };
    let scene = Scene { connection: client.connection(), client_id: config.auth.client_id.as_deref(), user: None };
    let mut catalog = match fetch_catalog(&client).await {
        Ok(c) => c,
        Err(e) => {
            let message = e.to_string();
            if let CatalogError::Fno(e) = &e {
                report.add("metadata", &diagnose(e, &scene));
            } else {
                report.add("metadata", &Problem::FnoFailed { message: message.clone() });
            }
            return Ok(failed(message, report));
        }
    };
    let mut mismatches = verify(&catalog, config);
    // `$metadata` does not list custom services: the ones F&O described are stored with it, so policy
    // and rollback readiness can find a decision operation that is a custom service.
    let (services, service_mismatches) = describe_services(&client, config).await;
    catalog.services = services;
    mismatches.extend(service_mismatches);
    for m in &mismatches {
        report.add("metadata", &of_mismatch(m));
    }
    // The catalog is stored even with mismatches: it is what F&O really has, and policy and rollback
    // readiness read it (a configured operation F&O lacks then shows as "not ready").
    let store = ctx.open_store()?;
    let synced_at = store.save_catalog(&crate::fno::metadata::catalog_to_json(&catalog)?, &ctx.actor())?;
    tracing::info!(%synced_at, "metadata catalog stored");
    let found: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    activation::record_synced(&store, &ctx.actor(), config, Ok(&found))?;
    Ok(SyncReport {
        summary: Some(catalog.summary()),
        error: None,
        mismatches,
        troubleshooting: report.rows().to_vec(),
        more_detail,
        synced_at: Some(synced_at),
    })
}

/// The sync's report as text or (`--json`) one document, F&O's refusal and the troubleshooting rows
/// included.
pub(super) fn print_sync(ctx: &Context, report: &SyncReport) -> anyhow::Result<()> {
    if ctx.globals.json {
        return output::json(report);
    }
    let log_file = ctx.paths.log_file.display().to_string();
    let config = &ctx.loaded.config;
    let mut out = String::new();
    if let Some(message) = &report.error {
        output::warn(&format!("error: {message}"));
    }
    if let (Some(summary), Some(at)) = (&report.summary, report.synced_at) {
        writeln!(out, "catalog: {summary}")?;
        writeln!(
            out,
            "stored in {} at {}",
            ctx.store_location().map(|l| l.shown()).unwrap_or_default(),
            at.to_rfc3339()
        )?;
        let (objects, operations) = (config.managed_objects.len(), config.operations.len());
        if report.mismatches.is_empty() {
            writeln!(out, "ok: {objects} managed object(s) and {operations} operation(s) verified")?;
        } else {
            writeln!(out, "{} mismatch(es) between the config and F&O:", report.mismatches.len())?;
            for m in &report.mismatches {
                writeln!(out, "  - {}", visible(&m.to_string()))?;
            }
        }
    }
    out.push_str(&Report::of_rows(report.troubleshooting.clone()).text("connector sync-metadata", &log_file));
    output::text(&out)
}

/// Why `$metadata` could not be had: F&O's answer, or a document signoff cannot read.
#[derive(Debug, thiserror::Error)]
enum CatalogError {
    #[error(transparent)]
    Fno(#[from] FnoError),
    #[error(transparent)]
    Csdl(#[from] crate::fno::metadata::CsdlError),
}

async fn fetch_catalog(client: &FnoClient) -> Result<Catalog, CatalogError> {
    let xml = client.metadata_xml().await?;
    Ok(parse_csdl(&xml)?)
}

fn init(globals: &Globals, force: bool) -> anyhow::Result<u8> {
    let paths = resolve(globals.config.as_deref());
    let path = &paths.config_file;
    if path.exists() && !force {
        output::warn(&format!("error: {} already exists; pass --force to overwrite it", path.display()));
        return Ok(exit::FAILURE);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_owner_only(path, crate::config::template())?;
    say!("wrote {}; edit it, then run `signoff connector validate`", path.display())?;
    Ok(exit::OK)
}

/// The config may later hold a plain secret, so it starts readable by its owner only.
fn write_owner_only(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())
}
