//! Signed checkpoints of the audit chain, and the memory of the newest one outside the store.
//!
//! Anyone who can write the store file can rewrite the chain from any point and recompute every hash.
//! What they cannot do is sign as an approver. So the deciding approver signs the chain's head at every
//! decision (before the write is sent and after the outcome is recorded) as a `checkpoint.signed` event,
//! and every process remembers the newest checkpoint it has seen in the user's state directory, outside
//! the store. Before a decision: the store must still extend the remembered checkpoint (a shorter chain or
//! a fork is refused until an operator acknowledges it), and the run's decision events must be covered by
//! a verified checkpoint (an event appended behind a decision's back is refused).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::RunId;
use crate::sign::{self, AllowedSigners, CheckpointMessage};
use crate::store::{AuditEvent, Store, StoreError};

use super::identity::{self, Identity, Proof};

/// The audit event kind of a checkpoint.
pub use super::checkpoint_sign::CHECKPOINT_KIND as KIND;

/// The event kinds that change what may be decided on a run: each must be covered by a checkpoint.
const DECISION_KINDS: &[&str] = &["run.status", "approval.recorded"];

/// A point of the chain (`seq`, `hash`), as remembered outside the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub seq: i64,
    pub hash: String,
}

/// Sign the chain's current head as `proof`'s approver and append the checkpoint; then remember it.
/// Nothing happens when decisions are not signed.
pub(crate) fn sign(store: &Store, identity: &Identity, proof: &Proof, memory: &Memory) -> Result<(), String> {
    let (Identity::Ssh { signer, .. }, Some(key)) = (identity, proof.key()) else { return Ok(()) };
    let event = super::checkpoint_sign::sign_checkpoint(store, signer.as_ref(), key, &proof.approver)
        .map_err(|e| e.to_string())?;
    if let (Some(seq), Some(hash)) = (event.payload["seq"].as_i64(), event.payload["hash"].as_str()) {
        memory.remember(store, &Point { seq, hash: hash.to_string() });
    }
    Ok(())
}

/// Verify a checkpoint event: its signature over (seq, hash) by a key the allowed signers give its actor,
/// and the chain's event `seq` has that hash.
pub fn verify(store: &Store, allowed: &AllowedSigners, event: &AuditEvent) -> Result<Point, String> {
    let p = &event.payload;
    let (Some(seq), Some(hash), Some(signature)) = (p["seq"].as_i64(), p["hash"].as_str(), p["signature"].as_str())
    else {
        return Err(format!("checkpoint #{} has no seq, hash or signature", event.seq));
    };
    let signed_at = p["signed_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()).unwrap_or(event.at);
    let message = CheckpointMessage::new(seq, hash).to_bytes();
    let verified = sign::verify(allowed, &message, signature, signed_at)
        .map_err(|e| format!("checkpoint #{} does not verify: {e}", event.seq))?;
    if !verified.proves(&event.actor) {
        return Err(format!(
            "checkpoint #{} names {} but is signed by {}",
            event.seq,
            crate::text::visible(&event.actor),
            verified.fingerprint
        ));
    }
    match store.audit_event(seq).map_err(|e| e.to_string())? {
        Some(e) if e.hash == hash => Ok(Point { seq, hash: hash.to_string() }),
        Some(_) => {
            Err(format!("checkpoint #{} signed event #{seq} with another hash: the chain was rewritten", event.seq))
        }
        None => Err(format!("checkpoint #{} signed event #{seq}, which the chain no longer holds", event.seq)),
    }
}

/// Before a decision on `run_id` (signed identities only): the store extends the remembered checkpoint,
/// and every decision event of the run lies at or before the newest verified checkpoint.
pub(crate) fn check_before_decision(
    store: &Store,
    identity: &Identity,
    memory: &Memory,
    run_id: &RunId,
) -> Result<(), String> {
    let Some(allowed) = identity::allowed_signers(identity) else { return Ok(()) };
    let allowed = allowed?;
    memory.check(store)?;
    let newest = match store.newest_store_event(KIND).map_err(|e| e.to_string())? {
        Some(event) => Some(verify(store, &allowed, &event)?),
        None => None,
    };
    let covered = newest.as_ref().map_or(0, |p| p.seq);
    let uncovered = store.run_events_after(run_id, covered).map_err(|e| e.to_string())?;
    if let Some(e) = uncovered.iter().find(|e| DECISION_KINDS.contains(&e.kind.as_str()) && !is_expiry(e)) {
        return Err(format!(
            "event #{} ({} of run {}) is not covered by any signed checkpoint: it was written outside a signed \
             decision; check the store's history (`signoff audit verify`) before deciding",
            e.seq,
            e.kind,
            crate::text::visible(run_id.as_str())
        ));
    }
    if let Some(point) = newest {
        memory.remember(store, &point);
    }
    Ok(())
}

/// What `audit verify` learns of the checkpoints: how many verified, the newest, and the decision events
/// after it that no signature covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub checkpoints: usize,
    pub newest: Option<Point>,
    /// (seq, kind, run) of each decision event after the newest checkpoint.
    pub uncovered: Vec<(i64, String, String)>,
}

/// Verify every checkpoint of the chain and list the decision events after the newest one; the first
/// checkpoint that does not verify is the error.
pub fn verify_all(store: &Store, allowed: &AllowedSigners) -> Result<Coverage, String> {
    let events = store.audit_events_of_kind(KIND).map_err(|e| e.to_string())?;
    let mut coverage = Coverage::default();
    for event in &events {
        coverage.newest = Some(verify(store, allowed, event)?);
        coverage.checkpoints += 1;
    }
    let after = coverage.newest.as_ref().map_or(0, |p| p.seq);
    for e in store.events_after(after).map_err(|e| e.to_string())? {
        if DECISION_KINDS.contains(&e.kind.as_str()) && !is_expiry(&e) {
            let run = e.run_id.map(|r| r.0).unwrap_or_default();
            coverage.uncovered.push((e.seq, e.kind, run));
        }
    }
    Ok(coverage)
}

/// An expiry only closes a run (pending → expired), written by whoever loaded the queue.
fn is_expiry(e: &AuditEvent) -> bool {
    e.kind == "run.status" && e.payload["to"] == "expired"
}

/// Where a process remembers the newest checkpoint it saw of each store: one small file per store under
/// the user's state directory, named by the store's canonical path.
#[derive(Debug, Clone)]
pub struct Memory {
    dir: Option<PathBuf>,
}

impl Memory {
    /// Remember under `<state dir>/checkpoints/`.
    pub fn in_state_dir(state_dir: &Path) -> Memory {
        Memory { dir: Some(state_dir.join("checkpoints")) }
    }

    /// Remember nothing (signing is not configured, or a test that does not look).
    pub fn none() -> Memory {
        Memory { dir: None }
    }

    fn file(&self, store: &Store) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let path = std::fs::canonicalize(store.path()).unwrap_or_else(|_| store.path().to_path_buf());
        let name = hex::encode(Sha256::digest(path.to_string_lossy().as_bytes()));
        Some(dir.join(format!("{}.json", &name[..32])))
    }

    /// The newest checkpoint remembered for this store.
    pub fn recalled(&self, store: &Store) -> Option<Point> {
        let text = std::fs::read_to_string(self.file(store)?).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Keep `point` if it is newer than what is remembered (best effort: a state directory that cannot be
    /// written only weakens the check, and says so in the log).
    pub fn remember(&self, store: &Store, point: &Point) {
        let Some(file) = self.file(store) else { return };
        if self.recalled(store).is_some_and(|p| p.seq >= point.seq) {
            return;
        }
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
            let tmp = file.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(point).unwrap_or_default())?;
            std::fs::rename(tmp, &file)
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, file = %file.display(), "cannot remember the newest checkpoint");
        }
    }

    /// Forget what was remembered and remember the store's head instead: an operator's acknowledgement.
    pub fn acknowledge(&self, store: &Store) -> Result<Option<Point>, StoreError> {
        let previous = self.recalled(store);
        if let Some(file) = self.file(store) {
            let _ = std::fs::remove_file(file);
        }
        if let Some((seq, hash)) = store.audit_head()? {
            self.remember(store, &Point { seq, hash });
        }
        Ok(previous)
    }

    /// The store must still extend the remembered checkpoint: event `seq` with that hash.
    pub fn check(&self, store: &Store) -> Result<(), String> {
        let Some(point) = self.recalled(store) else { return Ok(()) };
        let found = store.audit_event(point.seq).map_err(|e| e.to_string())?;
        let head = store.audit_head().map_err(|e| e.to_string())?.map_or(0, |(seq, _)| seq);
        match found {
            Some(e) if e.hash == point.hash => Ok(()),
            Some(_) => Err(format!(
                "the store's audit chain FORKED: event #{} is not the one this account saw signed; decisions are \
                 refused until an operator has found out why and runs `signoff audit acknowledge`",
                point.seq
            )),
            None => Err(format!(
                "the store's audit chain was CUT SHORT: it ends at event #{head}, but this account saw a signed \
                 checkpoint of event #{}; decisions are refused until an operator has found out why and runs \
                 `signoff audit acknowledge`",
                point.seq
            )),
        }
    }
}
