//! `signoff audit verify`.

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
    },
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
        AuditCommand::Verify { bundle: Some(dir) } => super::audit_bundle::verify(globals, &dir),
        AuditCommand::Verify { bundle: None } => verify(&Context::load(globals)?),
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
