//! `signoff config path|check`: where things resolve, and whether the config is usable.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use crate::config::Config;
use crate::config::load::{self, Problem};
use crate::config::paths::{Paths, resolve_with_origin};
use crate::config::secret::{self, SecretSource};
use crate::store::StoreLocation;

use super::output::{self, say};
use super::{Globals, exit};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show where the config file, data, state, store and log file resolve.
    Path,
    /// Load and validate the config and resolve its secret sources (never printing a secret).
    Check,
}

pub fn run(globals: &Globals, cmd: ConfigCommand) -> anyhow::Result<u8> {
    match cmd {
        ConfigCommand::Path => path(globals),
        ConfigCommand::Check => check(globals),
    }
}

fn path(globals: &Globals) -> anyhow::Result<u8> {
    let (paths, origin) = resolve_with_origin(globals.config.as_deref());
    let exists = paths.config_file.is_file();
    // A broken config must not hide where things are: fall back to the default store and say why.
    let (configured_store, config_error) = match load::load(&paths.config_file) {
        Ok(loaded) => (loaded.config.store.url.map(PathBuf::from).or(loaded.config.store.path), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let store = globals.store.clone().or(configured_store).unwrap_or_else(|| paths.default_store());
    if globals.json {
        let value = json!({
            "config_file": shown(&paths.config_file),
            "config_exists": exists,
            "config_from": origin.label(),
            "config_error": config_error,
            "data_dir": shown(&paths.data_dir),
            "state_dir": shown(&paths.state_dir),
            "store": shown(&store),
            "log_file": shown(&paths.log_file),
        });
        output::json(&value)?;
        return Ok(exit::OK);
    }
    let state = if exists { "exists" } else { "not found: defaults apply" };
    say!("config file  {} ({state}; from {})", shown(&paths.config_file), origin.label())?;
    say!("data dir     {}", shown(&paths.data_dir))?;
    say!("state dir    {}", shown(&paths.state_dir))?;
    say!("store        {}", shown(&store))?;
    say!("log file     {}", shown(&paths.log_file))?;
    if config_error.is_some() {
        say!("(the config has problems: run `signoff config check`)")?;
    }
    Ok(exit::OK)
}

/// A path (or a store URL, without any password) for display, with control characters made visible (a
/// path is outside data).
fn shown(path: &Path) -> String {
    let text = path.to_string_lossy();
    let text = if crate::store::pg::is_postgres_url(&text) { crate::store::pg::shown_url(&text).into() } else { text };
    crate::text::visible(&text).into_owned()
}

/// A secret source that was resolved, for the report.
struct Resolved {
    name: &'static str,
    source: String,
}

fn check(globals: &Globals) -> anyhow::Result<u8> {
    let (paths, origin) = resolve_with_origin(globals.config.as_deref());
    let file = paths.config_file.clone();
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    let mut warnings = Vec::new();
    if !file.is_file() {
        problems.push(Problem {
            key: None,
            line: None,
            column: None,
            message: format!(
                "no config file here (located through {}); `signoff connector init` writes a commented template",
                origin.label()
            ),
        });
    }
    // A missing file loads as the defaults: the store they lead to is still checked.
    match load::load(&file) {
        Err(e) => problems.extend(e.problems()),
        Ok(loaded) => {
            store_problems(globals, &paths, &loaded.config, &mut problems, &mut resolved);
            let auth = &loaded.config.auth;
            let sources = [
                ("client secret", auth.client_secret_source(), client_secret_key(auth)),
                ("refresh token", auth.refresh_token_source(), refresh_key(auth)),
            ];
            if let Some(path) = &loaded.config.approver.allowed_signers
                && let Err(e) = crate::sign::AllowedSigners::load(path)
            {
                problems.push(Problem::at("approver.allowed_signers", format!("approver.allowed_signers: {e}")));
            }
            warnings.extend(crate::review::identity::allowed_signers_warnings(&loaded.config));
            let env = &loaded.config.environment;
            let proxy_source = SecretSource::first_of(
                &env.proxy_credentials_env,
                &env.proxy_credentials_file,
                &env.proxy_credentials_command,
                auth.command_timeout(),
            );
            let sources =
                sources.into_iter().chain([("proxy credentials", proxy_source, "environment.proxy_credentials")]);
            for (name, source, key) in sources {
                let Some(source) = source else { continue };
                match secret::resolve(&source) {
                    Ok(_) => resolved.push(Resolved { name, source: source.to_string() }),
                    Err(e) => problems.push(Problem::at(key, format!("{key}: {e}"))),
                }
            }
            network_files(&loaded.config, &mut problems, &mut resolved);
        }
    }
    report(globals, &file, &problems, &resolved, &warnings)
}

/// The certificate credential and the CA bundle are read now, so a bad file shows before a connection.
fn network_files(config: &crate::config::Config, problems: &mut Vec<Problem>, resolved: &mut Vec<Resolved>) {
    if let Some(path) = &config.auth.client_certificate_file {
        match crate::fno::assertion::ClientCertificate::load(path) {
            Ok(cert) => resolved.push(Resolved {
                name: "client certificate",
                source: format!(
                    "file {} ({}, x5t#S256 {})",
                    shown(path),
                    crate::text::visible(&cert.certificate().subject),
                    cert.certificate().x5t_s256()
                ),
            }),
            Err(e) => problems.push(Problem::at("auth.client_certificate_file", e.to_string())),
        }
    }
    if config.environment.ca_file.is_some() {
        let trust = crate::fno::tls::TrustSettings { ca_file: config.environment.ca_file.clone(), pins: Vec::new() };
        match crate::fno::tls::client_config(&trust) {
            Ok((_, source, _)) => resolved.push(Resolved { name: "trust roots", source: source.to_string() }),
            Err(e) => problems.push(Problem::at("environment.ca_file", e.to_string())),
        }
    }
}

/// A store readable or writable beyond its owner (or its configured group), and a group that does not
/// exist, are problems: the store holds every run, F&O's answers and the audit chain.
fn store_problems(
    globals: &Globals,
    paths: &Paths,
    config: &Config,
    problems: &mut Vec<Problem>,
    resolved: &mut Vec<Resolved>,
) {
    let store = &config.store;
    if let Some(group) = &store.group
        && let Err(e) = crate::store::group_id(group)
    {
        problems.push(Problem::at("store.group", e.to_string()));
    }
    // A PostgreSQL store: its password source must resolve (the URL's own rules are the config's).
    let path = match config.store_location(globals.store.as_deref(), paths.default_store()) {
        Ok(StoreLocation::File(path)) => path,
        Ok(StoreLocation::Postgres(_)) => {
            if let Some(source) = config.store_password_source() {
                resolved.push(Resolved { name: "store password", source: source.to_string() });
            }
            return;
        }
        // A URL the config's own rules refused is reported once.
        Err(_) if problems.iter().any(|p| p.key.as_deref() == Some("store.url")) => return,
        Err(e) => {
            let key = match config.store_password_source() {
                Some(SecretSource::Env(_)) => "store.password_env",
                Some(SecretSource::File(_)) => "store.password_file",
                Some(SecretSource::Command { .. }) => "store.password_command",
                _ if store.url.is_some() => "store.url",
                _ => "store",
            };
            problems.push(Problem::at(key, crate::text::visible(&e.to_string()).into_owned()));
            return;
        }
    };
    for finding in crate::store::exposure(&path, &store.access()) {
        problems.push(Problem::at("store.path", crate::text::visible(&finding).into_owned()));
    }
}

use crate::fno::settings::client_secret_key;

fn refresh_key(auth: &crate::config::AuthConfig) -> &'static str {
    match auth.refresh_token_source() {
        Some(SecretSource::File(_)) => "auth.refresh_token_file",
        Some(SecretSource::Command { .. }) => "auth.refresh_token_command",
        _ => "auth.refresh_token_env",
    }
}

fn report(
    globals: &Globals,
    file: &Path,
    problems: &[Problem],
    resolved: &[Resolved],
    warnings: &[String],
) -> anyhow::Result<u8> {
    let ok = problems.is_empty();
    tracing::info!(config = %file.display(), ok, problems = problems.len(), "config check");
    if globals.json {
        let secrets: Vec<_> = resolved.iter().map(|r| json!({"name": r.name, "source": r.source})).collect();
        let value = json!({
            "ok": ok, "path": shown(file), "problems": problems, "secrets_resolved": secrets, "warnings": warnings
        });
        output::json(&value)?;
        return Ok(if ok { exit::OK } else { exit::FAILURE });
    }
    // Warnings do not fail the check: the config works, but who may approve is not in safe hands.
    for w in warnings {
        output::warn(&format!("warning: {}", crate::text::visible(w)));
    }
    if ok {
        say!("config OK: {}", shown(file))?;
        for r in resolved {
            say!("  {}: from {} (resolved, not shown)", r.name, r.source)?;
        }
    } else {
        let error = load::ConfigError::Invalid { path: file.to_path_buf(), problems: problems.to_vec() };
        output::warn(&error.to_string());
        output::warn(&format!("{} problem(s) found", problems.len()));
    }
    Ok(if ok { exit::OK } else { exit::FAILURE })
}
