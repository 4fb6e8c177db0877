//! The TUI's [`ReviewSource`], backed by the store and the review pipeline. This is the composition root
//! between the two: the TUI itself never touches SQLite or F&O, and every decision it takes goes through
//! `review::Reviewer::decide`, exactly like `signoff approve`.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Config;
use crate::model::{Action, GovernedRun, RunId, RunStatus, Snapshot};
use crate::review::preview::{Judgement, judge_for_viewer, required_approvals};
use crate::review::{self, Cancel, Outcome, ProgressSink, Reviewer, Step};
use crate::store::{Store, StoreWatcher, StoredRun};
use crate::text::visible;
use crate::tui::sections;
use crate::tui::source::{
    ApprovalView, DecisionKind, DecisionOutcome, DecisionRequest, DecisionStep, OutcomeKind, Progress as TuiProgress,
    ReviewSource, RunDetail, Tone,
};

/// The store and pipeline as the TUI sees them.
pub struct PipelineSource {
    reviewer: Arc<Reviewer>,
    config: Arc<Config>,
    runtime: tokio::runtime::Handle,
    /// The store's change check (`Store::watch`: a commit counter on SQLite, change notifications on
    /// PostgreSQL), on a connection of its own that never writes; made by the first load, so a change
    /// between that load and the first poll is not missed.
    watcher: Mutex<Option<StoreWatcher>>,
    /// Show the connector's activation steps (the configured connector; not the demo's sandbox).
    activation: bool,
}

impl PipelineSource {
    /// `runtime` runs decisions (the TUI calls the source from its blocking pool).
    pub fn new(reviewer: Arc<Reviewer>, config: Arc<Config>, runtime: tokio::runtime::Handle) -> Self {
        PipelineSource { reviewer, config, runtime, watcher: Mutex::new(None), activation: false }
    }

    /// Also give the TUI the connector's activation steps (`review::activation`).
    pub fn with_activation(mut self) -> Self {
        self.activation = true;
        self
    }

    fn store(&self) -> Result<Store, String> {
        self.reviewer.store().open().map_err(|e| e.to_string())
    }

    /// Start watching the store, if not yet: commits from now on count as changes.
    fn watch_from(&self, store: &Store) -> Result<(), String> {
        let mut watcher = self.watcher.lock().map_err(|_| "the store watcher is unavailable".to_string())?;
        if watcher.is_none() {
            *watcher = Some(store.watch().map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    /// The judgement both `runs show` and the TUI show (`review::preview::judge_for_viewer`).
    fn judge(&self, store: &Store, stored: &StoredRun, live: Option<&Snapshot>) -> Result<Judgement, String> {
        // One query, like the decision's own re-read; the run view is opened by a person who can wait 5 s.
        let accounts = self.live_accounts(&[&stored.run], Duration::from_secs(5));
        judge_for_viewer(store, stored, &self.config, self.reviewer.approver(), live, accounts)
            .map_err(|e| e.to_string())
    }

    /// Which main accounts of these journals exist, read live from F&O, waiting at most `wait`. On an
    /// error or a timeout the answer is unknown (`None`): the account rule stays fail-closed and says it is
    /// judged at decision time. Runs that are not journals need no read.
    fn live_accounts(&self, runs: &[&GovernedRun], wait: Duration) -> Option<BTreeSet<String>> {
        if !runs.iter().any(|r| r.document_action() == Action::PostJournal) {
            return None;
        }
        let read = review::facts::read_accounts_of(self.reviewer.client(), runs);
        match self.runtime.block_on(async { tokio::time::timeout(wait, read).await }) {
            Ok(Ok(accounts)) => Some(accounts),
            Ok(Err(e)) => {
                tracing::warn!("main accounts could not be read live: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("main accounts could not be read live: no answer within {wait:?}");
                None
            }
        }
    }

    fn detail_of(&self, store: &Store, stored: &StoredRun, live: Option<&Snapshot>) -> Result<RunDetail, String> {
        let run = &stored.run;
        let Judgement { diff, evaluation, rollback: plan, replaces } = self.judge(store, stored, live)?;
        let history = review::history::history(store, &run.id).map_err(|e| e.to_string())?;
        let approvals = stored
            .approvals
            .iter()
            .map(|a| ApprovalView {
                approver: a.approver.clone(),
                at: a.approved_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                note: Some(a.reason.clone()),
            })
            .collect();
        let given = u32::try_from(stored.approvals.len()).unwrap_or(u32::MAX);
        let required =
            required_approvals(stored.status, given, Some(evaluation.required_approvals), run.route.required_approvals);
        let why = review::history::why(stored).or_else(|| replaces.as_ref().map(review::history::replacing));
        Ok(sections::render(&diff, &evaluation, &plan).with_replaces(replaces.as_ref()).into_detail(
            run,
            stored.status,
            approvals,
            required,
            history,
            why,
        ))
    }
}

impl ReviewSource for PipelineSource {
    fn summaries(&self) -> Result<Vec<crate::model::RunSummary>, String> {
        let store = self.store()?;
        self.watch_from(&store)?;
        // Runs past their expiry become `expired` (a recorded transition), so the queue never offers them.
        review::expire::expire_overdue(&store, chrono::Utc::now()).map_err(|e| e.to_string())?;
        // The rows at once; their judgement follows in batches (`judge_rows`), the rows on screen first.
        review::queue::unjudged_rows(&store, &crate::store::RunFilter::default()).map_err(|e| e.to_string())
    }

    fn first_summaries(&self, limit: usize) -> Result<Vec<crate::model::RunSummary>, String> {
        let store = self.store()?;
        self.watch_from(&store)?;
        // Expired first, as for every load, so the first screen never offers an overdue run.
        review::expire::expire_overdue(&store, chrono::Utc::now()).map_err(|e| e.to_string())?;
        review::queue::first_unjudged_rows(&store, limit).map_err(|e| e.to_string())
    }

    fn judge_rows(&self, ids: &[RunId]) -> Result<Vec<review::queue::RowJudgement>, String> {
        let store = self.store()?;
        // The journals among them have their main accounts read live, so the policy column agrees with the
        // run view; a batch waits at most 3 s for F&O (the rows are already on screen).
        let accounts = |runs: &[&GovernedRun]| self.live_accounts(runs, Duration::from_secs(3));
        review::queue::judge_rows(&store, ids, &self.config, self.reviewer.approver(), accounts)
            .map_err(|e| e.to_string())
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let store = self.store()?;
        let stored =
            store.get(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("run {id} is not in the store"))?;
        // A stale run shows its three-way view (reviewed · live · proposed) from when it went stale.
        let live = review::history::stale_live(&stored);
        self.detail_of(&store, &stored, live.as_ref())
    }

    fn decide(
        &self,
        request: DecisionRequest,
        progress: TuiProgress,
        cancel: Arc<AtomicBool>,
    ) -> Result<DecisionOutcome, String> {
        let (kind, dry_run) = match request.kind {
            DecisionKind::Approve => (review::DecisionKind::Approve, false),
            DecisionKind::Reject => (review::DecisionKind::Reject, false),
            DecisionKind::DryRun => (review::DecisionKind::Approve, true),
            DecisionKind::Rollback => (review::DecisionKind::Rollback, false),
        };
        let store = self.store()?;
        let before = store.get(&request.run_id).map_err(|e| e.to_string())?;
        let status_before = before.map(|s| s.status);
        let reason = request.reason.clone().unwrap_or_else(|| match request.kind {
            DecisionKind::DryRun => "dry run from the TUI".to_string(),
            _ => String::new(),
        });
        let decision = review::DecisionRequest {
            run_id: request.run_id.clone(),
            kind,
            reason,
            dry_run,
            // What the approver typed in the dialog; `review` checks it in production.
            confirm_environment: request.confirm_environment.clone(),
            reviewed_digest: request.reviewed_digest.clone(),
        };
        let outcome = self
            .runtime
            .block_on(self.reviewer.decide(&decision, &progress_sink(progress), &Cancel::from_flag(cancel)))
            .map_err(|e| e.to_string())?;
        let stored = store.get(&request.run_id).map_err(|e| e.to_string())?.ok_or("the run vanished")?;
        let live = match &outcome {
            Outcome::Stale { drift, .. } => Some(drift.live_of(&stored.run)),
            _ => None,
        };
        let mut detail = self.detail_of(&store, &stored, live.as_ref())?;
        if let Outcome::DryRun { requests, .. } = &outcome {
            // The exact requests lead the Diff tab, in both layouts, until the run is reopened.
            let mut shown =
                vec![vec![(Tone::Title, "Dry run: nothing was written. Requests that would be sent:".into())]];
            for r in requests {
                // Wrapped, never cut: the URL and body are what the approver checks.
                for line in request_lines(r) {
                    for (i, chunk) in sections::wrap(&visible(&line), 72).into_iter().enumerate() {
                        let lead = if i == 0 { "" } else { "    " };
                        shown.push(vec![(Tone::Text, format!("{lead}{chunk}"))]);
                    }
                }
            }
            shown.push(vec![(Tone::Muted, String::new())]);
            detail.diff.lines.splice(0..0, shown.iter().cloned().map(Into::into));
            detail.diff_unified.lines.splice(0..0, shown.into_iter().map(Into::into));
        }
        Ok(decision_outcome(&outcome, status_before, stored.status, detail))
    }

    fn reset_sandbox(&self, transaction: Option<&str>) -> Result<String, String> {
        let url = self.config.environment.url.clone().unwrap_or_default();
        let done = self.runtime.block_on(crate::sim::admin::reset(&url, transaction)).map_err(|e| e.to_string())?;
        let what = if done.reset == "all" { "all data".to_string() } else { done.reset };
        Ok(format!(
            "sandbox reset: {what}: {} record(s) restored from the seed, {} removed",
            done.restored, done.removed
        ))
    }

    fn sync_intake(&self) -> Result<Option<String>, String> {
        if !self.config.intake.workflow.enabled {
            return Ok(None);
        }
        let report = self.runtime.block_on(self.reviewer.sync_inbox()).map_err(|e| e.to_string())?;
        if report.added.is_empty() && report.stale.is_empty() && report.skipped.is_empty() {
            return Ok(None);
        }
        let mut parts = Vec::new();
        if !report.added.is_empty() {
            parts.push(format!("{} new work item(s) in the queue", report.added.len()));
        }
        if !report.stale.is_empty() {
            parts.push(format!("{} decided in F&O meanwhile, now stale", report.stale.len()));
        }
        if let Some(first) = report.skipped.first() {
            parts.push(format!(
                "{} skipped ({}: {})",
                report.skipped.len(),
                visible(&first.work_item),
                visible(&first.reason)
            ));
        }
        Ok(Some(format!("F&O workflow inbox: {}", parts.join("; "))))
    }

    fn activation(&self) -> Result<Option<review::activation::Activation>, String> {
        if !self.activation {
            return Ok(None);
        }
        let store = self.store()?;
        review::activation::activation(Some(&store), &self.config).map(Some).map_err(|e| e.to_string())
    }

    fn changed(&self) -> Result<bool, String> {
        let mut watcher = self.watcher.lock().map_err(|_| "the store watcher is unavailable".to_string())?;
        match watcher.as_mut() {
            Some(w) => w.changed().map_err(|e| e.to_string()),
            // Not loaded yet: the first load reads everything anyway.
            None => Ok(false),
        }
    }
}

/// The one place a pipeline [`Outcome`] becomes what the TUI shows: the headline, the recorded status,
/// and whether the approver must look again. Outcomes whose status alone would mislead are named; any
/// other (unknown outcome, partly executed, rollback partial, a read that failed before anything was
/// sent, and variants yet to come) is judged by the status the pipeline recorded.
fn decision_outcome(
    outcome: &Outcome,
    status_before: Option<RunStatus>,
    status: RunStatus,
    detail: RunDetail,
) -> DecisionOutcome {
    // What the recorded status says on its own, where it says something.
    let recorded = match status {
        RunStatus::Executing | RunStatus::Unknown => Some(OutcomeKind::Unknown),
        RunStatus::PartlyExecuted | RunStatus::RollbackPartial => Some(OutcomeKind::Partial),
        RunStatus::Failed => Some(OutcomeKind::Failed),
        RunStatus::Stale => Some(OutcomeKind::NothingWritten),
        _ => None,
    };
    let kind = match outcome {
        // The run stays pending or approved, which is what was asked.
        Outcome::ApprovalRecorded { .. } | Outcome::DryRun { .. } => OutcomeKind::Done,
        // A refused rollback leaves the run executed: its status would read as success.
        Outcome::Refused { .. } | Outcome::Cancelled { .. } | Outcome::Stale { .. } => OutcomeKind::NothingWritten,
        // A failed rollback puts the run back to executed; a failure after a partial write is partial.
        Outcome::Failed { .. } => recorded.unwrap_or(OutcomeKind::Failed),
        _ if Some(status) == status_before => recorded.unwrap_or(OutcomeKind::NothingWritten),
        _ => recorded.unwrap_or(OutcomeKind::Done),
    };
    DecisionOutcome {
        run_id: outcome.run_id().clone(),
        status,
        kind,
        message: outcome.headline(),
        detail: Some(Box::new(detail)),
    }
}

/// A recorded request as HTTP: `METHOD url`, one `Name: value` line per header (secrets already masked by
/// the connector), then the body. Anything not shaped like that is shown as its JSON.
fn request_lines(request: &serde_json::Value) -> Vec<String> {
    let text = |k: &str| request.get(k).and_then(serde_json::Value::as_str);
    let (Some(method), Some(url)) = (text("method"), text("url")) else {
        return serde_json::to_string_pretty(request).unwrap_or_default().lines().map(str::to_string).collect();
    };
    let mut lines = vec![format!("{method} {url}")];
    for pair in request.get("headers").and_then(serde_json::Value::as_array).into_iter().flatten() {
        if let Some([name, value]) = pair.as_array().map(Vec::as_slice) {
            lines.push(format!("  {}: {}", name.as_str().unwrap_or_default(), value.as_str().unwrap_or_default()));
        }
    }
    if let Some(body) = text("body").filter(|b| !b.is_empty()) {
        lines.push(format!("  {body}"));
    }
    lines.push(String::new());
    lines
}

/// The pipeline's steps, in words an approver follows.
fn progress_sink(progress: TuiProgress) -> ProgressSink {
    Arc::new(move |p: review::Progress| {
        let step = match p.step {
            Step::Claimed => "lease taken… (Esc cancels)",
            Step::Rereading => "re-reading the live record from F&O… (Esc cancels)",
            Step::Comparing => "comparing the live record with what you reviewed… (Esc cancels)",
            Step::Evaluating => "re-evaluating policy on the live record… (Esc cancels)",
            Step::Sending => "sending to F&O… (no longer cancellable)",
            Step::Reconciling => "reading F&O to learn the outcome…",
            Step::Recorded => "recording the outcome…",
        };
        progress(DecisionStep { text: step.to_string(), sending: matches!(p.step, Step::Sending | Step::Reconciling) });
    })
}
