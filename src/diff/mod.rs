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

use crate::model::{Action, GovernedRun, Snapshot};
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
