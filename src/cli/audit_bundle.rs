//! `signoff audit export ID --out DIR`, `signoff audit verify --bundle DIR [--allowed-signers FILE]` and
//! `signoff audit checkpoint`.

use std::path::Path;

use serde_json::json;

use super::output::{self, say};
use super::{Context, Globals, exit};
use crate::model::RunId;
use crate::review::checkpoint_sign::{CheckpointPayload, checkpoint_as};
use crate::review::evidence::verify_bundle;
use crate::review::{Identity, record_export};
use crate::sign::AllowedSigners;
use crate::text::visible;

/// Write the run's evidence bundle; needs only the store (no F&O).
pub fn export(globals: &Globals, id: &str, out: &Path) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let store = ctx.open_store()?;
    let actor = super::decide::approver_id(&ctx.loaded.config)?;
    let manifest = record_export(&store, &RunId::from(id), out, &actor)?;
    if globals.json {
        output::json(&manifest)?;
    } else {
        say!("evidence bundle for {id} written to {}", visible(&out.display().to_string()))?;
        for f in &manifest.files {
            say!("  {}  {}  {} bytes", f.sha256, f.name, f.bytes)?;
        }
        say!("bundle sha256 {}", manifest.bundle_sha256)?;
    }
    Ok(exit::OK)
}

/// The allowed signers a bundle is checked against: `--allowed-signers`, else the config's.
fn allowed_signers(globals: &Globals, flag: Option<&Path>) -> anyhow::Result<AllowedSigners> {
    let path = match flag {
        Some(path) => path.to_path_buf(),
        None => Context::load(globals)?.loaded.config.approver.allowed_signers.ok_or_else(|| {
            anyhow::anyhow!(
                "no allowed signers to check the bundle's signatures against: pass --allowed-signers FILE (the \
                 team's allowed-signers file), or set approver.allowed_signers in the config"
            )
        })?,
    };
    Ok(AllowedSigners::load(&path)?)
}

/// Check a bundle offline: exit 0 when its signed chain segment and every file agree, 1 otherwise.
pub fn verify(globals: &Globals, dir: &Path, allowed: Option<&Path>) -> anyhow::Result<u8> {
    let allowed = allowed_signers(globals, allowed)?;
    match verify_bundle(dir, &allowed) {
        Ok(verified) => {
            let (manifest, proof) = (&verified.manifest, &verified.proof);
            if globals.json {
                say!(
                    "{}",
                    json!({
                        "verified": true, "run_id": manifest.run_id, "files": manifest.files.len(),
                        "chain": { "first": proof.first, "last": proof.last },
                        "checkpoint": { "seq": proof.last, "signs": proof.signed_seq, "signed_by": proof.signed_by,
                                        "key": proof.key },
                    })
                )?;
            } else {
                say!(
                    "evidence bundle verified: run {}, {} files, chain events #{}..#{} closed by checkpoint #{} \
                     signed by {} ({})",
                    visible(&manifest.run_id),
                    manifest.files.len(),
                    proof.first,
                    proof.last,
                    proof.last,
                    visible(&proof.signed_by),
                    proof.key
                )?;
            }
            Ok(exit::OK)
        }
        Err(e) => {
            if globals.json {
                output::json(&json!({ "verified": false, "reason": e.to_string() }))?;
            } else {
                say!("evidence bundle does NOT verify: {}", visible(&e.to_string()))?;
            }
            Ok(exit::FAILURE)
        }
    }
}

/// Sign a checkpoint of the chain's newest event as the operator, through the same signer decisions use.
pub fn checkpoint(globals: &Globals) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let store = ctx.open_store()?;
    let config = &ctx.loaded.config;
    let claim =
        std::env::var("SIGNOFF_APPROVER").ok().filter(|s| !s.trim().is_empty()).or_else(|| config.approver.id.clone());
    let event = checkpoint_as(&store, &Identity::from_config(config), claim.as_deref())?;
    let signs = match CheckpointPayload::of(&event) {
        Some(Ok(p)) => p.seq,
        _ => event.seq - 1,
    };
    if globals.json {
        say!("{}", json!({ "checkpoint": event.seq, "signs": signs, "signed_by": event.actor, "hash": event.hash }))?;
    } else {
        say!("checkpoint #{} signed by {}: the audit chain up to event #{signs}", event.seq, visible(&event.actor))?;
    }
    Ok(exit::OK)
}
