//! Text is never cut without a visible mark: scrolling through every tab of the run view at 80×24,
//! 120×40 and 200×50 shows every word of every verdict message, the justification and every diff value
//! the judgement holds — joined across wrapped lines — or shows it cut right before a `…` / `→` mark.

use crate::common;

use std::collections::BTreeMap;

use common::{Harness, fixture_runs};
use signoff::diff::{self, Row};
use signoff::model::GovernedRun;
use signoff::text::visible;
use signoff::tui::source::ReviewSource;
use signoff::tui::state::Screen;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// The bank-account change, a 1,250,000.00 journal, CJK text, and a description far longer than a pane.
const RUNS: [&str; 4] =
    ["run-vnd-usmf-us-104", "run-jnl-usmf-00478", "run-hostile-cjk-vendor-name", "run-hostile-long-description"];

/// What the approver judges by, from the judgement itself (not from the rendered sections).
struct Expected {
    justification: String,
    verdicts: Vec<String>,
    /// Values of the header rows and line rows a view shows (folded rows are counted, not shown).
    header_values: Vec<String>,
    line_values: Vec<String>,
}

/// What the run's judgement holds, from the same source the screen is drawn from.
fn expected(run: &GovernedRun, source: &impl ReviewSource) -> Expected {
    let detail = source.detail(&run.id).expect("the fixture's judgement");
    let d = diff::diff_run(run, None);
    let unfold = d.header.changed == 0;
    let values = |rows: &[Row], unfold: bool| -> Vec<String> {
        rows.iter()
            .filter(|r| unfold || !r.folds())
            .flat_map(|r| [&r.before, &r.proposed, &r.live])
            .filter_map(|c| c.as_ref().map(|c| c.text.clone()))
            .filter(|t| !t.trim().is_empty())
            .collect()
    };
    let line_values = d.lines.as_ref().map(|l| l.lines.iter().flat_map(|e| values(&e.fields.rows, false)).collect());
    Expected {
        justification: visible(&run.justification).into_owned(),
        verdicts: detail.verdicts.iter().map(|v| visible(&v.message).into_owned()).collect(),
        header_values: values(&d.header.rows, unfold),
        line_values: line_values.unwrap_or_default(),
    }
}

/// Every screen of the current tab, from the top to where paging stops moving it.
fn screens_of_tab(h: &mut Harness) -> Vec<String> {
    let offset = |h: &Harness| match &h.state.screen {
        Screen::Run(view) => view.scroll[view.tab.index()],
        Screen::Queue => panic!("the run view is not open"),
    };
    h.press("g");
    let mut screens = vec![h.screen()];
    for _ in 0..1000 {
        let before = offset(h);
        h.press("pgdown");
        if offset(h) == before {
            break;
        }
        screens.push(h.screen());
    }
    screens
}

/// The text of the screens as streams a reader follows: each row is split into its columns (`│`, and
/// the side pane's `|`), and each column continues on the next row with the same columns. Whitespace is
/// dropped, so a word wrapped across rows — even mid-word, as CJK text wraps — reads joined.
fn streams(screens: &[String]) -> Vec<String> {
    let mut out: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for screen in screens {
        for row in screen.lines() {
            let cells: Vec<&str> = row.split(['│', '|']).collect();
            for (i, cell) in cells.iter().enumerate() {
                let stream = out.entry((cells.len(), i)).or_default();
                stream.extend(cell.chars().filter(|c| !c.is_whitespace()));
            }
        }
    }
    out.into_values().collect()
}

/// Whether `text` reads in full in a stream, or its beginning reads right before a truncation mark.
fn shown(text: &str, streams: &[String]) -> bool {
    let all_words = text.split_whitespace().all(|w| streams.iter().any(|s| s.contains(w)));
    all_words || cut_with_mark(text, streams)
}

fn cut_with_mark(text: &str, streams: &[String]) -> bool {
    let want: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let need = want.len().min(8);
    streams.iter().any(|s| {
        let chars: Vec<char> = s.chars().collect();
        chars
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == '…' || **c == '→')
            .any(|(i, _)| (need..=want.len().min(i)).rev().any(|k| chars[i - k..i] == want[..k] && k >= need))
    })
}

fn missing<'a>(texts: impl IntoIterator<Item = &'a String>, streams: &[String]) -> Vec<&'a String> {
    texts.into_iter().filter(|t| !shown(t, streams)).collect()
}

#[test]
fn every_word_the_approver_judges_by_is_on_screen_or_visibly_cut_at_every_size() {
    let runs = fixture_runs();
    for id in RUNS {
        let run = runs.iter().find(|r| r.id.as_str() == id).unwrap_or_else(|| panic!("fixture {id}"));
        for (w, ht) in SIZES {
            let mut h = Harness::new(w, ht);
            let want = expected(run, &h.source);
            h.select(id);
            h.press("enter");
            let mut by_tab: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for tab in ["diff", "lines", "policy", "rollback", "audit"] {
                by_tab.insert(tab, screens_of_tab(&mut h));
                h.press("tab");
            }
            // The other diff layout (side by side where stacked is the default, and the reverse).
            h.press("u");
            let flipped = screens_of_tab(&mut h);
            let every: Vec<String> = by_tab.values().flatten().cloned().collect();
            let at = format!("{id} at {w}x{ht}");

            let lost = missing([&want.justification], &streams(&every));
            assert!(lost.is_empty(), "{at}: the justification is cut without a mark:\n{}", every.join("\n"));
            let policy = streams(&by_tab["policy"]);
            let lost = missing(&want.verdicts, &policy);
            assert!(lost.is_empty(), "{at}: verdicts cut {lost:#?}\n{}", by_tab["policy"].join("\n"));
            for (layout, screens) in [("default", &by_tab["diff"]), ("flipped", &flipped)] {
                let lost = missing(&want.header_values, &streams(screens));
                assert!(lost.is_empty(), "{at}, {layout} diff: values cut {lost:#?}\n{}", screens.join("\n"));
            }
            let lost = missing(&want.line_values, &streams(&by_tab["lines"]));
            assert!(lost.is_empty(), "{at}: line values cut {lost:#?}\n{}", by_tab["lines"].join("\n"));
        }
    }
}

/// The screen columns of the `│` separators in a row of [`Harness::screen`], which writes one symbol
/// per cell (a CJK character, then the blank cell it also covers).
fn bars(row: &str) -> Vec<usize> {
    row.chars().enumerate().filter(|(_, c)| *c == '│').map(|(i, _)| i).collect()
}

#[test]
fn cjk_values_keep_the_side_by_side_columns_aligned() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-hostile-cjk-vendor-name");
        h.press("enter");
        if h.state.diff_unified() {
            h.press("u");
        }
        let screens = screens_of_tab(&mut h);
        let all = screens.join("\n");
        let joined = all.replace(' ', "");
        assert!(joined.contains("深圳华强电子有限公司") && joined.contains("电子元件"), "{all}");
        let rows: Vec<Vec<usize>> = all.lines().map(bars).filter(|b| !b.is_empty()).collect();
        assert!(rows.len() > 5, "{all}");
        assert!(rows.iter().all(|b| b == &rows[0]), "the │ columns move at {w}x{ht}:\n{all}");
    }
}
