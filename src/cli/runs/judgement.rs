//! What `runs show --json` prints around the judgement (`review::preview`), and terminal-safe JSON.

use serde::Serialize;

use crate::diff::RunDiff;
use crate::model::{GovernedRun, RunStatus};
use crate::policy::Evaluation;
pub use crate::review::preview::{Judgement, judge_for_viewer};
use crate::rollback::RollbackPlan;
use crate::store::{Approval, Lease, StoredRun};

/// One line saying what the judgement was computed against.
pub const OFFLINE_NOTE: &str = "reviewed against the before snapshot; re-validated against live F&O at decision time";

/// `runs show --json`: the run, where it is, who is on it, and its judgement.
#[derive(Debug, Serialize)]
pub struct ShowEnvelope<'a> {
    pub run: &'a GovernedRun,
    pub status: RunStatus,
    pub approvals: &'a [Approval],
    /// Distinct approvers the run needs: the one count every view shows.
    pub required_approvals: u32,
    pub lease: Option<&'a Lease>,
    pub diff: &'a RunDiff,
    pub evaluation: &'a Evaluation,
    pub rollback: &'a RollbackPlan,
}

impl<'a> ShowEnvelope<'a> {
    /// The envelope of a stored run and its judgement.
    pub fn new(stored: &'a StoredRun, judgement: &'a Judgement) -> Self {
        ShowEnvelope {
            run: &stored.run,
            status: stored.status,
            approvals: &stored.approvals,
            required_approvals: required_of(stored, judgement),
            lease: stored.lease.as_ref(),
            diff: &judgement.diff,
            evaluation: &judgement.evaluation,
            rollback: &judgement.rollback,
        }
    }
}

/// The one count of approvals a stored run needs, given its judgement.
pub fn required_of(stored: &StoredRun, judgement: &Judgement) -> u32 {
    let given = u32::try_from(stored.approvals.len()).unwrap_or(u32::MAX);
    crate::review::preview::required_approvals(
        stored.status,
        given,
        Some(&judgement.evaluation),
        stored.run.route.required_approvals,
    )
}

/// JSON text with every raw DEL, C1, bidi and zero-width character written as a `\uXXXX` escape, so the
/// stored run (which keeps its values exactly) cannot reorder or hide text on the terminal. Lossless: inside
/// a JSON string the escape and the raw character are the same value, and JSON's structure is plain ASCII.
/// serde_json already escapes the C0 controls (ESC, BEL).
pub fn terminal_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c >= '\u{7f}' && crate::text::classify(c).is_some() {
            for unit in c.encode_utf16(&mut [0u16; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_in_json_become_escapes_that_parse_back_to_the_same_value() {
        let value = serde_json::json!({"InvoiceNumber": "INV-\u{202e}0001-FDP", "VendorName": "Tailspin\u{1b}[2J\u{7f}\u{200b}"});
        let text = terminal_safe_json(&serde_json::to_string_pretty(&value).unwrap());
        assert!(!text.chars().any(|c| c != '\n' && crate::text::classify(c).is_some()), "{text}");
        assert!(text.contains("INV-\\u202e0001-FDP"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
