//! Drift: has the live record moved away from what the approver reviewed?
//!
//! Compared on every field the run touches or a policy reads: every field of the before snapshot
//! (the approver saw them all), every proposed field, and the fields the policy rules read for the
//! action. Lines are matched by key, never by position; a line that appeared or vanished is drift.
//! A changed ETag alone is not drift (F&O bumps it for unrelated fields); the write still carries the
//! live ETag in `If-Match`, so a change after this comparison fails with 412.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Action, FieldValue, Fields, GovernedRun, Snapshot};

use super::digest::line_key_text;

/// Header fields the policy rules read, per action (a workflow item's: its document's), beyond the
/// snapshot and the proposal.
fn policy_header_fields(action: Action) -> &'static [&'static str] {
    match action {
        Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => &[
            "IsOnHold",
            "MatchStatus",
            "DueDate",
            "ImportedAmount",
            "InvoiceNumber",
            "VendorAccount",
            "InvoiceAccount",
            "Currency",
            "VendorInvoiceReviewStatus",
        ],
        Action::PostJournal => &["IsPosted", "JournalName", "JournalTotalDebit", "JournalTotalCredit"],
        Action::UpdateVendor => &["OnHoldStatus", "BankAccountId"],
        Action::EnableUser | Action::DisableUser => &["Enabled", "UserID"],
        // A generic record's every captured field is compared already (a delete's, an operation's record).
        Action::UpdateRecord | Action::CreateRecord | Action::DeleteRecord | Action::ExecuteOperation => &[],
        // A role run's user-role row is compared whole; the user's role set by `role_drift`.
        Action::AssignRole | Action::RevokeRole => &[],
    }
}

/// The drift row that says the user's enabled roles changed since review (a role run's): its field is
/// this name, which no OData property can have.
pub const ENABLED_ROLES: &str = crate::diff::ENABLED_ROLES;

/// A role run's user holds another set of enabled roles than the approver reviewed.
fn role_drift(run: &GovernedRun, live: &Snapshot) -> Option<FieldDrift> {
    let reviewed = run.before.enabled_roles.as_ref()?;
    let now = live.enabled_roles.as_ref();
    let text = |roles: Option<&Vec<String>>| match roles {
        Some(r) => FieldValue::Text(crate::diff::roles_text(r)),
        None => FieldValue::Text("(not read)".into()),
    };
    let same = now.is_some_and(|n| {
        let norm = |v: &Vec<String>| v.iter().map(|r| r.to_lowercase()).collect::<BTreeSet<_>>();
        norm(n) == norm(reviewed)
    });
    (!same).then(|| FieldDrift {
        scope: DriftScope::Header,
        field: ENABLED_ROLES.into(),
        reviewed: text(Some(reviewed)),
        live: text(now),
        proposed: None,
    })
}

/// The drift row that says a record appeared or vanished: its field is this name, which no OData
/// property can have.
pub const RECORD_PRESENCE: &str = "(record)";

/// A record that exists on one side only: a create's key now taken, or a record deleted since review.
fn presence(before_absent: bool, live: &Snapshot) -> FieldDrift {
    let state = |absent: bool| FieldValue::Text(if absent { "absent" } else { "exists" }.into());
    let live_state =
        if live.absent { state(true) } else { FieldValue::Text(format!("exists (ETag {})", live.etag.as_str())) };
    FieldDrift {
        scope: DriftScope::Header,
        field: RECORD_PRESENCE.into(),
        reviewed: state(before_absent),
        live: live_state,
        proposed: None,
    }
}

/// Header fields F&O derives from the lines (totals): they change when the lines do.
pub fn derived_from_lines(action: Action) -> &'static [&'static str] {
    match action {
        Action::PostJournal => &["JournalTotalDebit", "JournalTotalCredit"],
        _ => &[],
    }
}

/// Line fields the policy rules read, per action.
fn policy_line_fields(action: Action) -> &'static [&'static str] {
    match action {
        Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => {
            &["NetAmount", "MainAccountDisplayValue", "DimensionDisplayValue"]
        }
        Action::PostJournal => &[
            "AccountDisplayValue",
            "OffsetAccountDisplayValue",
            "DebitAmount",
            "CreditAmount",
            "CurrencyCode",
            "TransDate",
            "Voucher",
        ],
        _ => &[],
    }
}

/// Where a drifted value sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DriftScope {
    Header,
    /// A line, by its canonical key text (`LineNumber=2,…`).
    Line {
        key: String,
    },
    /// A line the reviewed snapshot had that the live record no longer has.
    LineRemoved {
        key: String,
    },
    /// A line the live record has that the reviewed snapshot did not.
    LineAdded {
        key: String,
    },
}

/// One field that differs: the three-way view (reviewed, live, proposed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    pub scope: DriftScope,
    pub field: String,
    pub reviewed: FieldValue,
    pub live: FieldValue,
    /// The proposed value, when the run writes this field.
    pub proposed: Option<FieldValue>,
}

/// Every difference between the reviewed snapshot and the live record; empty means no drift.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub drifts: Vec<FieldDrift>,
}

impl DriftReport {
    /// The live record this report was read from, rebuilt on `run`'s reviewed snapshot: the three-way
    /// view (reviewed · live · proposed) of a stale run.
    pub fn live_of(&self, run: &crate::model::GovernedRun) -> crate::model::Snapshot {
        let mut live = run.before.clone();
        for d in &self.drifts {
            match &d.scope {
                DriftScope::Header => {
                    live.fields.insert(d.field.clone(), d.live.clone());
                }
                DriftScope::Line { key } => {
                    if let Some(line) = live.lines.iter_mut().find(|l| super::digest::line_key_text(&l.keys) == *key) {
                        line.fields.insert(d.field.clone(), d.live.clone());
                    }
                }
                DriftScope::LineRemoved { key } => {
                    live.lines.retain(|l| super::digest::line_key_text(&l.keys) != *key);
                }
                DriftScope::LineAdded { .. } => {}
            }
        }
        live
    }

    pub fn is_empty(&self) -> bool {
        self.drifts.is_empty()
    }

    /// A one-line summary for messages: `3 field(s) changed: IsOnHold, line LineNumber=2 DebitAmount, …`.
    pub fn summary(&self) -> String {
        let names: Vec<String> = self
            .drifts
            .iter()
            .take(5)
            .map(|d| match &d.scope {
                DriftScope::Header => d.field.clone(),
                DriftScope::Line { key } => format!("line {key} {}", d.field),
                DriftScope::LineRemoved { key } => format!("line {key} removed"),
                DriftScope::LineAdded { key } => format!("line {key} added"),
            })
            .collect();
        let more = if self.drifts.len() > 5 { ", …" } else { "" };
        format!("{} change(s) since review: {}{more}", self.drifts.len(), crate::text::visible(&names.join(", ")))
    }
}

fn value(fields: &Fields, name: &str) -> FieldValue {
    fields.get(name).cloned().unwrap_or(FieldValue::Null)
}

fn compare(
    scope: &DriftScope,
    names: &BTreeSet<&str>,
    reviewed: &Fields,
    live: &Fields,
    proposed: Option<&Fields>,
    out: &mut Vec<FieldDrift>,
) {
    for name in names {
        let (before, now) = (value(reviewed, name), value(live, name));
        if before != now {
            out.push(FieldDrift {
                scope: scope.clone(),
                field: name.to_string(),
                reviewed: before,
                live: now,
                proposed: proposed.and_then(|p| p.get(*name)).cloned(),
            });
        }
    }
}

/// Compare the run's before snapshot with the live record.
pub fn detect(run: &GovernedRun, live: &Snapshot) -> DriftReport {
    let mut drifts: Vec<FieldDrift> = role_drift(run, live).into_iter().collect();
    if run.before.absent || live.absent {
        // Nothing to compare field by field on a side that has no record; that both are absent (a create
        // whose key is still free) is no drift.
        if run.before.absent != live.absent {
            drifts.push(presence(run.before.absent, live));
        }
        return DriftReport { drifts };
    }
    // Snapshot fields the live entity does not expose at all (e.g. `RecId`) cannot be compared; touched
    // and policy-read fields are compared whatever the live record holds.
    let mut names: BTreeSet<&str> =
        run.before.fields.keys().filter(|f| live.fields.contains_key(*f)).map(String::as_str).collect();
    names.extend(run.proposed.fields.keys().map(String::as_str));
    // Policy fields count only where there is something to compare: present on either side.
    names.extend(
        policy_header_fields(run.document_action())
            .iter()
            .filter(|f| run.before.fields.contains_key(**f) || live.fields.contains_key(**f)),
    );
    compare(&DriftScope::Header, &names, &run.before.fields, &live.fields, Some(&run.proposed.fields), &mut drifts);

    // A run that neither captured nor proposes lines does not concern them.
    if run.before.lines.is_empty() && run.proposed.lines.is_empty() {
        return DriftReport { drifts };
    }
    let proposed_lines: BTreeMap<String, &Fields> =
        run.proposed.lines.iter().map(|l| (line_key_text(&l.keys), &l.fields)).collect();
    let live_lines: BTreeMap<String, &Fields> =
        live.lines.iter().map(|l| (line_key_text(&l.keys), &l.fields)).collect();
    let mut seen = BTreeSet::new();
    for line in &run.before.lines {
        let key = line_key_text(&line.keys);
        seen.insert(key.clone());
        let Some(live_fields) = live_lines.get(&key) else {
            drifts.push(FieldDrift {
                scope: DriftScope::LineRemoved { key },
                field: String::new(),
                reviewed: FieldValue::Null,
                live: FieldValue::Null,
                proposed: None,
            });
            continue;
        };
        let proposed = proposed_lines.get(&key).copied();
        let mut names: BTreeSet<&str> =
            line.fields.keys().filter(|f| live_fields.contains_key(*f)).map(String::as_str).collect();
        names.extend(proposed.into_iter().flat_map(|p| p.keys().map(String::as_str)));
        names.extend(
            policy_line_fields(run.document_action())
                .iter()
                .filter(|f| line.fields.contains_key(**f) || live_fields.contains_key(**f)),
        );
        compare(&DriftScope::Line { key }, &names, &line.fields, live_fields, proposed, &mut drifts);
    }
    for key in live_lines.keys().filter(|k| !seen.contains(*k)) {
        drifts.push(FieldDrift {
            scope: DriftScope::LineAdded { key: key.clone() },
            field: String::new(),
            reviewed: FieldValue::Null,
            live: FieldValue::Null,
            proposed: None,
        });
    }
    DriftReport { drifts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::testdata::journal_run;

    #[test]
    fn a_record_that_appeared_or_vanished_is_drift() {
        let mut run = journal_run();
        let gone = Snapshot::absent(run.before.captured_at);
        let report = detect(&run, &gone);
        assert_eq!(report.drifts.len(), 1);
        assert_eq!(
            (report.drifts[0].field.as_str(), report.drifts[0].live.to_string()),
            (RECORD_PRESENCE, "absent".into())
        );
        run.before = Snapshot::absent(run.before.captured_at);
        assert!(detect(&run, &gone).is_empty(), "a key still free is no drift");
        let taken = live_of(&journal_run());
        assert!(detect(&run, &taken).drifts[0].live.to_string().starts_with("exists (ETag W/"));
    }

    fn live_of(run: &GovernedRun) -> Snapshot {
        let mut live = run.before.clone();
        live.etag = crate::model::ETag::from("W/\"JzIsNTYzNzE0NDU3Nyc=\"");
        live
    }

    #[test]
    fn an_unchanged_record_with_a_new_etag_is_not_drift() {
        let run = journal_run();
        assert!(detect(&run, &live_of(&run)).is_empty());
    }

    #[test]
    fn a_changed_line_amount_is_drift_with_the_three_way_values() {
        let run = journal_run();
        let mut live = live_of(&run);
        live.lines[1]
            .fields
            .insert("CreditAmount".into(), FieldValue::Number(rust_decimal::Decimal::new(1_250_001, 2)));
        let report = detect(&run, &live);
        assert_eq!(report.drifts.len(), 1, "{report:?}");
        let drift = &report.drifts[0];
        assert_eq!(drift.field, "CreditAmount");
        assert_eq!(drift.live, FieldValue::Number(rust_decimal::Decimal::new(1_250_001, 2)));
        assert_eq!(drift.reviewed, FieldValue::Number(rust_decimal::Decimal::new(1_250_000, 2)));
        assert!(matches!(&drift.scope, DriftScope::Line { key } if key.contains("LineNumber=2")));
    }

    #[test]
    fn a_posted_journal_header_is_drift() {
        let run = journal_run();
        let mut live = live_of(&run);
        live.fields.insert("IsPosted".into(), FieldValue::from("Yes"));
        let report = detect(&run, &live);
        assert_eq!(report.drifts[0].field, "IsPosted");
        assert!(report.summary().contains("IsPosted"));
    }

    #[test]
    fn an_added_or_removed_line_is_drift() {
        let run = journal_run();
        let mut live = live_of(&run);
        let mut extra = live.lines[0].clone();
        extra.keys.insert("LineNumber".into(), FieldValue::Number(rust_decimal::Decimal::new(3, 0)));
        live.lines.push(extra);
        live.lines.remove(0);
        let kinds: Vec<_> = detect(&run, &live).drifts.into_iter().map(|d| d.scope).collect();
        assert!(kinds.iter().any(|k| matches!(k, DriftScope::LineRemoved { .. })), "{kinds:?}");
        assert!(kinds.iter().any(|k| matches!(k, DriftScope::LineAdded { .. })), "{kinds:?}");
    }

    #[test]
    fn lines_are_matched_by_key_not_position() {
        let run = journal_run();
        let mut live = live_of(&run);
        live.lines.reverse();
        assert!(detect(&run, &live).is_empty());
    }
}
