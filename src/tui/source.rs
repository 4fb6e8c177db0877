//! What the TUI needs from the rest of signoff, as a trait, so the TUI never touches F&O or SQLite.
//!
//! Calls are synchronous (SQLite and the review pipeline are); the app runs them on tokio's blocking pool
//! and reports the results back as [`super::action::Action`]s.

use std::collections::BTreeMap;
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

/// What became of a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOutcome {
    pub run_id: RunId,
    pub status: RunStatus,
    /// One line for the flash message (`executed: voucher GNJL-000812`).
    pub message: String,
    /// Updated detail to show in place, when the pipeline has it.
    pub detail: Option<Box<RunDetail>>,
}

/// An in-memory source for tests and benches, fed by parsed runs.
pub struct Fixed {
    runs: Mutex<BTreeMap<RunId, (GovernedRun, RunSummary)>>,
    decisions: Mutex<Vec<DecisionRequest>>,
}

impl Fixed {
    /// A source holding `runs`, each with its summary (status, approvals, lease).
    pub fn new(runs: impl IntoIterator<Item = (GovernedRun, RunSummary)>) -> Self {
        let runs = runs.into_iter().map(|(r, s)| (r.id.clone(), (r, s))).collect();
        Fixed { runs: Mutex::new(runs), decisions: Mutex::new(Vec::new()) }
    }

    /// Every decision received so far, in order.
    pub fn decisions(&self) -> Vec<DecisionRequest> {
        self.decisions.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

/// The detail the in-memory source shows: the run, with plain sections derived from it.
pub fn plain_detail(run: &GovernedRun, status: RunStatus) -> RunDetail {
    let mut diff = Vec::new();
    for (name, after) in &run.proposed.fields {
        let before = run.before.fields.get(name).map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
        diff.push(vec![
            (Tone::DiffChanged, "~ ".to_string()),
            (Tone::Text, format!("{name}: ")),
            (Tone::DiffRemoved, before),
            (Tone::Muted, " -> ".to_string()),
            (Tone::DiffAdded, after.to_string()),
        ]);
    }
    if diff.is_empty() {
        diff.push(vec![(Tone::Muted, "no header field changes".to_string())]);
    }
    let unchanged: Vec<_> = run.before.fields.iter().filter(|(k, _)| !run.proposed.fields.contains_key(*k)).collect();
    diff.push(vec![(Tone::Muted, format!("{} unchanged fields", unchanged.len()))]);
    for (name, value) in unchanged {
        diff.push(vec![(Tone::Muted, format!("  {name}: ")), (Tone::Text, value.to_string())]);
    }
    let mut lines = Vec::new();
    for line in &run.before.lines {
        let keys: Vec<String> = line.keys.values().map(|v| v.to_string()).collect();
        let fields: Vec<String> = line.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        lines.push(vec![(Tone::Text, format!("{}  {}", keys.join("/"), fields.join("  ")))]);
    }
    RunDetail {
        run: run.clone(),
        status,
        approvals: Vec::new(),
        verdict_summary: None,
        rollback: None,
        diff_unified: Section { lines: diff.clone() },
        diff: Section { lines: diff },
        lines: Section { lines },
        policy: Section::default(),
        rollback_section: Section::default(),
        audit: Section::default(),
    }
}

impl ReviewSource for Fixed {
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        Ok(runs.values().map(|(_, s)| s.clone()).collect())
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let runs = self.runs.lock().map_err(|_| "the in-memory run list is unavailable".to_string())?;
        let (run, summary) = runs.get(id).ok_or_else(|| format!("run {id} is not in the store"))?;
        Ok(plain_detail(run, summary.status))
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
        Ok(DecisionOutcome { run_id, status, message, detail: None })
    }
}
