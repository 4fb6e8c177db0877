//! The help overlay: the keys (generated from the keymap, so it always matches the keys that work), then
//! what every marker means, the queue's columns, the filter language and the `:` commands. It scrolls.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::wrap::{pad, wrap_text};
use super::{ASCII_BORDER, centered};
use crate::tui::commands::COMMANDS;
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

/// Every marker the views draw, and what it says.
pub const MARKERS: &[(&str, &str)] = &[
    ("~  +  -", "diff: a field changed, was added, was removed"),
    ("!", "diff: the live record differs from the one reviewed (the run is stale; nothing is written)"),
    ("*", "diff: the value held control, bidi or zero-width characters, shown escaped as ^[ or ⟨U+202E⟩"),
    ("✗  !  i  ✓", "policy: hard (blocks approval), soft, advisory, pass"),
    ("↺  ?  ✗", "rollback: ready, conditional, not ready"),
    ("[!]", "a status that needs a look: stale, failed, unknown, partly-executed, rollback-partial"),
    ("[>]", "handed-over: approved and left to F&O to post; `signoff reconcile` records the posting"),
    (
        "…",
        "more than shown: folded fields, a cut value (u shows the diff stacked, whole), more rows; in POLICY and ROLLBACK: still being judged",
    ),
    ("→", "from reviewed to proposed (line totals)"),
    ("—", "no amount, or not known yet"),
    ("> Cancel <", "the focused button in a dialog; Cancel has focus first"),
];

/// The queue's columns.
pub const COLUMNS: &[(&str, &str)] = &[
    ("STATUS", "where the run stands; [!] marks one that needs a look, [>] one handed over to F&O to post"),
    ("ACTION", "invoice, journal, vendor, enable-user or disable-user"),
    ("CO", "the company (dataAreaId)"),
    ("TARGET", "the record the run writes"),
    ("AMOUNT", "exact, with its currency; s sorts by it within each currency"),
    ("REQUESTER", "who asked (an automation names its sponsor in the run view)"),
    ("AGE/EXP", "time since requested / until it expires (exp: expired)"),
    ("POLICY", "the worst verdicts (✗ ! i ✓); s sorts by severity"),
    ("ROLLBACK", "whether the change can be rolled back (↺ ? ✗)"),
    ("LEASE", "the approver deciding it right now"),
];

/// The filter language (`/`): every field and operator it accepts.
pub const FILTER: &[(&str, &str)] = &[
    ("word", "text in the id, action, company, target or requester"),
    ("action:TEXT", "e.g. action:invoice, action:enable"),
    ("company:ID, co:ID", "the company, exactly (company:usmf)"),
    ("requester:TEXT, by:TEXT", "text in the requester"),
    ("target:TEXT", "text in the target"),
    ("id:TEXT", "text in the run id"),
    ("lease:TEXT", "text in the lease holder"),
    ("currency:CODE", "the currency, exactly (currency:EUR)"),
    ("status:NAME", "pending, approved, stale, executed, failed, unknown, …"),
    ("amount>N  >=  <  <=  =", "compare the amount (amount>=10000)"),
    ("a b c", "every term must match"),
];

/// Columns of the left column (keys, markers, names).
const LEFT: usize = 24;

/// One row of help, theme-free, so the reducer can count rows for scrolling.
enum HelpRow {
    Heading(String),
    Entry(String, String),
}

fn rows(state: &State, inner_width: usize) -> Vec<HelpRow> {
    let mut out = Vec::new();
    let mut table = |heading: String, entries: Vec<(String, String)>| {
        out.push(HelpRow::Heading(heading));
        for (left, right) in entries {
            let room = inner_width.saturating_sub(LEFT).max(12);
            for (i, chunk) in wrap_text(&right, room).into_iter().enumerate() {
                out.push(HelpRow::Entry(if i == 0 { format!("  {left}") } else { String::new() }, chunk));
            }
        }
    };
    for (heading, keys) in help_entries(&state.keymap) {
        table(format!("keys: {heading}"), keys.into_iter().map(|(k, d)| (k, d.to_string())).collect());
    }
    let owned = |rows: &[(&str, &str)]| rows.iter().map(|(l, r)| (l.to_string(), r.to_string())).collect();
    table("markers".into(), owned(MARKERS));
    table("queue columns".into(), owned(COLUMNS));
    table("filter (/): terms".into(), owned(FILTER));
    table("commands (:)".into(), owned(COMMANDS));
    out
}

/// The help box for a screen of `area`.
fn help_rect(area: Rect) -> Rect {
    centered(area, area.width.saturating_sub(8).min(96), area.height.saturating_sub(4))
}

/// `(last scroll offset, page)` of the help at the current size.
pub fn scroll_limits(state: &State) -> (usize, usize) {
    let rect = help_rect(Rect::new(0, 0, state.width, state.height));
    let (w, h) = (rect.width.saturating_sub(2) as usize, rect.height.saturating_sub(2) as usize);
    (rows(state, w).len().saturating_sub(h), h.max(1))
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, scroll: usize, theme: &Theme) {
    let rect = help_rect(area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ASCII_BORDER)
        .border_style(theme.style("border"))
        .title(Span::styled(" help (j/k, PgUp/PgDn, g/G scroll; Esc closes) ", theme.style("title")));
    let inner = block.inner(rect);
    let all = rows(state, inner.width as usize);
    let max = all.len().saturating_sub(inner.height as usize);
    let lines: Vec<Line> = all
        .into_iter()
        .skip(scroll.min(max))
        .take(inner.height as usize)
        .map(|row| match row {
            HelpRow::Heading(h) => Line::styled(h, theme.style("title")),
            HelpRow::Entry(left, right) => Line::from(vec![
                Span::styled(pad(&left, LEFT), theme.style("key")),
                Span::styled(right, theme.style("text")),
            ]),
        })
        .collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use crate::model::filter::Filter;

    #[test]
    fn every_filter_field_and_operator_the_help_names_parses() {
        for term in ["action:invoice", "company:usmf", "co:usmf", "requester:april", "by:april", "target:US-104"] {
            assert!(Filter::parse(term).is_ok(), "{term}");
        }
        for term in ["id:apinv", "lease:dana", "currency:EUR", "status:stale", "amount>1", "amount>=1"] {
            assert!(Filter::parse(term).is_ok(), "{term}");
        }
        for term in ["amount<1", "amount<=1", "amount=1"] {
            assert!(Filter::parse(term).is_ok(), "{term}");
        }
    }
}
