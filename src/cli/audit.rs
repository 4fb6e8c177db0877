//! `signoff audit verify` and the verbs on the chain (`checkpoint`, bundles in `audit_bundle`).

use clap::Subcommand;
use serde_json::json;

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
    }
}

fn verify(ctx: &Context) -> anyhow::Result<u8> {
    let verdict = ctx.open_store().and_then(|store| store.verify_audit());
    match verdict {
        Ok(verified) => {
            if ctx.globals.json {
                println!("{}", json!({ "verified": true, "events": verified.events }));
            } else {
                println!("audit chain verified: {} events", verified.events);
            }
            Ok(exit::OK)
        }
        Err(StoreError::AuditBroken { seq, reason }) => {
            if ctx.globals.json {
                println!("{}", json!({ "verified": false, "seq": seq, "reason": reason }));
            } else {
                println!("audit chain BROKEN at event #{seq}: {}", visible(&reason));
            }
            Ok(exit::FAILURE)
        }
        Err(StoreError::StateMismatch { run, what }) => {
            if ctx.globals.json {
                println!("{}", json!({ "verified": false, "run": run, "reason": what }));
            } else {
                println!("store state BROKEN for run {run}: {}", visible(&what));
            }
            Ok(exit::FAILURE)
        }
        Err(e) => {
            eprintln!("error: {}", visible(&e.to_string()));
            Ok(exit::FAILURE)
        }
    }
}
