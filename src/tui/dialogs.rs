//! Decision dialogs: approve and reject confirm with Cancel focused, a reason for rejects, the typed
//! environment name in production, and the quit question when a dialog holds input.

use crossterm::event::{KeyCode, KeyEvent};

use super::action::Effect;
use super::input::TextInput;
use super::keymap::{Command, Context, Key};
use super::reducer::{current_summary, flash, quit, refresh_view};
use super::source::{DecisionKind, DecisionOutcome, DecisionRequest};
use super::state::{Dialog, DialogKind, Focus, Overlay, Screen, State};
use super::views::format_amount;
use crate::model::RunId;
use crate::text::visible;

/// Open the approve or reject dialog for the current run, unless read-only or the run is final.
pub fn open_decision(state: &mut State, kind: DecisionKind, reason: Option<String>, fx: &mut Vec<Effect>) {
    if state.settings.read_only {
        let verb = if kind == DecisionKind::Reject { "reject" } else { "approve" };
        return flash(state, format!("read-only session: cannot {verb} (started with --read-only)"), true, fx);
    }
    let Some(summary) = current_summary(state).cloned() else {
        return flash(state, "no run selected".into(), true, fx);
    };
    if summary.status.is_final() {
        let text = format!("{} is {}; no further decision can be taken", visible(summary.id.as_str()), summary.status);
        return flash(state, text, true, fx);
    }
    if state.deciding.is_some() {
        return flash(state, "a decision is still in progress; wait for its outcome".into(), true, fx);
    }
    let detail = state.run_view().filter(|v| v.id == summary.id).and_then(|v| v.detail.as_ref());
    let verdicts = detail
        .and_then(|d| d.verdict_summary.clone())
        .unwrap_or_else(|| if detail.is_some() { "—".into() } else { "— (open the run to see verdicts)".into() });
    let rollback = detail.and_then(|d| d.rollback).map(|r| r.label().to_string()).unwrap_or_else(|| "—".into());
    let mut lines = vec![
        ("Run".to_string(), format!("{}  {}", visible(summary.id.as_str()), summary.action.short())),
        ("Target".to_string(), visible(&summary.target).into_owned()),
        ("Amount".to_string(), format_amount(&summary)),
        ("Verdicts".to_string(), verdicts),
        ("Rollback".to_string(), rollback),
        ("Approvals".to_string(), format!("{} of {}", summary.approvals, summary.required_approvals)),
    ];
    if state.settings.production {
        lines.push(("Environment".to_string(), format!("{} (PRODUCTION)", visible(&state.settings.environment))));
    }
    let dialog = Dialog {
        kind: if kind == DecisionKind::Reject { DialogKind::Reject } else { DialogKind::Approve },
        run_id: summary.id.clone(),
        summary: lines,
        // Both decisions carry a reason into the audit log; for an approval it is also the override
        // reason a soft verdict asks for.
        reason: Some(TextInput::with_text(reason.as_deref().unwrap_or(""))),
        typed_name: state.settings.production.then(TextInput::default),
        focus: Focus::Cancel,
        error: None,
        reviewed_digest: detail.map(|d| d.run.payload_digest()),
        interrupted: None,
    };
    state.overlay = Some(Overlay::Dialog(Box::new(dialog)));
}

/// A key while a dialog is open: text fields take printable keys; the keymap handles the rest.
pub fn dialog_key(state: &mut State, key: KeyEvent, is_ctrl_c: bool, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(dialog)) = &mut state.overlay else { return };
    if is_ctrl_c {
        return ask_or_quit(state, fx);
    }
    let command = state.keymap.lookup(Context::Dialog, Key::from_event(&key));
    let structural = matches!(command, Some(Command::NextPane | Command::PrevPane | Command::Confirm | Command::Back));
    if !structural && let Some(input) = dialog.focused_input() {
        input.handle(&key);
        dialog.error = None;
        return;
    }
    if !structural && key.code == KeyCode::Char('q') {
        return ask_or_quit(state, fx);
    }
    match command {
        Some(Command::NextPane) | Some(Command::PrevPane) => {
            let order = dialog.focus_order();
            let i = order.iter().position(|f| *f == dialog.focus).unwrap_or(0);
            let n = order.len();
            dialog.focus = order[if command == Some(Command::NextPane) { (i + 1) % n } else { (i + n - 1) % n }];
        }
        Some(Command::Back) => cancel(state),
        Some(Command::Confirm) => match dialog.focus {
            Focus::Cancel => cancel(state),
            Focus::Reason | Focus::TypedName => {
                let order = dialog.focus_order();
                let i = order.iter().position(|f| *f == dialog.focus).unwrap_or(0);
                dialog.focus = order[(i + 1) % order.len()];
            }
            Focus::Confirm => confirm(state, fx),
        },
        _ => {}
    }
}

/// Esc or Cancel: close the dialog (a quit question returns to the dialog it interrupted).
fn cancel(state: &mut State) {
    let Some(Overlay::Dialog(dialog)) = state.overlay.take() else { return };
    state.overlay = dialog.interrupted.map(Overlay::Dialog);
}

fn ask_or_quit(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(dialog)) = state.overlay.take() else { return };
    if dialog.kind == DialogKind::Quit || !dialog.holds_input() {
        return quit(state, fx);
    }
    let question = Dialog {
        kind: DialogKind::Quit,
        run_id: dialog.run_id.clone(),
        summary: vec![("".into(), "Quit and discard what you typed in this dialog?".into())],
        reason: None,
        typed_name: None,
        focus: Focus::Cancel,
        error: None,
        reviewed_digest: None,
        interrupted: Some(dialog),
    };
    state.overlay = Some(Overlay::Dialog(Box::new(question)));
}

fn confirm(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(dialog)) = &mut state.overlay else { return };
    if dialog.kind == DialogKind::Quit {
        return quit(state, fx);
    }
    let reason = dialog.reason.as_ref().map(|r| r.text.trim().to_string());
    if reason.as_deref().is_none_or(str::is_empty) {
        dialog.error = Some(if dialog.kind == DialogKind::Reject {
            "a reject needs a reason: Tab to the Reason field and type it".into()
        } else {
            "an approval needs a reason (kept in the audit log): Tab to the Reason field and type it".into()
        });
        dialog.focus = Focus::Reason;
        return;
    }
    if let Some(typed) = &dialog.typed_name
        && typed.text.trim() != state.settings.environment
    {
        dialog.error =
            Some(format!("type the environment name '{}' exactly to confirm", visible(&state.settings.environment)));
        dialog.focus = Focus::TypedName;
        return;
    }
    let kind = if dialog.kind == DialogKind::Reject { DecisionKind::Reject } else { DecisionKind::Approve };
    let request = DecisionRequest {
        run_id: dialog.run_id.clone(),
        kind,
        reason: reason.filter(|r| !r.is_empty()),
        reviewed_digest: dialog.reviewed_digest.clone(),
    };
    let verb = if kind == DecisionKind::Reject { "rejecting" } else { "approving" };
    let text = format!("{verb} {}: re-validating against F&O…", visible(request.run_id.as_str()));
    state.overlay = None;
    state.deciding = Some(request.run_id.clone());
    state.busy += 1;
    fx.push(Effect::Decide(request));
    flash(state, text, false, fx);
}

/// A decision's outcome: flash it, update the queue, refresh the open run.
pub fn on_decided(state: &mut State, id: RunId, result: Result<DecisionOutcome, String>, fx: &mut Vec<Effect>) {
    match result {
        Ok(outcome) => {
            let approvals = outcome.detail.as_ref().map(|d| d.approvals.len() as u32);
            if let Some(s) = state.queue.all.iter_mut().find(|s| s.id == outcome.run_id) {
                s.status = outcome.status;
                s.approvals = approvals.unwrap_or(s.approvals);
            }
            refresh_view(state);
            if let Screen::Run(view) = &mut state.screen
                && view.id == outcome.run_id
            {
                view.summary.status = outcome.status;
                view.summary.approvals = approvals.unwrap_or(view.summary.approvals);
                match outcome.detail {
                    Some(detail) => view.detail = Some(detail),
                    None => {
                        state.busy += 1;
                        fx.push(Effect::LoadDetail(id));
                    }
                }
            }
            flash(state, visible(&outcome.message).into_owned(), false, fx);
        }
        Err(e) => flash(state, format!("{}: {}", visible(id.as_str()), visible(&e)), true, fx),
    }
}
