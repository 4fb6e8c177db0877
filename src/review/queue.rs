//! The queue as an approver sees it: every stored run's summary, with each run that still needs a
//! decision judged (worst verdict and count, rollback readiness) and every run's approvals counted the one
//! way `preview::required_approvals` counts them. The TUI's queue and `runs list` both show this.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::model::{GovernedRun, QueueJudgement, RunId, RunSummary};
use crate::review::preview::{Assessment, assess_some_open_runs, required_approvals};
use crate::store::{RunFilter, Store, StoreError};

/// Every run in the store that `filter` keeps, in the store's order, judged for `approver`. `accounts` is
/// asked once which main accounts of the open journals exist (a live read; `None` = unknown, and the
/// account rule stays fail-closed).
pub fn queue_rows(
    store: &Store,
    filter: &RunFilter,
    config: &Config,
    approver: &str,
    accounts: impl FnOnce(&[&GovernedRun]) -> Option<BTreeSet<String>>,
) -> Result<Vec<RunSummary>, StoreError> {
    let mut summaries = store.summaries(filter)?;
    let open: Vec<RunId> = summaries.iter().filter(|s| !s.status.is_final()).map(|s| s.id.clone()).collect();
    // Kept per run: the few words of its row and the policy's count, never its whole assessment. A few
    // open runs (a narrowed list) are judged on their own, each duplicate looked up in the key index; many
    // in one pass over every open run, which reads the key index once.
    let few = open.len() <= FEW;
    let only = few.then_some(open.as_slice());
    let mut judged = assess_some_open_runs(store, config, approver, only, accounts, |_, a| {
        (judgement(&a), a.evaluation.required_approvals)
    })?;
    for summary in &mut summaries {
        let judged = judged.remove(&summary.id);
        let policy = judged.as_ref().map(|(_, count)| *count);
        summary.required_approvals =
            required_approvals(summary.status, summary.approvals, policy, summary.required_approvals);
        summary.judged = judged.map(|(j, _)| j);
    }
    Ok(summaries)
}

/// Up to this many open runs are judged one by one rather than in a pass over the whole store.
const FEW: usize = 2_000;

/// How a queue row is judged: its few words and its count of required approvals.
pub type RowJudgement = (RunId, Option<QueueJudgement>, u32);

/// The runs of the store as summaries, not yet judged: what the queue shows at once. Their required
/// approvals are the route's until [`judge_rows`] gives the one count.
pub fn unjudged_rows(store: &Store, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
    store.summaries(filter)
}

/// The first `limit` of [`unjudged_rows`] (no filter), in the queue's default order (oldest request
/// first), read through an index: what the TUI shows while the rest loads.
pub fn first_unjudged_rows(store: &Store, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
    store.first_summaries(limit)
}

/// The judgement of the open runs among `ids`, each with the one count of approvals it needs (runs that
/// are not open come back unjudged, with the count [`required_approvals`] gives them).
pub fn judge_rows(
    store: &Store,
    ids: &[RunId],
    config: &Config,
    approver: &str,
    accounts: impl FnOnce(&[&GovernedRun]) -> Option<BTreeSet<String>>,
) -> Result<Vec<RowJudgement>, StoreError> {
    let judged = assess_some_open_runs(store, config, approver, Some(ids), accounts, |r, a| {
        let policy = a.evaluation.required_approvals;
        let given = u32::try_from(r.approvals.len()).unwrap_or(u32::MAX);
        (judgement(&a), required_approvals(r.status, given, Some(policy), r.run.route.required_approvals))
    })?;
    Ok(judged.into_iter().map(|(id, (j, required))| (id, Some(j), required)).collect())
}

/// The few words a queue row carries of an assessment.
pub fn judgement(assessment: &Assessment) -> QueueJudgement {
    let levels = assessment.evaluation.verdicts.iter().map(|v| v.level);
    QueueJudgement::of(levels, assessment.rollback.readiness.kind())
}
