//! The message log (`:messages`): every flash of the session with its time, newest first, errors marked,
//! so a message that cleared from the status line or was cut at the terminal's width can be read whole.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{ASCII_BORDER, centered};
use crate::tui::state::State;
use crate::tui::theme::Theme;

fn rect(area: Rect) -> Rect {
    centered(area, area.width.saturating_sub(4), area.height.saturating_sub(4))
}

/// The scroll that brings the oldest message's last row to the bottom, and a page, for the reducer.
pub fn scroll_limits(state: &State) -> (usize, usize) {
    let inner = rect(Rect::new(0, 0, state.width, state.height));
    let (w, h) = (usize::from(inner.width.saturating_sub(2)).max(1), usize::from(inner.height.saturating_sub(2)));
    // Each message is its time (9 columns), its marker (4) and its text, wrapped.
    let rows: usize = state
        .messages
        .iter()
        .map(|m| (13 + unicode_width::UnicodeWidthStr::width(crate::text::visible(&m.text).as_ref())).div_ceil(w))
        .sum::<usize>()
        .max(1);
    (rows.saturating_sub(h), h.max(1))
}

fn lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    if state.messages.is_empty() {
        lines.push(Line::styled("no messages yet", theme.style("muted")));
    }
    for m in state.messages.iter().rev() {
        let (marker, token) = if m.error { ("[!] ", "flash.error") } else { ("    ", "text") };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", m.at.format("%H:%M:%S")), theme.style("muted")),
            Span::styled(format!("{marker}{}", crate::text::visible(&m.text)), theme.style(token)),
        ]));
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, scroll: usize, theme: &Theme) {
    let rect = rect(area);
    let lines = lines(state, theme);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ASCII_BORDER)
        .border_style(theme.style("border"))
        .title(Span::styled(" messages (j/k scroll, Esc close) ", theme.style("title")));
    let inner = block.inner(rect);
    // Long messages wrap; the scroll stops where the oldest message's last row is at the bottom.
    let width = usize::from(inner.width.max(1));
    let total: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let max = total.saturating_sub(inner.height as usize);
    let top = u16::try_from(scroll.min(max)).unwrap_or(u16::MAX);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(paragraph.scroll((top, 0)), inner);
}
