//! `signoff connector connect --payload FILE`: save, validate and sync a connector in one call from an
//! ActionPlane-style connect payload; and `signoff connector status`, its activation steps.
//!
//! Nothing is written until the whole payload has been read and the config it makes has loaded: a bad
//! payload leaves the config, the secret files and the store as they were. The secret and the refresh
//! token go to owner-only files that the config names; their values are never printed or logged.

mod edit;
mod files;
mod payload;
pub(crate) mod plan;
mod status;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::json;
use toml_edit::DocumentMut;

use super::connector::{passed, print_checks, print_sync, runtime, sync_report, validate_checks};
use super::failure::{ErrorCode, Failure};
use super::output;
use super::{Context, Globals, exit};
use crate::config::Config;
use crate::config::load::{ConfigError, Problem, load, parse};
use crate::review::activation;

pub use status::status;

/// A payload is a few KB; a larger file is refused before it is read.
const MAX_PAYLOAD_BYTES: u64 = 1024 * 1024;

/// `connector connect`'s options.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The connect payload (JSON): loginUrl, instanceUrl, clientId, clientSecret, refreshToken, apiVersion,
    /// isSandbox, isEnabled, validateAfterSave, syncMetadataAfterSave, managedObjects (docs/connect.md).
    #[arg(long, value_name = "FILE")]
    pub payload: PathBuf,
}

pub fn run(globals: &Globals, args: &ConnectArgs) -> anyhow::Result<u8> {
    let config_path = crate::config::paths::resolve(globals.config.as_deref()).config_file;
    let origin = args.payload.display().to_string();
    let text = read_payload(&args.payload)?;
    let nothing = |what: &str, problems: Vec<String>| {
        Failure::new(ErrorCode::Usage, &format!("{what}; nothing was written")).with_problems(problems)
    };
    let (payload, source) =
        payload::parse(&text, &origin).map_err(|p| nothing(&format!("connect payload {origin} is not valid"), p))?;
    drop(text);

    // The config as it is (or the template, for a first connect), which the payload updates in place.
    let (existing_text, existing) = existing_config(&config_path)?;
    let plan = plan::plan(&payload, &source, &existing)
        .map_err(|p| nothing(&format!("connect payload {origin} is not valid"), p))?;
    let mut doc: DocumentMut = existing_text
        .parse()
        .map_err(|e| Failure::new(ErrorCode::Failed, &format!("config {}: {e}", config_path.display())))?;
    let credential_files = edit::CredentialFiles {
        client_secret: payload.client_secret.as_ref().map(|_| named_file(&doc, "client_secret_file", "client-secret")),
        refresh_token: payload.refresh_token.as_ref().map(|_| named_file(&doc, "refresh_token_file", "refresh-token")),
    };
    edit::apply(&mut doc, &plan, &credential_files);
    let new_text = doc.to_string();
    let config = parse(&new_text, &config_path, Some(0o600)).map_err(|e| {
        let problems = config_problems(&e, &plan);
        nothing(&format!("the config this payload makes would not load ({})", config_path.display()), problems)
    })?;

    // Written in this order: the secrets first, so a config never names a file not yet there.
    let mut wrote = Vec::new();
    let secrets = [
        (payload.client_secret.as_ref(), config.auth.client_secret_file.as_deref()),
        (payload.refresh_token.as_ref(), config.auth.refresh_token_file.as_deref()),
    ];
    for (secret, path) in secrets {
        if let (Some(secret), Some(path)) = (secret, path) {
            files::write_private(path, &format!("{}\n", secret.expose()))?;
            wrote.push(path.to_path_buf());
        }
    }
    files::write_config(&config_path, &new_text)?;
    drop(payload.client_secret);
    drop(payload.refresh_token);

    let ctx = Context::load(globals)?;
    let saved = json!({
        "config": config_path,
        "managed_objects": plan.objects.iter().map(|o| o.name).collect::<Vec<_>>(),
        "credential_files": wrote,
    });
    let store = ctx.open_store()?;
    activation::record_saved(&store, &ctx.actor(), &ctx.loaded.config, saved)?;
    drop(store);
    if !ctx.globals.json {
        let mut lines = vec![format!("saved {}", config_path.display())];
        lines.extend(wrote.iter().map(|p| format!("wrote {} (owner-only)", p.display())));
        output::text(&(lines.join("\n") + "\n"))?;
    }
    let ok = follow_up(&ctx, payload.validate_after_save, payload.sync_metadata_after_save)?;
    status::print(&ctx)?;
    Ok(if ok { exit::OK } else { exit::FAILURE })
}

/// Validate and sync as the payload asks, through the same code as `connector validate` and
/// `connector sync-metadata`; with `--json` only the status shape is printed, at the end.
fn follow_up(ctx: &Context, validate: bool, sync: bool) -> anyhow::Result<bool> {
    let rt = runtime()?;
    let mut ok = true;
    if validate {
        let checks = rt.block_on(validate_checks(ctx));
        if !ctx.globals.json {
            print_checks(false, &checks)?;
        }
        ok = passed(&checks);
    }
    if sync && ok {
        match rt.block_on(sync_report(ctx))? {
            Ok(report) => {
                if !ctx.globals.json {
                    print_sync(ctx, &report)?;
                }
                ok = report.passed();
            }
            Err(message) => {
                output::warn(&format!("error: {message}"));
                ok = false;
            }
        }
    } else if sync && !ctx.globals.json {
        output::warn("metadata not synced: the validation failed; fix it, then run `signoff connector sync-metadata`");
    }
    Ok(ok)
}

fn read_payload(path: &Path) -> Result<String, Failure> {
    let cannot = |e: std::io::Error| {
        Failure::new(ErrorCode::Usage, &format!("cannot read connect payload {}: {e}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(Failure::new(
            ErrorCode::Usage,
            &format!("connect payload {} is {size} bytes; a payload is at most {MAX_PAYLOAD_BYTES}", path.display()),
        ));
    }
    let mut text = String::new();
    file.take(MAX_PAYLOAD_BYTES).read_to_string(&mut text).map_err(cannot)?;
    Ok(text)
}

/// The config text and what it holds; no file yet: the commented template.
fn existing_config(path: &Path) -> Result<(String, Config), Failure> {
    if !path.exists() {
        let text = crate::config::template().to_string();
        let config = parse(&text, path, Some(0o600)).map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?;
        return Ok((text, config));
    }
    let loaded = load(path)
        .map_err(|e| Failure::new(ErrorCode::Failed, &format!("fix the config first; nothing was written\n{e}")))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(ErrorCode::Failed, &format!("cannot read config {}: {e}", path.display())))?;
    Ok((text, loaded.config))
}

/// The file the config already names for `key`, else `default` beside the config.
fn named_file(doc: &DocumentMut, key: &str, default: &str) -> String {
    doc.get("auth").and_then(|a| a.get(key)).and_then(|v| v.as_str()).unwrap_or(default).to_string()
}

/// Config problems, each named by the payload field it came from where there is one.
fn config_problems(e: &ConfigError, plan: &plan::Plan) -> Vec<String> {
    e.problems().iter().map(|p| format!("{}: {}", payload_field(p, plan), p.message)).collect()
}

fn payload_field(p: &Problem, plan: &plan::Plan) -> String {
    let key = p.key.as_deref().unwrap_or("");
    let field = match key {
        "environment.url" => "instanceUrl",
        "environment.kind" => "isSandbox",
        "environment.cloud" | "auth.authority_host" | "auth.tenant" | "auth.cloud" => "loginUrl",
        "auth.client_id" => "clientId",
        k if k.starts_with("auth.client_secret") || k == "auth" => "clientSecret",
        k if k.starts_with("auth.refresh_token") => "refreshToken",
        k => {
            let object = k.strip_prefix("managed_objects.").and_then(|rest| rest.split('.').next());
            if let Some(o) = object.and_then(|name| plan.objects.iter().find(|o| o.name == name)) {
                return format!("managedObjects[{}]", o.index);
            }
            return if key.is_empty() { "config".into() } else { format!("config key {key}") };
        }
    };
    field.to_string()
}
