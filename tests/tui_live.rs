//! The screen follows the store: reloads keep the selection, a dialog on a run decided elsewhere closes
//! and says so, `R` refreshes now, Esc tells the truth about what can still be cancelled, and `q` asks
//! before leaving a decision in flight.

use crate::common;

use common::Harness;
use signoff::model::{RunId, RunStatus};
use signoff::tui::action::{Action, Effect};
use signoff::tui::source::{DecisionStep, ReviewSource};
use signoff::tui::state::{DialogKind, Overlay, Screen};

const OPEN: &str = "run-inv-usmf-apinv-000123";
const OTHER: &str = "run-vnd-usmf-us-104";

fn flash(h: &Harness) -> String {
    h.state.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

fn status_in_queue(h: &Harness, id: &str) -> RunStatus {
    h.state.queue.all.iter().find(|s| s.id.as_str() == id).unwrap().status
}

#[test]
fn a_store_change_reloads_the_queue_and_keeps_the_selected_run_selected_even_when_rows_move() {
    let mut h = Harness::new(120, 40);
    // Sorted by status, a run that becomes executed elsewhere moves past the selection.
    h.press("s s s");
    h.select(OPEN);
    let before = h.state.queue.selected;
    // The run on the row above becomes rolled-back (sorted last): every row below it moves up.
    let above = h.state.queue.all[h.state.queue.view[before - 1] as usize].id.clone();
    h.source.decided_elsewhere(&above, RunStatus::RolledBack, 1);
    h.dispatch(Action::StoreChanged);
    assert_eq!(status_in_queue(&h, above.as_str()), RunStatus::RolledBack, "the queue shows the new status");
    assert_eq!(h.state.queue.current().unwrap().id.as_str(), OPEN, "the selection follows the run, not the row");
    assert_ne!(h.state.queue.selected, before, "the rows did move: the test would prove nothing otherwise");
    assert!(!h.state.reloading, "the reload finished, so the next change is looked for again");
}

#[test]
fn the_open_run_follows_a_decision_taken_elsewhere() {
    let mut h = Harness::new(120, 40);
    h.select(OPEN);
    h.press("enter");
    h.source.decided_elsewhere(&RunId::from(OPEN), RunStatus::Executed, 1);
    h.dispatch(Action::StoreChanged);
    let view = h.state.run_view().expect("the run stays open");
    assert_eq!((view.summary.status, view.summary.approvals), (RunStatus::Executed, 1));
    assert_eq!(view.detail.as_ref().unwrap().status, RunStatus::Executed, "its detail was reloaded");
    h.press("a");
    assert!(h.state.overlay.is_none(), "an executed run offers no approval");
    assert!(flash(&h).contains("is executed; no further decision can be taken"), "{}", flash(&h));
}

#[test]
fn a_change_elsewhere_to_another_run_does_not_reload_the_open_one() {
    let mut h = Harness::new(120, 40);
    h.select(OPEN);
    h.press("enter");
    h.source.decided_elsewhere(&RunId::from(OTHER), RunStatus::Rejected, 0);
    let detail_loads = |h: &Harness| h.effects.iter().filter(|e| matches!(e, Effect::LoadDetail(_))).count();
    let loads = detail_loads(&h);
    h.dispatch(Action::StoreChanged);
    assert_eq!(status_in_queue(&h, OTHER), RunStatus::Rejected);
    assert_eq!(detail_loads(&h), loads);
    assert_eq!(h.state.busy, 0, "no load is left counted as running");
}

#[test]
fn a_dialog_on_a_run_decided_elsewhere_closes_and_says_nothing_was_sent() {
    let mut h = Harness::new(120, 40);
    h.select(OPEN);
    h.press("enter a shift-tab");
    h.type_text("matched to receipt");
    h.source.decided_elsewhere(&RunId::from(OPEN), RunStatus::Executed, 1);
    h.dispatch(Action::StoreChanged);
    assert!(h.state.overlay.is_none(), "the approve dialog closed");
    let text = flash(&h);
    assert!(text.contains(&format!("{OPEN} is now executed")), "{text}");
    assert!(text.contains("decided elsewhere meanwhile") && text.contains("nothing was sent"), "{text}");
    assert!(h.state.flash.as_ref().unwrap().error, "it is flashed as a warning");
    assert!(h.source.decisions().is_empty(), "nothing was decided here");
}

#[test]
fn a_dialog_on_a_run_that_only_gained_an_approval_elsewhere_stays_open() {
    let mut h = Harness::new(120, 40);
    h.select(OPEN);
    h.press("a");
    h.source.decided_elsewhere(&RunId::from(OPEN), RunStatus::Approved, 1);
    h.dispatch(Action::StoreChanged);
    assert!(matches!(&h.state.overlay, Some(Overlay::Dialog(d)) if d.kind == DialogKind::Approve));
}

#[test]
fn capital_r_refreshes_the_queue_and_the_open_run_and_u_is_rollback() {
    let mut h = Harness::new(120, 40);
    h.select(OPEN);
    h.press("enter");
    h.source.decided_elsewhere(&RunId::from(OTHER), RunStatus::Rejected, 0);
    h.press("R");
    assert_eq!(status_in_queue(&h, OTHER), RunStatus::Rejected);
    assert!(flash(&h).contains("refreshing"), "{}", flash(&h));
    assert!(matches!(h.state.screen, Screen::Run(_)));
    assert!(h.state.overlay.is_none(), "R no longer opens the rollback dialog");
    h.press("U");
    assert!(flash(&h).contains("nothing of it is in F&O to roll back"), "U is rollback: {}", flash(&h));
}

/// A decision of `OPEN` in flight, as the app has it between confirm and outcome.
fn deciding(step: &str, sending: bool) -> Harness {
    let mut h = Harness::new(120, 40);
    let id = RunId::from(OPEN);
    h.state.deciding = Some(id.clone());
    h.state.busy += 1;
    h.dispatch(Action::DecisionProgress(id, DecisionStep { text: step.into(), sending }));
    h.effects.clear();
    h
}

#[test]
fn esc_before_the_write_asks_to_cancel_and_leaves_cancelled_to_the_outcome() {
    let mut h = deciding("re-reading the live record from F&O… (Esc cancels)", false);
    h.press("esc");
    assert!(h.effects.contains(&Effect::CancelDecision));
    // Not yet "cancelled": the write may begin before the worker sees the flag; the outcome says which.
    assert!(flash(&h).contains(&format!("{OPEN}: cancelling")), "{}", flash(&h));
    assert!(!flash(&h).contains("cancelled"), "{}", flash(&h));
}

#[test]
fn esc_once_the_write_is_sent_cancels_nothing_and_says_so() {
    let mut h = deciding("sending to F&O… (no longer cancellable)", true);
    // A later step does not make it cancellable again.
    h.dispatch(Action::DecisionProgress(
        RunId::from(OPEN),
        DecisionStep { text: "recording the outcome…".into(), sending: false },
    ));
    h.press("esc");
    assert!(!h.effects.contains(&Effect::CancelDecision), "{:?}", h.effects);
    let text = flash(&h);
    assert!(text.contains("can no longer be cancelled") && !text.contains("nothing was sent"), "{text}");
}

#[test]
fn q_while_a_decision_is_in_flight_asks_and_quits_only_when_confirmed() {
    let mut h = deciding("sending to F&O… (no longer cancellable)", true);
    h.press("q");
    let Some(Overlay::Dialog(d)) = &h.state.overlay else { panic!("no question: {:?}", h.state.overlay) };
    assert_eq!(d.kind, DialogKind::Quit);
    let question = &d.summary[0].value;
    assert!(question.contains(&format!("A decision on {OPEN} is being sent to F&O. Quit anyway?")), "{question}");
    assert!(question.contains("signoff reconcile"), "{question}");
    assert!(!h.state.quit);
    h.press("enter");
    assert!(h.state.overlay.is_none() && !h.state.quit, "Cancel is focused: Enter keeps signoff open");
    h.press("ctrl-c tab enter");
    assert!(h.state.quit && h.effects.contains(&Effect::Quit), "confirmed: the app quits once the decision concludes");
}

#[test]
fn the_quit_question_goes_away_when_its_decision_concludes() {
    let mut h = deciding("sending to F&O… (no longer cancellable)", true);
    h.press("q");
    assert!(matches!(&h.state.overlay, Some(Overlay::Dialog(d)) if d.kind == DialogKind::Quit));
    let id = RunId::from(OPEN);
    h.dispatch(Action::Decided(id, Err("F&O did not answer".into())));
    assert!(h.state.overlay.is_none(), "nothing is in flight any more: nothing to ask about");
    h.press("q");
    assert!(h.state.quit, "q now quits at once");
}

#[test]
fn a_change_during_a_reload_is_not_lost_one_more_reload_follows() {
    let mut h = Harness::new(120, 40);
    // The first change's reload is still out (the app has not answered LoadSummaries yet)…
    let fx = signoff::tui::reducer::update(&mut h.state, Action::StoreChanged);
    assert_eq!(fx, vec![Effect::LoadSummaries]);
    // …when the store changes again: no second load at once, but one is owed.
    assert!(signoff::tui::reducer::update(&mut h.state, Action::StoreChanged).is_empty());
    h.source.decided_elsewhere(&RunId::from(OTHER), RunStatus::Rejected, 0);
    let stale = h.state.queue.all.clone();
    let fx = signoff::tui::reducer::update(&mut h.state, Action::SummariesLoaded(Ok(stale)));
    assert!(fx.contains(&Effect::LoadSummaries), "the owed reload is asked for: {fx:?}");
    h.dispatch(Action::SummariesLoaded(h.source.summaries()));
    assert_eq!(status_in_queue(&h, OTHER), RunStatus::Rejected);
    assert!(!h.state.reloading && !h.state.reload_again);
}

#[test]
fn the_rows_on_screen_are_judged_first_and_each_batch_shows_as_it_arrives() {
    let mut h = Harness::new(120, 24);
    let unjudged: Vec<_> = h
        .state
        .queue
        .all
        .iter()
        .cloned()
        .map(|mut s| {
            s.judged = None;
            s
        })
        .collect();
    let judged: std::collections::HashMap<_, _> =
        h.state.queue.all.iter().map(|s| (s.id.clone(), (s.judged, s.required_approvals))).collect();
    // A first load: nothing judged before to carry over.
    h.state.queue.all.clear();
    let fx = signoff::tui::reducer::update(&mut h.state, Action::SummariesLoaded(Ok(unjudged)));
    let Some(Effect::JudgeRows { generation, first, rest }) = fx.iter().find(|e| matches!(e, Effect::JudgeRows { .. }))
    else {
        panic!("no judging asked for: {fx:?}")
    };
    // The first batch is exactly the open rows on screen, in screen order.
    let visible: Vec<_> = h
        .state
        .queue
        .view
        .iter()
        .skip(h.state.queue.offset)
        .take(signoff::tui::views::layout::queue_rows(24))
        .map(|i| &h.state.queue.all[*i as usize])
        .filter(|s| !s.status.is_final())
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(first, &visible);
    assert!(!rest.iter().any(|id| first.contains(id)), "no run is judged twice");
    assert!(h.screen().contains("…"), "rows still being judged say so:\n{}", h.screen());
    // A batch for an older load is dropped; the current one fills its rows in.
    let row = |id: &signoff::model::RunId| (id.clone(), judged[id].0, judged[id].1);
    let old = Action::RowsJudged { generation: generation - 1, rows: Ok(first.iter().map(row).collect()), done: true };
    signoff::tui::reducer::update(&mut h.state, old);
    assert!(h.state.queue.all.iter().all(|s| s.judged.is_none()));
    let batch = Action::RowsJudged { generation: *generation, rows: Ok(first.iter().map(row).collect()), done: false };
    signoff::tui::reducer::update(&mut h.state, batch);
    for id in first {
        assert_eq!(h.state.queue.all.iter().find(|s| &s.id == id).unwrap().judged, judged[id].0, "{id}");
    }
    assert_eq!(h.state.queue.judging, Some(*generation), "more batches to come");
    let last = Action::RowsJudged { generation: *generation, rows: Ok(rest.iter().map(row).collect()), done: true };
    signoff::tui::reducer::update(&mut h.state, last);
    assert_eq!(h.state.queue.judging, None);
    assert!(h.state.queue.all.iter().all(|s| s.judged == judged[&s.id].0));
}

#[test]
fn while_the_store_cannot_be_watched_the_title_says_not_live_and_the_queue_is_read_when_it_can_again() {
    let mut h = Harness::new(80, 24);
    h.dispatch(Action::LiveUpdates(Some("cannot reach the PostgreSQL store postgres://db/finance".into())));
    let title = h.screen().lines().next().unwrap().to_string();
    assert!(title.contains("[not live]"), "{title}");
    // Decided elsewhere while nothing could be heard: shown once the store can be watched again.
    h.source.decided_elsewhere(&RunId::from(OTHER), RunStatus::Executed, 1);
    assert_eq!(status_in_queue(&h, OTHER), RunStatus::Pending, "not heard yet");
    h.dispatch(Action::LiveUpdates(None));
    assert!(!h.screen().lines().next().unwrap().contains("not live"), "{}", h.screen());
    assert_eq!(status_in_queue(&h, OTHER), RunStatus::Executed, "the queue was read again");
}
