//! `signoff audit verify`.

use clap::Subcommand;
use serde_json::json;

use super::{Context, Globals, exit};
use crate::store::StoreError;
use crate::text::visible;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit chain and name the first broken event; exits 1 if it is broken.
    Verify,
}

pub fn run(globals: &Globals, cmd: AuditCommand) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    match cmd {
        AuditCommand::Verify => verify(&ctx),
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
        Err(e) => {
            eprintln!("error: {}", visible(&e.to_string()));
            Ok(exit::FAILURE)
        }
    }
}
