//! The text view of one run for `signoff runs show`: the header, then the judgement an approver sees
//! before deciding (diff, verdicts, approvals and outcome, rollback readiness).
//!
//! Header values pass through `text::visible` here; the judgement models are already made visible by
//! `diff`, `policy` and `rollback`, so their renderers are printed as they are (never escaped twice).

use std::fmt::Write as _;

use super::judgement::{Judgement, OFFLINE_NOTE};
use crate::model::RequesterKind;
use crate::policy::Outcome;
use crate::store::StoredRun;
use crate::text::visible;

/// The whole view in `width` columns: header, diff, verdicts, approvals and outcome, rollback.
pub fn render_run(stored: &StoredRun, judgement: &Judgement, width: usize) -> String {
    let mut out = render_header(stored, super::judgement::required_of(stored, judgement));
    if let Some(r) = &judgement.replaces {
        out.push_str(&render_replaces(r, width));
    }
    let _ = writeln!(out, "\n{OFFLINE_NOTE}\n");
    out.push_str(&crate::diff::render_text(&judgement.diff, width));
    out.push('\n');
    out.push_str(&judgement.evaluation.render_text());
    out.push_str(&render_outcome(stored, judgement));
    out.push('\n');
    out.push_str(&judgement.rollback.render_text());
    out
}

/// "This replaces run X": the run a re-captured run replaces and the three-way view of what moved
/// (X's before as reviewed, this run's before as live, the proposal).
fn render_replaces(r: &crate::review::preview::Replaces, width: usize) -> String {
    let status = r.status.map(|s| format!(" ({s})")).unwrap_or_default();
    let mut out = format!("\nThis run replaces run {}{status}, whose record changed after it was reviewed.\n", r.id);
    match &r.moved {
        Some(moved) => {
            let _ = writeln!(
                out,
                "What moved (reviewed = {}'s before snapshot, live = this run's before snapshot):\n",
                r.id
            );
            out.push_str(&crate::diff::render_text(moved, width));
        }
        None => out.push_str("(that run is not in this store)\n"),
    }
    out
}

/// The approvals still needed and what the verdicts add up to, in words.
fn render_outcome(stored: &StoredRun, judgement: &Judgement) -> String {
    let evaluation = &judgement.evaluation;
    let required = super::judgement::required_of(stored, judgement);
    let recorded = stored.approvals.len();
    let meaning = match evaluation.outcome {
        Outcome::Clear => "approvable with the required approvals",
        Outcome::NeedsOverride => "approvable only with an override reason and one more distinct approver",
        Outcome::Blocked => "cannot be approved while a hard verdict stands",
    };
    let outcome = match evaluation.outcome {
        Outcome::Clear => "clear",
        Outcome::NeedsOverride => "needs-override",
        Outcome::Blocked => "blocked",
    };
    format!("required approvals: {required} distinct ({recorded} recorded)\noutcome: {outcome}: {meaning}\n")
}

fn v(s: &str) -> String {
    visible(s).into_owned()
}

fn render_header(stored: &StoredRun, required: u32) -> String {
    let run = &stored.run;
    let mut rows: Vec<(&str, String)> = vec![
        ("run", v(run.id.as_str())),
        ("action", run.action.as_str().to_string()),
        ("status", stored.status.to_string()),
        ("digest", format!("{} (approve --reviewed binds to it)", v(&stored.digest))),
        ("environment", v(&run.environment)),
    ];
    let requester = match (run.requester.kind, &run.requester.sponsor) {
        (RequesterKind::Automation, Some(sponsor)) => {
            format!("{} (automation, sponsored by {})", v(run.requester.id.as_str()), v(sponsor.as_str()))
        }
        (RequesterKind::Automation, None) => format!("{} (automation)", v(run.requester.id.as_str())),
        (RequesterKind::Person, _) => format!("{} (person)", v(run.requester.id.as_str())),
    };
    rows.push(("requester", requester));
    rows.push(("requested", run.requested_at.to_rfc3339()));
    rows.push(("expires", run.expires_at.to_rfc3339()));
    rows.push(("justification", v(&run.justification)));
    rows.push((
        "target",
        format!("{} ({}): {}", v(&run.target.entity_set), v(&run.target.managed_object), v(&run.target.label())),
    ));
    if let Some((amount, currency)) = run.headline_amount() {
        rows.push(("amount", format!("{amount} {}", v(currency.as_deref().unwrap_or("")).trim_end())));
    }
    if run.evidence.is_empty() {
        rows.push(("evidence", "none".into()));
    }
    for e in &run.evidence {
        rows.push(("evidence", format!("{} sha256:{} {}", v(&e.name), v(&e.sha256), v(&e.uri))));
    }
    let groups: Vec<String> = run.route.eligible_groups.iter().map(|g| v(g)).collect();
    rows.push((
        "route",
        format!(
            "{} approval(s) from {}",
            run.route.required_approvals,
            if groups.is_empty() { "anyone eligible".to_string() } else { groups.join(", ") }
        ),
    ));
    rows.push(("approvals", format!("{} of {}", stored.approvals.len(), required)));
    for a in &stored.approvals {
        rows.push(("", format!("{} at {}: {}", v(&a.approver), a.approved_at.to_rfc3339(), v(&a.reason))));
    }
    rows.push((
        "lease",
        match &stored.lease {
            Some(lease) => format!("held by {} until {}", v(&lease.holder), lease.expires_at.to_rfc3339()),
            None => "free".into(),
        },
    ));
    if let Some(old) = &run.supersedes {
        rows.push(("supersedes", v(old.as_str())));
    }
    if let Some(hint) = &run.rollback_hint {
        rows.push(("rollback", v(hint)));
    }
    if let Some(item) = &run.work_item {
        rows.push(("work item", format!("{} (F&O user {})", v(&item.id), v(&item.user_id))));
        rows.push(("subject", v(&item.subject)));
        if let Some(text) = &item.instructions {
            rows.push(("instructions", v(text)));
        }
        if let Some(due) = item.due_at {
            rows.push(("due", due.to_rfc3339()));
        }
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<width$}  {value}");
    }
    out
}
