//! The run view: a header (action, target, requester and sponsor, justification, evidence), tabs over
//! the judgement's sections laid out in the pane's real width, and on wide terminals a side pane with
//! policy and rollback.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::flow::flow;
use super::layout::{self, tab_content};
use super::queue::{status_text, status_token};
use super::wrap::fit;
use super::{ASCII_BORDER, format_amount, screen_line};
use crate::model::RequesterKind;
use crate::text::visible;
use crate::tui::state::{RunView, State, Tab};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, state: &State, view: &RunView, theme: &Theme) {
    let panes = layout::run_panes(state, view);
    draw_header(frame, panes.header, view, theme);
    draw_tabs(frame, panes.tabs, view, theme);
    draw_body(frame, panes.main, view, (state.diff_unified(), state.unfolded), theme);
    if let Some(side) = panes.side {
        draw_side(frame, side, view, theme);
    }
}

fn label<'a>(text: &'a str, theme: &Theme) -> Span<'a> {
    Span::styled(format!("{text:<11}"), theme.style("muted"))
}

/// A header value in the room beside its label: whole, or cut with a visible `…` (the evidence reads
/// whole in the Audit tab).
fn value(text: String, area: Rect) -> Span<'static> {
    Span::raw(fit(&text, area.width.saturating_sub(layout::LABEL_COLUMNS) as usize))
}

fn draw_header(frame: &mut Frame, area: Rect, view: &RunView, theme: &Theme) {
    let s = &view.summary;
    let mut lines = vec![Line::from(vec![
        Span::styled(visible(s.id.as_str()).into_owned(), theme.style("title")),
        Span::raw("  "),
        Span::styled(format_amount(s), theme.style("title")),
        Span::raw("  "),
        Span::styled(s.action.short(), theme.style("text")),
        Span::raw("  "),
        Span::styled(status_text(s.status), theme.style(status_token(s.status))),
        Span::styled(format!("  approvals {} of {}", s.approvals, s.required_approvals), theme.style("muted")),
    ])];
    match view.detail.as_deref() {
        Some(d) => {
            let run = &d.run;
            lines.push(Line::from(vec![
                label("Target", theme),
                value(format!("{}  {}", visible(&run.target.entity_set), visible(&run.target.label())), area),
            ]));
            let who = match (&run.requester.kind, &run.requester.sponsor) {
                (RequesterKind::Automation, Some(sponsor)) => {
                    format!(
                        "{} (automation), sponsor {}",
                        visible(run.requester.id.as_str()),
                        visible(sponsor.as_str())
                    )
                }
                (RequesterKind::Automation, None) => {
                    format!("{} (automation, no sponsor)", visible(run.requester.id.as_str()))
                }
                (RequesterKind::Person, _) => visible(run.requester.id.as_str()).into_owned(),
            };
            let when = format!(
                "requested {}  expires {}",
                run.requested_at.format("%Y-%m-%d %H:%M UTC"),
                run.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            lines.push(Line::from(vec![label("Requester", theme), value(who, area)]));
            lines.push(Line::from(vec![label("When", theme), value(when, area)]));
            for (i, text) in layout::justification_lines(d, area.width).into_iter().enumerate() {
                lines.push(Line::from(vec![label(if i == 0 { "Why" } else { "" }, theme), Span::raw(text)]));
            }
            let evidence = match run.evidence.as_slice() {
                [] => "none".to_string(),
                [one] => {
                    format!("{} (sha256 {})", visible(&one.name), visible(one.sha256.get(..12).unwrap_or(&one.sha256)))
                }
                [first, rest @ ..] => format!("{} and {} more (Audit tab)", visible(&first.name), rest.len()),
            };
            lines.push(Line::from(vec![label("Evidence", theme), value(evidence, area)]));
        }
        None => {
            lines.push(Line::from(vec![label("Target", theme), Span::raw(visible(&s.target).into_owned())]));
            lines.push(Line::from(vec![label("Requester", theme), Span::raw(visible(&s.requester).into_owned())]));
            let text = match &view.error {
                Some(e) => {
                    Span::styled(format!("[!] could not load the run: {}", visible(e)), theme.style("flash.error"))
                }
                None => Span::styled("loading…", theme.style("muted")),
            };
            lines.push(Line::from(text));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_tabs(frame: &mut Frame, area: Rect, view: &RunView, theme: &Theme) {
    let mut spans = Vec::new();
    for tab in Tab::ALL {
        if tab == view.tab {
            spans.push(Span::styled(format!("[{}]", tab.label()), theme.style("selection")));
        } else {
            spans.push(Span::styled(format!(" {} ", tab.label()), theme.style("muted")));
        }
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.style("border")), area);
}

/// The tab's lines, wrapped to the pane's real width, from the scroll offset down.
fn draw_body(frame: &mut Frame, area: Rect, view: &RunView, (unified, unfolded): (bool, bool), theme: &Theme) {
    let Some(d) = view.detail.as_deref() else {
        return frame.render_widget(Paragraph::new(Span::styled("loading…", theme.style("muted"))), area);
    };
    let rows = flow(&tab_content(d, view.tab, unified, unfolded), area.width as usize);
    let scroll = view.scroll[view.tab.index()].min(rows.len().saturating_sub(1));
    let lines: Vec<Line> = rows.iter().skip(scroll).take(area.height as usize).map(|l| screen_line(l, theme)).collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// Policy above rollback, each wrapped to the pane; what does not fit ends in a note naming the tab
/// that shows it all.
fn draw_side(frame: &mut Frame, area: Rect, view: &RunView, theme: &Theme) {
    let [top, bottom] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    for (rect, tab) in [(top, Tab::Policy), (bottom, Tab::Rollback)] {
        let block = Block::default()
            .borders(Borders::LEFT | Borders::TOP)
            .border_set(ASCII_BORDER)
            .border_style(theme.style("border"))
            .title(Span::styled(format!(" {} ", tab.label()), theme.style("title")));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let Some(d) = view.detail.as_deref() else {
            frame.render_widget(Paragraph::new(Line::styled("loading…", theme.style("muted"))), inner);
            continue;
        };
        let rows = flow(&tab_content(d, tab, false, false), inner.width as usize);
        let room = inner.height as usize;
        let mut lines: Vec<Line> = rows.iter().take(room).map(|l| screen_line(l, theme)).collect();
        if rows.len() > room && room > 0 {
            lines.truncate(room - 1);
            let note = format!("… {} more row(s): the {} tab shows all", rows.len() + 1 - room, tab.label());
            lines.push(Line::styled(fit(&note, inner.width as usize), theme.style("muted")));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
