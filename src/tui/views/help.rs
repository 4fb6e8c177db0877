//! The help overlay, generated from the keymap so it always matches the keys that work.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{ASCII_BORDER, centered};
use crate::tui::keymap::Keymap;
use crate::tui::reducer::help_contexts;
use crate::tui::state::State;
use crate::tui::theme::Theme;

/// `(context heading, [(keys, description)])` for every context, in help order.
pub fn help_entries(keymap: &Keymap) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    help_contexts()
        .into_iter()
        .map(|ctx| {
            let rows = keymap
                .in_context(ctx)
                .map(|b| (b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "), b.command.description()))
                .collect();
            (ctx.label(), rows)
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, scroll: usize, theme: &Theme) {
    let rect = centered(area, area.width.saturating_sub(8).min(96), area.height.saturating_sub(4));
    let mut lines = Vec::new();
    for (heading, rows) in help_entries(&state.keymap) {
        lines.push(Line::styled(heading.to_string(), theme.style("title")));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<22}"), theme.style("key")),
                Span::styled(desc, theme.style("text")),
            ]));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ASCII_BORDER)
        .border_style(theme.style("border"))
        .title(Span::styled(" help: keys (j/k scroll, Esc close) ", theme.style("title")));
    let inner = block.inner(rect);
    let max = lines.len().saturating_sub(inner.height as usize);
    let visible: Vec<Line> = lines.into_iter().skip(scroll.min(max)).take(inner.height as usize).collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(visible), inner);
}
