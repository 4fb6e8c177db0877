//! The screen shown below the minimum size, instead of a broken layout.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::state::State;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, _state: &State, theme: &Theme) {
    let text = format!("terminal too small (need 80×24, have {}×{})", area.width, area.height);
    let y = area.height / 2;
    let rect = Rect { x: area.x, y: area.y + y, width: area.width, height: area.height - y };
    frame.render_widget(
        Paragraph::new(Line::styled(text, theme.style("flash.error")).centered()).wrap(Wrap { trim: true }),
        rect,
    );
}
