//! Decisions in flight: the blocking task each runs on, its cancel flag, and how the app waits for them.
//!
//! A decision's worker may be mid-write to F&O, so the TUI never exits (and the runtime never shuts down)
//! under it: quitting waits here for each to conclude. A worker that panics comes back as an error result
//! naming reconciliation, never as a spinner that turns forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{JoinError, JoinHandle};

use super::action::Action;
use super::source::{DecisionOutcome, DecisionRequest, Progress, ReviewSource};
use crate::model::RunId;
use crate::text::visible;

/// What a decision came to: the outcome, or why there is none.
pub type Concluded = Result<DecisionOutcome, String>;

/// One running decision.
struct Running {
    id: RunId,
    cancel: Arc<AtomicBool>,
    /// Resolves once the outcome has been sent to the app as [`Action::Decided`].
    task: JoinHandle<Concluded>,
}

/// Every decision started and not yet seen concluded by the reducer.
#[derive(Default)]
pub struct InFlight {
    running: Vec<Running>,
}

impl InFlight {
    /// Run `request` on the blocking pool; progress and the outcome come back over `tx`.
    pub fn start(&mut self, source: Arc<dyn ReviewSource>, request: DecisionRequest, tx: UnboundedSender<Action>) {
        let id = request.run_id.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let (progress_tx, progress_id) = (tx.clone(), id.clone());
        let progress: Progress =
            Arc::new(move |step| drop(progress_tx.send(Action::DecisionProgress(progress_id.clone(), step))));
        let work = tokio::task::spawn_blocking(move || source.decide(request, progress, flag));
        let decided = id.clone();
        let task = tokio::spawn(async move {
            let result = conclude(work).await;
            let _ = tx.send(Action::Decided(decided, result.clone()));
            result
        });
        self.running.push(Running { id, cancel, task });
    }

    /// Ask the newest decision to stop before it sends anything (the one Esc is about).
    pub fn cancel_latest(&self) {
        if let Some(r) = self.running.last() {
            r.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// The reducer has shown the outcome for `id`: nothing is left to wait for there.
    pub fn seen(&mut self, id: &RunId) {
        self.running.retain(|r| r.id != *id);
    }

    /// The run ids still in flight.
    pub fn ids(&self) -> Vec<RunId> {
        self.running.iter().map(|r| r.id.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Wait for every decision still in flight; one line per decision saying how it concluded, for
    /// standard error once the terminal is restored.
    pub async fn wait_all(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for r in self.running.drain(..) {
            let result = conclude(r.task).await;
            lines.push(concluded_line(&r.id, &result));
        }
        lines
    }
}

/// The worker's result, or its panic as an error that says where the run stands.
pub async fn conclude<T>(work: JoinHandle<Result<T, String>>) -> Result<T, String> {
    work.await.unwrap_or_else(|e| Err(internal_error(&e)))
}

fn internal_error(e: &JoinError) -> String {
    tracing::error!(error = %e, "a decision's worker did not return");
    let what = if e.is_panic() { "the decision's worker panicked" } else { "the decision's worker was stopped" };
    format!("internal error: {what} (details in the log); the run is left for `signoff reconcile`")
}

/// `signoff: run-…: executed: voucher …` — what the record says, not what was hoped for.
pub fn concluded_line(id: &RunId, result: &Concluded) -> String {
    match result {
        Ok(outcome) => format!("signoff: the decision in flight concluded: {}", visible(&outcome.message)),
        Err(e) => format!("signoff: the decision on {} concluded with an error: {}", visible(id.as_str()), visible(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunSummary;
    use crate::tui::source::{DecisionKind, RunDetail};

    /// A source whose decision worker panics, as a bug in the pipeline would.
    struct Panicking;

    impl ReviewSource for Panicking {
        fn summaries(&self) -> Result<Vec<RunSummary>, String> {
            Ok(Vec::new())
        }
        fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
            Err(format!("run {id} is not in the store"))
        }
        fn decide(&self, _: DecisionRequest, _: Progress, _: Arc<AtomicBool>) -> Result<DecisionOutcome, String> {
            panic!("index out of bounds in the pipeline");
        }
        fn changed(&self) -> Result<bool, String> {
            Ok(false)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_worker_that_panics_comes_back_as_an_error_result_naming_reconciliation() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut running = InFlight::default();
        let id = RunId::from("run-inv-usmf-apinv-000123");
        let request = DecisionRequest {
            run_id: id.clone(),
            kind: DecisionKind::Approve,
            reason: None,
            reviewed_digest: "0".repeat(64),
            confirm_environment: None,
        };
        running.start(Arc::new(Panicking), request, tx);
        let Some(Action::Decided(decided, Err(e))) = rx.recv().await else { panic!("no error result") };
        assert_eq!(decided, id);
        assert!(e.starts_with("internal error: the decision's worker panicked"), "{e}");
        assert!(e.ends_with("the run is left for `signoff reconcile`"), "{e}");
        // Quitting now still has something truthful to say about it.
        let lines = running.wait_all().await;
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("run-inv-usmf-apinv-000123 concluded with an error: internal error"), "{lines:?}");
    }
}
