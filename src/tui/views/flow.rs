//! Laying out a section's logical lines in a pane's real width: prose wraps at words with an indent;
//! diff rows get columns sized to the pane, and every value wraps inside its own column.

use super::wrap::{fit, pad, width, wrap_spans, wrap_text};
use crate::text::visible;
use crate::tui::source::{LineKind, SectionLine, Tone};

/// One screen row: styled spans, visible-escaped.
pub type ScreenLine = Vec<(Tone, String)>;

/// The most screen rows one diff row takes side by side. A longer value ends in `…` there; the stacked
/// layout (`u`) shows it whole.
pub const MAX_ROW_LINES: usize = 6;

/// The screen rows of `lines` in a pane `width` columns wide.
pub fn flow(lines: &[SectionLine], width: usize) -> Vec<ScreenLine> {
    let columns = Columns::of(lines, width);
    let mut out = Vec::new();
    for line in lines {
        let spans: Vec<(Tone, String)> = line.spans.iter().map(|(t, s)| (*t, visible(s).into_owned())).collect();
        match line.kind {
            LineKind::Text { indent } => out.extend(wrap_spans(&spans, width, indent as usize)),
            LineKind::Row => out.extend(columns.row(&spans)),
        }
    }
    out
}

/// Column widths shared by every row of a section, so the `│` separators line up.
struct Columns {
    marker: usize,
    field: usize,
    value: usize,
}

const SEPARATOR: &str = " │ ";

impl Columns {
    fn of(lines: &[SectionLine], pane: usize) -> Columns {
        let rows = || lines.iter().filter(|l| l.kind == LineKind::Row);
        let measure = |i: usize| rows().filter_map(|l| l.spans.get(i)).map(|(_, t)| width(&visible(t))).max();
        let marker = measure(0).unwrap_or(2);
        let cells = rows().map(|l| l.spans.len().saturating_sub(2)).max().unwrap_or(0).max(1);
        // The field column takes its longest name, up to a quarter of the pane; values share the rest.
        let field = measure(1).unwrap_or(8).clamp(5, (pane / 4).max(8));
        let value = (pane.saturating_sub(marker + field + SEPARATOR.len() * cells) / cells).max(4);
        Columns { marker, field, value }
    }

    fn row(&self, spans: &[(Tone, String)]) -> Vec<ScreenLine> {
        let Some(((marker_tone, marker), rest)) = spans.split_first() else { return Vec::new() };
        let mut columns: Vec<(Tone, Vec<String>, usize)> = Vec::new();
        for (i, (tone, text)) in rest.iter().enumerate() {
            let w = if i == 0 { self.field } else { self.value };
            columns.push((*tone, wrap_text(text, w), w));
        }
        let height = columns.iter().map(|(_, c, _)| c.len()).max().unwrap_or(1).min(MAX_ROW_LINES);
        for (_, cells, w) in &mut columns {
            if cells.len() > height {
                cells.truncate(height);
                // The last row shown ends in `…` (fit cuts it further if the mark does not fit).
                if let Some(last) = cells.last_mut() {
                    *last = fit(&format!("{last}…"), *w);
                }
            }
        }
        let last = columns.len().saturating_sub(1);
        (0..height)
            .map(|i| {
                let lead = if i == 0 { marker.clone() } else { String::new() };
                let mut line = vec![(*marker_tone, pad(&lead, self.marker))];
                for (n, (tone, cells, w)) in columns.iter().enumerate() {
                    let text = cells.get(i).map(String::as_str).unwrap_or("");
                    if n > 0 {
                        line.push((Tone::Muted, SEPARATOR.to_string()));
                    }
                    line.push((*tone, if n == last { text.to_string() } else { pad(text, *w) }));
                }
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[ScreenLine]) -> Vec<String> {
        lines.iter().map(|l| l.iter().map(|(_, t)| t.as_str()).collect()).collect()
    }

    fn row(cells: &[&str]) -> SectionLine {
        SectionLine::row(cells.iter().map(|c| (Tone::Text, c.to_string())).collect())
    }

    #[test]
    fn a_long_value_wraps_inside_its_column_and_the_separators_line_up() {
        let lines = [
            row(&["  ", "field", "before (reviewed)", "proposed"]),
            row(&[
                "~ ",
                "InvoiceDescription",
                "Annual subscription renewal",
                "Annual subscription renewal for journals",
            ]),
        ];
        let shown = text(&flow(&lines, 60));
        assert!(shown.len() > 2, "{shown:#?}");
        let bars: Vec<Vec<usize>> =
            shown.iter().map(|l| l.char_indices().filter(|(_, c)| *c == '│').map(|(i, _)| i).collect()).collect();
        assert!(bars.iter().all(|b| b == &bars[0]), "{shown:#?}");
        assert!(shown.iter().all(|l| width(l) <= 60), "{shown:#?}");
        let joined: String =
            shown.iter().map(|l| l.rsplit('│').next().unwrap_or("").trim()).collect::<Vec<_>>().join(" ");
        assert!(joined.contains("Annual subscription renewal for journals"), "{joined}");
    }

    #[test]
    fn a_value_taller_than_a_row_may_be_ends_in_an_ellipsis() {
        let long = "word ".repeat(200);
        let shown = text(&flow(&[row(&["~ ", "Notes", "short", &long])], 60));
        assert_eq!(shown.len(), MAX_ROW_LINES);
        assert!(shown[MAX_ROW_LINES - 1].trim_end().ends_with('…'), "{shown:#?}");
    }

    #[test]
    fn prose_wraps_with_its_indent() {
        let line = SectionLine::text(vec![(Tone::PolicyHard, "✗ hard     ".into()), (Tone::Text, "a ".repeat(40))], 11);
        let shown = text(&flow(&[line], 40));
        assert!(shown.iter().skip(1).all(|l| l.starts_with(&" ".repeat(11))), "{shown:#?}");
    }
}
