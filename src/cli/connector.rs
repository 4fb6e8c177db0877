//! `signoff connector validate|sync-metadata|init`: onboarding checks for the F&O connection.

use std::fmt::Write as _;

use clap::Subcommand;
use serde::Serialize;

use crate::config::Config;
use crate::config::paths::resolve;
use crate::fno::metadata::Catalog;
use crate::fno::{FnoClient, FnoError, FnoSettings, Mismatch, Query, describe_services, keys, parse_csdl, verify};
use crate::review::activation;
use crate::text::visible;

use super::output::{self, say};
use super::{Context, Globals, exit};

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Get a token, make a cheap call to the instance, and check the app's F&O user mapping.
    Validate,
    /// Fetch $metadata and prove every managed entity set, allowlisted field and decision operation exists.
    SyncMetadata,
    /// Save, validate and sync a connector in one call from an ActionPlane-style connect payload (JSON).
    Connect(super::connect::ConnectArgs),
    /// The five activation steps, each with its state and evidence, from the store's audit log.
    Status,
    /// Write a commented config template to the config path.
    Init {
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(globals: &Globals, cmd: ConnectorCommand) -> anyhow::Result<u8> {
    match cmd {
        ConnectorCommand::Init { force } => init(globals, force),
        ConnectorCommand::Connect(args) => super::connect::run(globals, &args),
        ConnectorCommand::Status => super::connect::status(globals),
        ConnectorCommand::Validate => {
            let ctx = Context::load(globals)?;
            runtime()?.block_on(validate(&ctx))
        }
        ConnectorCommand::SyncMetadata => {
            let ctx = Context::load(globals)?;
            runtime()?.block_on(sync_metadata(&ctx))
        }
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

async fn validate(ctx: &Context) -> anyhow::Result<u8> {
    let checks = validate_checks(ctx).await;
    print_checks(ctx.globals.json, &checks)?;
    Ok(if passed(&checks) { exit::OK } else { exit::FAILURE })
}

/// Whether every check passed: a skipped check either follows a failed one or does not apply (no TLS to
/// the simulator).
pub(super) fn passed(checks: &[Check]) -> bool {
    !checks.iter().any(|c| c.outcome == Outcome::Fail)
}

/// Run the checks and record them in the audit log (`connector.validated`, an activation step).
pub(super) async fn validate_checks(ctx: &Context) -> Vec<Check> {
    let config = &ctx.loaded.config;
    let mut checks = Vec::new();
    let mut push = |check, outcome, detail: String| checks.push(Check { check, outcome, detail });
    match client_for(config) {
        Err(fix) => {
            push("config", Outcome::Fail, fix);
            for name in ["token", "instance", "identity", "network", "tls"] {
                push(name, Outcome::Skip, "not run: the config check failed".into());
            }
        }
        Ok(client) => {
            push("config", Outcome::Pass, format!("environment {}", client.base_url()));
            validate_live(&client, config, &mut push).await;
            report_connection(&client, &mut push);
        }
    }
    let failures: Vec<(&str, &str)> =
        checks.iter().filter(|c| c.outcome == Outcome::Fail).map(|c| (c.check, c.detail.as_str())).collect();
    record(ctx, |store, actor| activation::record_validated(store, actor, config, &failures));
    checks
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

async fn validate_live(client: &FnoClient, config: &Config, push: &mut impl FnMut(&'static str, Outcome, String)) {
    if let Err(e) = client.token_check().await {
        push("token", Outcome::Fail, e.to_string());
        push("instance", Outcome::Skip, "not run: no token".into());
        push("identity", Outcome::Skip, "not run: no token".into());
        return;
    }
    push("token", Outcome::Pass, format!("a token for the environment from {}", client.token_url()));
    let cheap = Query { top: Some(1), select: vec!["UserID".into()], ..Default::default() };
    if let Err(e) = client.query("SystemUsers", &cheap).await {
        push("instance", Outcome::Fail, e.to_string());
        push("identity", Outcome::Skip, "not run: the instance check failed".into());
        return;
    }
    push("instance", Outcome::Pass, "F&O answered GET /data/SystemUsers?$top=1".into());
    let Some(client_id) = config.auth.client_id.clone() else {
        push("identity", Outcome::Skip, "no auth.client_id (the VM's system-assigned identity): not checked".into());
        return;
    };
    let mapping = Query {
        filter: Some(format!("AADClientId eq {}", keys::string_literal(&client_id))),
        top: Some(1),
        ..Default::default()
    };
    match client.query("SysAADClients", &mapping).await {
        Ok(result) => match result.rows.first() {
            Some(row) => {
                let user = row.fields.get("UserId").map(ToString::to_string).unwrap_or_else(|| "?".into());
                push("identity", Outcome::Pass, format!("the app acts as F&O user {}", visible(&user)));
            }
            None => push(
                "identity",
                Outcome::Fail,
                format!(
                    "client id {client_id} is not in Microsoft Entra ID applications: in F&O open System administration > \
                     Setup > Microsoft Entra ID applications, add it and map it to an enabled user"
                ),
            ),
        },
        Err(FnoError::Forbidden { .. } | FnoError::NotFound { .. }) => push(
            "identity",
            Outcome::Pass,
            "SysAADClients is not readable by this user; the working instance call shows the app is mapped".into(),
        ),
        Err(e) => push("identity", Outcome::Fail, e.to_string()),
    }
}

/// The proxy and trust used, and what each TLS handshake showed (or why it was refused).
fn report_connection(client: &FnoClient, push: &mut impl FnMut(&'static str, Outcome, String)) {
    let connection = client.connection();
    let fno = client.base_url();
    let token = client.token_url();
    let mut route = format!("F&O: {}", connection.proxy.describe(fno));
    if token.host_str() != fno.host_str() || token.port_or_known_default() != fno.port_or_known_default() {
        write!(route, "; token endpoint: {}", connection.proxy.describe(token)).ok();
    }
    write!(route, "; trust: {}", connection.trust).ok();
    push("network", Outcome::Pass, route);
    let handshakes = connection.tls.handshakes();
    if handshakes.is_empty() {
        let why = if fno.scheme() == "http" && token.scheme() == "http" {
            "plain http to loopback (the simulator): no TLS"
        } else {
            "no TLS handshake was made"
        };
        push("tls", Outcome::Skip, why.into());
        return;
    }
    let mut refused = false;
    let lines: Vec<String> = handshakes
        .iter()
        .map(|(host, h)| match &h.refused {
            Some(fault) => {
                refused = true;
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
    push("tls", if refused { Outcome::Fail } else { Outcome::Pass }, lines.join(" | "));
}

pub(super) fn print_checks(json: bool, checks: &[Check]) -> anyhow::Result<()> {
    if json {
        return output::json(checks);
    }
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

#[derive(Debug, Serialize)]
pub(super) struct SyncReport {
    summary: String,
    mismatches: Vec<Mismatch>,
    #[serde(skip)]
    synced_at: chrono::DateTime<chrono::Utc>,
}

async fn sync_metadata(ctx: &Context) -> anyhow::Result<u8> {
    let report = match sync_report(ctx).await? {
        Ok(report) => report,
        Err(message) => {
            output::warn(&format!("error: {message}"));
            return Ok(exit::FAILURE);
        }
    };
    print_sync(ctx, &report)?;
    Ok(if report.mismatches.is_empty() { exit::OK } else { exit::FAILURE })
}

/// Fetch, store and verify the catalog, and record the sync in the audit log (`metadata.synced`, an
/// activation step). The inner error is F&O's (or the config's) answer, for the user.
pub(super) async fn sync_report(ctx: &Context) -> anyhow::Result<Result<SyncReport, String>> {
    let config = &ctx.loaded.config;
    let fetched = match client_for(config) {
        Ok(client) => fetch_catalog(&client).await.map(|catalog| (client, catalog)),
        Err(fix) => Err(fix),
    };
    let (client, mut catalog) = match fetched {
        Ok(pair) => pair,
        Err(message) => {
            record(ctx, |store, actor| activation::record_synced(store, actor, config, Err(&message)));
            return Ok(Err(message));
        }
    };
    let mut mismatches = verify(&catalog, config);
    // `$metadata` does not list custom services: the ones F&O described are stored with it, so policy
    // and rollback readiness can find a decision operation that is a custom service.
    let (services, service_mismatches) = describe_services(&client, config).await;
    catalog.services = services;
    mismatches.extend(service_mismatches);
    // The catalog is stored even with mismatches: it is what F&O really has, and policy and rollback
    // readiness read it (a configured operation F&O lacks then shows as "not ready").
    let store = ctx.open_store()?;
    let synced_at = store.save_catalog(&crate::fno::metadata::catalog_to_json(&catalog)?, &ctx.actor())?;
    tracing::info!(%synced_at, "metadata catalog stored");
    let found: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    activation::record_synced(&store, &ctx.actor(), config, Ok(&found))?;
    Ok(Ok(SyncReport { summary: catalog.summary(), mismatches, synced_at }))
}

pub(super) fn print_sync(ctx: &Context, report: &SyncReport) -> anyhow::Result<()> {
    if ctx.globals.json {
        return output::json(report);
    }
    let config = &ctx.loaded.config;
    let mut out = String::new();
    writeln!(out, "catalog: {}", report.summary)?;
    writeln!(out, "stored in {} at {}", ctx.store_path().display(), report.synced_at.to_rfc3339())?;
    let (objects, operations) = (config.managed_objects.len(), config.operations.len());
    if report.mismatches.is_empty() {
        writeln!(out, "ok: {objects} managed object(s) and {operations} operation(s) verified")?;
    } else {
        writeln!(out, "{} mismatch(es) between the config and F&O:", report.mismatches.len())?;
        for m in &report.mismatches {
            writeln!(out, "  - {}", visible(&m.to_string()))?;
        }
    }
    output::text(&out)
}

impl SyncReport {
    pub(super) fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

async fn fetch_catalog(client: &FnoClient) -> Result<Catalog, String> {
    let xml = client.metadata_xml().await.map_err(|e| e.to_string())?;
    parse_csdl(&xml).map_err(|e| e.to_string())
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
