//! The one-line view of a run that the queue lists.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Action, GovernedRun, QueueJudgement, RunId, RunStatus};

/// What the queue needs of a run, small enough to hold 100,000 of them in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: RunId,
    pub action: Action,
    pub status: RunStatus,
    /// `dataAreaId`, lowercase, when the target is company-scoped.
    pub company: Option<String>,
    /// The target's key values for display.
    pub target: String,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub requester: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Approvals counted so far, and the number required: the route's count as stored, replaced by the
    /// review layer's one count (route, amount quorum, +1 for a soft verdict) wherever a run is judged.
    pub approvals: u32,
    pub required_approvals: u32,
    /// The approver holding an unexpired lease, if any.
    pub lease_holder: Option<String>,
    /// The worst verdict, its count and the rollback readiness, filled by the review layer for runs
    /// that still need a decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged: Option<QueueJudgement>,
}

impl RunSummary {
    /// The status to show at `now`: a run still open for approval (`pending`, or `approved` short of its
    /// quorum) whose expiry has passed is `expired`, whether or not the transition is recorded yet.
    pub fn status_at(&self, now: DateTime<Utc>) -> RunStatus {
        match self.status {
            RunStatus::Pending | RunStatus::Approved if self.expires_at <= now => RunStatus::Expired,
            status => status,
        }
    }

    /// The summary of a freshly imported run (no approvals, no lease).
    pub fn of(run: &GovernedRun, status: RunStatus) -> Self {
        let (amount, currency) = match run.headline_amount() {
            Some((a, c)) => (Some(a), c),
            None => (None, None),
        };
        RunSummary {
            id: run.id.clone(),
            action: run.action,
            status,
            company: run.company().map(|c| c.to_string()),
            target: run.target.label(),
            amount,
            currency,
            requester: run.requester.id.to_string(),
            requested_at: run.requested_at,
            expires_at: run.expires_at,
            approvals: 0,
            required_approvals: run.route.required_approvals,
            lease_holder: None,
            judged: None,
        }
    }
}
