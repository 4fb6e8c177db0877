//! Progress reports and cancellation, so a view can show each step and stop before anything is sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::model::RunId;

/// A step of the decision pipeline, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The lease on the run is held.
    Claimed,
    /// Reading the live record and lines from F&O.
    Rereading,
    /// Comparing the live record with the reviewed snapshot.
    Comparing,
    /// Evaluating policy on the live state.
    Evaluating,
    /// Requests are going to F&O (after this, cancelling has no effect).
    Sending,
    /// Reading F&O to learn the outcome of an interrupted send.
    Reconciling,
    /// The outcome and the audit events are recorded.
    Recorded,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub run_id: RunId,
    pub step: Step,
    /// A short human sentence (`PATCH VendorsV2(…) with If-Match W/"…"`), visible-escaped.
    pub detail: String,
}

/// Where progress goes: a closure (the CLI prints, the TUI forwards to its action channel).
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// A sink that drops every report.
pub fn no_progress() -> ProgressSink {
    Arc::new(|_| {})
}

/// A cancellation flag shared between the view and a running decision. Honoured until the first
/// write is sent; after that the pipeline runs to a recorded outcome, because stopping halfway would
/// leave F&O and the store disagreeing.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Cancel::default()
    }

    /// A handle on a flag someone else sets (the TUI's Esc).
    pub fn from_flag(flag: Arc<AtomicBool>) -> Self {
        Cancel(flag)
    }

    /// Ask the decision to stop before it sends anything.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
