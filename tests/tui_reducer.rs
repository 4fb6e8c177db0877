//! Reducer behaviour: keys in, state out.

use crate::common;

use common::{Harness, options};
use signoff::config::ColorMode;
use signoff::model::RunStatus;
use signoff::tui::action::{Action, Effect};
use signoff::tui::source::DecisionKind;
use signoff::tui::state::{DialogKind, Focus, Overlay, Screen, Tab};

fn dialog(h: &Harness) -> &signoff::tui::state::Dialog {
    match &h.state.overlay {
        Some(Overlay::Dialog(d)) => d,
        other => panic!("no dialog open: {other:?}"),
    }
}

#[test]
fn first_state_is_loading_until_summaries_arrive() {
    let (state, _) = signoff::tui::initial_state(&options(ColorMode::None), 80, 24, common::now()).unwrap();
    assert!(state.loading && state.queue.all.is_empty());
    let h = Harness::new(80, 24);
    assert!(!h.state.loading);
    assert_eq!(h.state.queue.view.len(), 23);
}

#[test]
fn vim_and_arrow_keys_move_the_selection_and_clamp_at_the_ends() {
    let mut h = Harness::new(80, 24);
    h.press("j down j");
    assert_eq!(h.state.queue.selected, 3);
    h.press("k up");
    assert_eq!(h.state.queue.selected, 1);
    h.press("G");
    assert_eq!(h.state.queue.selected, 22);
    h.press("j end");
    assert_eq!(h.state.queue.selected, 22);
    assert!(h.state.queue.offset > 0, "the window scrolled to keep the selection visible");
    h.press("home");
    assert_eq!((h.state.queue.selected, h.state.queue.offset), (0, 0));
    h.press("pgdown");
    assert_eq!(h.state.queue.selected, 20);
    h.press("ctrl-u");
    assert_eq!(h.state.queue.selected, 10);
}

#[test]
fn field_filter_narrows_by_action_and_exact_amount_and_esc_clears_it() {
    let mut h = Harness::new(80, 24);
    h.press("/");
    h.type_text("action:journal amount>1240.00");
    h.press("enter");
    let shown: Vec<_> = h.state.queue.view.iter().map(|i| h.state.queue.all[*i as usize].id.to_string()).collect();
    assert_eq!(shown, ["run-jnl-demf-00112", "run-jnl-usmf-00478", "run-jnl-usmf-00482"]);
    assert!(h.state.prompt.is_none());
    h.press("esc");
    assert_eq!(h.state.queue.view.len(), 23);
}

#[test]
fn a_filter_that_does_not_parse_keeps_the_prompt_open_with_the_error_and_the_last_good_view() {
    let mut h = Harness::new(80, 24);
    h.press("/");
    h.type_text("status:stale");
    assert_eq!(h.state.queue.view.len(), 2);
    h.dispatch(Action::Paste(" amount>lots".into()));
    h.press("enter");
    let prompt = h.state.prompt.as_ref().expect("prompt still open");
    assert!(prompt.error.as_deref().is_some_and(|e| e.contains("not a number")));
    assert_eq!(h.state.queue.view.len(), 2);
    h.press("esc");
    assert_eq!(h.state.queue.view.len(), 23, "Esc restores the filter from before the prompt");
}

#[test]
fn saved_filters_apply_by_key_and_by_command() {
    let mut h = Harness::new(80, 24);
    h.press("n");
    assert_eq!(h.state.queue.filter_text, "action:invoice amount>=10000");
    assert_eq!(h.state.queue.view.len(), 2);
    for i in &h.state.queue.view {
        let s = &h.state.queue.all[*i as usize];
        assert!(s.action.short() == "invoice" && s.amount >= Some(rust_decimal::Decimal::from(10_000)));
    }
    h.press(":");
    h.type_text("filter stale");
    h.press("enter");
    assert_eq!(h.state.queue.filter_text, "status:stale");
    assert!(h.state.queue.view.iter().all(|i| h.state.queue.all[*i as usize].status == RunStatus::Stale));
}

#[test]
fn sort_cycles_columns_and_reverse_flips_the_order() {
    let mut h = Harness::new(80, 24);
    h.press("s s g");
    assert_eq!(h.state.queue.sort.label(), "amount");
    let top = h.state.queue.current().unwrap().id.to_string();
    assert_eq!(
        h.state.queue.current().unwrap().amount,
        Some(rust_decimal::Decimal::new(125_000_000, 2)),
        "largest first"
    );
    h.press("S g");
    assert_ne!(h.state.queue.current().unwrap().id.to_string(), top);
}

#[test]
fn enter_opens_the_run_tab_switches_sections_and_esc_goes_back() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00478");
    h.press("enter");
    let Screen::Run(view) = &h.state.screen else { panic!("run view not open") };
    assert!(view.detail.is_some());
    h.press("tab");
    assert_eq!(h.state.run_view().unwrap().tab, Tab::Lines);
    h.press("shift-tab shift-tab");
    assert_eq!(h.state.run_view().unwrap().tab, Tab::Audit);
    h.press("esc");
    assert!(matches!(h.state.screen, Screen::Queue));
}

#[test]
fn approve_dialog_opens_with_cancel_focused_and_enter_there_does_nothing() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000124");
    h.press("a");
    assert_eq!(dialog(&h).focus, Focus::Cancel);
    h.press("enter");
    assert!(h.state.overlay.is_none());
    assert!(h.source.decisions().is_empty(), "nothing was decided");
}

#[test]
fn approving_needs_a_reason_and_tab_to_the_approve_button_and_emits_one_decision() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000124");
    h.press("enter a tab enter");
    assert!(h.source.decisions().is_empty(), "an approval without a reason is not sent");
    let d = dialog(&h);
    assert_eq!(d.focus, Focus::Reason);
    assert!(d.error.as_deref().is_some_and(|e| e.contains("needs a reason")));
    h.type_text("matched to receipt PR-4471");
    h.press("tab tab enter");
    let decisions = h.source.decisions();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].kind, DecisionKind::Approve);
    assert_eq!(decisions[0].reason.as_deref(), Some("matched to receipt PR-4471"));
    assert_eq!(decisions[0].run_id.as_str(), "run-inv-usmf-apinv-000124");
    assert!(!decisions[0].reviewed_digest.is_empty(), "the reviewed payload digest travels with the decision");
    assert_eq!(h.state.run_view().unwrap().summary.status, RunStatus::Executed);
    assert!(h.state.flash.as_ref().is_some_and(|f| f.text.contains("executed")));
}

#[test]
fn reject_without_a_reason_is_refused_and_focus_goes_to_the_reason() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000124");
    h.press("r tab enter");
    assert!(h.source.decisions().is_empty());
    let d = dialog(&h);
    assert_eq!(d.focus, Focus::Reason);
    assert!(d.error.as_deref().is_some_and(|e| e.contains("needs a reason")));
    h.type_text("duplicate of APINV-000120");
    h.press("tab tab enter");
    let decisions = h.source.decisions();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].reason.as_deref(), Some("duplicate of APINV-000120"));
}

#[test]
fn pasted_text_goes_into_the_focused_reason_field() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("r shift-tab");
    h.dispatch(Action::Paste("vendor bank account\nnot verified".into()));
    assert_eq!(dialog(&h).reason.as_ref().unwrap().text, "vendor bank account not verified");
}

#[test]
fn production_confirm_requires_the_exact_environment_name() {
    let mut opts = options(ColorMode::None);
    opts.production = true;
    opts.environment = "usmf-prod".into();
    let mut h = Harness::with_options(80, 24, opts);
    h.select("run-inv-usmf-apinv-000124");
    h.press("a shift-tab shift-tab");
    h.type_text("matched to receipt");
    h.press("tab tab tab enter");
    assert_eq!(dialog(&h).focus, Focus::TypedName);
    assert!(h.source.decisions().is_empty());
    h.type_text("usmf-pro");
    h.press("enter tab enter");
    assert!(h.source.decisions().is_empty(), "a near miss is refused");
    h.type_text("d");
    h.press("tab tab enter");
    assert_eq!(h.source.decisions().len(), 1);
}

#[test]
fn quitting_with_typed_input_asks_first_and_cancel_returns_to_the_dialog() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("r shift-tab");
    h.type_text("quarterly accrual");
    h.press("ctrl-c");
    assert_eq!(dialog(&h).kind, DialogKind::Quit);
    assert!(!h.state.quit);
    h.press("enter");
    assert_eq!(dialog(&h).kind, DialogKind::Reject);
    assert_eq!(dialog(&h).reason.as_ref().unwrap().text, "quarterly accrual");
    h.press("ctrl-c tab enter");
    assert!(h.state.quit);
}

#[test]
fn q_typed_into_a_reason_is_text_not_quit() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("r shift-tab");
    h.type_text("q");
    assert!(!h.state.quit);
    assert_eq!(dialog(&h).reason.as_ref().unwrap().text, "q");
}

#[test]
fn read_only_disables_approve_and_reject_with_a_flash() {
    let mut opts = options(ColorMode::None);
    opts.read_only = true;
    let mut h = Harness::with_options(80, 24, opts);
    h.press("a");
    assert!(h.state.overlay.is_none());
    assert!(h.state.flash.as_ref().is_some_and(|f| f.error && f.text.contains("read-only")));
    h.press("r");
    assert!(h.state.overlay.is_none());
}

#[test]
fn a_final_run_cannot_be_decided_again() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000098");
    h.press("a");
    assert!(h.state.overlay.is_none());
    assert!(h.state.flash.as_ref().is_some_and(|f| f.text.contains("executed")));
}

#[test]
fn y_copies_the_run_id_through_osc52() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("y");
    let expected = signoff::tui::clipboard::osc52("run-jnl-usmf-00461", h.state.settings.in_tmux);
    assert!(h.effects.contains(&Effect::WriteTerminal(expected)));
}

#[test]
fn dry_run_asks_the_source_and_writes_nothing() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("d");
    let decisions = h.source.decisions();
    assert_eq!(decisions[0].kind, DecisionKind::DryRun);
    assert_eq!(h.state.queue.current().unwrap().status, RunStatus::Pending);
}

#[test]
fn command_line_reports_unknown_commands_inline() {
    let mut h = Harness::new(80, 24);
    h.press(":");
    h.type_text("aprove");
    h.press("enter");
    assert!(h.state.prompt.as_ref().and_then(|p| p.error.as_deref()).is_some_and(|e| e.contains("unknown command")));
    h.press("esc :");
    h.type_text("q");
    h.press("enter");
    assert!(h.state.quit);
}

#[test]
fn help_opens_with_question_mark_and_f1_and_closes_with_esc() {
    let mut h = Harness::new(80, 24);
    h.press("?");
    assert!(matches!(h.state.overlay, Some(Overlay::Help { .. })));
    h.press("esc f1");
    assert!(matches!(h.state.overlay, Some(Overlay::Help { .. })));
    h.press("?");
    assert!(h.state.overlay.is_none());
}

#[test]
fn flash_clears_only_for_its_own_generation() {
    let mut h = Harness::new(80, 24);
    h.press("s");
    let first = h.state.flash.clone().unwrap().generation;
    h.press("s");
    h.dispatch(Action::ClearFlash(first));
    assert!(h.state.flash.is_some(), "an older timer does not clear a newer message");
    h.dispatch(Action::ClearFlash(first + 1));
    assert!(h.state.flash.is_none());
}

#[test]
fn run_view_scrolls_with_j_g_and_half_pages_within_the_section() {
    let mut h = Harness::new(80, 24);
    h.select("run-jnl-usmf-00478");
    h.press("enter G");
    let bottom = h.state.run_view().unwrap().scroll[0];
    h.press("j");
    assert_eq!(h.state.run_view().unwrap().scroll[0], bottom, "cannot scroll past the end");
    h.press("g ctrl-d");
    assert_eq!(h.state.run_view().unwrap().scroll[0], 7.min(bottom));
}

#[test]
fn the_diff_is_unified_below_the_split_width_and_u_toggles_it() {
    let mut narrow = Harness::new(80, 24);
    narrow.select("run-inv-usmf-apinv-000124");
    narrow.press("enter");
    assert!(narrow.state.diff_unified(), "80 columns is below split_min_width = 100");
    narrow.press("u");
    assert!(!narrow.state.diff_unified(), "u forces side by side");
    assert!(narrow.state.flash.as_ref().is_some_and(|f| f.text.contains("side by side")));

    let mut wide = Harness::new(200, 50);
    wide.select("run-inv-usmf-apinv-000124");
    wide.press("enter");
    assert!(!wide.state.diff_unified(), "the main pane at 200 columns is wide enough to split");
    wide.press("u");
    assert!(wide.state.diff_unified());
}

#[test]
fn esc_while_a_decision_runs_asks_to_cancel_it_instead_of_leaving_the_view() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000124");
    h.press("enter");
    h.state.deciding = Some(signoff::model::RunId::from("run-inv-usmf-apinv-000124"));
    h.press("esc");
    assert!(h.effects.contains(&Effect::CancelDecision), "{:?}", h.effects);
    assert!(matches!(h.state.screen, Screen::Run(_)), "the run view stays open to show the outcome");
}

fn decided(width: u16, height: u16) -> Harness {
    Harness::with_source(width, height, options(ColorMode::None), common::decided_source())
}

fn flash_text(h: &Harness) -> String {
    let flash = h.state.flash.as_ref().expect("a flash message");
    assert!(flash.error, "the refusal is flashed as an error: {}", flash.text);
    flash.text.clone()
}

#[test]
fn rollback_key_on_an_executed_journal_opens_its_plan_with_the_reversal_date_and_cancel_focused() {
    let mut h = decided(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("U");
    let view = h.state.run_view().expect("the run opens under the dialog");
    assert_eq!(view.tab, Tab::Rollback, "the whole plan is on the tab behind the dialog");
    let d = dialog(&h);
    assert_eq!((d.kind, d.focus), (DialogKind::Rollback, Focus::Cancel));
    let text: Vec<String> = d.summary.iter().map(|l| format!("{} {}", l.label, l.value)).collect();
    let text = text.join("\n");
    assert!(text.contains("? conditional: the reversal date 2026-11-17 must fall in an open period"), "{text}");
    assert!(text.contains("1. POST /data/LedgerJournalHeaders("), "{text}");
    // `_reversalDate` is declared Edm.DateTimeOffset in the synced $metadata: a date-only value at 12:00Z.
    assert!(text.contains("\"_reversalDate\":\"2026-11-17T12:00:00Z\""), "{text}");
    h.press("enter");
    assert!(h.state.overlay.is_none(), "Enter on Cancel closes the dialog");
    assert!(h.source.decisions().is_empty(), "nothing was decided");
}

#[test]
fn confirming_a_rollback_needs_a_reason_and_sends_one_rollback_decision() {
    let mut h = decided(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("enter U tab enter");
    assert!(h.source.decisions().is_empty(), "a rollback without a reason is not sent");
    let d = dialog(&h);
    assert_eq!(d.focus, Focus::Reason);
    assert!(d.error.as_deref().is_some_and(|e| e.contains("a rollback needs a reason")), "{:?}", d.error);
    h.type_text("accrual posted to the wrong period");
    h.press("tab tab enter");
    let decisions = h.source.decisions();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].kind, DecisionKind::Rollback);
    assert_eq!(decisions[0].run_id.as_str(), "run-jnl-usmf-00461");
    assert_eq!(decisions[0].reason.as_deref(), Some("accrual posted to the wrong period"));
    assert!(!decisions[0].reviewed_digest.is_empty(), "the reviewed payload digest travels with the decision");
    assert_eq!(h.state.run_view().unwrap().summary.status, RunStatus::RolledBack);
    assert_eq!(
        h.state.queue.all.iter().find(|s| s.id.as_str() == "run-jnl-usmf-00461").unwrap().status,
        RunStatus::RolledBack
    );
    assert!(h.state.flash.as_ref().is_some_and(|f| !f.error && f.text.contains("rolled-back")));
}

#[test]
fn the_rollback_command_takes_the_reason_and_production_asks_for_the_environment_name() {
    let mut opts = options(ColorMode::None);
    opts.production = true;
    opts.environment = "usmf-prod".into();
    let mut h = Harness::with_source(80, 24, opts, common::decided_source());
    h.select("run-usr-disable-jmorales");
    h.press("enter :");
    h.type_text("rollback disabled the wrong account");
    h.press("enter");
    let d = dialog(&h);
    assert_eq!(d.kind, DialogKind::Rollback);
    assert_eq!(d.reason.as_ref().unwrap().text, "disabled the wrong account");
    h.press("tab enter");
    assert_eq!(dialog(&h).focus, Focus::TypedName, "Roll back without the environment name is refused");
    assert!(h.source.decisions().is_empty());
    h.type_text("usmf-prod");
    h.press("tab tab enter");
    assert_eq!(h.source.decisions().len(), 1);
    assert_eq!(h.source.decisions()[0].kind, DecisionKind::Rollback);
}

#[test]
fn rollback_is_refused_on_a_pending_run_because_nothing_was_written() {
    let mut h = Harness::new(80, 24);
    h.select("run-inv-usmf-apinv-000124");
    h.press("U");
    assert!(h.state.overlay.is_none());
    let text = flash_text(&h);
    assert!(text.contains("is pending: nothing of it is in F&O to roll back"), "{text}");
}

#[test]
fn rollback_is_refused_in_a_read_only_session() {
    let mut opts = options(ColorMode::None);
    opts.read_only = true;
    let mut h = Harness::with_source(80, 24, opts, common::decided_source());
    h.select("run-jnl-usmf-00461");
    h.press("U");
    assert!(h.state.overlay.is_none());
    assert!(flash_text(&h).contains("read-only session: cannot roll back"));
}

#[test]
fn rollback_is_refused_with_the_reason_when_the_plan_is_not_ready() {
    // Without a synced catalog the recall operation cannot be verified, so the plan is not ready.
    let mut h = Harness::with_source(80, 24, options(ColorMode::Ansi16), common::unsynced_source());
    h.select("run-inv-usmf-apinv-000098");
    h.press("U");
    assert!(h.state.overlay.is_none(), "no dialog for a plan that cannot be sent");
    let text = flash_text(&h);
    assert!(text.contains("the rollback of run-inv-usmf-apinv-000098 is not ready"), "{text}");
    assert!(text.contains("operation 'invoice_recall' cannot be verified"), "{text}");
    assert_eq!(h.state.run_view().unwrap().tab, Tab::Rollback, "the plan and its reason stay on screen");
    assert!(h.source.decisions().is_empty());
}

#[test]
fn an_unknown_outcome_is_neither_approved_nor_rolled_back_and_says_to_reconcile() {
    let mut h = decided(80, 24);
    h.select("run-inv-usmf-apinv-000140");
    for key in ["a", "r", "U"] {
        h.press(key);
        assert!(h.state.overlay.is_none(), "{key} opened a dialog on an unknown outcome");
        let text = flash_text(&h);
        assert!(text.contains("run `signoff reconcile` or wait: F&O may still apply it"), "{key}: {text}");
    }
}

#[test]
fn a_partly_executed_run_cannot_be_approved_and_points_to_the_rollback_key() {
    let mut h = decided(80, 24);
    h.select("run-vnd-usmf-us-104");
    h.press("a");
    assert!(h.state.overlay.is_none());
    let text = flash_text(&h);
    assert!(text.contains("roll it back (U) to restore the before-values"), "{text}");
    h.press("U");
    assert_eq!(dialog(&h).kind, DialogKind::Rollback, "a partly-executed run can be rolled back");
}

#[test]
fn a_refused_rollback_is_flashed_as_a_warning_not_as_done() {
    let mut h = decided(80, 24);
    h.select("run-jnl-usmf-00461");
    h.press("enter");
    let id = signoff::model::RunId::from("run-jnl-usmf-00461");
    let outcome = signoff::tui::source::DecisionOutcome {
        run_id: id.clone(),
        status: RunStatus::Executed,
        kind: signoff::tui::source::OutcomeKind::NothingWritten,
        message: "run-jnl-usmf-00461: refused, nothing was written: the rollback is not possible: the period is closed"
            .into(),
        detail: None,
    };
    h.dispatch(Action::Decided(id, Ok(outcome)));
    let flash = h.state.flash.as_ref().unwrap();
    assert!(flash.error && flash.text.contains("refused, nothing was written"), "{flash:?}");
    assert_eq!(h.state.run_view().unwrap().summary.status, RunStatus::Executed);
}

#[test]
fn help_lists_the_rollback_key() {
    let entries = signoff::tui::views::help::help_entries(&signoff::tui::keymap::Keymap::default());
    let rows: Vec<_> = entries.iter().flat_map(|(_, rows)| rows.iter()).collect();
    assert!(rows.iter().any(|(keys, desc)| keys == "U" && desc.starts_with("roll back")), "{rows:?}");
}

#[test]
fn the_filter_prompt_shows_the_shared_parser_message_that_runs_list_prints() {
    // `runs list --filter` prints exactly this message (tests/cli_output.rs); both use model::filter.
    for text in ["colour:red", "amount~5", "status:sleepy"] {
        let mut h = Harness::new(120, 24);
        h.press("/");
        h.type_text(text);
        let expected = signoff::model::filter::Filter::parse(text).unwrap_err();
        assert_eq!(h.state.prompt.as_ref().and_then(|p| p.error.clone()), Some(expected), "{text}");
    }
}

/// The text of the open run's current tab, as the run view lays it out.
fn tab_text(h: &Harness) -> Vec<String> {
    let Screen::Run(view) = &h.state.screen else { panic!("no run open") };
    let detail = view.detail.as_deref().expect("the run's judgement is loaded");
    let unified = h.state.diff_unified();
    signoff::tui::views::layout::tab_content(detail, view.tab, unified, h.state.unfolded)
        .iter()
        .map(|l| l.iter().map(|(_, t)| t.as_str()).collect())
        .collect()
}

#[test]
fn the_lines_tab_of_a_large_journal_shows_every_line_whole_and_z_unfolds_every_field() {
    let mut h = Harness::new(120, 40);
    h.select("run-jnl-usmf-00478");
    h.press("enter");
    while !matches!(&h.state.screen, Screen::Run(v) if v.tab == Tab::Lines) {
        h.press("tab");
    }
    let run = common::fixture_runs().into_iter().find(|r| r.id.as_str() == "run-jnl-usmf-00478").unwrap();
    assert!(run.before.lines.len() >= 10);
    let folded = tab_text(&h);
    for line in &run.before.lines {
        let field = |name: &str| line.fields.get(name).and_then(|v| v.as_text()).map(str::to_string);
        let account = field("AccountDisplayValue").expect("a journal line names its account");
        let heading = folded
            .iter()
            .find(|l| l.contains(&account) && l.contains(" line "))
            .unwrap_or_else(|| panic!("no heading names {account}: {folded:#?}"));
        for name in ["CurrencyCode", "Text", "DefaultDimensionDisplayValue"] {
            if let Some(value) = field(name).filter(|v| !v.is_empty()) {
                assert!(heading.contains(&value), "{name} {value} missing from {heading}");
            }
        }
        let amount = line.fields.get("DebitAmount").or(line.fields.get("CreditAmount")).unwrap().to_string();
        assert!(heading.contains(amount.trim_matches('"')), "{amount} missing from {heading}");
    }
    assert!(folded.iter().any(|l| l.contains("voucher")), "per-voucher totals: {folded:#?}");
    // Unchanged fields are folded until `z`; then every field of every line is listed.
    h.press("z");
    let unfolded = tab_text(&h);
    assert!(unfolded.len() > folded.len() + run.before.lines.len(), "{} vs {}", unfolded.len(), folded.len());
    let first = &run.before.lines[0];
    for name in first.fields.keys() {
        assert!(unfolded.iter().any(|l| l.contains(name.as_str())), "{name} not unfolded");
    }
    h.press("z");
    assert_eq!(tab_text(&h), folded);
}

#[test]
fn every_flash_stays_in_the_message_log_after_it_clears_newest_first() {
    let mut h = Harness::new(80, 24);
    h.press("s");
    h.press("s");
    let sorted: Vec<String> = h.state.messages.iter().map(|m| m.text.clone()).collect();
    assert_eq!(sorted.len(), 2, "{sorted:?}");
    let generation = h.state.flash.as_ref().unwrap().generation;
    h.dispatch(Action::ClearFlash(generation));
    assert!(h.state.flash.is_none());
    h.press(":");
    h.type_text("messages");
    h.press("enter");
    assert!(matches!(h.state.overlay, Some(Overlay::Messages { .. })), "{:?}", h.state.overlay);
    let screen = h.screen();
    let (newest, oldest) = (screen.find(&sorted[1]).unwrap(), screen.find(&sorted[0]).unwrap());
    assert!(newest < oldest, "newest first:\n{screen}");
    h.press("esc");
    assert!(h.state.overlay.is_none());
}

#[test]
fn the_policy_column_takes_its_colour_from_the_verdict_level_not_from_its_text() {
    let h = Harness::new(200, 50);
    let terminal = h.render();
    let buf = terminal.backend().buffer();
    let screen = h.screen();
    // Every open run's policy cell, found by the typed judgement the queue holds.
    let mut seen = std::collections::BTreeSet::new();
    for (row, s) in h.state.queue.view.iter().filter_map(|i| h.state.queue.all.get(*i as usize)).enumerate() {
        let Some(j) = s.judged else { continue };
        let y = u16::try_from(row + 2).unwrap();
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let x = line.find(&j.policy_text()).unwrap_or_else(|| panic!("{} not on row {y}:\n{screen}", j.policy_text()));
        let x = u16::try_from(line[..x].chars().count()).unwrap();
        let expected = h.theme.style(signoff::tui::views::queue::policy_token(j.worst));
        assert_eq!(buf[(x, y)].fg, expected.fg.unwrap_or_default(), "{} on row {y}", j.policy_text());
        seen.insert(j.worst);
    }
    assert!(seen.len() >= 2, "the fixtures judge to more than one level: {seen:?}");
    let advisory = h.theme.style("policy.advisory").fg;
    assert_ne!(advisory, h.theme.style("policy.pass").fg, "advisory and pass are told apart by colour too");
}

#[test]
fn the_changed_part_of_a_value_is_emphasised_and_stays_marked_without_colour() {
    for color in [ColorMode::Ansi16, ColorMode::None] {
        let mut h = Harness::with_options(80, 24, options(color));
        h.select("run-vnd-usmf-us-104");
        h.press("enter");
        let terminal = h.render();
        let buf = terminal.backend().buffer();
        let screen = h.screen();
        let y = screen.lines().position(|l| l.contains("+ WF-CHK-441")).unwrap_or_else(|| panic!("{screen}"));
        let line = screen.lines().nth(y).unwrap();
        let x = line.find("WF-CHK-441").unwrap();
        let x = u16::try_from(line[..x].chars().count()).unwrap();
        let y = u16::try_from(y).unwrap();
        let emph = buf[(x, y)].modifier;
        let plain = buf[(x + 9, y)].modifier;
        // `WF-CHK-44` replaced `BOA-992`; the final `1` is the same on both sides.
        assert!(emph.contains(ratatui::style::Modifier::UNDERLINED), "{color:?}: {emph:?}");
        assert!(!plain.contains(ratatui::style::Modifier::UNDERLINED), "{color:?}: {plain:?}");
    }
}
