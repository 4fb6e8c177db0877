//! What the TUI needs from the rest of signoff, as a trait, so the TUI never touches F&O or SQLite.
//!
//! Calls are synchronous (SQLite and the review pipeline are); the app runs them on tokio's blocking pool
//! and reports the results back as [`super::action::Action`]s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// Where a running decision reports its steps (`re-reading the live record from F&O…`).
pub type Progress = Arc<dyn Fn(String) + Send + Sync>;

pub use crate::model::Readiness;
use crate::model::{GovernedRun, RunId, RunStatus, RunSummary};

/// The review pipeline as the TUI sees it.
pub trait ReviewSource: Send + Sync {
    /// Every run the queue lists.
    fn summaries(&self) -> Result<Vec<RunSummary>, String>;
    /// Everything the run view shows about one run.
    fn detail(&self, id: &RunId) -> Result<RunDetail, String>;
    /// Take a decision (or a dry run), reporting each step through `progress`. Setting `cancel` stops it
    /// before anything is sent; once the write is on its way the decision runs to a recorded outcome. The
    /// TUI shows the outcome in place.
    fn decide(
        &self,
        request: DecisionRequest,
        progress: Progress,
        cancel: Arc<AtomicBool>,
    ) -> Result<DecisionOutcome, String>;
}

/// A borrowed source is a source (tests drive one TUI state over a source they keep using).
impl<T: ReviewSource + ?Sized> ReviewSource for &T {
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        (**self).summaries()
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        (**self).detail(id)
    }

    fn decide(
        &self,
        request: DecisionRequest,
        progress: Progress,
        cancel: Arc<AtomicBool>,
    ) -> Result<DecisionOutcome, String> {
        (**self).decide(request, progress, cancel)
    }
}

/// The run view's model: the run, where it stands, and pre-rendered sections filled by the judgement modules.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    pub run: GovernedRun,
    pub status: RunStatus,
    pub approvals: Vec<ApprovalView>,
    /// Distinct approvers the run needs, counted once by `review::preview::required_approvals`.
    pub required_approvals: u32,
    /// Every verdict, most severe first.
    pub verdicts: Vec<crate::policy::Verdict>,
    /// One-line verdict summary for the queue and the confirm dialog (`! 1 soft: amount moved`).
    pub verdict_summary: Option<String>,
    /// Rollback readiness for the confirm dialog.
    pub rollback: Option<Readiness>,
    /// The compensation plan as judged (readiness with its reason, the requests in order), for the
    /// rollback dialog.
    pub rollback_plan: crate::rollback::RollbackPlan,
    /// Header rows side by side: `field │ before │ proposed [│ live]`.
    pub diff: Section,
    /// The same rows stacked (`- before` / `+ proposed`), for panes narrower than `split_min_width`.
    pub diff_unified: Section,
    pub lines: Section,
    pub policy: Section,
    pub rollback_section: Section,
    pub audit: Section,
}

/// An approval already counted on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalView {
    pub approver: String,
    pub at: String,
    pub note: Option<String>,
}

/// Pre-rendered content: lines of spans, each span tagged with the meaning the theme colours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub lines: Vec<Vec<(Tone, String)>>,
}

impl Section {
    /// A section of plain lines.
    pub fn plain<I: IntoIterator<Item = S>, S: Into<String>>(lines: I) -> Self {
        Section { lines: lines.into_iter().map(|l| vec![(Tone::Text, l.into())]).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The meaning of a span in a pre-rendered section; the theme maps each to a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Muted,
    Title,
    DiffAdded,
    DiffRemoved,
    DiffChanged,
    DiffEmph,
    PolicyPass,
    PolicyAdvisory,
    PolicySoft,
    PolicyHard,
    RollbackReady,
    RollbackConditional,
    RollbackNotReady,
}

/// What the approver decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    Approve,
    Reject,
    /// Show the exact requests; write nothing.
    DryRun,
    /// Send the run's compensation plan.
    Rollback,
}

/// A decision as entered in the TUI; the pipeline re-validates before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    pub run_id: RunId,
    pub kind: DecisionKind,
    pub reason: Option<String>,
    /// The payload digest of the run the dialog showed; `review` refuses the decision if the run changed.
    pub reviewed_digest: String,
    /// In production: the environment name exactly as the approver typed it (never filled in by the TUI).
    pub confirm_environment: Option<String>,
}

/// How a decision ended, as far as the record goes: whether the approver must look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// It did what was asked (executed, approval recorded, rejected, rolled back, dry run).
    Done,
    /// Nothing was written: refused, stale, cancelled, or F&O could not be read.
    NothingWritten,
    /// Part of it was written; the message names what is left.
    Partial,
    /// F&O failed it; what it said is in the message.
    Failed,
    /// The answer was lost: F&O may still apply it; reconciliation will settle it.
    Unknown,
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOutcome {
    pub run_id: RunId,
    pub status: RunStatus,
    pub kind: OutcomeKind,
    /// One line for the flash message (`executed: voucher GNJL-000812`).
    pub message: String,
    /// Updated detail to show in place, when the pipeline has it.
    pub detail: Option<Box<RunDetail>>,
}

/// Who looks at the in-memory source's runs.
const FIXED_APPROVER: &str = "nina.patel@contoso.com";

/// An in-memory source for tests and benches, fed by parsed runs.
pub struct Fixed {
    runs: Mutex<BTreeMap<RunId, (GovernedRun, RunSummary)>>,
    /// The clock the runs are judged at (fixed in tests, so snapshots do not age).
    now: DateTime<Utc>,
    /// The config runs are judged under: the shipped template (managed objects, operations, policy).
    config: crate::config::Config,
    /// Live records for stale runs, so their three-way view can be shown.
    live: BTreeMap<RunId, crate::model::Snapshot>,
    /// What a metadata sync would have stored; `None` = never synced, so catalog rules fail closed.
    known: Option<crate::review::facts::KnownFacts>,
    decisions: Mutex<Vec<DecisionRequest>>,
}

impl Fixed {
    /// A source holding `runs`, each with its summary (status, approvals, lease).
    pub fn new(runs: impl IntoIterator<Item = (GovernedRun, RunSummary)>) -> Self {
        let runs = runs.into_iter().map(|(r, s)| (r.id.clone(), (r, s))).collect();
        // The template always parses (a test in config pins it); an empty config would only fail closed.
        let config = toml::from_str(crate::config::template()).unwrap_or_default();
        Fixed {
            runs: Mutex::new(runs),
            now: Utc::now(),
            config,
            live: BTreeMap::new(),
            known: None,
            decisions: Mutex::new(Vec::new()),
        }
    }

    /// Judge the runs at `now` instead of the wall clock.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Show run `id` against this live record: its diff becomes the three-way view of a stale run.
    pub fn with_live(mut self, id: RunId, live: crate::model::Snapshot) -> Self {
        self.live.insert(id, live);
        self
    }

    /// Judge the runs as if metadata sync had stored this catalog (so rollback plans can be ready).
    pub fn with_catalog(mut self, catalog: std::sync::Arc<crate::fno::Catalog>) -> Self {
        self.known = Some(crate::review::facts::known_from(&catalog));
        self
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
    status: RunStatus,
    config: &crate::config::Config,
    now: DateTime<Utc>,
    approver: &str,
    live: Option<&crate::model::Snapshot>,
    known: Option<&crate::review::facts::KnownFacts>,
) -> RunDetail {
    let mut facts = crate::judge::Facts::new(now, crate::model::ActorId(approver.to_string()));
    facts.live = live;
    facts.known_operations = known.and_then(|k| k.operations.as_ref());
    facts.known_entity_fields = known.and_then(|k| k.entity_fields.as_ref());
    facts.catalog = known.and_then(|k| k.catalog.as_deref());
    let evaluation = crate::policy::evaluate(run, &facts, config);
    let plan = crate::rollback::plan(run, config, &facts);
    let required =
        crate::review::preview::required_approvals(status, 0, Some(&evaluation), run.route.required_approvals);
    super::sections::render(&crate::diff::diff_run(run, live), &evaluation, &plan).into_detail(
        run,
        status,
        Vec::new(),
        required,
        Section::default(),
    )
}

impl ReviewSource for Fixed {
    /// Each open run judged by the real judgement, as `review::queue` fills the queue.
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        Ok(runs
            .values()
            .map(|(run, summary)| {
                let mut summary = summary.clone();
                let live = self.live.get(&run.id);
                let d = judged_detail(
                    run,
                    summary.status,
                    &self.config,
                    self.now,
                    FIXED_APPROVER,
                    live,
                    self.known.as_ref(),
                );
                summary.required_approvals = d.required_approvals;
                if !summary.status.is_final() {
                    let worst = d.verdicts.iter().map(|v| v.level).max().unwrap_or(crate::model::Level::Pass);
                    let count =
                        d.verdicts.iter().filter(|v| v.level == worst && worst != crate::model::Level::Pass).count();
                    summary.judged = Some(crate::model::QueueJudgement {
                        worst,
                        count: count as u32,
                        readiness: d.rollback.unwrap_or(Readiness::NotReady),
                    });
                }
                summary
            })
            .collect())
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        let (run, summary) = runs.get(id).ok_or_else(|| format!("run {id} is not in the store"))?;
        let live = self.live.get(id);
        Ok(judged_detail(run, summary.status, &self.config, self.now, FIXED_APPROVER, live, self.known.as_ref()))
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
}
