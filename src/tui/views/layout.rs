//! Layout arithmetic shared by the reducer (page sizes, scroll limits) and the views.

use ratatui::layout::{Constraint, Layout, Rect};

use std::borrow::Cow;

use super::flow::flow;
use super::wrap::{fit, wrap_text};
use crate::text::visible;
use crate::tui::source::{RunDetail, SectionLine, Tone};
use crate::tui::state::{RunView, State, Tab};

/// Rows of chrome around the queue body: title, column header, status line, key hints.
const QUEUE_CHROME: u16 = 4;
/// Header rows in the run view with a one-row justification.
pub const RUN_HEADER_ROWS: u16 = 6;

/// The screen's fixed bands.
pub struct FrameRows {
    pub title: Rect,
    pub body: Rect,
    pub status: Rect,
    pub hints: Rect,
}

pub fn frame_rows(area: Rect) -> FrameRows {
    let h = area.height;
    let row = |y: u16| Rect { x: area.x, y: area.y + y, width: area.width, height: 1 };
    FrameRows {
        title: row(0),
        body: Rect { x: area.x, y: area.y + 1, width: area.width, height: h.saturating_sub(3) },
        status: row(h.saturating_sub(2)),
        hints: row(h.saturating_sub(1)),
    }
}

/// Queue rows visible at terminal height `h`.
pub fn queue_rows(h: u16) -> usize {
    h.saturating_sub(QUEUE_CHROME) as usize
}

/// Most rows the justification takes in the run view's header; a longer one ends in `…` there and reads
/// whole at the top of the Audit tab.
const WHY_ROWS: usize = 3;
/// Columns of the header's labels (`Requester  `).
pub const LABEL_COLUMNS: u16 = 11;

/// Where the run view's parts go, at the terminal's size, for this run.
pub struct RunPanes {
    pub header: Rect,
    pub tabs: Rect,
    /// The current tab.
    pub main: Rect,
    /// Policy and rollback beside the tab, on wide terminals.
    pub side: Option<Rect>,
}

pub fn run_panes(state: &State, view: &RunView) -> RunPanes {
    let body = frame_rows(Rect::new(0, 0, state.width, state.height)).body;
    let header_rows = match view.detail.as_deref() {
        Some(d) => RUN_HEADER_ROWS - 1 + justification_lines(d, body.width).len() as u16,
        None => RUN_HEADER_ROWS,
    };
    let [header, tabs, rest] =
        Layout::vertical([Constraint::Length(header_rows), Constraint::Length(1), Constraint::Min(1)]).areas(body);
    if state.wide() {
        let [main, side] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(rest);
        RunPanes { header, tabs, main, side: Some(side) }
    } else {
        RunPanes { header, tabs, main: rest, side: None }
    }
}

/// The justification wrapped beside its label, at most [`WHY_ROWS`] rows, the last ending in `…` if cut.
pub fn justification_lines(d: &RunDetail, width: u16) -> Vec<String> {
    let room = width.saturating_sub(LABEL_COLUMNS) as usize;
    let mut lines = wrap_text(&visible(&d.run.justification), room);
    if lines.len() > WHY_ROWS {
        lines.truncate(WHY_ROWS);
        if let Some(last) = lines.last_mut() {
            *last = fit(&format!("{last} …"), room);
        }
    }
    lines
}

/// The screen rows of the run view's current tab, and how many fit in its pane.
pub fn run_scroll(state: &State, view: &RunView) -> (usize, usize) {
    let main = run_panes(state, view).main;
    let len = view
        .detail
        .as_deref()
        .map(|d| flow(&tab_content(d, view.tab, state.diff_unified(), state.unfolded), main.width as usize).len())
        .unwrap_or(1);
    (len, main.height as usize)
}

/// The content of a tab, theme-free. A run that needs attention says why above whatever tab is open.
/// The audit tab is assembled from the justification, approvals, evidence and the typed history.
pub fn tab_content(d: &RunDetail, tab: Tab, unified: bool, unfolded: bool) -> Cow<'_, [SectionLine]> {
    let content = tab_body(d, tab, unified, unfolded);
    match &d.why {
        Some(why) => {
            let mut out: Vec<SectionLine> =
                vec![vec![(Tone::PolicyHard, format!("[!] {why}"))].into(), vec![(Tone::Muted, String::new())].into()];
            out.extend(content.iter().cloned());
            Cow::Owned(out)
        }
        None => content,
    }
}

/// The F&O work item an `approve-workflow-item` run decides: the context F&O gave the approver.
fn work_item_lines(d: &RunDetail) -> Vec<SectionLine> {
    let Some(item) = &d.run.work_item else { return Vec::new() };
    let mut out: Vec<SectionLine> = vec![
        vec![(Tone::Title, format!("F&O work item {} (awaits {})", item.id, item.user_id))].into(),
        vec![(Tone::Text, format!("  subject       {}", item.subject))].into(),
    ];
    let mut row = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            out.push(vec![(Tone::Text, format!("  {label:<13} {value}"))].into());
        }
    };
    row("instructions", item.instructions.clone());
    row("due", item.due_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()));
    row("step", item.element_id.clone());
    row("decided by", Some("validate, then complete with the outcome and your reason as its comment".into()));
    out
}

fn tab_body(d: &RunDetail, tab: Tab, unified: bool, unfolded: bool) -> Cow<'_, [SectionLine]> {
    let empty = |what: &str| Cow::Owned(vec![vec![(Tone::Muted, format!("— {what}"))].into()]);
    let all = &d.unfolded;
    match tab {
        Tab::Diff if unfolded && unified && !all.diff_unified.is_empty() => Cow::Borrowed(&all.diff_unified.lines),
        Tab::Diff if unfolded && !all.diff.is_empty() => Cow::Borrowed(&all.diff.lines),
        Tab::Lines if unfolded && !all.lines.is_empty() => Cow::Borrowed(&all.lines.lines),
        Tab::Diff if d.diff.is_empty() => empty("no changes"),
        Tab::Diff if unified && !d.diff_unified.is_empty() => Cow::Borrowed(&d.diff_unified.lines),
        Tab::Diff => Cow::Borrowed(&d.diff.lines),
        Tab::Lines if d.lines.is_empty() => empty("this run has no lines"),
        Tab::Lines => Cow::Borrowed(&d.lines.lines),
        Tab::Policy if d.policy.is_empty() => empty("policy verdicts are not available yet"),
        Tab::Policy => Cow::Borrowed(&d.policy.lines),
        Tab::Rollback if d.rollback_section.is_empty() => empty("rollback readiness is not available yet"),
        Tab::Rollback => Cow::Borrowed(&d.rollback_section.lines),
        Tab::Audit => {
            let mut out: Vec<SectionLine> = vec![
                vec![(Tone::Title, "Justification".to_string())].into(),
                vec![(Tone::Text, format!("  {}", d.run.justification))].into(),
            ];
            out.extend(work_item_lines(d));
            out.push(
                vec![(Tone::Title, format!("Approvals ({} of {})", d.approvals.len(), d.required_approvals))].into(),
            );
            if d.approvals.is_empty() {
                out.push(vec![(Tone::Muted, "  none yet".to_string())].into());
            }
            for a in &d.approvals {
                let note = a.note.as_deref().map(|n| format!("  \"{n}\"")).unwrap_or_default();
                out.push(vec![(Tone::Text, format!("  {}  {}{note}", a.approver, a.at))].into());
            }
            out.push(vec![(Tone::Title, format!("Evidence ({})", d.run.evidence.len()))].into());
            for e in &d.run.evidence {
                out.push(
                    vec![
                        (Tone::Text, format!("  {}  ", e.name)),
                        (Tone::Muted, format!("sha256 {}  {}", e.sha256, e.uri)),
                    ]
                    .into(),
                );
            }
            out.push(vec![(Tone::Title, format!("Audit ({} events)", d.history.len()))].into());
            if d.history.is_empty() {
                out.push(vec![(Tone::Muted, "  no audit entries yet".to_string())].into());
            }
            out.extend(crate::tui::sections::audit_lines(&d.history));
            Cow::Owned(out)
        }
    }
}
