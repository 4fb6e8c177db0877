//! The title line (environment, approver, production banner), the status line (prompt, flash, counts)
//! and the key-hint line generated from the keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::wrap::{fit, width};
use crate::model::RunStatus;
use crate::text::visible;
use crate::tui::state::{PromptKind, State};
use crate::tui::theme::Theme;

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

pub fn draw_title(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let s = &state.settings;
    let mut spans = vec![
        Span::styled(" signoff ", theme.style("title")),
        Span::styled(" env ", theme.style("muted")),
        Span::styled(visible(&s.environment), theme.style("text")),
        Span::styled("  approver ", theme.style("muted")),
        Span::styled(visible(&s.approver), theme.style("text")),
    ];
    if s.production {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(" PRODUCTION ", theme.style("banner.production")));
    }
    if s.read_only {
        spans.push(Span::styled("  [read-only]", theme.style("muted").add_modifier(Modifier::BOLD)));
    }
    if state.live_off.is_some() {
        // Other approvers' decisions do not show until the store can be watched again (or `R`).
        spans.push(Span::styled("  [not live]", theme.style("flash.error")));
    }
    if let Some(a) = state.activation.as_ref().filter(|a| !a.activated) {
        // Until the connector is activated: how far it is, and the next step (`connector status` has all).
        let next = a.current().map_or("", |s| s.title);
        let failed = a.current().is_some_and(|s| s.state == crate::review::activation::StepState::Failed);
        let text = format!("  [setup {}/5: {}{next}]", a.done(), if failed { "FAILED " } else { "next " });
        spans.push(Span::styled(text, theme.style("policy.advisory")));
    }
    if state.busy > 0 {
        let phase = SPINNER[(state.spinner % 4) as usize];
        spans.push(Span::styled(format!("  {phase} working"), theme.style("muted")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if let Some(prompt) = &state.prompt {
        let lead = if prompt.kind == PromptKind::Filter { "/" } else { ":" };
        let mut spans = vec![
            Span::styled(lead, theme.style("key")),
            Span::styled(visible(&prompt.input.text).into_owned(), theme.style("input")),
        ];
        if let Some(e) = &prompt.error {
            spans.push(Span::styled(format!("  [!] {}", visible(e)), theme.style("flash.error")));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        let cursor_col =
            visible(&prompt.input.text.chars().take(prompt.input.cursor).collect::<String>()).chars().count() as u16;
        frame.set_cursor_position((area.x + 1 + cursor_col.min(area.width.saturating_sub(2)), area.y));
        return;
    }
    let q = &state.queue;
    let counts = if state.loading {
        "loading…".to_string()
    } else if state.partial {
        // No counts until every row is in: counts of the first rows would contradict the queue's own.
        format!("first {} shown  loading the rest…", q.view.len())
    } else {
        format!(
            "{}/{} shown  {} pending  {} stale  sort {}{}",
            q.view.len(),
            q.all.len(),
            q.count_status(RunStatus::Pending),
            q.count_status(RunStatus::Stale),
            q.sort.label(),
            if q.reverse { " (rev)" } else { "" }
        )
    };
    // The counter keeps its own area at the right; the filter gets the room left of it and ends in `…`
    // when it does not fit, so the two never run into each other.
    let counts_w = width(&counts) as u16;
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(counts_w + 1)]).areas(area);
    let mut left: Vec<Span> = Vec::new();
    if let Some(f) = &state.flash {
        let (token, mark) = if f.error { ("flash.error", "[!] ") } else { ("flash.info", "") };
        left.push(Span::styled(format!(" {mark}{}", visible(&f.text)), theme.style(token)));
        // A flash needs the whole line more than the counter does.
        if width(&f.text) + mark.len() + 1 > left_area.width as usize {
            return frame.render_widget(Paragraph::new(Line::from(left)), area);
        }
    } else if !q.filter_text.is_empty() {
        let room = (left_area.width as usize).saturating_sub(" filter ".len() + 1);
        left.push(Span::styled(" filter ", theme.style("muted")));
        left.push(Span::styled(fit(&visible(&q.filter_text), room), theme.style("text")));
    }
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(Paragraph::new(Span::styled(counts, theme.style("muted"))).right_aligned(), right_area);
}

/// The hints of the current context that fit, in keymap order. `? help` and `q quit` are kept at any
/// width: lower-priority hints are dropped first, from the end.
pub fn draw_hints(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let disabled = |hint: &str| state.settings.read_only && (hint == "approve" || hint == "reject");
    let hints: Vec<(String, &str)> =
        state.keymap.hints(state.context()).into_iter().filter(|(_, h)| !disabled(h)).collect();
    let kept = |h: &str| h == "help" || h == "quit";
    let cost = |(key, hint): &(String, &str)| width(key) + width(hint) + 3;
    let mut room = (area.width as usize).saturating_sub(hints.iter().filter(|(_, h)| kept(h)).map(cost).sum());
    let mut shown = vec![false; hints.len()];
    for (i, hint) in hints.iter().enumerate() {
        if kept(hint.1) {
            shown[i] = true;
        } else if cost(hint) <= room {
            room -= cost(hint);
            shown[i] = true;
        } else {
            room = 0;
        }
    }
    let mut spans = Vec::new();
    for ((key, hint), _) in hints.iter().zip(&shown).filter(|(_, s)| **s) {
        spans.push(Span::styled(format!(" {key}"), theme.style("key")));
        spans.push(Span::styled(format!(" {hint} "), theme.style("muted")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
