//! Recording: evidence exchanges, refusals, and the evidence bundle export.

use std::path::Path;

use serde_json::{Value, json};

use crate::fno::{Exchange, FnoClient};
use crate::model::RunId;
use crate::store::Store;

use super::evidence::{self, BundleFile, Manifest};
use super::outcome::Outcome;
use super::{ReviewError, Reviewer};

/// Keep every exchange the decision's client made (reads, writes, dry-run plans) as evidence of the run;
/// through the journal when the store stays busy, so an answer F&O gave is never dropped.
pub(crate) fn keep_exchanges(
    store: &super::Db,
    run_id: &RunId,
    client: &FnoClient,
    actor: &str,
) -> Result<Vec<Exchange>, ReviewError> {
    let exchanges = client.take_exchanges();
    for exchange in &exchanges {
        let json = serde_json::to_string(exchange)
            .map_err(|e| ReviewError::Encode { run: run_id.clone(), reason: e.to_string() })?;
        store.durably(super::journal::Entry::Exchange { run_id: run_id.clone(), actor: actor.to_string(), json })?;
    }
    Ok(exchanges)
}

/// A dry-run request as shown to the approver: method, URL, headers (no secrets) and body.
pub fn request_json(exchange: &Exchange) -> Value {
    json!({
        "method": exchange.method,
        "url": exchange.url,
        "headers": exchange.request_headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": exchange.request_body,
    })
}

/// Audit a refusal and return it as the outcome.
pub fn refuse(store: &Store, actor: &str, run_id: &RunId, kind: &str, reason: String) -> Result<Outcome, ReviewError> {
    store.append_audit(actor, Some(run_id), "decision.refused", json!({ "decision": kind, "reason": reason }))?;
    Ok(Outcome::Refused { run_id: run_id.clone(), reason })
}

/// Refuse to decide a run whose stored state disagrees with its audit chain (edited outside signoff):
/// checked once the run is claimed, before anything is read from or sent to F&O.
pub(crate) fn refuse_if_altered(
    store: &Store,
    actor: &str,
    run_id: &RunId,
    kind: &str,
) -> Result<Option<Outcome>, ReviewError> {
    match store.verify_run(run_id) {
        Ok(()) => Ok(None),
        Err(e @ crate::store::StoreError::StateMismatch { .. }) => {
            refuse(store, actor, run_id, kind, e.to_string()).map(Some)
        }
        Err(e) => Err(e.into()),
    }
}

fn pretty<T: serde::Serialize>(run_id: &RunId, value: &T) -> Result<Vec<u8>, ReviewError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| ReviewError::Encode { run: run_id.clone(), reason: e.to_string() })?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// Collect the run, its approvals, exchanges and audit events, and the chain segment that a signed
/// checkpoint closes, from the store into a bundle at `dir`.
pub fn export_evidence(reviewer: &Reviewer, run_id: &RunId, dir: &Path) -> Result<Manifest, ReviewError> {
    let store = reviewer.store().open()?;
    export_from_store(&store, run_id, dir, reviewer.approver())
}

/// The bundle export, for callers that hold a store (the CLI's `audit export` needs no F&O client).
pub fn export_from_store(store: &Store, run_id: &RunId, dir: &Path, actor: &str) -> Result<Manifest, ReviewError> {
    let stored = store.get(run_id)?.ok_or_else(|| crate::store::StoreError::UnknownRun { id: run_id.clone() })?;
    let run = json!({
        "run": stored.run,
        "status": stored.status,
        "payload_digest": stored.digest,
        "imported_at": stored.imported_at,
        "updated_at": stored.updated_at,
        "history": stored.history,
    });
    let exchanges: Vec<Value> = store
        .exchanges(run_id)?
        .into_iter()
        .map(|e| {
            let body = serde_json::from_str::<Value>(&e.json).unwrap_or(Value::String(e.json.clone()));
            // `stored` is the exact text the chain's `exchange.recorded` hashes; `exchange` the same, readable.
            json!({ "id": e.id, "at": e.at, "stored": e.json, "exchange": body })
        })
        .collect();
    let audit = store.audit_events(run_id)?;
    let (Some(first), Some(last)) = (audit.first(), audit.last()) else {
        return Err(crate::store::StoreError::UnknownRun { id: run_id.clone() }.into());
    };
    let chain = super::segment::chain_segment(store, run_id, first.seq, last.seq)?;
    let files = vec![
        BundleFile { name: "run.json", bytes: pretty(run_id, &run)? },
        BundleFile { name: "approvals.json", bytes: pretty(run_id, &stored.approvals)? },
        BundleFile { name: "exchanges.json", bytes: pretty(run_id, &exchanges)? },
        BundleFile { name: evidence::AUDIT_FILE, bytes: pretty(run_id, &audit)? },
        BundleFile { name: evidence::CHAIN_FILE, bytes: pretty(run_id, &chain)? },
    ];
    let manifest = evidence::write_bundle(dir, run_id.as_str(), actor, &files)?;
    store.append_audit(
        actor,
        Some(run_id),
        "evidence.exported",
        json!({ "bundle_sha256": manifest.bundle_sha256, "files": manifest.files.len() }),
    )?;
    Ok(manifest)
}
