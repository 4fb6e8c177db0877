//! Reconciliation sweeps: runs whose decision's answer was lost (`unknown`) or whose deciding process
//! ended mid-send (`executing`, its lease lapsed), settled by reading F&O. Nothing is ever re-sent.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{RunId, RunStatus};
use crate::store::{StoreError, StoredRun};

use super::claim::{self, Claim};
use super::conclude::Record;
use super::eligibility::DecisionKind;
use super::outcome::Outcome;
use super::reconcile;
use super::record::{keep_exchanges, refuse_if_altered};
use super::{Db, ReviewError, Reviewer};

/// What a sweep did with one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Swept {
    /// Read F&O and recorded what it showed (which may be: still unknown).
    Settled { outcome: Outcome },
    /// A process is deciding it right now: its request may still be in flight, so it is left alone.
    InFlight { run_id: RunId, holder: String },
}

/// The decision a run in flight was taking, the status before it, and when an absence in F&O proves
/// the decision was not applied.
struct InFlight {
    kind: DecisionKind,
    prior: RunStatus,
    settles_after: DateTime<Utc>,
}

fn in_flight(r: &Reviewer, stored: &StoredRun, claim: &Claim) -> Result<InFlight, StoreError> {
    let started = stored.history.iter().rev().find(|h| h.to == RunStatus::Executing);
    let detail = started.map(|h| &h.detail);
    let kind = match detail.and_then(|d| d["decision"].as_str()) {
        Some("reject") => DecisionKind::Reject,
        Some("rollback") => DecisionKind::Rollback,
        _ => DecisionKind::Approve,
    };
    let prior =
        detail.and_then(|d| serde_json::from_value::<RunStatus>(d["prior"].clone()).ok()).unwrap_or(match kind {
            DecisionKind::Rollback => RunStatus::Executed,
            _ => RunStatus::Approved,
        });
    let window = chrono::Duration::from_std(r.config.settle_window()).unwrap_or_default();
    let recorded = stored
        .history
        .iter()
        .rev()
        .find(|h| h.to == RunStatus::Unknown)
        .and_then(|h| h.detail["settles_after"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()));
    // A killed process may have sent until its lease lapsed (it renewed it before each request).
    let sent_by = || {
        let lease_end = claim.previous.as_ref().map(|l| l.expires_at);
        let floor = started.map(|h| h.at).unwrap_or_else(Utc::now)
            + chrono::Duration::from_std(r.config.lease_ttl()).unwrap_or_default();
        lease_end.map_or(floor, |e| e.max(floor))
    };
    let settles_after = recorded.unwrap_or_else(|| sent_by() + window);
    Ok(InFlight { kind, prior, settles_after })
}

/// Settle one claimed run in flight by reading F&O.
pub(super) async fn reconcile_claimed(
    r: &Reviewer,
    store: &Db,
    id: &RunId,
    claim: &Claim,
) -> Result<Outcome, ReviewError> {
    let stored = store.db().get(id)?.ok_or_else(|| StoreError::UnknownRun { id: id.clone() })?;
    let flight = in_flight(r, &stored, claim)?;
    let known = super::facts::load(&store.db())?;
    let client = r.client.fork(false).with_catalog(known.catalog.clone());
    let finding = reconcile::reconcile(&client, &r.config, &stored.run, flight.kind).await;
    keep_exchanges(store, id, &client, &r.approver)?;
    let record = Record {
        store,
        actor: &r.approver,
        run: &stored.run,
        kind: flight.kind,
        config: &r.config,
        known: &known,
        prior: flight.prior,
    };
    Ok(record.settle(finding, flight.settles_after)?)
}

/// Sweep every run `unknown` or `executing` whose status changed within `since`, oldest first.
/// With `handed_over`, journals handed over to F&O's posting are read too (`handover::reconcile_claimed`).
pub(super) async fn sweep(
    r: &Reviewer,
    since: std::time::Duration,
    handed_over: bool,
) -> Result<Vec<Swept>, ReviewError> {
    let store = Db::open(&r.store, Duration::from_secs(r.config.store.busy_timeout_secs))?;
    let cutoff = Utc::now() - chrono::Duration::from_std(since).unwrap_or(chrono::Duration::MAX);
    let mut ids = store.db().runs_in_status(RunStatus::Unknown)?;
    ids.extend(store.db().runs_in_status(RunStatus::Executing)?);
    if handed_over {
        ids.extend(store.db().runs_in_status(RunStatus::HandedOver)?);
    }
    let mut out = Vec::new();
    for id in ids {
        let Some(stored) = store.db().get(&id)? else { continue };
        if stored.history.last().is_some_and(|h| h.at < cutoff) {
            continue;
        }
        let claim = match Claim::take(&store.db(), &id, &claim::holder(&r.approver), r.lease_ttl) {
            Ok(c) => c,
            Err(StoreError::LeaseHeld { holder, .. }) => {
                out.push(Swept::InFlight { run_id: id, holder });
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        // The process deciding it may have recorded its outcome and let go between the read above and
        // this claim: a run no longer waiting for reconciliation is left as it now is.
        let waiting = |s: RunStatus| s.awaits_reconciliation() || (handed_over && s == RunStatus::HandedOver);
        if !store.db().status(&id)?.is_some_and(waiting) {
            if let Err(e) = claim.release(&store.db()) {
                tracing::warn!(run = %id, error = %e, "could not release the lease; it ends at its expiry");
            }
            continue;
        }
        // A run whose stored state is not what its audit chain recorded is not reconciled on.
        let altered = refuse_if_altered(&store.db(), &r.approver, &id, "reconcile")?;
        if let Some(outcome) = altered {
            out.push(Swept::Settled { outcome });
            continue;
        }
        let outcome = if stored.status == RunStatus::HandedOver {
            super::handover::reconcile_claimed(r, &store, &id).await?
        } else {
            reconcile_claimed(r, &store, &id, &claim).await?
        };
        if let Err(e) = claim.release(&store.db()) {
            tracing::warn!(run = %id, error = %e, "could not release the lease; it ends at its expiry");
        }
        out.push(Swept::Settled { outcome });
    }
    if let Some(Swept::Settled { outcome }) = out.iter().find(|s| matches!(s, Swept::Settled { .. })) {
        sign_checkpoint(r, &store, outcome.run_id());
    }
    Ok(out)
}

/// What a sweep recorded ends under the sweeping approver's signature, like a decision's.
fn sign_checkpoint(r: &Reviewer, store: &Db, run_id: &RunId) {
    if !r.identity.signs() {
        return;
    }
    let decision = super::identity::Decision { run_id, kind: "reconcile", reason: "reconciliation sweep", digest: "" };
    let signed = super::identity::prove(&r.identity, &r.approver, &decision)
        .and_then(|proof| super::checkpoint::sign(&store.db(), &r.identity, &proof, &r.memory));
    if let Err(e) = signed {
        tracing::warn!(error = %e, "could not sign a checkpoint after the reconciliation sweep");
    }
}
