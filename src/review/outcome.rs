//! What a decision came to, and the exit code each outcome maps to.

use serde::Serialize;

use crate::config::PostingMode;
use crate::model::RunId;

use super::drift::DriftReport;

/// Process exit codes for decision verbs (documented in docs/pipeline.md).
pub mod exit {
    /// Executed, recorded (k of n), rejected, rolled back, or a dry run shown.
    pub const DONE: u8 = 0;
    /// signoff itself could not proceed (config, store, usage of the store).
    pub const ERROR: u8 = 1;
    /// Command-line usage error (clap).
    pub const USAGE: u8 = 2;
    /// The live record drifted from the reviewed one: the run is stale, nothing was written.
    pub const STALE: u8 = 3;
    /// Refused before anything was sent (policy, segregation of duties, lease, guard, status).
    pub const REFUSED: u8 = 4;
    /// F&O refused or failed the write; the run is failed (or partly executed, or partly rolled back)
    /// with F&O's message.
    pub const FAILED: u8 = 5;
    /// The answer to a write was lost: F&O may or may not have applied it. The run is `unknown`; run
    /// `signoff reconcile` later (it reads F&O and never re-sends).
    pub const UNKNOWN: u8 = 6;
    /// Nothing was sent: reading F&O failed before any write (unreachable, timeout, throttled on a read).
    pub const NOT_SENT: u8 = 7;
}

/// What F&O answered to an executed decision: the evidence an approver sees afterwards.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FnoAnswer {
    /// The header's new ETag, when F&O sent one back or it was re-read.
    pub new_etag: Option<String>,
    /// Voucher numbers assigned by posting.
    pub vouchers: Vec<String>,
    /// The reversing journal created by a rollback, if any.
    pub reversing_journal: Option<String>,
    /// Operation return values and Infolog text.
    pub messages: Vec<String>,
    /// The journal was handed over to F&O's posting in this mode instead of posted (nothing was posted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handed_over: Option<PostingMode>,
}

/// The end of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The approval took effect in F&O.
    Executed { run_id: RunId, answer: FnoAnswer },
    /// The journal is approved and handed over to F&O's posting (`mode`); nothing was posted by signoff.
    /// Also what reconciliation reports for a handed-over journal F&O has not posted yet (`detail`).
    HandedOver { run_id: RunId, mode: PostingMode, answer: FnoAnswer, detail: String },
    /// The approval is recorded; more distinct approvers are needed before anything is written.
    ApprovalRecorded { run_id: RunId, approvals: u32, required: u32 },
    /// The run is rejected (and F&O told, where the action has a reject operation).
    Rejected { run_id: RunId, answer: FnoAnswer },
    /// The compensation recipe took effect.
    RolledBack { run_id: RunId, answer: FnoAnswer },
    /// Nothing was written; these are the requests a live decision would send.
    DryRun { run_id: RunId, requests: Vec<serde_json::Value> },
    /// The live record drifted; the run is stale with its three-way diff.
    Stale { run_id: RunId, drift: DriftReport, reason: String },
    /// Refused before anything was sent.
    Refused { run_id: RunId, reason: String },
    /// F&O failed the decision; what it said is kept. Nothing of the decision is in effect.
    Failed { run_id: RunId, reason: String, infolog: Option<String> },
    /// Part of the decision was written and the rest refused: `written` names what F&O holds now.
    PartlyExecuted { run_id: RunId, written: Vec<String>, reason: String, infolog: Option<String> },
    /// The rollback undid `done` but not the rest; `reason` says what stopped it.
    RollbackPartial { run_id: RunId, done: Vec<String>, reason: String, infolog: Option<String> },
    /// The answer to a write was lost; F&O may still apply it. Reconciliation settles it by reading.
    Unknown { run_id: RunId, reason: String, settles_after: chrono::DateTime<chrono::Utc> },
    /// Reading F&O failed before anything was sent; the run is as it was.
    NotSent { run_id: RunId, reason: String },
    /// The decision was cancelled before anything was sent.
    Cancelled { run_id: RunId },
}

impl Outcome {
    pub fn run_id(&self) -> &RunId {
        match self {
            Outcome::Executed { run_id, .. }
            | Outcome::HandedOver { run_id, .. }
            | Outcome::ApprovalRecorded { run_id, .. }
            | Outcome::Rejected { run_id, .. }
            | Outcome::RolledBack { run_id, .. }
            | Outcome::DryRun { run_id, .. }
            | Outcome::Stale { run_id, .. }
            | Outcome::Refused { run_id, .. }
            | Outcome::Failed { run_id, .. }
            | Outcome::PartlyExecuted { run_id, .. }
            | Outcome::RollbackPartial { run_id, .. }
            | Outcome::Unknown { run_id, .. }
            | Outcome::NotSent { run_id, .. }
            | Outcome::Cancelled { run_id } => run_id,
        }
    }

    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Executed { .. }
            | Outcome::HandedOver { .. }
            | Outcome::ApprovalRecorded { .. }
            | Outcome::Rejected { .. }
            | Outcome::RolledBack { .. }
            | Outcome::DryRun { .. } => exit::DONE,
            Outcome::Stale { .. } => exit::STALE,
            Outcome::Refused { .. } | Outcome::Cancelled { .. } => exit::REFUSED,
            Outcome::Failed { .. } | Outcome::PartlyExecuted { .. } | Outcome::RollbackPartial { .. } => exit::FAILED,
            Outcome::Unknown { .. } => exit::UNKNOWN,
            Outcome::NotSent { .. } => exit::NOT_SENT,
        }
    }

    /// One line for people (already visible-escaped where it quotes data).
    pub fn headline(&self) -> String {
        let v = |s: &str| crate::text::visible(s).into_owned();
        match self {
            Outcome::Executed { run_id, answer } => {
                let mut line = format!("{run_id}: executed");
                if !answer.vouchers.is_empty() {
                    line.push_str(&format!("; voucher(s) {}", v(&answer.vouchers.join(", "))));
                }
                line
            }
            Outcome::HandedOver { run_id, mode, detail, .. } => format!(
                "{run_id}: handed over ({mode}): {}; nothing was posted by signoff. {} posts it; `signoff \
                 reconcile` then records the posting and its vouchers",
                v(detail),
                mode.who_posts()
            ),
            Outcome::ApprovalRecorded { run_id, approvals, required } => format!(
                "{run_id}: approval {approvals} of {required} recorded; nothing is written until {required} distinct \
                 approvers have approved"
            ),
            Outcome::Rejected { run_id, .. } => format!("{run_id}: rejected"),
            Outcome::RolledBack { run_id, answer } => match &answer.reversing_journal {
                Some(j) => format!("{run_id}: rolled back; reversing journal {}", v(j)),
                None => format!("{run_id}: rolled back"),
            },
            Outcome::DryRun { run_id, requests } => {
                format!("{run_id}: dry run; {} request(s) would be sent, nothing was written", requests.len())
            }
            Outcome::Stale { run_id, reason, .. } => format!("{run_id}: stale, nothing was written: {}", v(reason)),
            Outcome::Refused { run_id, reason } => format!("{run_id}: refused, nothing was written: {}", v(reason)),
            Outcome::Failed { run_id, reason, infolog } => match infolog {
                Some(info) if !reason.contains(info.as_str()) => {
                    format!("{run_id}: failed: {}; F&O said: {}", v(reason), v(info))
                }
                _ => format!("{run_id}: failed: {}", v(reason)),
            },
            Outcome::PartlyExecuted { run_id, written, reason, infolog } => {
                let said = infolog.as_deref().filter(|i| !reason.contains(i)).map(|i| format!("; F&O said: {}", v(i)));
                format!(
                    "{run_id}: partly executed: F&O holds {} but {}{}; `signoff rollback {run_id}` restores the \
                     before-values",
                    v(&written.join("; ")),
                    v(reason),
                    said.unwrap_or_default()
                )
            }
            Outcome::RollbackPartial { run_id, done, reason, infolog } => {
                let said = infolog.as_deref().filter(|i| !reason.contains(i)).map(|i| format!("; F&O said: {}", v(i)));
                format!(
                    "{run_id}: rollback partial: done: {}; stopped: {}{}; roll back again to undo the rest",
                    v(&done.join("; ")),
                    v(reason),
                    said.unwrap_or_default()
                )
            }
            Outcome::Unknown { run_id, reason, settles_after } => format!(
                "{run_id}: outcome unknown: {}; nothing was re-sent. F&O may still apply it: run `signoff reconcile` \
                 after {} to read F&O and record what happened",
                v(reason),
                settles_after.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Outcome::NotSent { run_id, reason } => format!("{run_id}: nothing was sent: {}", v(reason)),
            Outcome::Cancelled { run_id } => format!("{run_id}: cancelled before anything was sent"),
        }
    }
}
