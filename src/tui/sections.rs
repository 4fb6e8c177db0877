//! Turning the judgement models (diff, policy, rollback) into the run view's sections: logical lines of
//! spans, each tagged with its meaning, wrapped by the view at draw time to the pane's real width. Pure:
//! the pipeline-backed source and the in-memory source share it, so snapshot tests show exactly what
//! approvers see. Every string in the models is already visible-escaped.

use crate::diff::{self, ChangeKind, RunDiff};
use crate::policy::{self, Level};
use crate::rollback;

use super::source::{Readiness, Section, SectionLine, Tone};

/// The diff and lines sections with nothing folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unfolded {
    pub diff: Section,
    pub diff_unified: Section,
    pub lines: Section,
}

/// The run view's judgement sections: diff (side by side and stacked), lines, policy, rollback.
pub struct JudgementSections {
    pub diff: Section,
    pub diff_unified: Section,
    pub lines: Section,
    /// The same three with every unchanged field unfolded (`z`).
    pub unfolded: Unfolded,
    pub policy: Section,
    pub rollback: Section,
    pub verdict_summary: String,
    /// Every verdict, most severe first, for the decision dialog.
    pub verdicts: Vec<policy::Verdict>,
    pub readiness: Readiness,
    pub plan: rollback::RollbackPlan,
}

impl JudgementSections {
    /// The run view's model: these sections with the run, its status, approvals and audit trail.
    pub fn into_detail(
        self,
        run: &crate::model::GovernedRun,
        status: crate::model::RunStatus,
        approvals: Vec<super::source::ApprovalView>,
        required_approvals: u32,
        history: Vec<crate::review::history::AuditEntry>,
        why: Option<String>,
    ) -> super::source::RunDetail {
        let mut policy = self.policy;
        let given = approvals.len();
        let title = format!("{} · {given} of {required_approvals} distinct approver(s) given", self.verdict_summary);
        policy.lines.insert(0, vec![(Tone::Title, title)].into());
        super::source::RunDetail {
            run: run.clone(),
            status,
            approvals,
            required_approvals,
            verdicts: self.verdicts,
            verdict_summary: Some(self.verdict_summary),
            rollback: Some(self.readiness),
            rollback_plan: self.plan,
            diff: self.diff,
            diff_unified: self.diff_unified,
            lines: self.lines,
            unfolded: self.unfolded,
            policy,
            rollback_section: self.rollback,
            history,
            why,
        }
    }
}

impl JudgementSections {
    /// For a re-captured run, the run it replaces and what moved, above the diff (every layout of it).
    pub fn with_replaces(mut self, replaces: Option<&crate::review::preview::Replaces>) -> Self {
        if let Some(r) = replaces {
            let lead = replaces_lines(r);
            for section in
                [&mut self.diff, &mut self.diff_unified, &mut self.unfolded.diff, &mut self.unfolded.diff_unified]
            {
                section.lines.splice(0..0, lead.iter().cloned());
            }
        }
        self
    }
}

/// "Replaces run X (stale)…" and the three-way rows of what moved: X's before (reviewed), this run's
/// before (live when re-captured) and the proposal; unchanged fields folded.
pub fn replaces_lines(r: &crate::review::preview::Replaces) -> Vec<SectionLine> {
    let status = r.status.map(|s| format!(" ({s})")).unwrap_or_default();
    let mut lines: Vec<SectionLine> = vec![
        vec![(Tone::PolicySoft, format!("↻ This run replaces run {}{status}, whose record changed.", r.id))].into(),
    ];
    let Some(moved) = &r.moved else {
        lines.push(vec![(Tone::Muted, "  (that run is not in this store)".to_string())].into());
        return lines;
    };
    lines.push(vec![(Tone::Muted, format!("  What moved since {} was reviewed (rows marked !):", r.id))].into());
    lines.push(SectionLine::row(vec![
        (Tone::Title, "  ".to_string()),
        (Tone::Title, "field".to_string()),
        (Tone::Title, format!("before ({})", r.id)),
        (Tone::Title, "proposed".to_string()),
        (Tone::Title, "live (this run's before)".to_string()),
    ]));
    lines.extend(rows_lines(&moved.header.rows, true, false, ""));
    if let Some(l) = moved.lines.as_ref().filter(|l| l.drifted > 0) {
        lines.push(
            vec![(Tone::PolicyHard, format!("! {} line(s) changed too (the Lines tab shows them now)", l.drifted))]
                .into(),
        );
    }
    lines.push(vec![(Tone::Text, String::new())].into());
    lines
}

/// Render a run's diff, evaluation and rollback plan.
pub fn render(diff: &RunDiff, evaluation: &policy::Evaluation, plan: &rollback::RollbackPlan) -> JudgementSections {
    JudgementSections {
        diff: header_section(diff, false),
        diff_unified: unified_section(diff, false),
        lines: lines_section(diff, false),
        unfolded: Unfolded {
            diff: header_section(diff, true),
            diff_unified: unified_section(diff, true),
            lines: lines_section(diff, true),
        },
        policy: policy_section(evaluation),
        rollback: Section {
            lines: plan
                .render_text()
                .lines()
                .map(|l| vec![(tone_of_readiness(&plan.readiness, l), l.to_string())].into())
                .collect(),
        },
        verdict_summary: evaluation.summary(),
        verdicts: evaluation.verdicts.clone(),
        readiness: readiness(&plan.readiness),
        plan: plan.clone(),
    }
}

pub fn readiness(r: &rollback::Readiness) -> Readiness {
    r.kind()
}

fn tone_of_readiness(r: &rollback::Readiness, line: &str) -> Tone {
    if !line.to_ascii_lowercase().contains("rollback") && !line.contains("ready") {
        return Tone::Text;
    }
    match r {
        rollback::Readiness::Ready => Tone::RollbackReady,
        rollback::Readiness::Conditional(_) => Tone::RollbackConditional,
        rollback::Readiness::NotReady(_) => Tone::RollbackNotReady,
    }
}

/// The verdicts, one per line; `into_detail` puts the title with the one count of approvals above them.
fn policy_section(evaluation: &policy::Evaluation) -> Section {
    let mut lines: Vec<SectionLine> = Vec::new();
    for v in &evaluation.verdicts {
        let tone = match v.level {
            Level::Pass => Tone::PolicyPass,
            Level::Advisory => Tone::PolicyAdvisory,
            Level::Soft => Tone::PolicySoft,
            Level::Hard => Tone::PolicyHard,
        };
        let lead = format!("{} {:<8} ", v.level.symbol(), v.level.as_str());
        let rule = format!("{} v{}  ", v.rule, v.version);
        // The reason is what the approver judges by: the view wraps it to the pane, under the rule.
        let indent = lead.chars().count() as u16;
        lines.push(SectionLine::text(vec![(tone, lead), (Tone::Muted, rule), (Tone::Text, v.message.clone())], indent));
    }
    Section { lines }
}

/// Side-by-side field rows: `marker field │ before │ proposed [│ live]`; unchanged rows fold into a count.
/// The view sizes the columns to the pane and wraps each value inside its column.
fn header_section(diff: &RunDiff, all: bool) -> Section {
    let mut lines: Vec<SectionLine> = Vec::new();
    if diff.drift {
        lines.push(
            vec![(
                Tone::PolicyHard,
                "! STALE: the live record changed since review (rows marked !). Nothing was written.".to_string(),
            )]
            .into(),
        );
    }
    let mut head = vec![
        (Tone::Title, "  ".to_string()),
        (Tone::Title, "field".to_string()),
        (Tone::Title, "before (reviewed)".to_string()),
        (Tone::Title, "proposed".to_string()),
    ];
    if diff.three_way {
        head.push((Tone::Title, "live".to_string()));
    }
    lines.push(SectionLine::row(head));
    // With nothing proposed (an approval as is), every field is what the approver judges: fold nothing.
    let unfold = all || diff.header.changed == 0;
    lines.extend(rows_lines(&diff.header.rows, diff.three_way, unfold, ""));
    if diff.header.folded > 0 && !unfold {
        lines.push(vec![(Tone::Muted, format!("  … {} unchanged field(s) folded", diff.header.folded))].into());
    }
    Section { lines }
}

/// The header rows stacked for narrow panes: a changed field shows `- before`, `+ proposed` and, when
/// stale, `! live` on their own lines, each wrapped to the pane, so nothing is cut off at 80 columns.
fn unified_section(diff: &RunDiff, all: bool) -> Section {
    let mut lines: Vec<SectionLine> = Vec::new();
    if diff.drift {
        lines.push(
            vec![(Tone::PolicyHard, "! STALE: the live record changed since review. Nothing was written.".into())]
                .into(),
        );
    }
    let unfold = all || diff.header.changed == 0;
    for row in diff.header.rows.iter().filter(|r| unfold || !r.folds()) {
        if row.kind == ChangeKind::Unchanged && !row.drift {
            let (tone, marker) = if row.hostile { (Tone::PolicySoft, "* ") } else { (Tone::Text, "  ") };
            let value = format!("{}: {}", row.field, cell(&row.before));
            lines.push(SectionLine::text(vec![(tone, marker.to_string()), (Tone::Text, value)], 4));
            continue;
        }
        let marker = if row.drift { '!' } else { row.kind.marker() };
        lines.push(
            vec![(if row.drift { Tone::PolicyHard } else { Tone::DiffChanged }, format!("{marker} {}", row.field))]
                .into(),
        );
        let mut side = |sign: &str, tone: Tone, value: Vec<(Tone, String)>| {
            let mut spans = vec![(tone, format!("    {sign} "))];
            spans.extend(value);
            lines.push(SectionLine::text(spans, 6));
        };
        side("-", Tone::DiffRemoved, emphasised(&row.before, Tone::DiffRemoved));
        side("+", Tone::DiffAdded, emphasised(&row.proposed, Tone::DiffAdded));
        if diff.three_way {
            let tone = if row.drift { Tone::PolicyHard } else { Tone::Muted };
            side("!", tone, vec![(tone, format!("live: {}", cell(&row.live)))]);
        }
    }
    if diff.header.folded > 0 && !unfold {
        lines.push(vec![(Tone::Muted, format!("  … {} unchanged field(s) folded", diff.header.folded))].into());
    }
    Section { lines }
}

fn cell(c: &Option<diff::Cell>) -> String {
    c.as_ref().map(|c| c.text.clone()).unwrap_or_else(|| "(absent)".into())
}

/// One table row per shown field; `lead` goes before the marker (line rows sit under their line).
/// A value as spans: the parts the inline diff marks as changed in the emphasis tone (bold and underlined
/// in every theme, so they stand out without colour too), the rest in `tone`.
fn emphasised(value: &Option<diff::Cell>, tone: Tone) -> Vec<(Tone, String)> {
    let Some(c) = value else { return vec![(tone, "(absent)".into())] };
    let mut out = Vec::new();
    let mut at = 0;
    for span in &c.emphasis {
        let (Some(before), Some(part)) = (c.text.get(at..span.start), c.text.get(span.start..span.end)) else {
            continue;
        };
        if !before.is_empty() {
            out.push((tone, before.to_string()));
        }
        out.push((Tone::DiffEmph, part.to_string()));
        at = span.end;
    }
    let rest = c.text.get(at..).unwrap_or_default();
    if !rest.is_empty() || out.is_empty() {
        out.push((tone, rest.to_string()));
    }
    out
}

fn rows_lines(rows: &[diff::Row], three_way: bool, unfold: bool, lead: &str) -> Vec<SectionLine> {
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| unfold || !r.folds()) {
        let tone = match row.kind {
            ChangeKind::Unchanged => Tone::Text,
            ChangeKind::Changed => Tone::DiffChanged,
            ChangeKind::Added => Tone::DiffAdded,
            ChangeKind::Removed => Tone::DiffRemoved,
        };
        let marker = if row.drift {
            "!".to_string()
        } else if row.hostile && row.kind == ChangeKind::Unchanged {
            // Invisible or control characters, shown escaped: marked so the eye stops on the row.
            "*".to_string()
        } else {
            row.kind.marker().to_string()
        };
        let marker_tone = if row.drift {
            Tone::PolicyHard
        } else if row.hostile {
            Tone::PolicySoft
        } else {
            tone
        };
        let (old, new) = if row.kind == ChangeKind::Unchanged {
            (Tone::Text, Tone::Text)
        } else {
            (Tone::DiffRemoved, Tone::DiffAdded)
        };
        let mut line = vec![
            (marker_tone, format!("{lead}{marker} ")),
            (Tone::Text, row.field.clone()),
            (old, cell(&row.before)),
            (new, cell(&row.proposed)),
        ];
        if three_way {
            line.push((if row.drift { Tone::PolicyHard } else { Tone::Text }, cell(&row.live)));
        }
        out.push(SectionLine::row(line));
    }
    out
}

fn lines_section(diff: &RunDiff, all: bool) -> Section {
    let Some(lines_diff) = &diff.lines else {
        return Section::plain(["this action has no lines"]);
    };
    let mut out: Vec<SectionLine> = vec![
        vec![(
            Tone::Title,
            format!(
                "{} line(s) of {} matched by {} · {} changed · {} folded",
                lines_diff.lines.len(),
                lines_diff.entity_set,
                lines_diff.key_field,
                lines_diff.changed,
                lines_diff.folded
            ),
        )]
        .into(),
    ];
    for entry in &lines_diff.lines {
        let marker = if entry.drift { '!' } else { entry.kind.marker() };
        let tone = match entry.kind {
            ChangeKind::Unchanged => Tone::Text,
            ChangeKind::Changed => Tone::DiffChanged,
            ChangeKind::Added => Tone::DiffAdded,
            ChangeKind::Removed => Tone::DiffRemoved,
        };
        let group = entry.group.as_deref().map(|g| format!("  [{g}]")).unwrap_or_default();
        let mut head = vec![(tone, format!("{marker} line {}{group}", entry.key))];
        head.extend(line_summary(&entry.fields.rows));
        out.push(head.into());
        out.extend(rows_lines(&entry.fields.rows, diff.three_way, all, "  "));
    }
    out.push(vec![(Tone::Muted, String::new())].into());
    for total in lines_diff.totals.describe() {
        out.push(vec![(Tone::Title, total)].into());
    }
    Section { lines: out }
}

/// The Audit tab's events: time, kind, actor, from → to, reason, the signing key, and under an
/// `exchange.recorded` event the request and F&O's answer as recorded (secrets already masked).
pub fn audit_lines(history: &[crate::review::history::AuditEntry]) -> Vec<SectionLine> {
    let v = |s: &str| crate::text::visible(s).into_owned();
    let mut out = Vec::new();
    for e in history {
        let mut line = vec![
            (Tone::Muted, format!("#{:<5} {} ", e.seq, e.at.format("%Y-%m-%d %H:%M:%S"))),
            (Tone::Text, format!("{:<20} ", e.kind)),
            (Tone::Muted, v(&e.actor)),
        ];
        if let Some((from, to)) = &e.transition {
            line.push((Tone::Title, format!("  {} → {}", v(from), v(to))));
        }
        if let Some(key) = &e.signed_by {
            line.push((Tone::Text, format!("  signed {key}")));
        }
        out.push(line.into());
        if let Some(reason) = &e.reason {
            out.push(vec![(Tone::Text, format!("        {}", v(reason)))].into());
        }
        if let Some(x) = &e.exchange {
            let answer = match x.status {
                Some(status) => format!("→ {status}"),
                None if x.dry_run => "→ not sent (dry run)".to_string(),
                None => "→ no answer".to_string(),
            };
            out.push(vec![(Tone::Title, format!("        {} {}  {answer}", v(&x.method), v(&x.url)))].into());
            for (name, value) in &x.request_headers {
                out.push(vec![(Tone::Muted, format!("          {}: {}", v(name), v(value)))].into());
            }
            if let Some(body) = x.request_body.as_deref().filter(|b| !b.is_empty()) {
                out.push(vec![(Tone::Text, format!("          sent: {}", v(body)))].into());
            }
            if let Some(body) = x.response_body.as_deref().filter(|b| !b.is_empty()) {
                out.push(vec![(Tone::Text, format!("          F&O answered: {}", v(body)))].into());
            }
        }
    }
    out
}

/// The fields that say what a line is, in the order an accountant reads them, with the word shown before
/// each value (journal and invoice lines alike; a field the line does not have is skipped).
const LINE_SUMMARY: &[(&str, &str)] = &[
    ("AccountType", ""),
    ("AccountDisplayValue", ""),
    ("MainAccountDisplayValue", "account "),
    ("ItemNumber", "item "),
    ("ProcurementCategoryName", ""),
    ("DebitAmount", "debit "),
    ("CreditAmount", "credit "),
    ("NetAmount", "net "),
    ("CurrencyCode", ""),
    ("Currency", ""),
    ("OffsetAccountDisplayValue", "offset "),
    ("DefaultDimensionDisplayValue", "dims "),
    ("DimensionDisplayValue", "dims "),
    ("TransDate", ""),
    ("Text", ""),
    ("LineDescription", ""),
];

/// A line's account, amounts, currency, dimensions, date and text on its heading, as proposed (or as
/// reviewed where the proposal leaves the field alone); zero amounts and empty fields are left out.
fn line_summary(rows: &[diff::Row]) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    for (field, word) in LINE_SUMMARY {
        let Some(row) = rows.iter().find(|r| r.field == *field) else { continue };
        let Some(cell) = row.proposed.as_ref().or(row.before.as_ref()) else { continue };
        let text = cell.text.trim();
        let zero = text.parse::<rust_decimal::Decimal>().is_ok_and(|d| d.is_zero());
        if text.is_empty() || (zero && field.ends_with("Amount")) {
            continue;
        }
        let text = if field.ends_with("Date") { text.get(..10).unwrap_or(text) } else { text };
        let shown =
            if *field == "Text" || *field == "LineDescription" { format!("\"{text}\"") } else { text.to_string() };
        out.push((Tone::Text, format!("  {word}{shown}")));
    }
    out
}

/// Wrap text into chunks of at most `width` characters (values are already visible-escaped).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            out.push(String::new());
            used = 0;
        }
        out.last_mut().expect("never empty").push(c);
        used += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn request_lines_are_cut_by_display_width_and_keep_every_character() {
        let url = "PATCH /data/VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-104')";
        let chunks = wrap(url, 20);
        assert!(chunks.iter().all(|c| unicode_width::UnicodeWidthStr::width(c.as_str()) <= 20), "{chunks:?}");
        assert_eq!(chunks.concat(), url);
        assert_eq!(wrap("深圳华强电子", 5), vec!["深圳", "华强", "电子"]);
    }
}

#[cfg(test)]
mod replaces_tests {
    use super::*;
    use crate::model::{FieldValue, RunStatus, parse_run};
    use crate::review::preview::Replaces;

    #[test]
    fn a_recaptured_run_shows_what_it_replaces_and_what_moved_above_every_diff_layout() {
        let old = parse_run(include_str!("../../fixtures/runs/vnd-usmf-us-104.json"), "old").unwrap();
        let mut live = old.before.clone();
        live.fields.insert("DefaultPaymentTermsName".into(), FieldValue::Text("Net10".into()));
        let r = Replaces {
            id: old.id.to_string(),
            status: Some(RunStatus::Stale),
            moved: Some(diff::diff_run(&old, Some(&live))),
        };
        let lines = replaces_lines(&r);
        let text: Vec<String> =
            lines.iter().map(|l| l.spans.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("|")).collect();
        assert!(text[0].contains("replaces run run-vnd-usmf-us-104 (stale), whose record changed"), "{text:?}");
        let moved = text.iter().find(|t| t.contains("DefaultPaymentTermsName")).unwrap();
        assert!(moved.contains("Net30") && moved.contains("Net10"), "reviewed and live side by side: {moved}");
        assert!(text.iter().any(|t| t.contains("BankAccountId") && t.contains("WF-CHK-441")), "{text:?}");
    }
}
