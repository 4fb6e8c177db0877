//! Snapshots of every view and dialog at 80×24, 120×40 and 200×50, and without colour.

use crate::common;

use common::{Harness, options};
use ratatui::style::{Color, Modifier};
use signoff::config::ColorMode;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn snap(name: &str, h: &Harness) {
    let terminal = h.render();
    insta::assert_snapshot!(format!("{name}_{}x{}", h.state.width, h.state.height), terminal.backend());
}

/// A no-colour snapshot: no cell carries a colour, and the snapshot pins the attributes that carry the
/// meaning instead (reverse for the selection, bold, underline, dim), which a text-only snapshot of the
/// same screen in colour cannot show.
fn snap_no_colour(name: &str, h: &Harness) {
    assert_no_colour(h);
    let terminal = h.render();
    let buf = terminal.backend().buffer();
    let mut attributes = String::from("attributes (R reverse, B bold, U underline, D dim, I italic, . none):\n");
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let m = buf[(x, y)].modifier;
            let mark = [
                (Modifier::REVERSED, 'R'),
                (Modifier::BOLD, 'B'),
                (Modifier::UNDERLINED, 'U'),
                (Modifier::DIM, 'D'),
                (Modifier::ITALIC, 'I'),
            ]
            .into_iter()
            .find(|(flag, _)| m.contains(*flag))
            .map(|(_, c)| c)
            .unwrap_or('.');
            attributes.push(mark);
        }
        attributes.push('\n');
    }
    let text = terminal.backend().to_string();
    insta::assert_snapshot!(format!("{name}_{}x{}", h.state.width, h.state.height), format!("{text}\n{attributes}"));
}

#[test]
fn queue_lists_runs_with_counts_at_every_size() {
    for (w, ht) in SIZES {
        let h = Harness::new(w, ht);
        snap("queue", &h);
    }
}

#[test]
fn run_view_shows_header_and_diff_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-inv-usmf-apinv-000124");
        h.press("enter");
        snap("run_view", &h);
        h.press("tab");
        snap("run_view_lines", &h);
        h.press("tab");
        snap("run_view_policy", &h);
        h.press("tab");
        snap("run_view_rollback", &h);
        h.press("tab");
        snap("run_view_audit", &h);
    }
}

#[test]
fn a_stale_run_shows_the_reviewed_proposed_and_live_values_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-inv-usmf-apinv-000131");
        h.press("enter");
        snap("run_view_stale", &h);
        let screen = format!("{:?}", h.render().backend());
        assert!(screen.contains("STALE"), "{screen}");
    }
    let mut h = Harness::with_options(80, 24, options(ColorMode::None));
    h.select("run-inv-usmf-apinv-000131");
    h.press("enter");
    snap_no_colour("run_view_stale_no_color", &h);
}

#[test]
fn quitting_with_typed_input_asks_first_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-jnl-usmf-00461");
        h.press("r shift-tab");
        h.type_text("quarterly accrual");
        h.press("ctrl-c");
        snap("quit_dialog", &h);
    }
}

#[test]
fn a_changed_field_shows_side_by_side_when_wide_and_stacked_when_narrow() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-vnd-usmf-us-104");
        h.press("enter");
        snap("run_view_bank_change", &h);
        h.press("u");
        snap("run_view_bank_change_toggled", &h);
    }
}

#[test]
fn help_overlay_is_generated_from_the_keymap_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.press("?");
        snap("help", &h);
    }
}

#[test]
fn approve_dialog_sums_up_the_run_with_cancel_focused_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-inv-usmf-apinv-000123");
        h.press("enter a");
        snap("approve_dialog", &h);
    }
}

#[test]
fn reject_dialog_asks_for_a_reason_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.select("run-inv-usmf-apinv-000123");
        h.press("r shift-tab");
        h.type_text("duplicate of APINV-000120");
        snap("reject_dialog", &h);
    }
}

#[test]
fn filter_prompt_narrows_the_queue_at_every_size() {
    for (w, ht) in SIZES {
        let mut h = Harness::new(w, ht);
        h.press("/");
        h.type_text("action:invoice amount>1000");
        snap("filter_prompt", &h);
    }
}

#[test]
fn filter_parse_error_is_shown_inline() {
    let mut h = Harness::new(80, 24);
    h.press("/");
    h.type_text("amount>ten");
    snap("filter_error", &h);
}

#[test]
fn production_approve_requires_typing_the_environment_name() {
    let mut opts = options(ColorMode::Ansi16);
    opts.production = true;
    opts.environment = "usmf-prod".into();
    let mut h = Harness::with_options(80, 24, opts);
    h.select("run-inv-usmf-apinv-000123");
    h.press("a");
    snap("production_approve", &h);
}

#[test]
fn too_small_screen_names_the_needed_and_actual_size() {
    let h = Harness::new(60, 20);
    snap("too_small", &h);
    assert!(h.screen().contains("terminal too small (need 80×24, have 60×20)"));
}

#[test]
fn without_colour_views_carry_no_colour_and_the_selection_is_reversed() {
    let mut h = Harness::with_options(80, 24, options(ColorMode::None));
    snap_no_colour("queue_no_color", &h);
    let terminal = h.render();
    let buf = terminal.backend().buffer();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a coloured cell without colour: {cell:?}"
        );
    }
    // Row 2 is the first data row, selected.
    assert!(buf[(0, 2)].modifier.contains(Modifier::REVERSED), "selection is not reversed");
    h.select("run-inv-usmf-apinv-000123");
    h.press("enter");
    snap_no_colour("run_view_no_color", &h);
    h.press("r");
    snap_no_colour("reject_dialog_no_color", &h);
    assert_no_colour(&h);
}

#[test]
fn without_colour_every_other_view_and_dialog_carries_its_meaning_in_text() {
    let mut h = Harness::with_options(80, 24, options(ColorMode::None));
    h.press("?");
    snap_no_colour("help_no_color", &h);
    assert_no_colour(&h);
    h.press("esc");
    h.select("run-vnd-usmf-us-104");
    h.press("enter");
    snap_no_colour("run_view_bank_change_no_color", &h);
    assert_no_colour(&h);
    for tab in ["lines", "policy", "rollback", "audit"] {
        h.press("tab");
        snap_no_colour(&format!("run_view_{tab}_no_color"), &h);
        assert_no_colour(&h);
    }
    h.press("a");
    snap_no_colour("approve_dialog_no_color", &h);
    assert_no_colour(&h);
    h.press("esc esc /");
    h.type_text("company:demf");
    snap_no_colour("filter_prompt_no_color", &h);
    assert_no_colour(&h);
}

fn assert_no_colour(h: &Harness) {
    let terminal = h.render();
    for cell in terminal.backend().buffer().content() {
        assert!(matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset), "a coloured cell: {cell:?}");
    }
}

#[test]
fn rollback_dialog_shows_the_judged_plan_with_the_reversal_date_and_cancel_focused() {
    for (w, ht) in [(80, 24), (120, 40)] {
        let mut h = Harness::with_source(w, ht, options(ColorMode::Ansi16), common::decided_source());
        h.select("run-jnl-usmf-00461");
        h.press("U");
        snap("rollback_dialog", &h);
        let screen = h.screen();
        assert!(screen.contains("Roll back run-jnl-usmf-00461?") && screen.contains("> Cancel <"), "{screen}");
        assert!(screen.contains("2026-11-17"), "the reversal date is shown: {screen}");
    }
}

#[test]
fn without_colour_the_rollback_dialog_of_a_partly_executed_vendor_carries_its_meaning_in_text() {
    let mut h = Harness::with_source(80, 24, options(ColorMode::None), common::decided_source());
    h.select("run-vnd-usmf-us-104");
    h.press("U");
    snap_no_colour("rollback_dialog_no_color", &h);
    assert_no_colour(&h);
    let screen = h.screen();
    assert!(screen.contains("[!]partly-executed") && screen.contains("↺ ready"), "{screen}");
}

#[test]
fn queue_marks_unknown_partly_executed_and_rollback_partial_runs() {
    let h = Harness::with_source(120, 40, options(ColorMode::Ansi16), common::decided_source());
    snap("queue_decided", &h);
    let screen = h.screen();
    let terminal = h.render();
    let buf = terminal.backend().buffer();
    for (marked, token) in [
        ("[!]unknown", "status.unknown"),
        ("[!]partly-e", "status.partly_executed"),
        ("[!]rb-parti", "status.rollback_partial"),
    ] {
        let y = screen.lines().position(|l| l.starts_with(marked)).unwrap_or_else(|| panic!("{marked}:\n{screen}"));
        assert_eq!(buf[(0, y as u16)].fg, h.theme.style(token).fg.unwrap(), "{marked} is not coloured as {token}");
    }
    let h = Harness::with_source(80, 24, options(ColorMode::None), common::decided_source());
    snap_no_colour("queue_decided_no_color", &h);
    assert_no_colour(&h);
    let screen = h.screen();
    // Cut to the narrow column, each keeps its `[!]` and ends in the visible cut mark.
    for marked in ["[!]unkn…", "[!]part…", "[!]rb-p…"] {
        assert!(screen.contains(marked), "{marked} missing:\n{screen}");
    }
}

#[test]
fn a_rollback_plan_taller_than_the_screen_scrolls_and_keeps_the_buttons_in_view() {
    let mut h = Harness::with_source(80, 24, options(ColorMode::Ansi16), common::decided_source());
    h.select("run-inv-usmf-apinv-000124");
    h.press("U");
    snap("rollback_dialog_two_steps", &h);
    let screen = h.screen();
    assert!(screen.contains("PgDn / PgUp scroll") && screen.contains("> Cancel <"), "{screen}");
    h.press("pgdown pgdown");
    snap("rollback_dialog_two_steps_scrolled", &h);
    let screen = h.screen();
    assert!(screen.contains("2. PATCH") && screen.contains("[ Roll back ]"), "{screen}");
}
