//! Concluding a decision: recording what F&O did (or what reading it showed after an unknown outcome),
//! and reconciling decisions a killed process left `executing`.

use chrono::Utc;
use serde_json::json;

use crate::fno::FnoError;
use crate::model::{ActorId, GovernedRun, RunStatus, Snapshot};
use crate::policy::Facts;
use crate::rollback;
use crate::store::{Store, StoreError};

use super::Db;
use super::claim::Claim;
use super::drift::DriftReport;
use super::eligibility::DecisionKind;
use super::execute::StepFailure;
use super::outcome::{FnoAnswer, Outcome};
use super::reconcile::{self, Finding};
use super::record::keep_exchanges;
use super::{ReviewError, Reviewer};

/// Record a decision that took effect, with F&O's answer and (for an approval) the compensation plan.
pub(super) fn finish(
    store: &Db,
    actor: &str,
    run: &GovernedRun,
    kind: DecisionKind,
    answer: FnoAnswer,
    config: &crate::config::Config,
    live: Option<&Snapshot>,
) -> Result<Outcome, ReviewError> {
    let id = run.id.clone();
    let (to, outcome) = match kind {
        DecisionKind::Approve => {
            (RunStatus::Executed, Outcome::Executed { run_id: id.clone(), answer: answer.clone() })
        }
        DecisionKind::Reject => (RunStatus::Rejected, Outcome::Rejected { run_id: id.clone(), answer: answer.clone() }),
        DecisionKind::Rollback => {
            (RunStatus::RolledBack, Outcome::RolledBack { run_id: id.clone(), answer: answer.clone() })
        }
    };
    let mut detail = json!({ "decision": kind.as_str(), "answer": answer });
    if kind == DecisionKind::Approve {
        let mut facts = Facts::new(Utc::now(), ActorId(actor.to_string()));
        facts.live = live;
        detail["compensation"] = serde_json::to_value(rollback::plan(run, config, &facts)).unwrap_or_default();
    }
    store.db().transition(&id, &[RunStatus::Executing], to, actor, detail)?;
    Ok(outcome)
}

/// F&O refused or failed the decision.
pub(super) fn failed(
    store: &Db,
    actor: &str,
    run: &GovernedRun,
    kind: DecisionKind,
    failure: &StepFailure,
) -> Result<Outcome, ReviewError> {
    let id = run.id.clone();
    let error = &failure.error;
    let infolog = error.infolog().map(str::to_string);
    let detail = json!({
        "decision": kind.as_str(),
        "error": error.to_string(),
        "infolog": infolog,
        "partly_sent": failure.sent,
    });
    // A failed rollback leaves the executed run executed.
    let back = if kind == DecisionKind::Rollback { RunStatus::Executed } else { RunStatus::Failed };
    if matches!(error, FnoError::PreconditionFailed { .. }) {
        let to = if kind == DecisionKind::Rollback { RunStatus::Executed } else { RunStatus::Stale };
        store.db().transition(&id, &[RunStatus::Executing], to, actor, detail)?;
        return Ok(Outcome::Stale {
            run_id: id,
            drift: DriftReport::default(),
            reason: "F&O answered 412: the record changed between the re-read and the write; nothing more was sent"
                .into(),
        });
    }
    store.db().transition(&id, &[RunStatus::Executing], back, actor, detail)?;
    Ok(Outcome::Failed { run_id: id, reason: error.to_string(), infolog })
}

/// Record what reconciliation found.
pub(super) fn settle(
    store: &Db,
    actor: &str,
    run: &GovernedRun,
    kind: DecisionKind,
    finding: Result<Finding, FnoError>,
    config: &crate::config::Config,
) -> Result<Outcome, ReviewError> {
    let id = run.id.clone();
    let finding = match finding {
        Ok(f) => f,
        Err(e) => {
            // F&O cannot be read now: the run stays `executing` and the next start reconciles it.
            store.db().append_audit(actor, Some(&id), "reconcile.deferred", json!({ "error": e.to_string() }))?;
            return Ok(Outcome::Failed {
                run_id: id,
                reason: format!(
                    "the outcome is unknown and F&O cannot be read ({e}); the run stays executing and the next \
                     signoff command reconciles it by reading F&O"
                ),
                infolog: None,
            });
        }
    };
    store.db().append_audit(
        actor,
        Some(&id),
        "reconcile.finding",
        json!({ "decision": kind.as_str(), "finding": finding }),
    )?;
    match finding {
        Finding::Applied { mut answer } => {
            answer.messages.push("the outcome was unknown; reading F&O showed it took effect".into());
            finish(store, actor, run, kind, answer, config, None)
        }
        Finding::NotApplied { detail } | Finding::Partial { detail } | Finding::Undetermined { detail } => {
            let back = if kind == DecisionKind::Rollback { RunStatus::Executed } else { RunStatus::Failed };
            let reason = format!("the outcome was unknown; reading F&O showed: {detail}; nothing was re-sent");
            store.db().transition(&id, &[RunStatus::Executing], back, actor, json!({ "reason": reason }))?;
            Ok(Outcome::Failed { run_id: id, reason, infolog: None })
        }
    }
}

/// Reconcile every run left `executing` whose lease has lapsed (or is ours).
pub(super) async fn reconcile_interrupted(r: &Reviewer) -> Result<Vec<Outcome>, ReviewError> {
    let store = Db::new(Store::open(&r.store_path)?);
    let mut outcomes = Vec::new();
    let ids = store.db().runs_in_status(RunStatus::Executing)?;
    for id in ids {
        let taken = Claim::take(&store.db(), &id, &r.approver, r.lease_ttl);
        let claim = match taken {
            Ok(c) => c,
            // Someone is executing it right now.
            Err(StoreError::LeaseHeld { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let Some(stored) = store.db().get(&id)? else { continue };
        let kind = stored
            .history
            .iter()
            .rev()
            .find(|h| h.to == RunStatus::Executing)
            .and_then(|h| h.detail.get("decision").and_then(|d| d.as_str()).map(str::to_string));
        let kind = match kind.as_deref() {
            Some("reject") => DecisionKind::Reject,
            Some("rollback") => DecisionKind::Rollback,
            _ => DecisionKind::Approve,
        };
        let client = r.client.fork(false);
        let finding = reconcile::reconcile(&client, &r.config, &stored.run, kind).await;
        keep_exchanges(&store.db(), &id, &client, &r.approver)?;
        outcomes.push(settle(&store, &r.approver, &stored.run, kind, finding, &r.config)?);
        let _ = claim.release(&store.db());
    }
    Ok(outcomes)
}
