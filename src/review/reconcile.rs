//! Reconciliation: learning what F&O did with a send whose answer never came, by READING F&O.
//!
//! Used right after an answer is lost, and by the deciding verbs and `signoff reconcile` for runs left
//! `unknown` or `executing`. Nothing is ever re-sent here; what the finding means for the run (and when
//! an absence proves anything) is decided in `conclude`.

use serde::Serialize;

use crate::config::{Config, PostingMode};
use crate::fno::{FnoClient, FnoError};
use crate::model::{Action, FieldValue, Fields, GovernedRun, Snapshot};

use super::digest::line_key_text;
use super::eligibility::DecisionKind;
use super::execute::read_vouchers;
use super::outcome::FnoAnswer;
use super::revalidate::read_live;

/// What reading F&O showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Finding {
    /// The decision's effect is visible in F&O.
    Applied { answer: FnoAnswer },
    /// Nothing of the decision is visible.
    NotApplied { detail: String },
    /// Part of it is visible (e.g. line corrections committed, the post not done): `written` names it.
    Partial { written: Vec<String>, detail: String },
    /// F&O's state does not tell (e.g. a reversal without a findable reversing journal).
    Undetermined { detail: String },
}

fn text<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(FieldValue::as_text)
}

/// Whether every `wanted` field has that value in `live`.
pub(super) fn all_equal(wanted: &Fields, live: &Fields) -> bool {
    wanted.iter().all(|(k, v)| live.get(k).is_some_and(|l| l.same_value(v)))
}

/// Whether the proposed corrections (header and lines) are visible in `live`.
pub fn corrections_applied(run: &GovernedRun, live: &Snapshot) -> bool {
    if !all_equal(&run.proposed.fields, &live.fields) {
        return false;
    }
    run.proposed.lines.iter().all(|line| {
        let key = line_key_text(&line.keys);
        let found = live.lines.iter().find(|l| line_key_text(&l.keys) == key);
        match found {
            Some(l) => !line.remove && all_equal(&line.fields, &l.fields),
            None => line.remove,
        }
    })
}

/// Whether the decision operation's effect is visible on the header.
pub fn operation_applied(run: &GovernedRun, kind: DecisionKind, live: &Fields) -> Option<bool> {
    let status = |name: &str| text(live, name).map(str::to_string);
    match (run.action, kind) {
        (Action::PostJournal, DecisionKind::Approve) => status("IsPosted").map(|s| s == "Yes"),
        (Action::PostJournal, DecisionKind::Reject) => status("WorkflowApprovalStatus").map(|s| s == "Rejected"),
        (Action::ApproveVendorInvoice, DecisionKind::Approve) => {
            let approved = status("VendorInvoiceReviewStatus").map(|s| s == "Approved");
            approved.or_else(|| status("IsApproved").map(|s| s == "Yes"))
        }
        (Action::ApproveVendorInvoice, DecisionKind::Reject) => {
            status("VendorInvoiceReviewStatus").map(|s| s == "Rejected")
        }
        (Action::ApproveVendorInvoice, DecisionKind::Rollback) => {
            status("VendorInvoiceReviewStatus").map(|s| s != "Approved")
        }
        _ => None,
    }
}

/// Read F&O and say whether `kind` on `run` took effect.
pub async fn reconcile(
    client: &FnoClient,
    config: &Config,
    run: &GovernedRun,
    kind: DecisionKind,
) -> Result<Finding, FnoError> {
    if run.action == Action::ApproveWorkflowItem {
        // The work item itself shows whether complete landed, and with which outcome.
        let item = super::workflow::item(run)?;
        let row = super::workflow::read_item(client, config, item).await?;
        return Ok(super::workflow::finding(config, kind, row.as_ref()));
    }
    let live = read_live(client, run, config).await?;
    let applied = |live: &Snapshot| Finding::Applied {
        answer: FnoAnswer { new_etag: (!live.absent).then(|| live.etag.0.clone()), ..Default::default() },
    };
    Ok(match (run.action, kind) {
        // A create shows as the record with its proposed values; a delete (and a create's rollback) as
        // the key answering 404; a delete's rollback as the record back.
        (Action::CreateRecord, DecisionKind::Approve)
            if !live.absent && all_equal(&run.proposed.fields, &live.fields) =>
        {
            applied(&live)
        }
        (Action::CreateRecord, DecisionKind::Approve) => {
            Finding::NotApplied { detail: "no record with the proposed keys and values exists".into() }
        }
        (Action::CreateRecord, DecisionKind::Rollback) | (Action::DeleteRecord, DecisionKind::Approve) => {
            if live.absent { applied(&live) } else { Finding::NotApplied { detail: "the record still exists".into() } }
        }
        (Action::DeleteRecord, DecisionKind::Rollback) => {
            if live.absent {
                Finding::NotApplied { detail: "the record has not been re-created".into() }
            } else {
                applied(&live)
            }
        }
        (Action::ExecuteOperation, _) => Finding::Undetermined {
            detail: "a configured operation leaves no status signoff can read; check the record in F&O".into(),
        },
        (
            Action::UpdateVendor | Action::UpdateRecord | Action::EnableUser | Action::DisableUser,
            DecisionKind::Approve,
        ) => {
            if all_equal(&run.proposed.fields, &live.fields) {
                Finding::Applied { answer: FnoAnswer { new_etag: Some(live.etag.0), ..Default::default() } }
            } else {
                Finding::NotApplied { detail: "the live record does not carry the proposed values".into() }
            }
        }
        (
            Action::UpdateVendor | Action::UpdateRecord | Action::EnableUser | Action::DisableUser,
            DecisionKind::Rollback,
        ) => {
            let before: Fields = run
                .proposed
                .fields
                .keys()
                .map(|k| (k.clone(), run.before.fields.get(k).cloned().unwrap_or(FieldValue::Null)))
                .collect();
            if all_equal(&before, &live.fields) {
                Finding::Applied { answer: FnoAnswer { new_etag: Some(live.etag.0), ..Default::default() } }
            } else {
                Finding::NotApplied { detail: "the live record still carries the executed values".into() }
            }
        }
        (Action::PostJournal, DecisionKind::Approve) if config.posting_mode() != PostingMode::Post => {
            super::handover::lost_finding(client, config, run, &live, config.posting_mode()).await?
        }
        (Action::PostJournal, DecisionKind::Rollback) => Finding::Undetermined {
            detail: "F&O's journal header does not show whether a reversal was created; look for a reversing \
                     journal of this journal in F&O"
                .into(),
        },
        (Action::ApproveVendorInvoice, DecisionKind::Rollback) => {
            let recalled = operation_applied(run, DecisionKind::Rollback, &live.fields);
            let restored = !any_correction_left(run, &live);
            match (recalled, restored) {
                (Some(true), true) => {
                    Finding::Applied { answer: FnoAnswer { new_etag: Some(live.etag.0), ..Default::default() } }
                }
                (Some(true), false) => Finding::Partial {
                    written: vec!["invoice_recall operation".into()],
                    detail: "the invoice is recalled but corrected fields still hold the run's values".into(),
                },
                (Some(false), _) => Finding::NotApplied { detail: "the invoice is still approved".into() },
                (None, _) => Finding::Undetermined { detail: "the invoice has no review status to read".into() },
            }
        }
        (_, kind) => match operation_applied(run, kind, &live.fields) {
            Some(true) => {
                let mut answer = FnoAnswer { new_etag: Some(live.etag.0.clone()), ..Default::default() };
                if run.action == Action::PostJournal && kind == DecisionKind::Approve {
                    answer.vouchers = read_vouchers(client, config, run).await?;
                }
                Finding::Applied { answer }
            }
            Some(false) if kind == DecisionKind::Approve && corrections_applied(run, &live) && has_corrections(run) => {
                Finding::Partial {
                    written: vec!["the corrections".into()],
                    detail: "the corrections were committed but the decision operation did not take effect".into(),
                }
            }
            Some(false) => Finding::NotApplied { detail: "F&O shows no effect of the decision".into() },
            None => Finding::Undetermined { detail: "the record has no status field that shows the outcome".into() },
        },
    })
}

/// Whether any field the run corrected still holds the run's value.
fn any_correction_left(run: &GovernedRun, live: &Snapshot) -> bool {
    let header = run.proposed.fields.iter().any(|(k, v)| live.fields.get(k).is_some_and(|l| l.same_value(v)));
    let lines = run.proposed.lines.iter().any(|line| {
        let key = line_key_text(&line.keys);
        let found = live.lines.iter().find(|l| line_key_text(&l.keys) == key);
        match found {
            Some(l) => {
                !line.remove && line.fields.iter().any(|(k, v)| l.fields.get(k).is_some_and(|x| x.same_value(v)))
            }
            None => false,
        }
    });
    header || lines
}

/// Whether the run writes corrections (header fields or lines) besides its operation.
pub(super) fn has_corrections(run: &GovernedRun) -> bool {
    !run.proposed.fields.is_empty() || !run.proposed.lines.is_empty()
}
