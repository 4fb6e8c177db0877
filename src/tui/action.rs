//! The one enum through which UI state changes, and the side effects the reducer asks the app to perform.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::source::{DecisionOutcome, DecisionRequest, DecisionStep, RunDetail};
use crate::model::{RunId, RunSummary};

/// Everything that can happen to the UI: input, time, and background results.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    /// Bracketed paste (into the focused text field, if any).
    Paste(String),
    Resize(u16, u16),
    /// The slow tick (only while work is in progress), carrying the current time.
    Tick(DateTime<Utc>),
    /// The first screenful of the queue (or a little more), in the default order, while the rest loads.
    FirstSummariesLoaded(Vec<RunSummary>),
    SummariesLoaded(Result<Vec<RunSummary>, String>),
    /// A batch of queue rows judged for load `generation`; `done` on the last batch.
    RowsJudged {
        generation: u64,
        rows: Result<Vec<crate::review::queue::RowJudgement>, String>,
        done: bool,
    },
    DetailLoaded(RunId, Result<Box<RunDetail>, String>),
    /// A step of the running decision (re-reading, comparing, sending, …).
    DecisionProgress(RunId, DecisionStep),
    Decided(RunId, Result<DecisionOutcome, String>),
    /// The store changed (another approver, a reconciliation, a decision of ours): reload what is shown.
    StoreChanged,
    /// Whether the store can be watched for changes: `Some(why)` while it cannot (the screen may be out of
    /// date until `R`), `None` once it can again.
    LiveUpdates(Option<String>),
    /// Clear the flash message with this generation, if it is still showing.
    ClearFlash(u64),
    /// The workflow inbox was read into the store (what it did, if the source has one), or why not.
    IntakeSynced(Result<Option<String>, String>),
    /// The connector's activation steps were read (`ReviewSource::activation`).
    ActivationLoaded(Result<Option<crate::review::activation::Activation>, String>),
    /// The sandbox simulator's seed data was put back (what was restored), or why not.
    SandboxReset(Result<String, String>),
}

/// Work the reducer asks for; the app runs it and reports back with an [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    LoadSummaries,
    /// The first load: the first `first` rows if the source has them sooner, then every row.
    OpenQueue {
        first: usize,
    },
    /// Read the approver's F&O workflow inbox into the store (`ReviewSource::sync_intake`).
    SyncIntake,
    /// Read the connector's activation steps (`ReviewSource::activation`).
    LoadActivation,
    /// Put the sandbox simulator's seed data back, all of it or one transaction (`ReviewSource::reset_sandbox`).
    ResetSandbox(Option<String>),
    /// Judge these open runs (the rows on screen first, then the rest in batches) for load `generation`.
    JudgeRows {
        generation: u64,
        first: Vec<RunId>,
        rest: Vec<RunId>,
    },
    LoadDetail(RunId),
    Decide(DecisionRequest),
    /// Stop the running decision before it sends anything.
    CancelDecision,
    /// Bytes for the terminal itself (OSC 52 clipboard writes).
    WriteTerminal(Vec<u8>),
    /// Send `ClearFlash(generation)` after a few seconds.
    ClearFlashLater(u64),
    Quit,
}
