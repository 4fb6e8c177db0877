//! The decision pipeline: the one place decisions are made. The CLI and the TUI both call it.
//!
//! claim → check the approver → re-read live → detect drift → re-evaluate policy → digest →
//! execute (or show the dry-run requests) → record F&O's answer, the compensation plan and the audit
//! events → release the lease. See docs/pipeline.md.

pub mod claim;
pub mod digest;
pub mod drift;
pub mod eligibility;
pub mod execute;
pub mod evidence;
pub mod outcome;
pub mod progress;
pub mod reconcile;
pub mod revalidate;

#[cfg(test)]
mod testdata;

pub use digest::DigestInputs;
pub use drift::{DriftReport, DriftScope, FieldDrift};
pub use outcome::{FnoAnswer, Outcome, exit};
pub use progress::{Cancel, Progress, ProgressSink, Step, no_progress};
