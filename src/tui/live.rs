//! Keeping the screen current while the store changes underneath it: another approver's lease, approval
//! or decision, a reconciliation. The app polls [`super::source::ReviewSource::changed`] four times a
//! second and sends [`super::action::Action::StoreChanged`]; this module turns that (and `R`, refresh
//! now) into reloads, and makes sure a dialog never offers a decision the store no longer allows.

use super::action::Effect;
use super::dialogs::decision_allowed;
use super::reducer::flash;
use super::state::{DialogKind, Overlay, Screen, State};
use crate::text::visible;

/// Reload the queue; the open run follows only if its summary changed (see [`after_reload`]), so a
/// change elsewhere does not wipe what the run view shows (a dry run's requests) for nothing.
pub fn store_changed(state: &mut State, fx: &mut Vec<Effect>) {
    // One reload at a time; a change it may have missed is picked up by one more when it is in.
    if state.reloading {
        state.reload_again = true;
        return;
    }
    state.reloading = true;
    state.busy += 1;
    fx.push(Effect::LoadSummaries);
    // A decision may have completed a step (the dry run, the rolled-back write); once all are done, the
    // steps are not read again.
    if state.activation.as_ref().is_some_and(|a| !a.activated) {
        fx.push(Effect::LoadActivation);
    }
}

/// The store can (`None`) or cannot (`Some(why)`) be watched: the title says the screen is not live while
/// it cannot, and once it can again the queue is read at once (what changed meanwhile went unseen).
pub fn live_updates(state: &mut State, why: Option<String>, fx: &mut Vec<Effect>) {
    let back = state.live_off.is_some() && why.is_none();
    state.live_off = why;
    if back {
        store_changed(state, fx);
    }
}

/// The activation steps were read: the header shows the next one while any is left.
pub fn activation_loaded(state: &mut State, result: Result<Option<crate::review::activation::Activation>, String>) {
    match result {
        Ok(activation) => state.activation = activation,
        // Not worth a flash: the header simply shows no step, and `connector status` says why.
        Err(e) => tracing::warn!("the connector's activation steps could not be read: {e}"),
    }
}

/// `R`: reload the queue and the open run now, whatever the watcher says, and read the F&O workflow
/// inbox again (its new items reload the queue once more when they are in).
pub fn refresh_now(state: &mut State, fx: &mut Vec<Effect>) {
    store_changed(state, fx);
    state.busy += 1;
    fx.push(Effect::SyncIntake);
    let text = match &state.screen {
        Screen::Run(view) => {
            fx.push(Effect::LoadDetail(view.id.clone()));
            state.busy += 1;
            format!("refreshing the queue and {}…", visible(view.id.as_str()))
        }
        Screen::Queue => "refreshing the queue…".to_string(),
    };
    flash(state, text, false, fx);
}

/// The inbox was read: say what it did (only when it did something, or failed) and reload the queue.
pub fn intake_synced(state: &mut State, result: Result<Option<String>, String>, fx: &mut Vec<Effect>) {
    state.busy = state.busy.saturating_sub(1);
    match result {
        Ok(None) => {}
        Ok(Some(text)) => {
            // A decision's outcome (or any message showing) is not overwritten by the inbox's news.
            if state.flash.is_none() {
                flash(state, text, false, fx);
            }
            store_changed(state, fx);
        }
        Err(e) => flash(state, format!("cannot read the F&O workflow inbox: {}", visible(&e)), true, fx),
    }
}

/// `:reset [KEY]`: ask the source to put the sandbox's seed data back.
pub fn reset_sandbox(state: &mut State, transaction: Option<String>, fx: &mut Vec<Effect>) {
    state.busy += 1;
    let what = transaction.as_deref().map_or("all of its data".to_string(), |t| visible(t).into_owned());
    flash(state, format!("resetting the sandbox simulator: {what}…"), false, fx);
    fx.push(Effect::ResetSandbox(transaction));
}

/// The sandbox was reset (or refused): say so, and show the open run against the restored record.
pub fn sandbox_reset(state: &mut State, result: Result<String, String>, fx: &mut Vec<Effect>) {
    state.busy = state.busy.saturating_sub(1);
    match result {
        Ok(text) => {
            flash(state, visible(&text).into_owned(), false, fx);
            store_changed(state, fx);
            if let Screen::Run(view) = &state.screen {
                fx.push(Effect::LoadDetail(view.id.clone()));
                state.busy += 1;
            }
        }
        Err(e) => flash(state, format!("sandbox not reset: {}", visible(&e)), true, fx),
    }
}

/// After the summaries were (re)loaded: bring the open run's header up to date and reload its detail if
/// someone else moved it, and close a decision dialog the run can no longer take.
pub fn after_reload(state: &mut State, fx: &mut Vec<Effect>) {
    state.reloading = false;
    if std::mem::take(&mut state.reload_again) {
        store_changed(state, fx);
    }
    if let Screen::Run(view) = &mut state.screen
        && let Some(now) = state.queue.all.iter().find(|s| s.id == view.id)
    {
        let moved = (now.status, now.approvals, &now.lease_holder)
            != (view.summary.status, view.summary.approvals, &view.summary.lease_holder);
        if moved {
            view.summary = now.clone();
            state.busy += 1;
            fx.push(Effect::LoadDetail(view.id.clone()));
        }
    }
    close_overtaken_dialog(state, fx);
}

/// A decision dialog on a run decided elsewhere meanwhile is closed with a message saying so. Nothing was
/// sent: the dialog had not been confirmed (a confirmed dialog closes at once and becomes a decision).
fn close_overtaken_dialog(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(top)) = &state.overlay else { return };
    // A quit question may sit over the decision dialog it interrupted.
    let dialog = if top.kind == DialogKind::Quit { top.interrupted.as_deref() } else { Some(&**top) };
    let Some(dialog) = dialog else { return };
    let Some(summary) = state.queue.all.iter().find(|s| s.id == dialog.run_id) else { return };
    let still = match dialog.kind {
        DialogKind::Approve | DialogKind::Reject => decision_allowed(summary.status),
        DialogKind::Rollback => summary.status.can_roll_back(),
        DialogKind::Quit => true,
    };
    if still {
        return;
    }
    let text = format!(
        "{} is now {}: it was decided elsewhere meanwhile (another approver or process); nothing was sent",
        visible(summary.id.as_str()),
        summary.status
    );
    state.overlay = None;
    flash(state, text, true, fx);
}
