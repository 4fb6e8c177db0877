//! What the TUI needs from the rest of signoff, as a trait, so the TUI never touches F&O or SQLite.
//!
//! Calls are synchronous (SQLite and the review pipeline are); the app runs them on tokio's blocking pool
//! and reports the results back as [`super::action::Action`]s.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Where a running decision reports its steps (`re-reading the live record from F&O…`).
pub type Progress = Arc<dyn Fn(DecisionStep) + Send + Sync>;

/// One step of a running decision, as the approver reads it, and whether Esc can still stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionStep {
    pub text: String,
    /// The write is on its way to F&O: cancelling no longer has any effect.
    pub sending: bool,
}

pub use crate::model::Readiness;
use crate::model::{GovernedRun, RunId, RunStatus, RunSummary};

/// The review pipeline as the TUI sees it.
pub trait ReviewSource: Send + Sync {
    /// Every run the queue lists.
    fn summaries(&self) -> Result<Vec<RunSummary>, String>;
    /// The first `limit` runs of [`ReviewSource::summaries`] in its order, if the source can give them
    /// sooner than all of them: the TUI shows these while the rest loads. None (the default) means the
    /// source has no quicker answer.
    fn first_summaries(&self, limit: usize) -> Result<Vec<RunSummary>, String> {
        let _ = limit;
        Ok(Vec::new())
    }
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
    /// Whether anything in the store changed since the last call (another approver's lease, approval or
    /// decision, a reconciliation). Called four times a second while the TUI is open, so it must be cheap.
    fn changed(&self) -> Result<bool, String>;
    /// The judgement of the open runs among `ids` (worst verdict, readiness, the one count of approvals),
    /// for queue rows that [`ReviewSource::summaries`] gave unjudged. A source whose summaries come judged
    /// has nothing to add.
    fn judge_rows(&self, ids: &[RunId]) -> Result<Vec<crate::review::queue::RowJudgement>, String> {
        let _ = ids;
        Ok(Vec::new())
    }
    /// Bring the runs that come from F&O itself (the approver's workflow inbox) into the store, at start
    /// and on `R`; what it did, for the status line. `None`: this source has no such intake (or it is off).
    fn sync_intake(&self) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// The connector's activation steps (`connector status`), read at start and while any step is left;
    /// the header shows the next step until every one is done. `None`: this source has none to show.
    fn activation(&self) -> Result<Option<crate::review::activation::Activation>, String> {
        Ok(None)
    }

    /// Put the sandbox simulator's seed data back (`:reset`), all of it or one transaction; what was
    /// restored, for the status line. Only a simulator is ever reset: any other environment refuses.
    fn reset_sandbox(&self, transaction: Option<&str>) -> Result<String, String> {
        let _ = transaction;
        Err("there is no sandbox simulator to reset here".into())
    }
}

/// A borrowed source is a source (tests drive one TUI state over a source they keep using).
impl<T: ReviewSource + ?Sized> ReviewSource for &T {
    fn summaries(&self) -> Result<Vec<RunSummary>, String> {
        (**self).summaries()
    }

    fn first_summaries(&self, limit: usize) -> Result<Vec<RunSummary>, String> {
        (**self).first_summaries(limit)
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

    fn changed(&self) -> Result<bool, String> {
        (**self).changed()
    }

    fn judge_rows(&self, ids: &[RunId]) -> Result<Vec<crate::review::queue::RowJudgement>, String> {
        (**self).judge_rows(ids)
    }

    fn sync_intake(&self) -> Result<Option<String>, String> {
        (**self).sync_intake()
    }

    fn activation(&self) -> Result<Option<crate::review::activation::Activation>, String> {
        (**self).activation()
    }

    fn reset_sandbox(&self, transaction: Option<&str>) -> Result<String, String> {
        (**self).reset_sandbox(transaction)
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
    /// Diff and lines with every unchanged field shown (`z` unfolds).
    pub unfolded: super::sections::Unfolded,
    pub policy: Section,
    pub rollback_section: Section,
    /// Every audit event of the run, with its recorded exchanges (`review::history`).
    pub history: Vec<crate::review::history::AuditEntry>,
    /// For a run that needs attention: why it stands where it does, shown at the top of every tab.
    pub why: Option<String>,
}

/// An approval already counted on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalView {
    pub approver: String,
    pub at: String,
    pub note: Option<String>,
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
