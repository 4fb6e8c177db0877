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

/// The run view's model: the run, where it stands, and pre-rendered sections filled by the judgement modules.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    pub run: GovernedRun,
    pub status: RunStatus,
    pub approvals: Vec<ApprovalView>,
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

/// How ready a run's rollback recipe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Conditional,
    NotReady,
}

impl Readiness {
    /// A text label that carries the meaning without colour.
    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Conditional => "conditional",
            Readiness::NotReady => "not ready",
        }
    }
}

/// Content of a run view tab: logical (unwrapped) lines of spans, each span tagged with the meaning the
/// theme colours. The view lays them out at draw time, in the pane's real width.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub lines: Vec<SectionLine>,
}

/// One logical line: prose wrapped at draw time, or a table row laid out in columns at draw time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionLine {
    pub spans: Vec<(Tone, String)>,
    pub kind: LineKind,
}

/// How a logical line is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Prose, wrapped at word boundaries; continuation lines start `indent` columns in.
    Text { indent: u16 },
    /// A diff row: the first span is the marker, the second the field, each further span one value.
    /// Every cell wraps inside its own column.
    Row,
}

impl SectionLine {
    /// Prose whose continuation lines start `indent` columns in.
    pub fn text(spans: Vec<(Tone, String)>, indent: u16) -> SectionLine {
        SectionLine { spans, kind: LineKind::Text { indent } }
    }

    /// A diff row: `[marker, field, value…]`.
    pub fn row(spans: Vec<(Tone, String)>) -> SectionLine {
        SectionLine { spans, kind: LineKind::Row }
    }
}

/// Prose whose continuation lines are indented two columns past the line's own leading spaces.
impl From<Vec<(Tone, String)>> for SectionLine {
    fn from(spans: Vec<(Tone, String)>) -> SectionLine {
        let lead = spans.first().map(|(_, t)| t.len() - t.trim_start_matches(' ').len()).unwrap_or(0);
        SectionLine::text(spans, (lead + 2).min(u16::MAX as usize) as u16)
    }
}

impl std::ops::Deref for SectionLine {
    type Target = [(Tone, String)];
    fn deref(&self) -> &Self::Target {
        &self.spans
    }
}

impl Section {
    /// A section of plain lines.
    pub fn plain<I: IntoIterator<Item = S>, S: Into<String>>(lines: I) -> Self {
        Section { lines: lines.into_iter().map(|l| vec![(Tone::Text, l.into())].into()).collect() }
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
    /// The payload digest the approver reviewed, so a changed run cannot be approved unseen.
    pub reviewed_digest: Option<String>,
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
    super::sections::render(&crate::diff::diff_run(run, live), &evaluation, &plan).into_detail(
        run,
        status,
        Vec::new(),
        Section::default(),
    )
}

impl ReviewSource for Fixed {
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        Ok(runs.values().map(|(_, s)| s.clone()).collect())
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        let (run, summary) = runs.get(id).ok_or_else(|| format!("run {id} is not in the store"))?;
        let live = self.live.get(id);
        let approver = "nina.patel@contoso.com";
        Ok(judged_detail(run, summary.status, &self.config, self.now, approver, live, self.known.as_ref()))
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
