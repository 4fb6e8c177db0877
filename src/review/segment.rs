//! Which part of the audit chain an evidence bundle carries: from a signed checkpoint before the run's
//! first event (or event #1) through the first signed checkpoint that covers its last event, every
//! event in between included, whichever run it is about.

use crate::model::RunId;
use crate::store::{AuditEvent, Store};

use super::ReviewError;
use super::checkpoint_sign::{CHECKPOINT_KIND, CheckpointPayload};

/// The chain segment for a run whose events are `first..=last` (by seq).
pub fn chain_segment(store: &Store, run_id: &RunId, first: i64, last: i64) -> Result<Vec<AuditEvent>, ReviewError> {
    let checkpoints = store.audit_events_of_kind(CHECKPOINT_KIND)?;
    let start = checkpoints.iter().rev().find(|c| c.seq < first).map_or(1, |c| c.seq);
    // The closing checkpoint must sign an event at or after the run's last one; a checkpoint appended
    // later but signed over an older head (another process appended in between) does not cover it.
    let covers = |c: &&AuditEvent| {
        c.seq > last && matches!(CheckpointPayload::of(c), Some(Ok(p)) if p.seq >= last && p.seq < c.seq)
    };
    let close =
        checkpoints.iter().find(covers).ok_or_else(|| ReviewError::NoCheckpoint { run: run_id.clone(), last })?;
    Ok(store.audit_range(start, close.seq)?)
}
