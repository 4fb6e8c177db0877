//! The confirm dialog: a summary of what is decided, the fields it needs, and Cancel / confirm buttons.
//! Focus is shown with brackets and reverse video, so it is visible without colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::wrap::wrap_text;
use super::{ASCII_BORDER, centered, tone_token};
use crate::text::visible;
use crate::tui::input::TextInput;
use crate::tui::state::{Dialog, DialogKind, Focus, State};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog, theme: &Theme) {
    let title = match dialog.kind {
        DialogKind::Approve => format!(" Approve {}? ", visible(dialog.run_id.as_str())),
        DialogKind::Reject => format!(" Reject {}? ", visible(dialog.run_id.as_str())),
        DialogKind::Rollback => format!(" Roll back {}? ", visible(dialog.run_id.as_str())),
        DialogKind::Quit => " Quit signoff? ".to_string(),
    };
    // A rollback plan carries request paths and bodies: it takes the room there is, up to 100 columns.
    let width = match dialog.kind {
        DialogKind::Rollback => area.width.saturating_sub(4).clamp(72, 100),
        _ => 72,
    };
    let value_w = (width as usize).saturating_sub(2 + LABEL_W).max(20);
    let mut summary: Vec<Line> = Vec::new();
    for row in &dialog.summary {
        // Wrapped by display width to the dialog's real width; continuation rows sit under the value.
        for (i, chunk) in wrap_text(&visible(&row.value), value_w).into_iter().enumerate() {
            let label = if i == 0 { row.label.as_str() } else { "" };
            summary.push(Line::from(vec![
                Span::styled(format!(" {label:<width$}", width = LABEL_W - 1), theme.style("muted")),
                Span::styled(chunk, theme.style(tone_token(row.tone))),
            ]));
        }
    }
    let mut lines: Vec<Line> = vec![Line::raw("")];
    let field_w = 40usize;
    if let Some(reason) = &dialog.reason {
        lines.push(field_line(" Reason", reason, dialog.focus == Focus::Reason, field_w, theme));
    }
    if let Some(typed) = &dialog.typed_name {
        let prompt = format!(" Type '{}' to confirm:", visible(&state.settings.environment));
        lines.push(Line::styled(prompt, theme.style("banner.production")));
        lines.push(field_line(" Environment", typed, dialog.focus == Focus::TypedName, field_w, theme));
    }
    if dialog.reason.is_some() || dialog.typed_name.is_some() {
        lines.push(Line::raw(""));
    }
    let confirm = match dialog.kind {
        DialogKind::Approve => "Approve",
        DialogKind::Reject => "Reject",
        DialogKind::Rollback => "Roll back",
        DialogKind::Quit => "Quit",
    };
    lines.push(Line::from(vec![
        Span::raw("      "),
        button("Cancel", dialog.focus == Focus::Cancel, theme),
        Span::raw("    "),
        button(confirm, dialog.focus == Focus::Confirm, theme),
    ]));
    if let Some(e) = &dialog.error {
        lines.push(Line::styled(format!(" [!] {}", visible(e)), theme.style("flash.error")));
    }
    lines.push(Line::styled(" Tab moves focus, Enter presses, Esc cancels", theme.style("muted")));
    // The fields and buttons always show; a summary taller than the room left scrolls with PgDn / PgUp.
    let room = (area.height as usize).saturating_sub(lines.len() + 2);
    if summary.len() > room && room > 1 {
        let shown = room - 1;
        let first = dialog.scroll.min(summary.len() - shown);
        let total = summary.len();
        summary = summary.into_iter().skip(first).take(shown).collect();
        let note = format!(" … lines {}-{} of {total}: PgDn / PgUp scroll", first + 1, first + shown);
        summary.push(Line::styled(note, theme.style("muted")));
    }
    summary.extend(lines);
    let lines = summary;
    let height = lines.len() as u16 + 2;
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ASCII_BORDER)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("title")));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), rect);
}

/// The label column: a space, the label, padding.
const LABEL_W: usize = 13;

fn button(label: &str, focused: bool, theme: &Theme) -> Span<'static> {
    if focused {
        Span::styled(format!("> {label} <"), theme.style("selection").add_modifier(Modifier::BOLD))
    } else {
        Span::styled(format!("[ {label} ]"), theme.style("text"))
    }
}

/// `Label  [text_________]`, showing the tail of long text; focus adds `>` and the selection style.
fn field_line(label: &str, input: &TextInput, focused: bool, width: usize, theme: &Theme) -> Line<'static> {
    let shown = visible(&input.text).into_owned();
    let count = shown.chars().count();
    let tail: String = shown.chars().skip(count.saturating_sub(width - 1)).collect();
    let pad = width.saturating_sub(tail.chars().count());
    let marker = if focused { ">" } else { " " };
    let style = if focused { theme.style("input").add_modifier(Modifier::BOLD) } else { theme.style("input") };
    Line::from(vec![
        Span::styled(format!("{label:<12}"), theme.style("muted")),
        Span::raw(marker.to_string()),
        Span::styled(format!("[{tail}{}]", "_".repeat(pad)), style),
    ])
}
