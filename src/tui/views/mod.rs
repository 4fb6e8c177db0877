//! Drawing: pure functions of `&State` and `&Theme`. Every data string passes through
//! [`crate::text::visible`] so no control, bidi or zero-width character reaches the terminal raw.

pub mod columns;
pub mod dialog;
pub mod flow;
pub mod help;
pub mod layout;
pub mod messages;
pub mod queue;
pub mod run;
pub mod status_bar;
pub mod too_small;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::border;
use ratatui::text::{Line, Span};

use super::source::Tone;
use super::state::{Overlay, Screen, State};
use super::theme::Theme;
use crate::model::RunSummary;

/// Borders in plain ASCII, so chrome survives any font, locale and terminal.
pub const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// Draw the whole screen for `state`.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if state.too_small() {
        return too_small::draw(frame, area, state, theme);
    }
    let rows = layout::frame_rows(area);
    status_bar::draw_title(frame, rows.title, state, theme);
    match &state.screen {
        Screen::Queue => queue::draw(frame, rows.body, state, theme),
        Screen::Run(view) => run::draw(frame, state, view, theme),
    }
    status_bar::draw_status(frame, rows.status, state, theme);
    status_bar::draw_hints(frame, rows.hints, state, theme);
    match &state.overlay {
        Some(Overlay::Help { scroll }) => help::draw(frame, area, state, *scroll, theme),
        Some(Overlay::Messages { scroll }) => messages::draw(frame, area, state, *scroll, theme),
        Some(Overlay::Dialog(d)) => dialog::draw(frame, area, state, d, theme),
        None => {}
    }
}

/// The theme token for a section tone.
pub fn tone_token(tone: Tone) -> &'static str {
    match tone {
        Tone::Text => "text",
        Tone::Muted => "muted",
        Tone::Title => "title",
        Tone::DiffAdded => "diff.added",
        Tone::DiffRemoved => "diff.removed",
        Tone::DiffChanged => "diff.changed",
        Tone::DiffEmph => "diff.emph",
        Tone::PolicyPass => "policy.pass",
        Tone::PolicyAdvisory => "policy.advisory",
        Tone::PolicySoft => "policy.soft",
        Tone::PolicyHard => "policy.hard",
        Tone::RollbackReady => "rollback.ready",
        Tone::RollbackConditional => "rollback.conditional",
        Tone::RollbackNotReady => "rollback.not_ready",
    }
}

/// One laid-out screen row (already visible-escaped), styled.
pub fn screen_line<'a>(spans: &'a [(Tone, String)], theme: &Theme) -> Line<'a> {
    Line::from(
        spans
            .iter()
            .map(|(tone, text)| Span::styled(text.as_str(), theme.style(tone_token(*tone))))
            .collect::<Vec<_>>(),
    )
}

/// The amount exactly as stored, grouped, with its currency (`12,500.00 USD`), or `—`.
pub fn format_amount(s: &RunSummary) -> String {
    crate::tui::format::amount(s)
}

/// A rectangle of `w`×`h` centred in `area` (clamped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Compact duration: `45s`, `12m`, `5h`, `3d`.
pub fn short_duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().abs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}
