//! Decision dialogs: approve, reject and rollback confirm with Cancel focused, a reason for each, the
//! typed environment name in production, and the quit question when a dialog holds input.

use crossterm::event::{KeyCode, KeyEvent};

use super::action::Effect;
use super::input::TextInput;
use super::keymap::{Command, Context, Key};
use super::reducer::{current_summary, flash, open_selected, quit, quit_now, refresh_view};
use super::source::{DecisionKind, DecisionOutcome, DecisionRequest, OutcomeKind, Tone};
use super::state::{Dialog, DialogKind, Focus, Overlay, Screen, State, SummaryLine, Tab};
use super::views::format_amount;
use crate::model::{RunId, RunStatus};
use crate::rollback;
use crate::text::visible;

/// Summary rows PgDn / PgUp move in a dialog.
const DIALOG_PAGE: usize = 5;

/// Open the approve or reject dialog for the current run, unless read-only or the run cannot take one.
/// The dialog only ever shows a run's loaded judgement: from the queue (or before the judgement has
/// loaded) the run opens on its Diff tab and the dialog follows once its verdicts are on screen. The
/// decision carries the digest of the run the dialog showed; `review` refuses it if the run changed.
pub fn open_decision(state: &mut State, kind: DecisionKind, reason: Option<String>, fx: &mut Vec<Effect>) {
    state.pending_decision = None;
    if state.settings.read_only {
        let verb = if kind == DecisionKind::Reject { "reject" } else { "approve" };
        return flash(state, format!("read-only session: cannot {verb} (started with --read-only)"), true, fx);
    }
    let Some(summary) = current_summary(state).cloned() else {
        return flash(state, "no run selected".into(), true, fx);
    };
    if let Some(why) = no_decision(state, summary.id.as_str(), summary.status) {
        return flash(state, why, true, fx);
    }
    if state.deciding.is_some() {
        return flash(state, "a decision is still in progress; wait for its outcome".into(), true, fx);
    }
    if matches!(state.screen, Screen::Queue) {
        open_selected(state, fx);
        if let Screen::Run(view) = &mut state.screen {
            view.tab = Tab::Diff;
        }
    }
    let Screen::Run(view) = &state.screen else { return };
    let id = visible(summary.id.as_str()).into_owned();
    let Some(detail) = view.detail.as_deref() else {
        if let Some(e) = &view.error {
            return flash(state, format!("cannot show the judgement of {id}: {}", visible(e)), true, fx);
        }
        state.pending_decision = Some((summary.id.clone(), kind));
        return flash(state, format!("loading the judgement of {id}…"), false, fx);
    };
    if let Some(why) = no_decision(state, summary.id.as_str(), detail.status) {
        return flash(state, why, true, fx);
    }
    let mut lines = vec![
        SummaryLine::new("Run", format!("{id}  {}", summary.action.short())),
        SummaryLine::new("Target", visible(&summary.target)),
        SummaryLine::new("Amount", format_amount(&summary)),
        SummaryLine::new("Changes", changes(&detail.run)),
        SummaryLine::new(
            "Approvals",
            format!("{} of {} given (distinct approvers)", detail.approvals.len(), detail.required_approvals),
        ),
    ];
    let shown: Vec<&crate::policy::Verdict> =
        detail.verdicts.iter().filter(|v| v.level != crate::model::Level::Pass).collect();
    if shown.is_empty() {
        lines.push(SummaryLine::toned("Verdicts", "✓ every rule holds", Tone::PolicyPass));
    }
    for (i, v) in shown.iter().enumerate() {
        let label = if i == 0 { "Verdicts" } else { "" };
        let text = format!("{} {} {}: {}", v.level.symbol(), v.level.as_str(), v.rule, visible(&v.message));
        lines.push(SummaryLine::toned(label, text, tone_of(v.level)));
    }
    let rollback = detail.rollback.map(|r| format!("{} {}", r.symbol(), r.label())).unwrap_or_else(|| "—".into());
    lines.push(SummaryLine::new("Rollback", rollback));
    if state.settings.production {
        lines.push(SummaryLine::new("Environment", format!("{} (PRODUCTION)", visible(&state.settings.environment))));
    }
    let dialog_kind = if kind == DecisionKind::Reject { DialogKind::Reject } else { DialogKind::Approve };
    // Both decisions carry a reason into the audit log; for an approval it is also the override reason a
    // soft verdict asks for.
    let digest = detail.run.payload_digest();
    open_confirm(state, dialog_kind, summary.id.clone(), lines, reason, Some(digest));
}

/// What the run writes, in a line: the header fields it changes and how many lines.
fn changes(run: &crate::model::GovernedRun) -> String {
    let mut parts: Vec<String> = run.proposed.fields.keys().map(|k| visible(k).into_owned()).collect();
    if !run.proposed.lines.is_empty() {
        parts.push(format!("{} line(s)", run.proposed.lines.len()));
    }
    if parts.is_empty() { "none: the decision itself (see the Diff tab)".into() } else { parts.join(", ") }
}

fn tone_of(level: crate::model::Level) -> Tone {
    match level {
        crate::model::Level::Hard => Tone::PolicyHard,
        crate::model::Level::Soft => Tone::PolicySoft,
        crate::model::Level::Advisory => Tone::PolicyAdvisory,
        crate::model::Level::Pass => Tone::PolicyPass,
    }
}

/// Whether a run in `status` can still be approved or rejected.
pub fn decision_allowed(status: RunStatus) -> bool {
    matches!(status, RunStatus::Pending | RunStatus::Approved)
}

/// Why no approval or rejection can be taken on a run in `status`, saying what to do instead.
/// (`None` exactly when [`decision_allowed`].)
fn no_decision(state: &State, id: &str, status: RunStatus) -> Option<String> {
    let id = visible(id);
    let rollback = rollback_key(state);
    Some(match status {
        RunStatus::Unknown | RunStatus::Executing => {
            format!(
                "{id} is {status}: its outcome is not known yet; run `signoff reconcile` or wait: F&O may still apply it"
            )
        }
        RunStatus::PartlyExecuted => {
            format!(
                "{id} is partly-executed: part of it is in F&O; roll it back ({rollback}) to restore the before-values"
            )
        }
        RunStatus::RollbackPartial => format!(
            "{id} is rollback-partial: part of what it wrote is still in F&O; roll it back again ({rollback}) to undo the rest"
        ),
        RunStatus::Executed => format!("{id} is executed; no further decision can be taken (roll it back: {rollback})"),
        RunStatus::HandedOver => {
            format!("{id} is handed-over: it is approved and F&O posts it; `signoff reconcile` records the posting")
        }
        s if s.is_final() => format!("{id} is {s}; no further decision can be taken"),
        _ => return None,
    })
}

/// How to ask for a rollback: the bound key, else the command.
fn rollback_key(state: &State) -> String {
    let context = if matches!(state.screen, Screen::Run(_)) { Context::Run } else { Context::Queue };
    state.keymap.key_for(context, Command::Rollback).map(|k| k.to_string()).unwrap_or_else(|| ":rollback".into())
}

/// Open the rollback dialog for the current run: the run, the plan's readiness and its requests in order,
/// a reason, Cancel focused. From the queue (or before the detail has loaded) the run opens on its
/// Rollback tab and the dialog follows once the plan is there.
pub fn open_rollback(state: &mut State, reason: Option<String>, fx: &mut Vec<Effect>) {
    state.pending_decision = None;
    if state.settings.read_only {
        return flash(state, "read-only session: cannot roll back (started with --read-only)".into(), true, fx);
    }
    let Some(summary) = current_summary(state).cloned() else {
        return flash(state, "no run selected".into(), true, fx);
    };
    let id = visible(summary.id.as_str()).into_owned();
    let status = summary.status;
    if !status.can_roll_back() {
        let why = match status {
            RunStatus::Unknown | RunStatus::Executing => format!(
                "{id} is {status}: its outcome is not known yet; run `signoff reconcile` or wait: F&O may still apply it"
            ),
            RunStatus::RolledBack => format!("{id} is already rolled back"),
            RunStatus::HandedOver => format!("{id} is handed-over: {}", crate::rollback::NOT_POSTED_YET),
            _ => format!(
                "{id} is {status}: nothing of it is in F&O to roll back (only executed, partly-executed or \
                 rollback-partial runs can be rolled back)"
            ),
        };
        return flash(state, why, true, fx);
    }
    if state.deciding.is_some() {
        return flash(state, "a decision is still in progress; wait for its outcome".into(), true, fx);
    }
    if matches!(state.screen, Screen::Queue) {
        open_selected(state, fx);
    }
    let Screen::Run(view) = &mut state.screen else { return };
    view.tab = Tab::Rollback;
    let Some(detail) = view.detail.as_deref() else {
        if let Some(e) = &view.error {
            let text = format!("cannot show the rollback plan of {id}: {}", visible(e));
            return flash(state, text, true, fx);
        }
        state.pending_decision = Some((summary.id.clone(), DecisionKind::Rollback));
        return flash(state, format!("loading the rollback plan of {id}…"), false, fx);
    };
    let plan = &detail.rollback_plan;
    if let rollback::Readiness::NotReady(why) = &plan.readiness {
        let text = format!("the rollback of {id} is not ready: {}; nothing can be sent", visible(why));
        return flash(state, text, true, fx);
    }
    let (readiness, tone) = match &plan.readiness {
        rollback::Readiness::Conditional(why) => {
            (format!("? conditional: {}", visible(why)), Tone::RollbackConditional)
        }
        _ => ("↺ ready".to_string(), Tone::RollbackReady),
    };
    let mut lines = vec![
        SummaryLine::new("Run", format!("{id}  {}  {status}", summary.action.short())),
        SummaryLine::new("Target", visible(&summary.target)),
        SummaryLine::new("Amount", format_amount(&summary)),
        SummaryLine::toned("Rollback", readiness, tone),
        SummaryLine::toned("How", visible(&plan.explanation), Tone::Muted),
    ];
    lines.push(SummaryLine::new("Plan", format!("{} request(s), sent in this order", plan.recipe.len())));
    for (i, step) in plan.recipe.iter().enumerate() {
        let request = format!("{}. {}", i + 1, visible(&step.method));
        lines.push(SummaryLine::toned(request, visible(&step.path), Tone::Title));
        if let Some(etag) = &step.if_match {
            lines.push(SummaryLine::new("   If-Match", visible(etag)));
        }
        if !step.body.is_empty() {
            lines.push(SummaryLine::new("   body", visible(&step.body)));
        }
        lines.push(SummaryLine::toned("   purpose", visible(&step.purpose), Tone::Muted));
    }
    if state.settings.production {
        lines.push(SummaryLine::new("Environment", format!("{} (PRODUCTION)", visible(&state.settings.environment))));
    }
    let digest = Some(detail.run.payload_digest());
    open_confirm(state, DialogKind::Rollback, summary.id.clone(), lines, reason, digest);
}

/// Put up a decision dialog: a reason field, the typed environment name in production, Cancel focused.
fn open_confirm(
    state: &mut State,
    kind: DialogKind,
    run_id: RunId,
    summary: Vec<SummaryLine>,
    reason: Option<String>,
    reviewed_digest: Option<String>,
) {
    let dialog = Dialog {
        kind,
        run_id,
        summary,
        scroll: 0,
        reason: Some(TextInput::with_text(reason.as_deref().unwrap_or(""))),
        typed_name: state.settings.production.then(TextInput::default),
        focus: Focus::Cancel,
        error: None,
        reviewed_digest,
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
    let structural = matches!(
        command,
        Some(
            Command::NextPane
                | Command::PrevPane
                | Command::Confirm
                | Command::Back
                | Command::PageDown
                | Command::PageUp
        )
    );
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
        // The view clamps the scroll to what overflows; this bound only keeps PgUp from lagging far behind.
        Some(Command::PageDown) => dialog.scroll = (dialog.scroll + DIALOG_PAGE).min(dialog.summary.len()),
        Some(Command::PageUp) => dialog.scroll = dialog.scroll.saturating_sub(DIALOG_PAGE),
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
    if dialog.kind == DialogKind::Quit {
        return quit_now(state, fx);
    }
    if !dialog.holds_input() {
        return quit(state, fx);
    }
    let run_id = dialog.run_id.clone();
    let question = quit_question(run_id, "Quit and discard what you typed in this dialog?".into(), Some(dialog));
    state.overlay = Some(Overlay::Dialog(Box::new(question)));
}

/// The quit question, Cancel focused; `interrupted` is the dialog that Cancel returns to.
fn quit_question(run_id: RunId, text: String, interrupted: Option<Box<Dialog>>) -> Dialog {
    Dialog {
        kind: DialogKind::Quit,
        run_id,
        summary: vec![SummaryLine::new("", text)],
        scroll: 0,
        reason: None,
        typed_name: None,
        focus: Focus::Cancel,
        error: None,
        reviewed_digest: None,
        interrupted,
    }
}

/// `q` while a decision is in flight: ask, because quitting cannot stop a write already sent; on yes the
/// app waits for the decision to conclude before it exits.
pub fn ask_quit_in_flight(state: &mut State, run_id: RunId) {
    let text = format!(
        "A decision on {} is being sent to F&O. Quit anyway? signoff waits for it to conclude; if it cannot, \
         the run is left for `signoff reconcile`",
        visible(run_id.as_str())
    );
    state.overlay = Some(Overlay::Dialog(Box::new(quit_question(run_id, text, None))));
}

fn confirm(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(dialog)) = &mut state.overlay else { return };
    if dialog.kind == DialogKind::Quit {
        return quit_now(state, fx);
    }
    let reason = dialog.reason.as_ref().map(|r| r.text.trim().to_string());
    if reason.as_deref().is_none_or(str::is_empty) {
        dialog.error = Some(match dialog.kind {
            DialogKind::Reject => "a reject needs a reason: Tab to the Reason field and type it".into(),
            DialogKind::Rollback => {
                "a rollback needs a reason (kept in the audit log): Tab to the Reason field and type it".into()
            }
            _ => "an approval needs a reason (kept in the audit log): Tab to the Reason field and type it".into(),
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
    let (kind, verb) = match dialog.kind {
        DialogKind::Reject => (DecisionKind::Reject, "rejecting"),
        DialogKind::Rollback => (DecisionKind::Rollback, "rolling back"),
        _ => (DecisionKind::Approve, "approving"),
    };
    let Some(reviewed_digest) = dialog.reviewed_digest.clone() else {
        dialog.error = Some("this dialog did not show the run's judgement; close it and open the run".into());
        return;
    };
    let request = DecisionRequest {
        run_id: dialog.run_id.clone(),
        kind,
        reason: reason.filter(|r| !r.is_empty()),
        reviewed_digest,
        // What the approver typed, checked again by `review`; never filled in here.
        confirm_environment: dialog.typed_name.as_ref().map(|t| t.text.trim().to_string()),
    };
    let text = format!("{verb} {}: re-validating against F&O…", visible(request.run_id.as_str()));
    state.overlay = None;
    state.deciding = Some(request.run_id.clone());
    state.decision_sending = false;
    state.busy += 1;
    fx.push(Effect::Decide(request));
    flash(state, text, false, fx);
}

/// A decision's outcome: flash it, update the queue, refresh the open run.
pub fn on_decided(state: &mut State, id: RunId, result: Result<DecisionOutcome, String>, fx: &mut Vec<Effect>) {
    // The quit question was about this decision being in flight; it has concluded, so `q` quits now.
    if let Some(Overlay::Dialog(d)) = &state.overlay
        && d.kind == DialogKind::Quit
        && d.interrupted.is_none()
        && d.run_id == id
    {
        state.overlay = None;
    }
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
            // Anything but a plain success stays marked, so "refused" or "unknown" is not read as done.
            flash(state, visible(&outcome.message).into_owned(), outcome.kind != OutcomeKind::Done, fx);
        }
        Err(e) => flash(state, format!("{}: {}", visible(id.as_str()), visible(&e)), true, fx),
    }
}
