//! Layout at every size: queue columns sized to their content, amounts grouped in every view, the key
//! hints that must stay, a filter that never runs into the counter, and a help screen that scrolls.

use crate::common;

use common::Harness;
use signoff::tui::state::Overlay;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn row_of<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} not on screen:\n{screen}"))
}

#[test]
fn queue_columns_fit_their_content_whole_requesters_at_200_and_actions_are_never_cut() {
    for (w, ht) in SIZES {
        let h = Harness::new(w, ht);
        let screen = h.screen();
        for label in ["enable-", "disable-"] {
            let whole = screen.match_indices(label).all(|(i, _)| screen[i..].starts_with(&format!("{label}user")));
            assert!(whole, "an action cut after '{label}' at {w}x{ht}:\n{screen}");
        }
        assert!(screen.contains("enable") && screen.contains("disable"), "{screen}");
    }
    let h = Harness::new(200, 50);
    let screen = h.screen();
    assert!(screen.contains("julia.funderburk@contoso.com"), "the requester is whole at 200:\n{screen}");
    let header = row_of(&screen, "STATUS");
    let target = header.find("TARGET").unwrap();
    let amount = header.find("AMOUNT").unwrap();
    assert!(amount - target < 40, "TARGET takes {} columns:\n{header}", amount - target);
}

#[test]
fn amounts_carry_thousands_separators_in_the_queue_the_run_header_and_the_dialog() {
    let mut h = Harness::new(120, 40);
    assert!(row_of(&h.screen(), "00478").contains("1,250,000.00 USD"));
    h.select("run-jnl-usmf-00478");
    h.press("enter");
    assert!(row_of(&h.screen(), "run-jnl-usmf-00478").contains("1,250,000.00 USD"));
    h.press("a");
    let screen = h.screen();
    assert!(row_of(&screen, "Amount").contains("1,250,000.00 USD"), "{screen}");
    assert!(!screen.contains("1250000.00"), "{screen}");
}

#[test]
fn the_hint_bar_keeps_help_and_quit_at_80_columns_in_the_queue_and_the_run_view() {
    let mut h = Harness::new(80, 24);
    let hints = |h: &Harness| h.screen().lines().last().unwrap_or_default().to_string();
    assert!(hints(&h).contains("? help") && hints(&h).contains("q quit"), "{}", hints(&h));
    h.select("run-vnd-usmf-us-104");
    h.press("enter");
    assert!(hints(&h).contains("? help") && hints(&h).contains("q quit"), "{}", hints(&h));
    h.press("a");
    assert!(!hints(&h).contains("q quit"), "q types into a dialog's field, it does not quit: {}", hints(&h));
}

#[test]
fn a_long_filter_ends_in_an_ellipsis_before_the_counter_and_never_runs_into_it() {
    let mut h = Harness::new(80, 24);
    h.press("/");
    h.type_text("usmf requester:contoso target:apinv id:run action:invoice company:usmf amount>=1");
    h.press("enter");
    let screen = h.screen();
    let status = screen.lines().rev().nth(1).unwrap_or_default();
    assert!(status.contains(" shown ") && status.trim_end().ends_with("sort age"), "{status}");
    let (filter, counter) = status.split_at(status.find('…').unwrap_or_else(|| panic!("no … in {status}")));
    assert!(filter.contains("filter usmf requester:contoso"), "{status}");
    assert!(counter.trim_start_matches('…').starts_with(' '), "the filter runs into the counter: {status}");
}

#[test]
fn help_lists_markers_columns_filter_terms_and_commands_and_scrolls_with_the_usual_keys() {
    let mut h = Harness::new(80, 24);
    h.press("?");
    let scroll = |h: &Harness| match &h.state.overlay {
        Some(Overlay::Help { scroll }) => *scroll,
        _ => panic!("help is not open"),
    };
    let mut seen = h.screen();
    h.press("G");
    let last = scroll(&h);
    assert!(last > 0, "the help is taller than 80x24");
    h.press("j");
    assert_eq!(scroll(&h), last, "j stops at the end");
    h.press("g");
    assert_eq!(scroll(&h), 0);
    h.press("pgdown");
    let page = scroll(&h);
    assert!(page > 1, "PgDn moves a page");
    h.press("pgup");
    assert_eq!(scroll(&h), 0);
    for _ in 0..=last {
        h.press("j");
        seen.push_str(&h.screen());
    }
    for needle in [
        "markers",
        "~  +  -",
        "✗  !  i  ✓",
        "↺  ?  ✗",
        "[!]",
        "…",
        "queue columns",
        "REQUESTER",
        "AGE/EXP",
        "LEASE",
        "filter (/)",
        "amount>N",
        "currency:CODE",
        "status:NAME",
        "commands (:)",
        "reject [reason]",
        "filter NAME|EXPR",
    ] {
        assert!(seen.contains(needle), "help lacks {needle}");
    }
}
