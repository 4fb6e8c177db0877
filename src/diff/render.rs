//! A plain-text, side-by-side rendering (`field │ before │ proposed`) for `runs show`.
//!
//! Markers (`~ + -`, `!` for drift) carry the meaning, so it reads the same without colour. Values wrap;
//! nothing is truncated (money least of all).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::RunDiff;
use super::lines::{Balance, LineTotals, LinesDiff};
use super::rows::{Cell, ChangeKind, Row, Section};
use crate::policy::money_text;

const MIN_VALUE_WIDTH: usize = 8;

/// Render the diff in `width` columns (at least 40 are used).
pub fn render_text(diff: &RunDiff, width: usize) -> String {
    let width = width.max(40);
    let mut out = String::new();
    for part in wrap(&format!("{} · {} · {} · {}", diff.run_id, diff.action, diff.target, diff.entity_set), width) {
        out.push_str(part.trim_end());
        out.push('\n');
    }
    if diff.drift {
        out.push_str("! the live record differs from the reviewed one: drifted rows are marked !\n");
    }
    let hostile = diff.header.rows.iter().any(|r| r.hostile)
        || diff.lines.as_ref().is_some_and(|l| l.lines.iter().any(|x| x.fields.rows.iter().any(|r| r.hostile)));
    if hostile {
        out.push_str("* rows marked * hold control, bidi or zero-width characters, shown escaped (^[, ⟨U+202E⟩)\n");
    }
    let layout = Layout::new(diff, width);
    layout.heading(&mut out);
    section(&mut out, &layout, &diff.header, "", "fields");
    if let Some(lines) = &diff.lines {
        line_rows(&mut out, &layout, lines);
        totals(&mut out, &layout, &lines.totals);
    }
    out
}

struct Layout {
    width: usize,
    three_way: bool,
    field: usize,
    value: usize,
}

impl Layout {
    fn new(diff: &RunDiff, width: usize) -> Layout {
        let columns = if diff.three_way { 3 } else { 2 };
        let longest = diff.header.rows.iter().map(|r| r.field.width()).max().unwrap_or(5).max(5) + 2;
        let field = longest.min(24).min(width / 4);
        let value = (width.saturating_sub(3 + field + 3 * columns) / columns).max(MIN_VALUE_WIDTH);
        Layout { width, three_way: diff.three_way, field, value }
    }

    fn heading(&self, out: &mut String) {
        let mut cells = vec!["reviewed".to_string()];
        if self.three_way {
            cells.push("live".into());
        }
        cells.push("proposed".into());
        let parts: Vec<Vec<String>> = cells.into_iter().map(|c| vec![c]).collect();
        self.emit(out, "   ", "field", &parts, &[false; 3]);
    }

    fn emit(&self, out: &mut String, marker: &str, field: &str, cells: &[Vec<String>], right: &[bool]) {
        let field_parts = wrap(field, self.field);
        let height = cells.iter().map(Vec::len).chain([field_parts.len()]).max().unwrap_or(1);
        for i in 0..height {
            let mut line = String::new();
            line.push_str(if i == 0 { marker } else { "   " });
            pad(&mut line, field_parts.get(i).map_or("", String::as_str), self.field, false);
            for (c, parts) in cells.iter().enumerate() {
                line.push_str(" │ ");
                pad(
                    &mut line,
                    parts.get(i).map_or("", String::as_str),
                    self.value,
                    right.get(c).copied().unwrap_or(false),
                );
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }

    fn row(&self, out: &mut String, indent: &str, row: &Row) {
        let marker = format!("{}{} ", row.kind.marker(), flag(row.drift, row.hostile));
        let text = |c: &Option<Cell>| c.as_ref().map_or_else(|| "—".to_string(), |c| c.text.clone());
        let mut proposed = text(&row.proposed);
        if let Some(delta) = row.delta {
            let sign = if delta.is_sign_negative() { "" } else { "+" };
            proposed.push_str(&format!(" ({sign}{})", money_text(delta)));
        }
        let mut cells = vec![wrap(&text(&row.before), self.value)];
        if self.three_way {
            cells.push(wrap(&text(&row.live), self.value));
        }
        cells.push(wrap(&proposed, self.value));
        let right = [row.numeric; 3];
        self.emit(out, &marker, &format!("{indent}{}", row.field), &cells, &right);
        // The inline emphasis, readable without colour: what went is [-…-], what comes is {+…+}.
        if let (Some(before), Some(after)) = (&row.before, &row.proposed)
            && (!before.emphasis.is_empty() || !after.emphasis.is_empty())
        {
            let text = format!("{} → {}", marked(before, "[-", "-]"), marked(after, "{+", "+}"));
            push_wrapped(out, &format!("   {indent}  changed: {text}"), self.width);
        }
    }
}

/// A cell's text with its emphasised spans between `open` and `close` (spans are byte ranges on char
/// boundaries of the visible-escaped text; a span that is not is left unmarked rather than split).
pub fn marked(cell: &Cell, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(cell.text.len() + 8);
    let mut at = 0;
    for span in &cell.emphasis {
        let (Some(before), Some(part)) = (cell.text.get(at..span.start), cell.text.get(span.start..span.end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(open);
        out.push_str(part);
        out.push_str(close);
        at = span.end;
    }
    out.push_str(cell.text.get(at..).unwrap_or_default());
    out
}

/// The second marker column: `!` drift (wins), `*` hostile characters.
fn flag(drift: bool, hostile: bool) -> char {
    if drift {
        '!'
    } else if hostile {
        '*'
    } else {
        ' '
    }
}

fn section(out: &mut String, layout: &Layout, section: &Section, indent: &str, noun: &str) {
    for row in section.rows.iter().filter(|r| !r.folds()) {
        layout.row(out, indent, row);
    }
    if section.folded > 0 {
        out.push_str(&format!("   {indent}… {} unchanged {noun} folded\n", section.folded));
    }
}

fn line_rows(out: &mut String, layout: &Layout, lines: &LinesDiff) {
    let summary = format!(
        "lines of {} by {}: {} changed, {} unchanged (folded){}",
        lines.entity_set,
        lines.key_field,
        lines.changed,
        lines.folded,
        if lines.drifted > 0 { format!(", {} drifted", lines.drifted) } else { String::new() }
    );
    push_wrapped(out, &summary, layout.width);
    for line in lines.lines.iter().filter(|l| !l.folds()) {
        let group = line.group.as_ref().map_or_else(String::new, |g| format!(" · voucher {g}"));
        out.push_str(&format!(
            "{}{} {} {}{group}\n",
            line.kind.marker(),
            flag(line.drift, line.fields.rows.iter().any(|r| r.hostile)),
            lines.key_field,
            line.key
        ));
        let whole = matches!(line.kind, ChangeKind::Added | ChangeKind::Removed);
        for row in line.fields.rows.iter().filter(|r| whole || !r.folds()) {
            layout.row(out, "  ", row);
        }
        if !whole && line.fields.folded > 0 {
            out.push_str(&format!("     … {} unchanged fields folded\n", line.fields.folded));
        }
    }
}

fn balance(b: &Balance) -> String {
    let mark =
        if b.balanced { "✓ balanced".to_string() } else { format!("✗ difference {}", money_text(b.difference)) };
    format!("debit {} credit {} {mark}", money_text(b.debit), money_text(b.credit))
}

fn totals(out: &mut String, layout: &Layout, totals: &LineTotals) {
    let mut text = String::new();
    totals_text(&mut text, totals);
    for line in text.lines() {
        push_wrapped(out, line, layout.width);
    }
}

/// Append `text` as one or more lines no wider than `width`, continuations indented.
fn push_wrapped(out: &mut String, text: &str, width: usize) {
    for (i, part) in wrap(text, width.saturating_sub(4)).into_iter().enumerate() {
        if i > 0 {
            out.push_str("    ");
        }
        out.push_str(part.trim_end());
        out.push('\n');
    }
}

fn totals_text(out: &mut String, totals: &LineTotals) {
    out.push_str("totals\n");
    match totals {
        LineTotals::Journal { vouchers, reviewed, proposed } => {
            for v in vouchers {
                out.push_str(&format!("  voucher {}\n    reviewed  {}\n", v.voucher, balance(&v.reviewed)));
                if let Some(live) = &v.live {
                    out.push_str(&format!("    live      {}\n", balance(live)));
                }
                out.push_str(&format!("    proposed  {}\n", balance(&v.proposed)));
            }
            out.push_str(&format!(
                "  journal reviewed  {}\n  journal proposed  {}\n",
                balance(reviewed),
                balance(proposed)
            ));
        }
        LineTotals::Invoice { reviewed_net, proposed_net, delta, header_amount, header_difference } => {
            out.push_str(&format!(
                "  line net amount: reviewed {} → proposed {} (delta {})\n",
                money_text(*reviewed_net),
                money_text(*proposed_net),
                money_text(*delta)
            ));
            if let (Some(h), Some(d)) = (header_amount, header_difference) {
                out.push_str(&format!(
                    "  header ImportedAmount {} (difference to lines {})\n",
                    money_text(*h),
                    money_text(*d)
                ));
            }
        }
    }
}

/// Split `text` into pieces at most `width` columns wide (by display width), breaking after a space
/// when one is near, else mid-word.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width && !current.is_empty() {
            let cut = current.rfind(' ').filter(|&i| i > 0 && current[..i].width() * 2 >= width);
            let rest = match cut {
                Some(i) => current.split_off(i + 1),
                None => String::new(),
            };
            parts.push(std::mem::replace(&mut current, rest));
            used = current.width();
        }
        current.push(c);
        used += w;
    }
    parts.push(current);
    parts
}

fn pad(line: &mut String, text: &str, width: usize, right: bool) {
    let fill = width.saturating_sub(text.width());
    if right {
        line.extend(std::iter::repeat_n(' ', fill));
        line.push_str(text);
    } else {
        line.push_str(text);
        line.extend(std::iter::repeat_n(' ', fill));
    }
}

impl LineTotals {
    /// The totals as text lines (`totals`, per voucher balance, …), as `render_text` prints them.
    pub fn describe(&self) -> Vec<String> {
        let mut text = String::new();
        totals_text(&mut text, self);
        text.lines().map(str::to_string).collect()
    }
}
