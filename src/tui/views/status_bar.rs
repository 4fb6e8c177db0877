//! The title line (environment, approver, production banner), the status line (prompt, flash, counts)
//! and the key-hint line generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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
    let mut left: Vec<Span> = Vec::new();
    if let Some(f) = &state.flash {
        let (token, mark) = if f.error { ("flash.error", "[!] ") } else { ("flash.info", "") };
        left.push(Span::styled(format!(" {mark}{}", visible(&f.text)), theme.style(token)));
    } else if !q.filter_text.is_empty() {
        left.push(Span::styled(" filter ", theme.style("muted")));
        left.push(Span::styled(visible(&q.filter_text).into_owned(), theme.style("text")));
    }
    let used: usize = left.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + 1);
    if counts.len() <= room {
        left.push(Span::raw(" ".repeat(room - counts.len())));
        left.push(Span::styled(counts, theme.style("muted")));
    }
    frame.render_widget(Paragraph::new(Line::from(left)), area);
}

pub fn draw_hints(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = Vec::new();
    let mut width = 0usize;
    let disabled = |hint: &str| state.settings.read_only && (hint == "approve" || hint == "reject");
    for (key, hint) in state.keymap.hints(state.context()).into_iter().filter(|(_, h)| !disabled(h)) {
        let w = key.len() + hint.len() + 3;
        if width + w > area.width as usize {
            break;
        }
        width += w;
        spans.push(Span::styled(format!(" {key}"), theme.style("key")));
        spans.push(Span::styled(format!(" {hint} "), theme.style("muted")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
