//! The diff an approver reviews: header rows, lines matched by key, totals, and a three-way view
//! (reviewed / live / proposed) once the live record has been re-read.
//!
//! Every string in the model is already made visible (`crate::text::visible`), so no view can forget to
//! escape; emphasis spans index those escaped strings. See `docs/diff.md`.

mod inline;
mod lines;
pub mod merge;
mod render;
mod rows;

use serde::Serialize;

use crate::model::{Action, FieldValue, Fields, GovernedRun, Snapshot};
use crate::text::visible;

pub use inline::{Mode, Span, emphasis};
pub use lines::{Balance, LineEntry, LineTotals, LinesDiff, VoucherTotals, posting_sides};
pub use render::render_text;
pub use rows::{Cell, ChangeKind, Row, Section};

/// Everything a view needs to show what a run changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunDiff {
    pub run_id: String,
    pub action: Action,
    /// The target's keys for display (`usmf / APINV-000123`).
    pub target: String,
    pub entity_set: String,
    /// A live state was given: rows carry a `live` cell and drift flags.
    pub three_way: bool,
    /// Anything in the live record differs from what was reviewed.
    pub drift: bool,
    pub header: Section,
    /// For invoices and journals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<LinesDiff>,
}

/// The rows an operation adds to the diff of the record it acts on: `(operation)` and each
/// `(parameter) NAME`.
fn operation_rows(run: &GovernedRun) -> Vec<(String, crate::model::FieldValue)> {
    let mut out = Vec::new();
    if let Some(op) = &run.proposed.operation {
        out.push(("(operation)".to_string(), crate::model::FieldValue::Text(op.clone())));
    }
    out.extend(run.proposed.parameters.iter().map(|(n, v)| (format!("(parameter) {n}"), v.clone())));
    out
}

/// The row of an enable-user or disable-user run that says what it leaves alone.
pub const ENTRA_NOTE: &str = "(Entra account and licence)";

/// What that row says, before and after alike.
pub const ENTRA_UNCHANGED: &str = "unchanged: only F&O's Enabled flag is written; the Microsoft Entra ID account \
                                   and its licence stay as they are (change them in Entra ID)";

/// The row of a role run that lists the user's enabled security roles (before, after, live): a name no
/// OData property can have.
pub const ENABLED_ROLES: &str = "(enabled roles)";

/// A list of role names as one value: `Accounts payable clerk; System user`, or `(none)`.
pub fn roles_text(roles: &[String]) -> String {
    if roles.is_empty() { "(none)".into() } else { roles.join("; ") }
}

/// A role run's roles after it executes: the reviewed set plus the assigned role, or without the
/// revoked one (by name, as F&O shows it).
pub fn roles_after(run: &GovernedRun) -> Option<Vec<String>> {
    let before = run.before.enabled_roles.as_ref()?;
    let name = |fields: &crate::model::Fields| {
        fields.get("SecurityRoleName").and_then(crate::model::FieldValue::as_text).map(str::to_string)
    };
    let mut after = before.clone();
    match run.action {
        Action::AssignRole => {
            if let Some(role) = name(&run.proposed.fields)
                && !after.iter().any(|r| r.eq_ignore_ascii_case(&role))
            {
                after.push(role);
            }
        }
        Action::RevokeRole => {
            if let Some(role) = name(&run.before.fields) {
                after.retain(|r| !r.eq_ignore_ascii_case(&role));
            }
        }
        _ => return None,
    }
    after.sort_by_key(|r| r.to_lowercase());
    Some(after)
}

/// The `(enabled roles)` row of a role run: before, after and (re-validated) live.
fn role_rows(run: &GovernedRun, live: Option<&Snapshot>) -> Option<(Fields, Fields, Option<Fields>)> {
    let before = run.before.enabled_roles.as_ref()?;
    let after = roles_after(run)?;
    let row = |roles: &[String]| Fields::from([(ENABLED_ROLES.to_string(), FieldValue::Text(roles_text(roles)))]);
    let live = live.and_then(|l| l.enabled_roles.as_ref()).map(|r| row(r));
    Some((row(before), row(&after), live))
}

/// The diff of a run against its before snapshot, three-way when the live record is given.
pub fn diff_run(run: &GovernedRun, live: Option<&Snapshot>) -> RunDiff {
    // Only the header is merged here; lines are merged one by one, borrowed where the proposal leaves them alone.
    let mut after = run.before.fields.clone();
    after.extend(run.proposed.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
    let live_fields = live.map(|l| (!l.absent).then_some(&l.fields));
    let header = match run.action {
        // A create: nothing before, every key and proposed field added.
        Action::CreateRecord => {
            let mut created = run.target.keys.clone();
            created.extend(run.proposed.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
            Section::new(rows::rows(None, Some(&created), live_fields, None))
        }
        // A delete: every field of the record disappears, each shown as removed.
        Action::DeleteRecord => Section::new(rows::rows(Some(&run.before.fields), None, live_fields, None)),
        // An operation: the record it acts on as it stands, and the operation with its parameters as
        // rows of their own (names no OData property can have).
        Action::ExecuteOperation => {
            after.extend(operation_rows(run));
            Section::new(rows::rows(Some(&run.before.fields), Some(&after), live_fields, None))
        }
        // A role run: the user's enabled roles before and after, then the user-role row POSTed (an
        // assignment) or deleted (a revocation).
        Action::AssignRole | Action::RevokeRole => {
            let (mut before, mut after_roles, mut live_rows) =
                role_rows(run, live).unwrap_or_else(|| (Fields::new(), Fields::new(), None));
            let row = match run.action {
                Action::AssignRole => {
                    let mut created = run.target.keys.clone();
                    created.extend(run.proposed.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
                    created
                }
                _ => Fields::new(),
            };
            before.extend(run.before.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
            after_roles.extend(row);
            if let (Some(rows), Some(l)) = (live_rows.as_mut(), live.filter(|l| !l.absent)) {
                rows.extend(l.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
            }
            let before = (!before.is_empty()).then_some(&before);
            Section::new(rows::rows(before, Some(&after_roles), live_rows.as_ref().map(Some), None))
        }
        // A user run writes F&O's `Enabled` flag only: say so on a row of its own, on every side.
        Action::EnableUser | Action::DisableUser => {
            let note = |fields: &Fields| {
                let mut f = fields.clone();
                f.insert(ENTRA_NOTE.to_string(), FieldValue::Text(ENTRA_UNCHANGED.to_string()));
                f
            };
            let live_noted = live_fields.map(|l| l.map(note));
            Section::new(rows::rows(
                Some(&note(&run.before.fields)),
                Some(&note(&after)),
                live_noted.as_ref().map(|l| l.as_ref()),
                None,
            ))
        }
        _ => Section::new(rows::rows(Some(&run.before.fields), Some(&after), live_fields, None)),
    };
    let lines = lines::diff_lines(run.document_action(), &run.before, &run.proposed, &after, live);
    let drift = header.drifted > 0 || lines.as_ref().is_some_and(|l| l.drifted > 0);
    RunDiff {
        run_id: visible(run.id.as_str()).into_owned(),
        action: run.action,
        target: visible(&run.target.label()).into_owned(),
        entity_set: visible(&run.target.entity_set).into_owned(),
        three_way: live.is_some(),
        drift,
        header,
        lines,
    }
}
