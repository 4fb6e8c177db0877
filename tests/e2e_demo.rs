//! End to end: the real `signoff demo` binary in a pseudo-terminal (portable-pty + vt100), keys in,
//! screen out. The demo runs its own simulator on 127.0.0.1 and stops it when it exits.

use crate::pty_support;

use pty_support::{Session, approve, confirm};

/// Filter the queue down to one run and open it.
fn open_run(s: &mut Session, filter: &str, run_id: &str) {
    s.wait_for(&["APINV-000123", "25/25 shown"]);
    s.keys("/");
    s.type_text(filter);
    s.keys("\r");
    s.wait_for(&["1/25 shown"]);
    s.keys("\r");
    s.wait_for(&[run_id, "Evidence", "Policy"]);
}

#[test]
fn demo_approves_an_invoice_shows_it_executed_and_restores_the_terminal() {
    let mut s = Session::start(&["demo"], 40, 120);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    // The outcome in place: the flash, the status in the header, and the approval counted.
    let screen = s.wait_for(&["run-inv-usmf-apinv-000123: executed", "approvals 1 of 1"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("executed")), "{screen}");
    {
        let parser = s.parser.lock().unwrap();
        assert!(parser.screen().alternate_screen(), "the TUI runs on the alternate screen");
    }
    s.keys("q");
    let status = s.wait_exit();
    assert!(status.success(), "signoff demo exited with {status:?}");
    let parser = s.parser.lock().unwrap();
    assert!(!parser.screen().alternate_screen(), "the alternate screen was left");
    assert!(!parser.screen().hide_cursor(), "the cursor is shown again");
}

/// Roll back the open run with a reason: `U`, wait for the plan, Shift-Tab to the reason, Tab Tab, Enter.
fn roll_back(s: &mut Session, run_id: &str, reason: &str) {
    confirm(s, "U", &[&format!("Roll back {run_id}?"), "sent in this order", "Reason"], reason);
}

#[test]
fn demo_lists_the_fno_workflow_inbox_and_approves_an_invoice_work_item_through_it() {
    let mut s = Session::start(&["demo"], 40, 140);
    // The demo approver's two pending work items join the 22 demo runs when the TUI reads the inbox.
    open_run(&mut s, "APINV-000170", "wf-WI-000101");
    s.wait_for(&["F&O workflow work item WI-000101"]);
    approve(&mut s, "wf-WI-000101", "chairs within the facilities budget");
    let screen = s.wait_for(&["wf-WI-000101: executed", "approvals 1 of 1"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("executed")), "{screen}");
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[test]
fn demo_approves_an_invoice_then_rolls_it_back_through_the_same_pipeline() {
    let mut s = Session::start(&["demo"], 40, 120);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    s.wait_for(&["run-inv-usmf-apinv-000123: executed"]);
    roll_back(&mut s, "run-inv-usmf-apinv-000123", "approved against the wrong receipt");
    let screen = s.wait_for(&["run-inv-usmf-apinv-000123: rolled back"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("rolled-back")), "{screen}");
    s.keys("q");
    assert!(s.wait_exit().success());
}

/// The worker workflow: the demo's worker title change (an update-record run on the `worker` object)
/// shows its title diff, executes against the demo's simulator and rolls back, like any other run.
#[test]
fn demo_approves_a_workers_title_change_then_rolls_it_back() {
    let mut s = Session::start(&["demo"], 40, 140);
    open_run(&mut s, "kim.abercrombie", "run-wrk-000124-title");
    s.wait_for(&["TitleId", "Accountant", "Senior accountant"]);
    approve(&mut s, "run-wrk-000124-title", "promotion approved");
    let screen = s.wait_for(&["run-wrk-000124-title: executed", "approvals 1 of 1"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("executed")), "{screen}");
    roll_back(&mut s, "run-wrk-000124-title", "promotion moved to January");
    let screen = s.wait_for(&["run-wrk-000124-title: rolled back"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("rolled-back")), "{screen}");
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[test]
fn drift_scenario_turns_the_approval_into_a_stale_three_way_view_and_writes_nothing() {
    let mut s = Session::start(&["demo", "--scenario", "drift"], 50, 200);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    let screen = s.wait_for(&["STALE", "live", "stale"]);
    // The drifted field is marked with `!` and shows the reviewed, proposed and live values side by side.
    let drift_row = screen
        .lines()
        .find(|l| l.trim_start().starts_with("! DueDate"))
        .unwrap_or_else(|| panic!("no drifted DueDate row in:\n{screen}"));
    assert!(drift_row.contains("2026-12-18") && drift_row.contains("2026-12-31"), "{drift_row}");
    assert!(!screen.contains("executed"), "a stale run is not executed:\n{screen}");
    // The same view stacked (`u`): reviewed, proposed and live each on their own line.
    s.keys("u");
    s.wait_for(&["- 2026-12-18T12:00:00Z", "+ 2026-12-18T12:00:00Z", "! live: 2026-12-31T12:00:00Z"]);
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_terminal_too_small_says_so_and_a_resize_brings_the_queue_back() {
    let mut s = Session::start(&["demo"], 20, 70);
    s.wait_for(&["terminal too small (need 80×24, have 70×20)"]);
    s.resize(30, 100);
    s.wait_for(&["APINV-000123", "25/25 shown"]);
    s.resize(26, 90);
    s.keys("j");
    s.wait_for(&["APINV-000123", "25/25 shown"]);
    s.keys("q");
    let status = s.wait_exit();
    assert!(status.success(), "signoff demo exited with {status:?} after resizes:\n{}", s.screen());
}
