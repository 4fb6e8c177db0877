//! Layout arithmetic shared by the reducer (page sizes, scroll limits) and the views.

use ratatui::layout::Rect;

use std::borrow::Cow;

use crate::tui::source::{RunDetail, Tone};
use crate::tui::state::{RunView, Tab};

/// Rows of chrome around the queue body: title, column header, status line, key hints.
const QUEUE_CHROME: u16 = 4;
/// Rows around the run view body: title, six header rows, tab bar, status line, key hints.
const RUN_CHROME: u16 = 10;
/// Header rows in the run view.
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

/// Run view body rows visible at terminal height `h`.
pub fn run_rows(h: u16, _wide: bool) -> usize {
    h.saturating_sub(RUN_CHROME) as usize
}

/// Lines in the run view's current tab.
pub fn section_len(view: &RunView, unified: bool, unfolded: bool) -> usize {
    view.detail.as_ref().map(|d| tab_content(d, view.tab, unified, unfolded).len()).unwrap_or(1)
}

/// The content of a tab, theme-free. The audit tab is assembled from approvals, evidence and the
/// pre-rendered audit section.
pub fn tab_content(d: &RunDetail, tab: Tab, unified: bool, unfolded: bool) -> Cow<'_, [Vec<(Tone, String)>]> {
    let content = tab_body(d, tab, unified, unfolded);
    match &d.why {
        // A run that needs attention says why above whatever tab is open.
        Some(why) => {
            let mut out = vec![vec![(Tone::PolicyHard, format!("[!] {why}"))], vec![(Tone::Muted, String::new())]];
            out.extend(content.iter().cloned());
            Cow::Owned(out)
        }
        None => content,
    }
}

fn tab_body(d: &RunDetail, tab: Tab, unified: bool, unfolded: bool) -> Cow<'_, [Vec<(Tone, String)>]> {
    let empty = |what: &str| Cow::Owned(vec![vec![(Tone::Muted, format!("— {what}"))]]);
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
            let mut out =
                vec![vec![(Tone::Title, format!("Approvals ({} of {})", d.approvals.len(), d.required_approvals))]];
            if d.approvals.is_empty() {
                out.push(vec![(Tone::Muted, "  none yet".to_string())]);
            }
            for a in &d.approvals {
                let note = a.note.as_deref().map(|n| format!("  \"{n}\"")).unwrap_or_default();
                out.push(vec![(Tone::Text, format!("  {}  {}{note}", a.approver, a.at))]);
            }
            out.push(vec![(Tone::Title, format!("Evidence ({})", d.run.evidence.len()))]);
            for e in &d.run.evidence {
                out.push(vec![
                    (Tone::Text, format!("  {}  ", e.name)),
                    (Tone::Muted, format!("sha256 {}  {}", e.sha256, crate::text::visible(&e.uri))),
                ]);
            }
            out.push(vec![(Tone::Title, format!("Audit ({} events)", d.history.len()))]);
            if d.history.is_empty() {
                out.push(vec![(Tone::Muted, "  no audit entries yet".to_string())]);
            }
            out.extend(crate::tui::sections::audit_lines(&d.history));
            Cow::Owned(out)
        }
    }
}
