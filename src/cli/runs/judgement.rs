//! What `runs show --json` prints around the judgement (`review::preview`).

use serde::Serialize;

use crate::diff::RunDiff;
use crate::model::{GovernedRun, RunStatus};
use crate::policy::Evaluation;
pub use crate::review::preview::{Judgement, judge_for_viewer};
use crate::rollback::RollbackPlan;
use crate::store::{Approval, Lease, StoredRun};

/// One line saying what the judgement was computed against.
pub const OFFLINE_NOTE: &str = "reviewed against the before snapshot; re-validated against live F&O at decision time";

/// `runs show --json`: the run, where it is, who is on it, and its judgement.
#[derive(Debug, Serialize)]
pub struct ShowEnvelope<'a> {
    pub run: &'a GovernedRun,
    /// The payload digest a decision binds to (`approve --reviewed DIGEST`).
    pub digest: &'a str,
    pub status: RunStatus,
    pub approvals: &'a [Approval],
    /// Distinct approvers the run needs: the one count every view shows.
    pub required_approvals: u32,
    pub lease: Option<&'a Lease>,
    pub diff: &'a RunDiff,
    pub evaluation: &'a Evaluation,
    pub rollback: &'a RollbackPlan,
    /// For a re-captured run: the run it replaces and what moved since that one was reviewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<&'a crate::review::preview::Replaces>,
}

impl<'a> ShowEnvelope<'a> {
    /// The envelope of a stored run and its judgement.
    pub fn new(stored: &'a StoredRun, judgement: &'a Judgement) -> Self {
        ShowEnvelope {
            run: &stored.run,
            digest: &stored.digest,
            status: stored.status,
            approvals: &stored.approvals,
            required_approvals: required_of(stored, judgement),
            lease: stored.lease.as_ref(),
            diff: &judgement.diff,
            evaluation: &judgement.evaluation,
            rollback: &judgement.rollback,
            replaces: judgement.replaces.as_ref(),
        }
    }
}

/// The one count of approvals a stored run needs, given its judgement.
pub fn required_of(stored: &StoredRun, judgement: &Judgement) -> u32 {
    let given = u32::try_from(stored.approvals.len()).unwrap_or(u32::MAX);
    crate::review::preview::required_approvals(
        stored.status,
        given,
        Some(judgement.evaluation.required_approvals),
        stored.run.route.required_approvals,
    )
}
