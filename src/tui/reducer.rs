//! The reducer: the only code that changes [`State`]. Input keys go through the keymap to commands;
//! background results land here too. Side effects are returned as [`Effect`]s for the app to run.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Effect};
use super::dialogs;
use super::input::TextInput;
use super::keymap::{Command, Context, Key};
use super::source::{DecisionKind, DecisionRequest};
use super::state::{Overlay, Prompt, PromptKind, RunView, Screen, SortColumn, State, Tab};
use super::views::layout;
use crate::config::ClipboardMode;
use crate::model::RunSummary;
use crate::model::filter::Filter;

/// Apply one action to the state; returns the effects to run.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key, &mut fx),
        Action::Key(_) => return fx,
        Action::Paste(text) => on_paste(state, &text),
        Action::Resize(w, h) => {
            state.width = w;
            state.height = h;
            clamp_queue(state);
        }
        Action::Tick(now) => {
            state.now = now;
            state.spinner = state.spinner.wrapping_add(1);
        }
        Action::FirstSummariesLoaded(rows) => {
            // Only in the order the source gives them (the default sort, no filter typed yet): any other
            // view of a few rows would show rows that are not the first of the whole queue.
            let q = &state.queue;
            if state.loading && q.sort == SortColumn::Age && !q.reverse && q.filter_text.is_empty() {
                state.loading = false;
                state.partial = true;
                state.queue.all = rows;
                refresh_view(state);
                judge_queue(state, &mut fx);
                state.dirty = true;
            }
        }
        Action::SummariesLoaded(result) => {
            state.busy = state.busy.saturating_sub(1);
            state.loading = false;
            if std::mem::take(&mut state.partial) && result.is_err() {
                // The first rows alone would pass for the whole queue: show the error instead.
                state.queue.all.clear();
                refresh_view(state);
            }
            match result {
                Ok(all) => {
                    state.load_error = None;
                    let previous = std::mem::take(&mut state.queue.all);
                    state.queue.all = all;
                    carry_judgements(&mut state.queue.all, previous);
                    refresh_view(state);
                    judge_queue(state, &mut fx);
                    super::live::after_reload(state, &mut fx);
                }
                Err(e) => {
                    state.reloading = false;
                    state.reload_again = false;
                    state.load_error = Some(e);
                }
            }
        }
        Action::StoreChanged => super::live::store_changed(state, &mut fx),
        Action::LiveUpdates(why) => super::live::live_updates(state, why, &mut fx),
        Action::IntakeSynced(result) => super::live::intake_synced(state, result, &mut fx),
        Action::ActivationLoaded(result) => super::live::activation_loaded(state, result),
        Action::SandboxReset(result) => super::live::sandbox_reset(state, result, &mut fx),
        Action::RowsJudged { generation, rows, done } => {
            if state.queue.judging == Some(generation) {
                match rows {
                    Ok(rows) => {
                        // Indexed by the batch (a few thousand runs), not by the whole queue.
                        let batch: std::collections::HashMap<crate::model::RunId, _> =
                            rows.into_iter().map(|(id, judged, required)| (id, (judged, required))).collect();
                        for row in &mut state.queue.all {
                            if let Some((judged, required)) = batch.get(&row.id) {
                                row.judged = *judged;
                                row.required_approvals = *required;
                            }
                        }
                        refresh_view(state);
                    }
                    Err(e) => {
                        flash(state, format!("cannot judge the queue: {}", crate::text::visible(&e)), true, &mut fx)
                    }
                }
                if done {
                    state.queue.judging = None;
                }
                state.dirty = true;
            }
        }
        Action::DetailLoaded(id, result) => {
            state.busy = state.busy.saturating_sub(1);
            if let Screen::Run(view) = &mut state.screen
                && view.id == id
            {
                let loaded = result.is_ok();
                match result {
                    Ok(detail) => {
                        // The one count of approvals, as review computed it, everywhere the run is listed.
                        let (given, required) = (detail.approvals.len() as u32, detail.required_approvals);
                        view.summary.status = detail.status;
                        view.summary.approvals = given;
                        view.summary.required_approvals = required;
                        if let Some(row) = state.queue.all.iter_mut().find(|s| s.id == id) {
                            row.status = detail.status;
                            row.approvals = given;
                            row.required_approvals = required;
                        }
                        view.detail = Some(detail);
                        view.error = None;
                    }
                    Err(e) => view.error = Some(e),
                }
                // A decision asked for before the judgement was there: the dialog (or why not) follows now.
                if let Some((_, kind)) = state.pending_decision.take_if(|(pending, _)| *pending == id)
                    && loaded
                    && state.overlay.is_none()
                    && state.prompt.is_none()
                {
                    state.flash = None;
                    match kind {
                        DecisionKind::Rollback => dialogs::open_rollback(state, None, &mut fx),
                        DecisionKind::DryRun => dry_run(state, &mut fx),
                        kind => dialogs::open_decision(state, kind, None, &mut fx),
                    }
                }
            }
        }
        Action::DecisionProgress(id, step) => {
            if state.deciding.as_ref() == Some(&id) {
                state.decision_sending |= step.sending;
                let text = format!("{}: {}", crate::text::visible(id.as_str()), step.text);
                flash(state, text, false, &mut fx);
            }
        }
        Action::Decided(id, result) => {
            state.busy = state.busy.saturating_sub(1);
            state.deciding = None;
            state.decision_sending = false;
            dialogs::on_decided(state, id, result, &mut fx);
        }
        Action::ClearFlash(generation) => {
            if state.flash.as_ref().is_some_and(|f| f.generation == generation) {
                state.flash = None;
            } else {
                return fx;
            }
        }
    }
    state.dirty = true;
    fx
}

fn on_paste(state: &mut State, text: &str) {
    if let Some(prompt) = &mut state.prompt {
        prompt.input.insert(text);
        if prompt.kind == PromptKind::Filter {
            let text = prompt.input.text.clone();
            live_filter(state, &text);
        }
    } else if let Some(Overlay::Dialog(dialog)) = &mut state.overlay
        && let Some(input) = dialog.focused_input()
    {
        input.insert(text);
    }
}

fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let is_ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if state.prompt.is_some() {
        return prompt_key(state, key, is_ctrl_c, fx);
    }
    if let Some(Overlay::Dialog(_)) = &state.overlay {
        return dialogs::dialog_key(state, key, is_ctrl_c, fx);
    }
    let context = state.context();
    let Some(command) = state.keymap.lookup(context, Key::from_event(&key)) else { return };
    if matches!(state.overlay, Some(Overlay::Help { .. } | Overlay::Messages { .. })) {
        let (last, page) = match state.overlay {
            Some(Overlay::Help { .. }) => super::views::help::scroll_limits(state),
            _ => super::views::messages::scroll_limits(state),
        };
        let Some(Overlay::Help { scroll } | Overlay::Messages { scroll }) = &mut state.overlay else { return };
        match command {
            Command::Down => *scroll = (*scroll + 1).min(last),
            Command::Up => *scroll = scroll.saturating_sub(1),
            Command::Top => *scroll = 0,
            Command::Bottom => *scroll = last,
            Command::PageDown => *scroll = (*scroll + page).min(last),
            Command::PageUp => *scroll = scroll.saturating_sub(page),
            Command::HalfPageDown => *scroll = (*scroll + page / 2).min(last),
            Command::HalfPageUp => *scroll = scroll.saturating_sub(page / 2),
            Command::Back | Command::Help => state.overlay = None,
            Command::Quit => quit(state, fx),
            _ => {}
        }
        return;
    }
    run_command(state, command, fx);
}

/// Run a keymap command in the current context (no prompt or dialog focused).
pub fn run_command(state: &mut State, command: Command, fx: &mut Vec<Effect>) {
    match command {
        Command::Quit => quit(state, fx),
        Command::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::CommandLine => open_prompt(state, PromptKind::Command),
        Command::Filter => open_prompt(state, PromptKind::Filter),
        Command::Down | Command::Up | Command::Top | Command::Bottom => move_by(state, command),
        Command::PageDown | Command::PageUp | Command::HalfPageDown | Command::HalfPageUp => move_by(state, command),
        Command::Open => open_selected(state, fx),
        Command::Back if state.deciding.is_some() => cancel_decision(state, fx),
        Command::Back => back(state),
        Command::NextFilter => cycle_saved(state, true, fx),
        Command::PrevFilter => cycle_saved(state, false, fx),
        Command::NextPane | Command::PrevPane => {
            if let Screen::Run(view) = &mut state.screen {
                let n = Tab::ALL.len();
                let i = view.tab.index();
                view.tab = Tab::ALL[if command == Command::NextPane { (i + 1) % n } else { (i + n - 1) % n }];
            }
        }
        Command::CopyId => copy_id(state, fx),
        Command::Approve => dialogs::open_decision(state, DecisionKind::Approve, None, fx),
        Command::Reject => dialogs::open_decision(state, DecisionKind::Reject, None, fx),
        Command::DryRun => dry_run(state, fx),
        Command::Rollback => dialogs::open_rollback(state, None, fx),
        Command::Refresh => super::live::refresh_now(state, fx),
        Command::Sort => {
            state.queue.sort = state.queue.sort.next();
            refresh_view(state);
            flash(state, format!("sorted by {}", state.queue.sort.label()), false, fx);
        }
        Command::Reverse => {
            state.queue.reverse = !state.queue.reverse;
            refresh_view(state);
        }
        Command::Unfold => {
            state.unfolded = !state.unfolded;
            let what = if state.unfolded { "every field shown" } else { "unchanged fields folded" };
            flash(state, format!("{what} (z toggles)"), false, fx);
        }
        Command::ToggleLayout => {
            state.layout_flipped = !state.layout_flipped;
            let layout = if state.diff_unified() { "unified" } else { "side by side" };
            flash(state, format!("diff {layout} (u toggles)"), false, fx);
        }
        Command::Confirm => {}
    }
}

/// Quit; asks first while a decision is in flight (the dialog path also asks when input would be lost).
pub fn quit(state: &mut State, fx: &mut Vec<Effect>) {
    match state.deciding.clone() {
        Some(id) => dialogs::ask_quit_in_flight(state, id),
        None => quit_now(state, fx),
    }
}

/// Quit without asking. The app waits for a decision still in flight before it exits.
pub fn quit_now(state: &mut State, fx: &mut Vec<Effect>) {
    state.quit = true;
    fx.push(Effect::Quit);
}

/// Esc while a decision runs: stop it if it has not reached the write; once it has, say so — it runs to
/// its recorded outcome either way, and that outcome follows as a flash. "Cancelled" is only ever said by
/// that outcome (`review` stops before its write and reports it), never here: the write may start
/// between this key and the worker seeing the flag.
fn cancel_decision(state: &mut State, fx: &mut Vec<Effect>) {
    let id = state.deciding.as_ref().map(|id| crate::text::visible(id.as_str()).into_owned()).unwrap_or_default();
    if state.decision_sending {
        let text = format!(
            "{id}: the write is already on its way to F&O and can no longer be cancelled; it runs to its recorded outcome"
        );
        return flash(state, text, true, fx);
    }
    fx.push(Effect::CancelDecision);
    let text =
        format!("{id}: cancelling: the decision stops before its write unless that has begun; its outcome follows");
    flash(state, text, false, fx);
}

/// Show a flash message and schedule its removal.
pub fn flash(state: &mut State, text: String, error: bool, fx: &mut Vec<Effect>) {
    if state.messages.len() >= super::state::MESSAGES_KEPT {
        state.messages.remove(0);
    }
    state.messages.push(super::state::Message { at: state.now, text: text.clone(), error });
    state.flash_generation += 1;
    state.flash = Some(super::state::Flash { text, error, generation: state.flash_generation });
    fx.push(Effect::ClearFlashLater(state.flash_generation));
}

/// The summary the current screen is about: the open run, else the queue selection.
pub fn current_summary(state: &State) -> Option<&RunSummary> {
    match &state.screen {
        Screen::Run(view) => Some(&view.summary),
        Screen::Queue => state.queue.current(),
    }
}

fn open_prompt(state: &mut State, kind: PromptKind) {
    if kind == PromptKind::Filter && !matches!(state.screen, Screen::Queue) {
        return;
    }
    let previous = state.queue.filter_text.clone();
    let input = if kind == PromptKind::Filter { TextInput::with_text(&previous) } else { TextInput::default() };
    state.prompt = Some(Prompt { kind, input, error: None, previous });
}

fn prompt_key(state: &mut State, key: KeyEvent, is_ctrl_c: bool, fx: &mut Vec<Effect>) {
    let Some(prompt) = &mut state.prompt else { return };
    if is_ctrl_c {
        return quit(state, fx);
    }
    match key.code {
        KeyCode::Esc => {
            let previous = prompt.previous.clone();
            let kind = prompt.kind;
            state.prompt = None;
            if kind == PromptKind::Filter {
                set_filter(state, &previous);
            }
        }
        KeyCode::Enter => {
            let kind = prompt.kind;
            let text = prompt.input.text.clone();
            match kind {
                PromptKind::Filter => {
                    if prompt.error.is_none() {
                        state.prompt = None;
                        state.queue.saved = None;
                    }
                }
                PromptKind::Command => super::commands::execute(state, &text, fx),
            }
        }
        _ => {
            if prompt.input.handle(&key) && prompt.kind == PromptKind::Filter {
                let text = prompt.input.text.clone();
                live_filter(state, &text);
            }
        }
    }
}

/// Apply the filter as typed; a parse error is shown inline and the last good view stays.
fn live_filter(state: &mut State, text: &str) {
    match Filter::parse(text) {
        Ok(_) => {
            set_filter(state, text);
            if let Some(p) = &mut state.prompt {
                p.error = None;
            }
        }
        Err(e) => {
            if let Some(p) = &mut state.prompt {
                p.error = Some(e);
            }
        }
    }
}

/// Replace the queue filter (text already known to parse, or falling back to no filter).
pub fn set_filter(state: &mut State, text: &str) {
    state.queue.filter = Filter::parse(text).unwrap_or_default();
    state.queue.filter_text = text.to_string();
    refresh_view(state);
}

fn cycle_saved(state: &mut State, forward: bool, fx: &mut Vec<Effect>) {
    let n = state.settings.saved_filters.len();
    if n == 0 {
        return flash(state, "no saved filters; add them under [ui.filters] in the config".into(), true, fx);
    }
    let next = match (state.queue.saved, forward) {
        (None, true) => 0,
        (None, false) => n - 1,
        (Some(i), true) => (i + 1) % n,
        (Some(i), false) => (i + n - 1) % n,
    };
    apply_saved(state, next, fx);
}

/// Apply saved filter `index`; a saved filter that does not parse is reported, not applied.
pub fn apply_saved(state: &mut State, index: usize, fx: &mut Vec<Effect>) {
    let Some((name, expr)) = state.settings.saved_filters.get(index).cloned() else { return };
    match Filter::parse(&expr) {
        Ok(_) => {
            set_filter(state, &expr);
            state.queue.saved = Some(index);
            flash(state, format!("filter {name}: {expr}"), false, fx);
        }
        Err(e) => flash(state, format!("saved filter {name} in [ui.filters] does not parse: {e}"), true, fx),
    }
}

/// Re-filter and re-sort, keeping the selected run selected when it is still shown.
pub fn refresh_view(state: &mut State) {
    let q = &mut state.queue;
    let keep = q.current().map(|s| s.id.clone());
    let mut view = q.filter.apply(&q.all);
    let all = &q.all;
    let sort = q.sort;
    super::sort::order(sort, all, &mut view);
    if q.reverse {
        view.reverse();
    }
    q.view = view;
    q.selected = keep.and_then(|id| q.view.iter().position(|i| all[*i as usize].id == id)).unwrap_or(0);
    clamp_queue(state);
}

/// Keep the selection inside the view and the offset such that the selection is visible.
fn clamp_queue(state: &mut State) {
    let rows = layout::queue_rows(state.height).max(1);
    let q = &mut state.queue;
    q.selected = q.selected.min(q.view.len().saturating_sub(1));
    if q.selected < q.offset {
        q.offset = q.selected;
    } else if q.selected >= q.offset + rows {
        q.offset = q.selected + 1 - rows;
    }
    q.offset = q.offset.min(q.view.len().saturating_sub(rows));
}

fn move_by(state: &mut State, command: Command) {
    let in_run = matches!(state.screen, Screen::Run(_));
    // In the run view, rows are screen rows: the tab's lines as wrapped to its pane's real width.
    let (cur, len, page) = match &state.screen {
        Screen::Run(view) => {
            let (len, page) = layout::run_scroll(state, view);
            (view.scroll[view.tab.index()], len, page)
        }
        Screen::Queue => (state.queue.selected, state.queue.view.len(), layout::queue_rows(state.height)),
    };
    let page = page.max(1);
    let last = if in_run { len.saturating_sub(page) } else { len.saturating_sub(1) };
    let next = match command {
        Command::Down => cur + 1,
        Command::Up => cur.saturating_sub(1),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageDown => cur + page,
        Command::PageUp => cur.saturating_sub(page),
        Command::HalfPageDown => cur + page / 2,
        Command::HalfPageUp => cur.saturating_sub(page / 2),
        _ => cur,
    }
    .min(last);
    match &mut state.screen {
        Screen::Run(view) => view.scroll[view.tab.index()] = next,
        Screen::Queue => {
            state.queue.selected = next;
            clamp_queue(state);
        }
    }
}

/// Open the run under the queue cursor and load its detail.
pub fn open_selected(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(summary) = state.queue.current().cloned() else { return };
    let id = summary.id.clone();
    state.screen = Screen::Run(Box::new(RunView {
        id: id.clone(),
        summary,
        detail: None,
        error: None,
        tab: Tab::Diff,
        scroll: [0; 5],
    }));
    state.busy += 1;
    fx.push(Effect::LoadDetail(id));
}

fn back(state: &mut State) {
    state.pending_decision = None;
    match state.screen {
        Screen::Run(_) => state.screen = Screen::Queue,
        Screen::Queue if !state.queue.filter_text.is_empty() => {
            state.queue.saved = None;
            set_filter(state, "");
        }
        Screen::Queue => {}
    }
}

fn copy_id(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(id) = current_summary(state).map(|s| s.id.to_string()) else { return };
    if state.settings.clipboard == ClipboardMode::Off {
        return flash(state, "copying is off ([ui] clipboard = \"off\")".into(), true, fx);
    }
    fx.push(Effect::WriteTerminal(super::clipboard::osc52(&id, state.settings.in_tmux)));
    let note = if state.settings.in_tmux { " (tmux: needs set-clipboard on or allow-passthrough)" } else { "" };
    flash(state, format!("copied {} (OSC 52){note}", crate::text::visible(&id)), false, fx);
}

/// A dry run of the run on screen, bound to its judgement like any decision: from the queue the run
/// opens first and the dry run follows once its judgement is loaded.
pub fn dry_run(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(summary) = current_summary(state).cloned() else { return };
    if matches!(state.screen, Screen::Queue) {
        open_selected(state, fx);
    }
    let Screen::Run(view) = &state.screen else { return };
    let Some(detail) = view.detail.as_deref() else {
        state.pending_decision = Some((summary.id.clone(), DecisionKind::DryRun));
        let text = format!("loading the judgement of {}…", crate::text::visible(summary.id.as_str()));
        return flash(state, text, false, fx);
    };
    let request = DecisionRequest {
        run_id: summary.id.clone(),
        kind: DecisionKind::DryRun,
        reason: None,
        reviewed_digest: detail.run.payload_digest(),
        confirm_environment: None,
    };
    let text = format!("dry run of {}…", crate::text::visible(summary.id.as_str()));
    state.busy += 1;
    fx.push(Effect::Decide(request));
    flash(state, text, false, fx);
}

/// The context the help overlay lists first.
pub fn help_contexts() -> [Context; 5] {
    [Context::Queue, Context::Run, Context::Dialog, Context::Help, Context::Global]
}

/// Rows reloaded unchanged (same status and approvals) keep their judgement while they are judged again,
/// so a reload never blanks the policy column.
fn carry_judgements(all: &mut [RunSummary], previous: Vec<RunSummary>) {
    let previous: std::collections::HashMap<crate::model::RunId, RunSummary> =
        previous.into_iter().map(|s| (s.id.clone(), s)).collect();
    for row in all.iter_mut().filter(|r| r.judged.is_none()) {
        if let Some(old) = previous.get(&row.id)
            && old.status == row.status
            && old.approvals == row.approvals
        {
            row.judged = old.judged;
            row.required_approvals = old.required_approvals;
        }
    }
}

/// Ask for the open runs to be judged: the rows on screen first, so the first judged frame does not wait
/// for the whole store, then every other open run in the view's order.
fn judge_queue(state: &mut State, fx: &mut Vec<Effect>) {
    let q = &mut state.queue;
    q.generation += 1;
    let rows = super::views::layout::queue_rows(state.height);
    let order: Vec<&RunSummary> = q
        .view
        .iter()
        .filter_map(|i| q.all.get(*i as usize))
        .chain(q.all.iter())
        .filter(|s| !s.status.is_final())
        .collect();
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<crate::model::RunId> =
        order.into_iter().filter(|s| seen.insert(s.id.as_str())).map(|s| s.id.clone()).collect();
    if ids.is_empty() {
        q.judging = None;
        return;
    }
    let first: Vec<crate::model::RunId> = q
        .view
        .iter()
        .skip(q.offset)
        .take(rows)
        .filter_map(|i| q.all.get(*i as usize))
        .filter(|s| !s.status.is_final())
        .map(|s| s.id.clone())
        .collect();
    let shown: std::collections::HashSet<&crate::model::RunId> = first.iter().collect();
    let rest: Vec<crate::model::RunId> = ids.iter().filter(|id| !shown.contains(id)).cloned().collect();
    q.judging = Some(q.generation);
    fx.push(Effect::JudgeRows { generation: q.generation, first, rest });
}
