//! Plain-text tables whose every cell has already been made visible.

use unicode_width::UnicodeWidthStr;

use crate::model::RunSummary;
use crate::text::visible;

/// Column alignment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Cells wider than this are cut with `…` in the queue (the full value is in `runs show`). Never the id:
/// the ID column is as wide as the longest id, so every id can be copied into `runs show` or `approve`.
const MAX_CELL: usize = 36;

/// `s` made visible and cut to `max` columns.
pub fn cell(s: &str, max: usize) -> String {
    let shown = visible(s);
    if shown.width() <= max {
        return shown.into_owned();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in shown.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Lay out rows under a header, columns separated by two spaces, trailing spaces trimmed.
pub fn render(header: &[&str], align: &[Align], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(w.saturating_sub(c.width()));
            if align.get(i) == Some(&Align::Right) {
                line.push_str(&pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The queue as a table: id, status, action, company, target, amount, approvals, requester, expiry.
pub fn render_summaries(summaries: &[RunSummary]) -> String {
    use Align::{Left, Right};
    let header = ["ID", "STATUS", "ACTION", "CO", "TARGET", "AMOUNT", "APPR", "REQUESTER", "EXPIRES"];
    let align = [Left, Left, Left, Left, Left, Right, Right, Left, Left];
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|s| {
            let amount = match (&s.amount, &s.currency) {
                (Some(a), Some(c)) => format!("{a} {}", visible(c)),
                (Some(a), None) => a.to_string(),
                (None, _) => String::new(),
            };
            let mut status = s.status.to_string();
            if let Some(holder) = &s.lease_holder {
                status.push_str(&format!(" ({})", cell(holder, 20)));
            }
            vec![
                visible(s.id.as_str()).into_owned(),
                status,
                s.action.short().to_string(),
                cell(s.company.as_deref().unwrap_or("-"), 8),
                cell(&s.target, MAX_CELL),
                amount,
                format!("{}/{}", s.approvals, s.required_approvals),
                cell(&s.requester, MAX_CELL),
                s.expires_at.format("%Y-%m-%d %H:%M").to_string(),
            ]
        })
        .collect();
    render(&header, &align, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_cells_are_escaped_and_long_ones_cut() {
        assert_eq!(cell("US-1\u{1b}[31m01", 40), "US-1^[[31m01");
        let cut = cell(&"x".repeat(100), 10);
        assert_eq!(cut.width(), 10);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn ids_are_never_cut() {
        let id = format!("RUN-{}-000001", "CONTOSO-ENTERTAINMENT-SYSTEMS-USMF".repeat(2));
        let summary = RunSummary {
            id: crate::model::RunId(id.clone()),
            action: crate::model::Action::PostJournal,
            status: crate::model::RunStatus::Pending,
            company: Some("usmf".into()),
            target: "00461".into(),
            amount: None,
            currency: None,
            requester: "tony.krijnen@contoso.com".into(),
            requested_at: chrono::DateTime::UNIX_EPOCH,
            expires_at: chrono::DateTime::UNIX_EPOCH,
            approvals: 0,
            required_approvals: 1,
            lease_holder: None,
            judged: None,
        };
        let table = render_summaries(&[summary]);
        assert!(table.lines().nth(1).unwrap().starts_with(&format!("{id}  pending")), "{table}");
    }

    #[test]
    fn right_aligned_columns_line_up_on_the_right() {
        let out = render(
            &["A", "AMOUNT"],
            &[Align::Left, Align::Right],
            &[vec!["x".into(), "12.50 USD".into()], vec!["y".into(), "1250000.00 USD".into()]],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "x       12.50 USD");
        assert_eq!(lines[2], "y  1250000.00 USD");
    }
}
