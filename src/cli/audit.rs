//! `signoff audit verify` and the verbs on the chain (`checkpoint`, bundles in `audit_bundle`).

use clap::Subcommand;
use serde_json::json;

use super::output::{self, say};
use super::{Context, Globals, exit};
use crate::store::StoreError;
use crate::text::visible;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit chain, check every run's state against it, and name the first broken event or
    /// run; exits 1 if anything is broken.
    /// With --bundle, check an exported evidence bundle offline instead.
    Verify {
        /// An evidence bundle directory written by `signoff audit export`.
        #[arg(long, value_name = "DIR")]
        bundle: Option<std::path::PathBuf>,
        /// The allowed-signers file the bundle's checkpoint and approvals must verify against; default:
        /// the config's `approver.allowed_signers`.
        #[arg(long, value_name = "FILE", requires = "bundle")]
        allowed_signers: Option<std::path::PathBuf>,
    },
    /// Accept the store's chain as it is now after it was found cut short or forked against the newest
    /// signed checkpoint this account remembers (investigate first: see docs/audit.md).
    Acknowledge,
    /// Sign a checkpoint of the audit chain's newest event with your identity (the ssh-agent key the
    /// allowed signers list for you), so the events up to it can be exported as proven evidence.
    Checkpoint,
    /// Export a run's evidence bundle: the run, approvals, requests and responses (secrets removed),
    /// audit events with their hashes, and a manifest with the SHA-256 of each file.
    Export {
        id: String,
        /// A new or empty directory.
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
}

pub fn run(globals: &Globals, cmd: AuditCommand) -> anyhow::Result<u8> {
    match cmd {
        AuditCommand::Verify { bundle: Some(dir), allowed_signers } => {
            super::audit_bundle::verify(globals, &dir, allowed_signers.as_deref())
        }
        AuditCommand::Verify { bundle: None, .. } => verify(&Context::load(globals)?),
        AuditCommand::Checkpoint => super::audit_bundle::checkpoint(globals),
        AuditCommand::Export { id, out } => super::audit_bundle::export(globals, &id, &out),
        AuditCommand::Acknowledge => acknowledge(&Context::load(globals)?),
    }
}

fn verify(ctx: &Context) -> anyhow::Result<u8> {
    // Read-only: a path without a store is reported, not created (and then called "verified").
    drop(ctx.open_existing_store()?);
    // A chain cut short or forked against the checkpoint this account remembers is the first finding: the
    // checks below would only describe what is left.
    if ctx.loaded.config.approver.allowed_signers.is_some() {
        let memory = crate::review::checkpoint::Memory::in_state_dir(&ctx.paths.state_dir);
        if let Err(why) = ctx.open_store().map_err(|e| e.to_string()).and_then(|store| memory.check(&store)) {
            if ctx.globals.json {
                output::json(&json!({ "verified": false, "reason": why }))?;
            } else {
                say!("signed checkpoints BROKEN: {}", visible(&why))?;
            }
            return Ok(exit::FAILURE);
        }
    }
    let verdict = ctx.open_store().and_then(|store| store.verify_audit());
    match verdict {
        Ok(verified) => {
            let signed = match signatures(ctx) {
                Ok(signed) => signed,
                Err(why) => {
                    if ctx.globals.json {
                        output::json(&json!({ "verified": false, "events": verified.events, "reason": why }))?;
                    } else {
                        say!("signed checkpoints BROKEN: {}", visible(&why))?;
                    }
                    return Ok(exit::FAILURE);
                }
            };
            let uncovered = signed.as_ref().map_or(0, |c| c.uncovered.len());
            if ctx.globals.json {
                output::json(&json!({ "verified": uncovered == 0, "events": verified.events, "checkpoints": signed }))?;
            } else {
                say!("audit chain verified: {} events", verified.events)?;
                if let Some(c) = &signed {
                    let newest = c.newest.as_ref().map_or("none".to_string(), |p| format!("#{}", p.seq));
                    say!("signed checkpoints verified: {} (newest covers event {newest})", c.checkpoints)?;
                    for (seq, kind, run) in &c.uncovered {
                        say!(
                            "event #{seq} ({kind} of run {}) is NOT covered by a signed checkpoint: written outside \
                             a signed decision",
                            visible(run)
                        )?;
                    }
                }
            }
            Ok(if uncovered == 0 { exit::OK } else { exit::FAILURE })
        }
        Err(StoreError::AuditBroken { seq, reason }) => {
            if ctx.globals.json {
                output::json(&json!({ "verified": false, "seq": seq, "reason": reason }))?;
            } else {
                say!("audit chain BROKEN at event #{seq}: {}", visible(&reason))?;
            }
            Ok(exit::FAILURE)
        }
        Err(StoreError::StateMismatch { run, what }) => {
            if ctx.globals.json {
                output::json(&json!({ "verified": false, "run": run, "reason": what }))?;
            } else {
                say!("store state BROKEN for run {run}: {}", visible(&what))?;
            }
            Ok(exit::FAILURE)
        }
        Err(e) => {
            output::warn(&format!("error: {}", visible(&e.to_string())));
            Ok(exit::FAILURE)
        }
    }
}

/// With signed decisions configured: every checkpoint verified, the store extends the checkpoint this
/// account remembers, and the decision events no signature covers.
fn signatures(ctx: &Context) -> Result<Option<crate::review::checkpoint::Coverage>, String> {
    let config = &ctx.loaded.config;
    let Some(path) = &config.approver.allowed_signers else { return Ok(None) };
    let allowed = crate::sign::AllowedSigners::load(path).map_err(|e| e.to_string())?;
    let store = ctx.open_store().map_err(|e| e.to_string())?;
    let memory = crate::review::checkpoint::Memory::in_state_dir(&ctx.paths.state_dir);
    memory.check(&store)?;
    crate::review::checkpoint::verify_all(&store, &allowed).map(Some)
}

/// `signoff audit acknowledge`.
fn acknowledge(ctx: &Context) -> anyhow::Result<u8> {
    let store = ctx.open_store()?;
    let memory = crate::review::checkpoint::Memory::in_state_dir(&ctx.paths.state_dir);
    let previous = memory.acknowledge(&store)?;
    let head = store.audit_head()?;
    let actor = crate::cli::decide::approver_id(&ctx.loaded.config).unwrap_or_else(|_| "operator".into());
    store.append_audit(
        &actor,
        None,
        "audit.acknowledged",
        json!({ "remembered": previous, "head": head.as_ref().map(|(seq, hash)| json!({"seq": seq, "hash": hash})) }),
    )?;
    match previous {
        Some(p) => say!(
            "acknowledged: this account no longer expects event #{} as it saw it; the chain is accepted as it is now",
            p.seq
        )?,
        None => say!("nothing to acknowledge: this account remembered no checkpoint of this store")?,
    }
    Ok(exit::OK)
}
