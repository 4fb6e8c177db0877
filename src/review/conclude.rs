//! Concluding a decision: recording what F&O did, what it refused, and — when an answer was lost — only
//! what reading F&O later proves. Also the sweep that reconciles runs left `unknown` or `executing`.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::judge::Facts;
use crate::model::{ActorId, GovernedRun, RunId, RunStatus, Snapshot};
use crate::rollback;
use crate::store::StoreError;

use super::Db;
use super::drift::DriftReport;
use super::eligibility::DecisionKind;
use super::execute::StepFailure;
use super::journal::Entry;
use super::outcome::{FnoAnswer, Outcome};
use super::reconcile::Finding;

/// The statuses a decision's outcome is recorded from: in flight, lost and being reconciled, or handed
/// over to F&O's posting and being reconciled.
const IN_FLIGHT: &[RunStatus] = &[RunStatus::Executing, RunStatus::Unknown, RunStatus::HandedOver];

/// What the recording steps share: the store, who records, the run and the decision.
pub(super) struct Record<'a> {
    pub store: &'a Db,
    pub actor: &'a str,
    pub run: &'a GovernedRun,
    pub kind: DecisionKind,
    pub config: &'a crate::config::Config,
    /// What the synced catalog proves (the compensation plan is judged with it).
    pub known: &'a super::facts::KnownFacts,
    /// The status the run had before the decision started (a failed rollback returns to it).
    pub prior: RunStatus,
}

impl Record<'_> {
    fn id(&self) -> &RunId {
        &self.run.id
    }

    /// Record a status change after F&O answered: through the journal when the store stays busy.
    fn transition(&self, to: RunStatus, detail: serde_json::Value) -> Result<(), StoreError> {
        self.store.durably(Entry::Transition {
            run_id: self.id().clone(),
            from: IN_FLIGHT.to_vec(),
            to,
            actor: self.actor.to_string(),
            detail,
        })
    }

    pub(super) fn audit(&self, kind: &str, detail: serde_json::Value) -> Result<(), StoreError> {
        self.store.durably(Entry::Audit {
            run_id: self.id().clone(),
            actor: self.actor.to_string(),
            kind: kind.to_string(),
            detail,
        })
    }

    /// Record a decision that took effect, with F&O's answer and (for an approval) the compensation plan.
    pub fn finish(&self, answer: FnoAnswer, live: Option<&Snapshot>) -> Result<Outcome, StoreError> {
        let id = self.id().clone();
        let (to, outcome) = match self.kind {
            DecisionKind::Approve => match answer.handed_over {
                Some(mode) => (
                    RunStatus::HandedOver,
                    Outcome::HandedOver {
                        run_id: id,
                        mode,
                        answer: answer.clone(),
                        detail: "approved and handed over".into(),
                    },
                ),
                None => (RunStatus::Executed, Outcome::Executed { run_id: id, answer: answer.clone() }),
            },
            DecisionKind::Reject => (RunStatus::Rejected, Outcome::Rejected { run_id: id, answer: answer.clone() }),
            DecisionKind::Rollback => {
                (RunStatus::RolledBack, Outcome::RolledBack { run_id: id, answer: answer.clone() })
            }
        };
        let mut detail = json!({ "decision": self.kind.as_str(), "answer": answer });
        if self.kind == DecisionKind::Approve {
            // The compensation plan as it will be executed: judged with the synced catalog, on the record
            // as it was re-validated.
            let known = self.known;
            let mut facts = Facts::new(Utc::now(), ActorId(self.actor.to_string()));
            facts.live = live;
            facts.known_operations = known.operations.as_ref();
            facts.known_entity_fields = known.entity_fields.as_ref();
            facts.catalog = known.catalog.as_deref();
            let mut plan = rollback::plan(self.run, self.config, &facts);
            if answer.handed_over.is_some() {
                plan = rollback::handed_over(plan);
            }
            detail["compensation"] = serde_json::to_value(plan).unwrap_or_default();
        }
        self.transition(to, detail)?;
        Ok(outcome)
    }

    /// F&O refused a step. What had landed before it decides the status: nothing → the decision failed
    /// (a rollback leaves the run as it was); something → partly executed, or a partial rollback.
    pub fn failed(&self, failure: &StepFailure) -> Result<Outcome, StoreError> {
        let id = self.id().clone();
        let error = &failure.error;
        let infolog = error.infolog().map(str::to_string);
        let written = &failure.written;
        let detail = json!({
            "decision": self.kind.as_str(),
            "error": error.to_string(),
            "infolog": infolog,
            "written": written,
        });
        let precondition = matches!(error, crate::fno::FnoError::PreconditionFailed { .. });
        let reason = if precondition { format!("{error}; nothing more was sent") } else { error.to_string() };
        match (self.kind, written.is_empty()) {
            (DecisionKind::Rollback, true) => {
                self.transition(self.prior, detail)?;
                if precondition {
                    return Ok(Outcome::Stale { run_id: id, drift: DriftReport::default(), reason });
                }
                Ok(Outcome::Failed { run_id: id, reason: format!("{reason}; nothing was undone"), infolog })
            }
            (DecisionKind::Rollback, false) => {
                self.transition(RunStatus::RollbackPartial, detail)?;
                Ok(Outcome::RollbackPartial { run_id: id, done: written.clone(), reason, infolog })
            }
            (_, false) => {
                self.transition(RunStatus::PartlyExecuted, detail)?;
                Ok(Outcome::PartlyExecuted { run_id: id, written: written.clone(), reason, infolog })
            }
            (_, true) if precondition => {
                self.transition(RunStatus::Stale, detail)?;
                Ok(Outcome::Stale {
                    run_id: id,
                    drift: DriftReport::default(),
                    reason: "F&O answered 412: the record changed between the re-read and the write; nothing was \
                             written"
                        .into(),
                })
            }
            (_, true) => {
                self.transition(RunStatus::Failed, detail)?;
                Ok(Outcome::Failed { run_id: id, reason, infolog })
            }
        }
    }

    /// The answer to a write was lost: the run is `unknown` until reading F&O proves what happened.
    pub fn lost(&self, failure: &StepFailure) -> Result<DateTime<Utc>, StoreError> {
        let settles_after = Utc::now() + chrono::Duration::from_std(self.config.settle_window()).unwrap_or_default();
        self.transition(
            RunStatus::Unknown,
            json!({
                "decision": self.kind.as_str(),
                "error": failure.error.to_string(),
                "written": failure.written,
                "prior": self.prior,
                "settles_after": settles_after,
            }),
        )?;
        Ok(settles_after)
    }

    /// Record what reading F&O showed about a decision whose answer was lost. Only evidence concludes:
    /// the effect visible → done; its absence → failed only once the lost request can no longer land
    /// (`settles_after`); anything else leaves the run `unknown` for a later sweep.
    pub fn settle(
        &self,
        finding: Result<Finding, crate::fno::FnoError>,
        settles_after: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let id = self.id().clone();
        let still_unknown = |reason: String| Outcome::Unknown { run_id: id.clone(), reason, settles_after };
        let finding = match finding {
            Ok(f) => f,
            Err(e) => {
                self.audit("reconcile.deferred", json!({ "error": e.to_string() }))?;
                self.keep_unknown(settles_after)?;
                return Ok(still_unknown(format!("F&O cannot be read now ({e})")));
            }
        };
        let settled = Utc::now() >= settles_after;
        self.audit(
            "reconcile.finding",
            json!({ "decision": self.kind.as_str(), "finding": finding, "window_closed": settled }),
        )?;
        match finding {
            Finding::Applied { mut answer } => {
                answer.messages.push("the answer was lost; reading F&O showed the decision took effect".into());
                self.finish(answer, None)
            }
            Finding::Partial { written, detail } if settled => {
                let reason = format!("the answer was lost; reading F&O shows {detail}; nothing was re-sent");
                let status = if self.kind == DecisionKind::Rollback {
                    RunStatus::RollbackPartial
                } else {
                    RunStatus::PartlyExecuted
                };
                self.transition(
                    status,
                    json!({ "decision": self.kind.as_str(), "reason": reason, "written": written }),
                )?;
                Ok(if self.kind == DecisionKind::Rollback {
                    Outcome::RollbackPartial { run_id: id, done: written, reason, infolog: None }
                } else {
                    Outcome::PartlyExecuted { run_id: id, written, reason, infolog: None }
                })
            }
            Finding::NotApplied { detail } if settled => {
                let reason = format!(
                    "the answer was lost; {} after the send F&O shows no effect ({detail}); nothing was re-sent",
                    humantime(self.config.settle_window())
                );
                let to = if self.kind == DecisionKind::Rollback { self.prior } else { RunStatus::Failed };
                self.transition(to, json!({ "decision": self.kind.as_str(), "reason": reason }))?;
                Ok(Outcome::Failed { run_id: id, reason, infolog: None })
            }
            Finding::Partial { detail, .. } | Finding::NotApplied { detail } | Finding::Undetermined { detail } => {
                self.keep_unknown(settles_after)?;
                let why = if settled {
                    format!("F&O does not show whether it took effect: {detail}")
                } else {
                    format!("F&O does not show the effect yet ({detail}) and may still apply it")
                };
                Ok(still_unknown(why))
            }
        }
    }

    /// A run reconciled from `executing` (a killed process) that is still undecided becomes `unknown`,
    /// with the time its window closes fixed now (later sweeps take leases of their own).
    fn keep_unknown(&self, settles_after: DateTime<Utc>) -> Result<(), StoreError> {
        let status = if self.store.journal.used() { None } else { self.store.db().status(self.id())? };
        if status == Some(RunStatus::Executing) {
            self.transition(
                RunStatus::Unknown,
                json!({
                    "decision": self.kind.as_str(),
                    "prior": self.prior,
                    "reason": "the deciding process ended before recording F&O's answer",
                    "settles_after": settles_after,
                }),
            )?;
        }
        Ok(())
    }
}

/// `90 s`, `2 min`: a duration for messages.
pub(super) fn humantime(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s < 120 { format!("{s} s") } else { format!("{} min", s / 60) }
}
