//! What a decision came to, and the exit code each outcome maps to.

use serde::Serialize;

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
    /// F&O refused or failed the write; the run is failed with F&O's message.
    pub const FAILED: u8 = 5;
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
}

/// The end of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The approval took effect in F&O.
    Executed { run_id: RunId, answer: FnoAnswer },
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
    /// F&O failed the decision; what it said is kept.
    Failed { run_id: RunId, reason: String, infolog: Option<String> },
    /// The decision was cancelled before anything was sent.
    Cancelled { run_id: RunId },
}

impl Outcome {
    pub fn run_id(&self) -> &RunId {
        match self {
            Outcome::Executed { run_id, .. }
            | Outcome::ApprovalRecorded { run_id, .. }
            | Outcome::Rejected { run_id, .. }
            | Outcome::RolledBack { run_id, .. }
            | Outcome::DryRun { run_id, .. }
            | Outcome::Stale { run_id, .. }
            | Outcome::Refused { run_id, .. }
            | Outcome::Failed { run_id, .. }
            | Outcome::Cancelled { run_id } => run_id,
        }
    }

    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Executed { .. }
            | Outcome::ApprovalRecorded { .. }
            | Outcome::Rejected { .. }
            | Outcome::RolledBack { .. }
            | Outcome::DryRun { .. } => exit::DONE,
            Outcome::Stale { .. } => exit::STALE,
            Outcome::Refused { .. } | Outcome::Cancelled { .. } => exit::REFUSED,
            Outcome::Failed { .. } => exit::FAILED,
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
            Outcome::Cancelled { run_id } => format!("{run_id}: cancelled before anything was sent"),
        }
    }
}
