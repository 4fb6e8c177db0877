//! `signoff audit export ID --out DIR` and `signoff audit verify --bundle DIR`.

use std::path::Path;

use serde_json::json;

use super::{Context, Globals, exit};
use crate::model::RunId;
use crate::review::evidence::verify_bundle;
use crate::review::record_export;
use crate::text::visible;

/// Write the run's evidence bundle; needs only the store (no F&O).
pub fn export(globals: &Globals, id: &str, out: &Path) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let store = ctx.open_store()?;
    let actor = super::decide::approver_id(&ctx.loaded.config)?;
    let manifest = record_export(&store, &RunId::from(id), out, &actor)?;
    if globals.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
    } else {
        println!("evidence bundle for {id} written to {}", visible(&out.display().to_string()));
        for f in &manifest.files {
            println!("  {}  {}  {} bytes", f.sha256, f.name, f.bytes);
        }
        println!("bundle sha256 {}", manifest.bundle_sha256);
    }
    Ok(exit::OK)
}

/// Check a bundle offline: exit 0 when every byte is as exported, 1 otherwise.
pub fn verify(globals: &Globals, dir: &Path) -> anyhow::Result<u8> {
    match verify_bundle(dir) {
        Ok(manifest) => {
            if globals.json {
                println!("{}", json!({ "verified": true, "run_id": manifest.run_id, "files": manifest.files.len() }));
            } else {
                println!(
                    "evidence bundle verified: run {}, {} files, bundle sha256 {}",
                    visible(&manifest.run_id),
                    manifest.files.len(),
                    manifest.bundle_sha256
                );
            }
            Ok(exit::OK)
        }
        Err(e) => {
            if globals.json {
                println!("{}", json!({ "verified": false, "reason": e.to_string() }));
            } else {
                println!("evidence bundle does NOT verify: {}", visible(&e.to_string()));
            }
            Ok(exit::FAILURE)
        }
    }
}
