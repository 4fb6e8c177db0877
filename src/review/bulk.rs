//! Bulk approval: runs of one action whose verdicts all pass, each re-validated, decided and audited
//! on its own, a bounded number at a time. Throttling is honoured by the connector (429/503 with
//! `Retry-After` are waited out within the retry budget), and the bound keeps the load predictable.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::judge::Facts;
use crate::model::filter::Filter;
use crate::model::{Action, ActorId, RunId, RunStatus};
use crate::policy::{self, Outcome as PolicyOutcome};
use crate::store::{RunFilter, StoreError};

use super::eligibility::DecisionKind;
use super::outcome::{Outcome, exit};
use super::progress::{Cancel, ProgressSink};
use super::{DecisionRequest, ReviewError, Reviewer, facts};

/// Every run's outcome, in the order the runs were listed.
#[derive(Debug, Clone, Serialize)]
pub struct BulkReport {
    pub outcomes: Vec<Outcome>,
}

impl BulkReport {
    /// The most serious exit code among the outcomes (failed > refused > stale > done).
    pub fn exit_code(&self) -> u8 {
        // An unknown outcome needs attention most (F&O may still apply it), then what F&O refused.
        let rank = |c: u8| match c {
            exit::UNKNOWN => 5,
            exit::FAILED => 4,
            exit::NOT_SENT => 3,
            exit::REFUSED => 2,
            exit::STALE => 1,
            _ => 0,
        };
        self.outcomes.iter().map(Outcome::exit_code).max_by_key(|c| rank(*c)).unwrap_or(exit::DONE)
    }
}

/// Why a bulk approval was refused as a whole (nothing was decided).
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no pending run matches the filter; `signoff runs list` shows the queue")]
    NothingMatches,
    #[error(
        "the filter matches runs of {0} different actions; bulk approval takes one action at a time (add action:NAME to the filter)"
    )]
    MixedActions(usize),
    #[error("bulk approval takes only runs whose verdicts all pass; these do not, so nothing was decided:\n{}",
        .0.iter().map(|(id, why)| format!("  {id}: {why}")).collect::<Vec<_>>().join("\n"))]
    NotAllPass(Vec<(RunId, String)>),
    #[error("a bulk approval task stopped unexpectedly: {0}")]
    Task(String),
}

pub(super) async fn approve_all(
    r: &Arc<Reviewer>,
    filter: &Filter,
    reason: &str,
    concurrency: usize,
    progress: &ProgressSink,
) -> Result<BulkReport, BulkError> {
    let ids = eligible(r, filter).await?;
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, (id, digest)) in ids.iter().enumerate() {
        let (r, permits, progress) = (Arc::clone(r), Arc::clone(&permits), Arc::clone(progress));
        let request = DecisionRequest {
            run_id: id.clone(),
            kind: DecisionKind::Approve,
            reason: reason.to_string(),
            dry_run: false,
            confirm_environment: None,
            reviewed_digest: digest.clone(),
        };
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, r.decide(&request, &progress, &Cancel::new()).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; ids.len()];
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.map_err(|e| BulkError::Task(e.to_string()))?;
        outcomes[index] = Some(result?);
    }
    Ok(BulkReport { outcomes: outcomes.into_iter().flatten().collect() })
}

/// The pending runs the filter matches, if they are of one action and every verdict passes.
async fn eligible(r: &Reviewer, filter: &Filter) -> Result<Vec<(RunId, String)>, BulkError> {
    let (runs, known) = {
        let store = r.store().open()?;
        let filter = filter.clone().or_status(RunStatus::Pending);
        let mut runs = Vec::new();
        // Only the runs of the filter's status are read (pending unless it names another): a store's
        // history of executed runs is never walked.
        let stored = RunFilter { status: filter.status(), ..RunFilter::default() };
        for summary in store.summaries(&stored)?.iter().filter(|s| filter.matches(s)) {
            if let Some(stored) = store.get(&summary.id)? {
                let others = facts::other_invoices(&store, &stored.run)?;
                runs.push((stored, others));
            }
        }
        (runs, facts::load(&store)?)
    };
    if runs.is_empty() {
        return Err(BulkError::NothingMatches);
    }
    let actions: BTreeSet<Action> = runs.iter().map(|(s, _)| s.run.action).collect();
    if actions.len() > 1 {
        return Err(BulkError::MixedActions(actions.len()));
    }
    let client = r.client.fork(true);
    let mut refused = Vec::new();
    for (stored, others) in &runs {
        let accounts = facts::read_accounts(&client, &stored.run).await.ok().flatten();
        let mut f = Facts::new(Utc::now(), ActorId(r.approver().to_string()));
        f.approver_groups = r.groups.clone();
        f.prior_approvers = stored.approvals.iter().map(|a| ActorId(a.approver.clone())).collect();
        f.known_operations = known.operations.as_ref();
        f.known_entity_fields = known.entity_fields.as_ref();
        f.catalog = known.catalog.as_deref();
        f.known_accounts = accounts.as_ref();
        f.other_runs = others;
        let evaluation = policy::evaluate(&stored.run, &f, &r.config);
        if evaluation.outcome != PolicyOutcome::Clear {
            let worst: Vec<&str> = evaluation
                .verdicts
                .iter()
                .filter(|v| v.level > policy::Level::Advisory)
                .map(|v| v.message.as_str())
                .take(2)
                .collect();
            refused.push((stored.run.id.clone(), worst.join("; ")));
        }
    }
    if !refused.is_empty() {
        return Err(BulkError::NotAllPass(refused));
    }
    // Each approval is bound to the run exactly as judged here.
    Ok(runs.into_iter().map(|(s, _)| (s.run.id, s.digest)).collect())
}
