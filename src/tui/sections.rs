//! Turning the judgement models (diff, policy, rollback) into the run view's sections: lines of spans,
//! each tagged with its meaning. Pure: the pipeline-backed source and the in-memory source share it, so
//! snapshot tests show exactly what approvers see. Every string in the models is already visible-escaped.

use crate::diff::{self, ChangeKind, RunDiff};
use crate::policy::{self, Level};
use crate::rollback;

use super::source::{Readiness, Section, Tone};

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
        policy.lines.insert(0, vec![(Tone::Title, title)]);
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
                .map(|l| vec![(tone_of_readiness(&plan.readiness, l), l.to_string())])
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
    let mut lines = Vec::new();
    for v in &evaluation.verdicts {
        let tone = match v.level {
            Level::Pass => Tone::PolicyPass,
            Level::Advisory => Tone::PolicyAdvisory,
            Level::Soft => Tone::PolicySoft,
            Level::Hard => Tone::PolicyHard,
        };
        let lead = format!("{} {:<8} ", v.level.symbol(), v.level.as_str());
        let rule = format!("{} v{}  ", v.rule, v.version);
        // The reason is what the approver judges by: wrap it at 80 columns instead of letting a pane cut it.
        let first = POLICY_WIDTH.saturating_sub(lead.chars().count() + rule.chars().count()).max(20);
        let mut chunks = wrap_words(&v.message, first, POLICY_WIDTH - POLICY_INDENT.len()).into_iter();
        lines.push(vec![(tone, lead), (Tone::Muted, rule), (Tone::Text, chunks.next().unwrap_or_default())]);
        lines.extend(chunks.map(|c| vec![(Tone::Text, format!("{POLICY_INDENT}{c}"))]));
    }
    Section { lines }
}

const POLICY_WIDTH: usize = 78;
const POLICY_INDENT: &str = "           ";

/// Split `text` at spaces into lines of at most `first` characters, then `rest` (a word longer than the
/// line is cut, never dropped).
pub(crate) fn wrap_words(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let width = if out.is_empty() { first } else { rest };
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > if out.is_empty() { first } else { rest } {
            let cut = if out.is_empty() { first } else { rest };
            let head: String = line.chars().take(cut).collect();
            line = line.chars().skip(cut).collect();
            out.push(head);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Side-by-side field rows: `marker field │ before │ proposed [│ live]`; unchanged rows fold into a count.
fn header_section(diff: &RunDiff, all: bool) -> Section {
    let mut lines = Vec::new();
    if diff.drift {
        lines.push(vec![(
            Tone::PolicyHard,
            "! STALE: the live record changed since review (rows marked !). Nothing was written.".to_string(),
        )]);
    }
    let (fw, vw) = widths(diff.three_way);
    let mut head =
        vec![(Tone::Title, format!("  {:<fw$} │ {:<vw$} │ {:<vw$}", "field", "before (reviewed)", "proposed"))];
    if diff.three_way {
        head.push((Tone::Title, format!(" │ {:<vw$}", "live")));
    }
    lines.push(head);
    // With nothing proposed (an approval as is), every field is what the approver judges: fold nothing.
    let unfold = all || diff.header.changed == 0;
    lines.extend(rows_lines(&diff.header.rows, diff.three_way, unfold));
    if diff.header.folded > 0 && !unfold {
        lines.push(vec![(Tone::Muted, format!("  … {} unchanged field(s) folded", diff.header.folded))]);
    }
    Section { lines }
}

/// The header rows stacked for narrow panes: a changed field shows `- before`, `+ proposed` and, when
/// stale, `! live` on their own lines, so nothing is cut off at 80 columns.
fn unified_section(diff: &RunDiff, all: bool) -> Section {
    let mut lines = Vec::new();
    if diff.drift {
        lines.push(vec![(
            Tone::PolicyHard,
            "! STALE: the live record changed since review. Nothing was written.".into(),
        )]);
    }
    let unfold = all || diff.header.changed == 0;
    for row in diff.header.rows.iter().filter(|r| unfold || !r.folds()) {
        let cell = |c: &Option<diff::Cell>| c.as_ref().map(|c| c.text.clone()).unwrap_or_else(|| "(absent)".into());
        if row.kind == ChangeKind::Unchanged && !row.drift {
            let (tone, marker) = if row.hostile { (Tone::PolicySoft, "* ") } else { (Tone::Text, "  ") };
            lines.push(vec![(tone, marker.to_string()), (Tone::Text, format!("{}: {}", row.field, cell(&row.before)))]);
            continue;
        }
        let marker = if row.drift { '!' } else { row.kind.marker() };
        lines.push(vec![(
            if row.drift { Tone::PolicyHard } else { Tone::DiffChanged },
            format!("{marker} {}", row.field),
        )]);
        let mut side = |sign: &str, tone: Tone, text: String| {
            for (i, chunk) in wrap(&text, 68).into_iter().enumerate() {
                let lead = if i == 0 { sign } else { " " };
                lines.push(vec![(tone, format!("    {lead} {chunk}"))]);
            }
        };
        side("-", Tone::DiffRemoved, cell(&row.before));
        side("+", Tone::DiffAdded, cell(&row.proposed));
        if diff.three_way {
            side("!", if row.drift { Tone::PolicyHard } else { Tone::Muted }, format!("live: {}", cell(&row.live)));
        }
    }
    if diff.header.folded > 0 && !unfold {
        lines.push(vec![(Tone::Muted, format!("  … {} unchanged field(s) folded", diff.header.folded))]);
    }
    Section { lines }
}

fn rows_lines(rows: &[diff::Row], three_way: bool, unfold: bool) -> Vec<Vec<(Tone, String)>> {
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| unfold || !r.folds()) {
        let tone = match row.kind {
            ChangeKind::Unchanged => Tone::Text,
            ChangeKind::Changed => Tone::DiffChanged,
            ChangeKind::Added => Tone::DiffAdded,
            ChangeKind::Removed => Tone::DiffRemoved,
        };
        let cell = |c: &Option<diff::Cell>| c.as_ref().map(|c| c.text.clone()).unwrap_or_else(|| "(absent)".into());
        let (fw, vw) = widths(three_way);
        let before = wrap(&cell(&row.before), vw);
        let proposed = wrap(&cell(&row.proposed), vw);
        let live = if three_way { wrap(&cell(&row.live), vw) } else { Vec::new() };
        let height = before.len().max(proposed.len()).max(live.len()).min(6);
        // A field name wider than its column gets a line of its own rather than being cut.
        if row.field.chars().count() > fw {
            out.push(vec![(tone, format!("{} {}", row.kind.marker(), row.field))]);
        }
        let long_name = row.field.chars().count() > fw;
        for i in 0..height {
            let marker = if i > 0 {
                "  ".to_string()
            } else if row.drift {
                "! ".to_string()
            } else if row.hostile && row.kind == ChangeKind::Unchanged {
                // Invisible or control characters, shown escaped: marked so the eye stops on the row.
                "* ".to_string()
            } else {
                format!("{} ", row.kind.marker())
            };
            let field = if i == 0 && !long_name { row.field.clone() } else { String::new() };
            let marker = if long_name && i == 0 { "  ".to_string() } else { marker };
            let mut line = vec![
                (
                    if row.drift {
                        Tone::PolicyHard
                    } else if row.hostile {
                        Tone::PolicySoft
                    } else {
                        tone
                    },
                    marker,
                ),
                (Tone::Text, format!("{field:<fw$.fw$} │ ")),
                (
                    if row.kind == ChangeKind::Unchanged { Tone::Text } else { Tone::DiffRemoved },
                    format!("{:<vw$} │ ", before.get(i).map(String::as_str).unwrap_or("")),
                ),
                (
                    if row.kind == ChangeKind::Unchanged { Tone::Text } else { Tone::DiffAdded },
                    format!("{:<vw$}", proposed.get(i).map(String::as_str).unwrap_or("")),
                ),
            ];
            if three_way {
                line.push((
                    if row.drift { Tone::PolicyHard } else { Tone::Text },
                    format!(" │ {}", live.get(i).map(String::as_str).unwrap_or("")),
                ));
            }
            out.push(line);
        }
    }
    out
}

fn lines_section(diff: &RunDiff, all: bool) -> Section {
    let Some(lines_diff) = &diff.lines else {
        return Section::plain(["this action has no lines"]);
    };
    let mut out = vec![vec![(
        Tone::Title,
        format!(
            "{} line(s) of {} matched by {} · {} changed · {} folded",
            lines_diff.lines.len(),
            lines_diff.entity_set,
            lines_diff.key_field,
            lines_diff.changed,
            lines_diff.folded
        ),
    )]];
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
        out.push(head);
        out.extend(rows_lines(&entry.fields.rows, diff.three_way, all).into_iter().map(|mut l| {
            if let Some(first) = l.first_mut() {
                first.1.insert_str(0, "  ");
            }
            l
        }));
    }
    out.push(vec![(Tone::Muted, String::new())]);
    for total in lines_diff.totals.describe() {
        out.push(vec![(Tone::Title, total)]);
    }
    Section { lines: out }
}

/// The Audit tab's events: time, kind, actor, from → to, reason, the signing key, and under an
/// `exchange.recorded` event the request and F&O's answer as recorded (secrets already masked).
pub fn audit_lines(history: &[crate::review::history::AuditEntry]) -> Vec<Vec<(Tone, String)>> {
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
        out.push(line);
        if let Some(reason) = &e.reason {
            out.push(vec![(Tone::Text, format!("        {}", v(reason)))]);
        }
        if let Some(x) = &e.exchange {
            let answer = match x.status {
                Some(status) => format!("→ {status}"),
                None if x.dry_run => "→ not sent (dry run)".to_string(),
                None => "→ no answer".to_string(),
            };
            out.push(vec![(Tone::Title, format!("        {} {}  {answer}", v(&x.method), v(&x.url)))]);
            for (name, value) in &x.request_headers {
                out.push(vec![(Tone::Muted, format!("          {}: {}", v(name), v(value)))]);
            }
            if let Some(body) = x.request_body.as_deref().filter(|b| !b.is_empty()) {
                out.push(vec![(Tone::Text, format!("          sent: {}", v(body)))]);
            }
            if let Some(body) = x.response_body.as_deref().filter(|b| !b.is_empty()) {
                out.push(vec![(Tone::Text, format!("          F&O answered: {}", v(body)))]);
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

/// Field and value column widths: the three-way view (reviewed · proposed · live) fits the run view's
/// main pane from 160 columns, the two-way view from 100.
fn widths(three_way: bool) -> (usize, usize) {
    if three_way { (22, 22) } else { (26, 30) }
}

/// Wrap text into chunks of at most `width` characters (values are already visible-escaped).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::wrap_words;

    #[test]
    fn reasons_wrap_at_word_boundaries_and_keep_every_character() {
        let text = "high-risk field BankAccountId changes from 'BOA-9921' to 'WF-CHK-441': a second approver";
        let lines = wrap_words(text, 30, 40);
        assert!(lines[0].chars().count() <= 30 && lines.iter().skip(1).all(|l| l.chars().count() <= 40), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap_words(&"x".repeat(50), 20, 20), vec!["x".repeat(20), "x".repeat(20), "x".repeat(10)]);
    }
}
