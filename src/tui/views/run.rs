//! The run view: a header (action, target, requester and sponsor, justification, evidence), tabs over
//! the pre-rendered sections, and on wide terminals a side pane with policy and rollback.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::layout::{self, RUN_HEADER_ROWS, tab_content};
use super::queue::{status_text, status_token};
use super::{ASCII_BORDER, format_amount, section_line};
use crate::model::RequesterKind;
use crate::text::visible;
use crate::tui::state::{RunView, State, Tab};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, view: &RunView, theme: &Theme) {
    let [header, tabs, body] =
        Layout::vertical([Constraint::Length(RUN_HEADER_ROWS), Constraint::Length(1), Constraint::Min(1)]).areas(area);
    draw_header(frame, header, view, theme);
    draw_tabs(frame, tabs, view, theme);
    let height = layout::run_rows(state.height, state.wide()).min(body.height as usize);
    if state.wide() {
        let [main, side] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(body);
        draw_body(frame, main, view, height, (state.diff_unified(), state.unfolded), theme);
        draw_side(frame, side, view, theme);
    } else {
        draw_body(frame, body, view, height, (state.diff_unified(), state.unfolded), theme);
    }
}

fn label<'a>(text: &'a str, theme: &Theme) -> Span<'a> {
    Span::styled(format!("{text:<11}"), theme.style("muted"))
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
                Span::raw(format!("{}  {}", visible(&run.target.entity_set), visible(&run.target.label()))),
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
            lines.push(Line::from(vec![label("Requester", theme), Span::raw(who)]));
            lines.push(Line::from(vec![label("When", theme), Span::raw(when)]));
            lines.push(Line::from(vec![label("Why", theme), Span::raw(visible(&run.justification).into_owned())]));
            let evidence = match run.evidence.as_slice() {
                [] => "none".to_string(),
                [one] => {
                    format!("{} (sha256 {})", visible(&one.name), visible(one.sha256.get(..12).unwrap_or(&one.sha256)))
                }
                [first, rest @ ..] => format!("{} and {} more (Audit tab)", visible(&first.name), rest.len()),
            };
            lines.push(Line::from(vec![label("Evidence", theme), Span::raw(evidence)]));
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

/// Only the visible slice of the section is turned into lines.
fn draw_body(
    frame: &mut Frame,
    area: Rect,
    view: &RunView,
    height: usize,
    (unified, unfolded): (bool, bool),
    theme: &Theme,
) {
    let Some(d) = view.detail.as_deref() else {
        return frame.render_widget(Paragraph::new(Span::styled("loading…", theme.style("muted"))), area);
    };
    let content = tab_content(d, view.tab, unified, unfolded);
    let scroll = view.scroll[view.tab.index()].min(content.len().saturating_sub(1));
    let lines: Vec<Line> = content.iter().skip(scroll).take(height).map(|l| section_line(l, theme)).collect();
    frame.render_widget(Paragraph::new(lines), area);
}

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
        let content = view.detail.as_deref().map(|d| tab_content(d, tab, false, false));
        let lines: Vec<Line> = match &content {
            Some(c) => c.iter().take(inner.height as usize).map(|l| section_line(l, theme)).collect(),
            None => vec![Line::styled("loading…", theme.style("muted"))],
        };
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
