//! The `:` command line: `approve`, `reject [reason]`, `rollback [reason]`, `filter NAME|EXPR`,
//! `messages`, `reset [KEY]` (the demo's sandbox), `help`, `quit`/`q`.

use super::action::Effect;
use super::dialogs::{open_decision, open_rollback};
use super::reducer::{apply_saved, quit, set_filter};
use super::source::DecisionKind;
use super::state::{Overlay, Screen, State};
use crate::model::filter::Filter;

/// Every command with what it does, for the help screen and the "unknown command" message.
pub const COMMANDS: &[(&str, &str)] = &[
    ("approve, a", "approve the run (opens the confirm dialog)"),
    ("reject [reason], r", "reject the run; the reason fills the dialog's field"),
    ("rollback [reason]", "roll back an executed run (shows the plan)"),
    ("filter NAME|EXPR, f", "apply a saved filter by name, or a filter expression"),
    ("messages, mes", "every message of the session, newest first"),
    ("reset [KEY]", "sandbox only: restore the simulator's seed data, or one transaction (usmf/APINV-000123)"),
    ("help, h", "show this help"),
    ("quit, q", "quit (asks first if a dialog holds input)"),
];

/// Run a command line; an unknown or malformed command stays in the prompt with an error.
pub fn execute(state: &mut State, line: &str, fx: &mut Vec<Effect>) {
    let line = line.trim();
    let (verb, rest) = line.split_once(' ').map(|(v, r)| (v, r.trim())).unwrap_or((line, ""));
    let result: Result<(), String> = match verb {
        "" => Ok(()),
        "q" | "quit" | "q!" => {
            state.prompt = None;
            return quit(state, fx);
        }
        "help" | "h" => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Ok(())
        }
        "messages" | "mes" => {
            state.overlay = Some(Overlay::Messages { scroll: 0 });
            Ok(())
        }
        "approve" | "a" => {
            state.prompt = None;
            return open_decision(state, DecisionKind::Approve, None, fx);
        }
        "reject" | "r" => {
            state.prompt = None;
            let reason = (!rest.is_empty()).then(|| rest.to_string());
            return open_decision(state, DecisionKind::Reject, reason, fx);
        }
        "rollback" => {
            state.prompt = None;
            let reason = (!rest.is_empty()).then(|| rest.to_string());
            return open_rollback(state, reason, fx);
        }
        "filter" | "f" => filter(state, rest, fx),
        "reset" => {
            state.prompt = None;
            let transaction = (!rest.is_empty()).then(|| rest.to_string());
            return super::live::reset_sandbox(state, transaction, fx);
        }
        other => Err(format!(
            "unknown command '{}'; commands: {}",
            crate::text::visible(other),
            COMMANDS.iter().map(|(c, _)| c.split(',').next().unwrap_or(c)).collect::<Vec<_>>().join(", ")
        )),
    };
    match result {
        Ok(()) => state.prompt = None,
        Err(e) => {
            if let Some(p) = &mut state.prompt {
                p.error = Some(e);
            }
        }
    }
}

fn filter(state: &mut State, arg: &str, fx: &mut Vec<Effect>) -> Result<(), String> {
    if !matches!(state.screen, Screen::Queue) {
        state.screen = Screen::Queue;
    }
    if let Some(index) = state.settings.saved_filters.iter().position(|(name, _)| name == arg) {
        apply_saved(state, index, fx);
        return Ok(());
    }
    Filter::parse(arg)?;
    state.queue.saved = None;
    set_filter(state, arg);
    Ok(())
}
