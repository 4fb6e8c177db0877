//! The in-memory source the view tests drive: fixture runs judged by the real policy, diff and rollback
//! code (with a synced catalog where given; without one, catalog rules fail closed), rendered by the same
//! `tui::sections` the pipeline-backed source uses. Decisions are recorded, not sent.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use signoff::model::{GovernedRun, RunId, RunStatus, RunSummary};
use signoff::tui::source::{
    ApprovalView, DecisionKind, DecisionOutcome, DecisionRequest, OutcomeKind, Progress, Readiness, ReviewSource,
    RunDetail,
};

/// Who looks at the in-memory source's runs.
const FIXED_APPROVER: &str = "nina.patel@contoso.com";

/// An in-memory source for tests and benches, fed by parsed runs.
pub struct Fixed {
    runs: Mutex<BTreeMap<RunId, (GovernedRun, RunSummary)>>,
    /// The clock the runs are judged at (fixed in tests, so snapshots do not age).
    now: DateTime<Utc>,
    /// The config runs are judged under: the shipped template (managed objects, operations, policy).
    config: signoff::config::Config,
    /// Live records for stale runs, so their three-way view can be shown.
    live: BTreeMap<RunId, signoff::model::Snapshot>,
    /// What a metadata sync would have stored; `None` = never synced, so catalog rules fail closed.
    known: Option<signoff::review::facts::KnownFacts>,
    decisions: Mutex<Vec<DecisionRequest>>,
    /// Set when a run changed behind the TUI's back ([`Fixed::decided_elsewhere`]).
    changed: AtomicBool,
}

impl Fixed {
    /// A source holding `runs`, each with its summary (status, approvals, lease).
    pub fn new(runs: impl IntoIterator<Item = (GovernedRun, RunSummary)>) -> Self {
        let runs: BTreeMap<RunId, (GovernedRun, RunSummary)> =
            runs.into_iter().map(|(r, s)| (r.id.clone(), (r, s))).collect();
        // The template always parses (a test in config pins it); an empty config would only fail closed.
        let mut config: signoff::config::Config = toml::from_str(signoff::config::template()).unwrap_or_default();
        // The approver sits in every group the runs name, as the demo approver does: the eligible-group
        // rule then judges the person, not the fixture set.
        let groups: std::collections::BTreeSet<String> =
            runs.values().flat_map(|(r, _)| r.route.eligible_groups.iter().cloned()).collect();
        config.approver.groups = groups.into_iter().collect();
        Fixed {
            runs: Mutex::new(runs),
            now: Utc::now(),
            config,
            live: BTreeMap::new(),
            known: None,
            decisions: Mutex::new(Vec::new()),
            changed: AtomicBool::new(false),
        }
    }

    /// Judge the runs at `now` instead of the wall clock.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Show run `id` against this live record: its diff becomes the three-way view of a stale run.
    pub fn with_live(mut self, id: RunId, live: signoff::model::Snapshot) -> Self {
        self.live.insert(id, live);
        self
    }

    /// Judge the runs as if metadata sync had stored this catalog (so rollback plans can be ready).
    pub fn with_catalog(mut self, catalog: std::sync::Arc<signoff::fno::Catalog>) -> Self {
        self.known = Some(signoff::review::facts::known_from(&catalog));
        self
    }

    /// Another approver moved run `id` to `status` with `approvals` counted: the next
    /// [`ReviewSource::changed`] says so, as the store's watcher would.
    pub fn decided_elsewhere(&self, id: &RunId, status: RunStatus, approvals: u32) {
        if let Ok(mut runs) = self.runs.lock()
            && let Some((_, summary)) = runs.get_mut(id)
        {
            summary.status = status;
            summary.approvals = approvals;
            self.changed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The run view of `run` as it stands in `summary`, judged at this source's clock for its approver.
    fn judged(&self, run: &GovernedRun, summary: &RunSummary) -> RunDetail {
        let live = self.live.get(&run.id);
        let state = (summary.status, summary.approvals);
        judged_detail(run, state, &self.config, self.now, FIXED_APPROVER, live, self.known.as_ref())
    }

    /// Every decision received so far, in order.
    pub fn decisions(&self) -> Vec<DecisionRequest> {
        self.decisions.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

/// The detail the in-memory source shows: the run judged by the real policy, diff and rollback code
/// (with `catalog` as the synced metadata; without one, catalog rules fail closed), rendered as the
/// pipeline-backed source renders it.
pub fn judged_detail(
    run: &GovernedRun,
    (status, given): (RunStatus, u32),
    config: &signoff::config::Config,
    now: DateTime<Utc>,
    approver: &str,
    live: Option<&signoff::model::Snapshot>,
    known: Option<&signoff::review::facts::KnownFacts>,
) -> RunDetail {
    // The approvals the summary counts, by other approvers (their names do not matter to the views).
    let approvals: Vec<ApprovalView> = (1..=given)
        .map(|i| ApprovalView {
            approver: format!("approver{i}@contoso.com"),
            at: now.format("%Y-%m-%d %H:%M UTC").to_string(),
            note: None,
        })
        .collect();
    let mut facts = signoff::judge::Facts::new(now, signoff::model::ActorId(approver.to_string()));
    facts.approver_groups = config.approver.groups.clone();
    facts.prior_approvers = approvals.iter().map(|a| signoff::model::ActorId(a.approver.clone())).collect();
    facts.live = live;
    facts.known_operations = known.and_then(|k| k.operations.as_ref());
    facts.known_entity_fields = known.and_then(|k| k.entity_fields.as_ref());
    facts.catalog = known.and_then(|k| k.catalog.as_deref());
    let evaluation = signoff::policy::evaluate(run, &facts, config);
    let plan = signoff::rollback::plan(run, config, &facts);
    let required = signoff::review::preview::required_approvals(
        status,
        given,
        Some(evaluation.required_approvals),
        run.route.required_approvals,
    );
    signoff::tui::sections::render(&signoff::diff::diff_run(run, live), &evaluation, &plan).into_detail(
        run,
        status,
        approvals,
        required,
        Vec::new(),
        None,
    )
}

impl ReviewSource for Fixed {
    /// Each open run judged by the real judgement, as `review::queue` fills the queue.
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        Ok(runs
            .values()
            .map(|(run, summary)| {
                let d = self.judged(run, summary);
                let mut summary = summary.clone();
                summary.required_approvals = d.required_approvals;
                if !summary.status.is_final() {
                    let levels = d.verdicts.iter().map(|v| v.level);
                    let readiness = d.rollback.unwrap_or(Readiness::NotReady);
                    summary.judged = Some(signoff::model::QueueJudgement::of(levels, readiness));
                }
                summary
            })
            .collect())
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        let (run, summary) = runs.get(id).ok_or_else(|| format!("run {id} is not in the store"))?;
        Ok(self.judged(run, summary))
    }

    fn decide(
        &self,
        request: DecisionRequest,
        _progress: Progress,
        _cancel: Arc<AtomicBool>,
    ) -> Result<DecisionOutcome, String> {
        let mut runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        let (_, summary) =
            runs.get_mut(&request.run_id).ok_or_else(|| format!("run {} is not in the store", request.run_id))?;
        let status = match request.kind {
            DecisionKind::Approve => RunStatus::Executed,
            DecisionKind::Reject => RunStatus::Rejected,
            DecisionKind::DryRun => summary.status,
            DecisionKind::Rollback => RunStatus::RolledBack,
        };
        summary.status = status;
        let message = match request.kind {
            DecisionKind::DryRun => format!("dry run of {}: nothing written", request.run_id),
            _ => format!("{}: {}", request.run_id, status),
        };
        let run_id = request.run_id.clone();
        if let Ok(mut d) = self.decisions.lock() {
            d.push(request);
        }
        Ok(DecisionOutcome { run_id, status, kind: OutcomeKind::Done, message, detail: None })
    }

    fn changed(&self) -> Result<bool, String> {
        Ok(self.changed.swap(false, std::sync::atomic::Ordering::SeqCst))
    }
}
