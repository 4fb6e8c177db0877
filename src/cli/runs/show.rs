//! The text view of one run for `signoff runs show`. Every value passes through `text::visible`.
//!
//! [`render_run`] is the one entry point, so a richer view (diff, verdicts, rollback) can replace it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::table::{Align, render};
use crate::model::{FieldValue, Fields, GovernedRun, RequesterKind};
use crate::store::StoredRun;
use crate::text::visible;

/// The whole view: header, then before and proposed side by side.
pub fn render_run(stored: &StoredRun) -> String {
    let mut out = render_header(stored);
    out.push('\n');
    out.push_str(&render_values(&stored.run));
    out
}

fn v(s: &str) -> String {
    visible(s).into_owned()
}

fn fv(value: &FieldValue) -> String {
    v(&value.to_string())
}

/// `key=value, …` for a line or record key.
fn keys_label(keys: &Fields) -> String {
    keys.iter().map(|(k, val)| format!("{}={}", v(k), fv(val))).collect::<Vec<_>>().join(", ")
}

fn render_header(stored: &StoredRun) -> String {
    let run = &stored.run;
    let mut rows: Vec<(&str, String)> = vec![
        ("run", v(run.id.as_str())),
        ("action", run.action.as_str().to_string()),
        ("status", stored.status.to_string()),
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
    rows.push(("approvals", format!("{} of {}", stored.approvals.len(), run.route.required_approvals)));
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
    if let Some(hint) = &run.rollback_hint {
        rows.push(("rollback", v(hint)));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<width$}  {value}");
    }
    out
}

/// `field | before | proposed` rows for one record: every field of either side, changed ones marked.
fn field_rows(before: &Fields, proposed: &Fields) -> Vec<Vec<String>> {
    let names: BTreeSet<&String> = before.keys().chain(proposed.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let old = before.get(name);
            let new = proposed.get(name);
            let mark = match new {
                Some(new) if Some(new) != old => "*",
                _ => "",
            };
            vec![
                mark.to_string(),
                v(name),
                old.map(fv).unwrap_or_else(|| "(absent)".into()),
                new.map(fv).unwrap_or_default(),
            ]
        })
        .collect()
}

fn render_values(run: &GovernedRun) -> String {
    let header = ["", "FIELD", "BEFORE", "PROPOSED"];
    let align = [Align::Left; 4];
    let mut out = format!(
        "before: ETag {}, captured {}   (* = changed; an empty PROPOSED cell keeps the value)\n",
        v(run.before.etag.as_str()),
        run.before.captured_at.to_rfc3339()
    );
    out.push_str(&render(&header, &align, &field_rows(&run.before.fields, &run.proposed.fields)));
    let mut shown = BTreeSet::new();
    for line in &run.before.lines {
        let proposed = run.proposed.lines.iter().find(|p| p.keys == line.keys);
        let note = match proposed {
            Some(p) if p.remove => " (removed)",
            _ => "",
        };
        let _ = writeln!(out, "\nline {} (ETag {}){note}", keys_label(&line.keys), v(line.etag.as_str()));
        let empty = Fields::new();
        let new_fields = proposed.filter(|p| !p.remove).map(|p| &p.fields).unwrap_or(&empty);
        out.push_str(&render(&header, &align, &field_rows(&line.fields, new_fields)));
        shown.insert(keys_label(&line.keys));
    }
    for line in run.proposed.lines.iter().filter(|p| !shown.contains(&keys_label(&p.keys))) {
        let _ = writeln!(out, "\nline {} (new)", keys_label(&line.keys));
        out.push_str(&render(&header, &align, &field_rows(&Fields::new(), &line.fields)));
    }
    out
}
