//! The run loop: crossterm events, background results, a look four times a second at whether the store changed,
//! termination signals and a slow tick (only while work is in progress) become Actions; the reducer
//! applies them; a frame is drawn only when state changed, after every ready input has been applied
//! (coalescing), inside one synchronized update.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::action::{Action, Effect};
use super::inflight::InFlight;
use super::reducer::{flash, update};
use super::source::ReviewSource;
use super::state::State;
use super::theme::Theme;
use super::{TuiError, TuiOptions, initial_state, terminal, views};

/// How long a flash message stays.
const FLASH_FOR: Duration = Duration::from_secs(4);
/// Open runs judged per batch after the rows on screen: small enough that a batch shows within a few
/// hundred milliseconds, large enough that the store is not asked 100 times.
pub const JUDGE_BATCH: usize = 2_000;

/// The spinner tick: at most 4 Hz, and only while something is in progress.
const TICK: Duration = Duration::from_millis(250);
/// How often the store is asked whether anything changed: on SQLite one `PRAGMA data_version`, a few
/// microseconds; on PostgreSQL a load of the count of change notifications heard, no round trip. Four
/// times a second, so another approver's decision shows well within a second (the look, then the queue's
/// re-read) at no noticeable cost while nothing happens.
const WATCH: Duration = Duration::from_millis(250);

/// How the session ended, for the caller to report once the terminal is restored.
#[derive(Debug, Default)]
pub struct Exit {
    /// The signal that ended it (SIGTERM, SIGHUP, SIGINT, SIGQUIT), if one did.
    pub signal: Option<i32>,
    /// One line per decision that was still in flight at the end, saying how it concluded.
    pub concluded: Vec<String>,
}

/// The signals that end the TUI cleanly, like a confirmed quit: terminal restored, decisions concluded.
struct Signals(Vec<(i32, Signal)>);

impl Signals {
    fn install() -> io::Result<Signals> {
        let kinds = [
            (libc::SIGTERM, SignalKind::terminate()),
            (libc::SIGHUP, SignalKind::hangup()),
            (libc::SIGINT, SignalKind::interrupt()),
            (libc::SIGQUIT, SignalKind::quit()),
        ];
        kinds.into_iter().map(|(n, k)| Ok((n, signal(k)?))).collect::<io::Result<_>>().map(Signals)
    }

    /// The number of the next signal delivered.
    async fn next(&mut self) -> i32 {
        let waits = self.0.iter_mut().map(|(n, s)| Box::pin(async move { s.recv().await.map(|_| *n) }));
        match futures_util::future::select_all(waits).await.0 {
            Some(n) => n,
            // A stream that ended cannot deliver again; wait on the rest forever rather than spin.
            None => std::future::pending().await,
        }
    }
}

/// Draw one frame of `state` as one synchronized update.
pub fn draw_frame<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    state: &State,
    theme: &Theme,
) -> io::Result<()> {
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|f| views::draw(f, state, theme))?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)
}

/// Translate a terminal event into an action (mouse and focus events are ignored).
pub fn event_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(k) => Some(Action::Key(k)),
        Event::Paste(p) => Some(Action::Paste(p)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// Run the TUI until the user quits or a termination signal arrives. The terminal is restored on every
/// way out, and never while a decision is still being sent: those are waited for first.
pub async fn run_async(source: Arc<dyn ReviewSource>, options: TuiOptions) -> Result<Exit, TuiError> {
    let (mut state, theme) = initial_state(&options, 80, 24, Utc::now())?;
    let mut signals = Signals::install().map_err(TuiError::Terminal)?;
    let guard = terminal::enter(options.ui.mouse).map_err(TuiError::Terminal)?;
    let mut term = Terminal::new(super::sgr16::backend(io::stdout(), theme.depth)).map_err(TuiError::Terminal)?;
    // Listen before the size is read: a resize (SIGWINCH) after this point arrives as an event, one before
    // it is in the size read next. Created after the first frame, a resize in between was lost.
    let mut events = EventStream::new();
    let size = term.size().map_err(TuiError::Terminal)?;
    update(&mut state, Action::Resize(size.width, size.height));
    // The first frame goes out before any I/O: the queue says "loading…".
    draw_frame(&mut term, &state, &theme).map_err(TuiError::Terminal)?;
    state.dirty = false;

    let (tx, mut rx) = unbounded_channel::<Action>();
    state.busy += 1;
    let mut decisions = InFlight::default();
    // The load whose rows are being judged: a judging job for an older load stops at its next batch.
    let judging = Arc::new(AtomicU64::new(0));
    // The first screen's rows (and two more screens for a quick page down) before the rest: at 100,000
    // runs the whole queue takes a few hundred milliseconds to read, its first rows a few.
    let first = 3 * super::views::layout::queue_rows(state.height);
    run_effect(Effect::OpenQueue { first }, &source, &tx, &mut term, (&mut decisions, &judging))?;
    // The F&O workflow inbox is read once at start (and on `R`); the queue reloads when it is in.
    state.busy += 1;
    run_effect(Effect::SyncIntake, &source, &tx, &mut term, (&mut decisions, &judging))?;
    run_effect(Effect::LoadActivation, &source, &tx, &mut term, (&mut decisions, &judging))?;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let _watching = Watching(tokio::spawn(watch_store(Arc::clone(&source), tx.clone())));

    // The loop ends by quitting, by a signal (its number) or by a terminal error; every way out first
    // waits for the decisions still in flight: the runtime must not shut down under a write to F&O.
    let ended: Result<Option<i32>, TuiError> = async {
        loop {
            let first = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(ev)) => event_action(ev),
                    Some(Err(e)) => return Err(TuiError::Terminal(e)),
                    None => return Ok(None),
                },
                Some(action) = rx.recv() => Some(action),
                _ = tick.tick(), if state.busy > 0 => Some(Action::Tick(Utc::now())),
                signo = signals.next() => {
                    tracing::info!(signal = signo, "signal received: leaving the TUI");
                    return Ok(Some(signo));
                }
            };
            let mut batch: Vec<Action> = first.into_iter().collect();
            // Coalesce: apply everything already waiting before drawing once.
            while let Ok(a) = rx.try_recv() {
                batch.push(a);
            }
            // Drain keys already typed, polling with this task's own waker: a no-op waker (`now_or_never`)
            // would be the one crossterm keeps, and the next key would never wake the loop.
            while let std::task::Poll::Ready(Some(Ok(ev))) =
                std::future::poll_fn(|cx| std::task::Poll::Ready(events.poll_next_unpin(cx))).await
            {
                batch.extend(event_action(ev));
            }
            let mut resized = false;
            for action in batch {
                resized |= matches!(action, Action::Resize(..));
                if let Action::Decided(id, _) = &action {
                    decisions.seen(id);
                }
                for effect in update(&mut state, action) {
                    if effect == Effect::Quit {
                        state.quit = true;
                        break;
                    }
                    run_effect(effect, &source, &tx, &mut term, (&mut decisions, &judging))?;
                }
                if state.quit {
                    return Ok(None);
                }
            }
            if resized {
                // `autoresize` clears the screen and resets the back buffer, so the next frame is drawn whole.
                // Not `Terminal::clear`: it queries the cursor position (ESC [6n), and the reply would race
                // the event stream for stdin and fail the whole TUI after a timeout.
                term.autoresize().map_err(TuiError::Terminal)?;
            }
            if state.dirty {
                draw_frame(&mut term, &state, &theme).map_err(TuiError::Terminal)?;
                state.dirty = false;
            }
        }
    }
    .await;
    let concluded = conclude(&mut decisions, &mut state, &mut term, &theme).await;
    match ended {
        Ok(signal) => Ok(Exit { signal, concluded }),
        Err(e) => {
            // Restored first, so the lines land on the normal screen.
            drop(guard);
            for line in &concluded {
                tracing::info!("{line}");
                let _ = writeln!(io::stderr(), "{line}");
            }
            Err(e)
        }
    }
}

/// Before leaving: wait for every decision still in flight, saying so on screen while it takes.
async fn conclude<W: Write>(
    decisions: &mut InFlight,
    state: &mut State,
    term: &mut Terminal<CrosstermBackend<W>>,
    theme: &Theme,
) -> Vec<String> {
    if decisions.is_empty() {
        return Vec::new();
    }
    let ids: Vec<String> = decisions.ids().iter().map(|id| crate::text::visible(id.as_str()).into_owned()).collect();
    let text = format!("waiting for the decision on {} to conclude before quitting…", ids.join(", "));
    flash(state, text, false, &mut Vec::new());
    // A frame that cannot be drawn does not stop the wait: the decision matters more than the screen.
    let _ = draw_frame(term, state, theme);
    decisions.wait_all().await
}

/// Ask the source every [`WATCH`] whether the store changed, and say so with [`Action::StoreChanged`].
/// Its own task, not a branch of the loop's `select!`: a branch disabled while a look is out would not be
/// re-enabled until some other event woke the loop, and an idle TUI would stop following the store. One
/// look at a time, on the blocking pool, so a look that waits on a writer never piles up. An error that
/// lasts (the store unreachable) is logged when it starts, when it changes and when it ends, not on
/// every look.
async fn watch_store(source: Arc<dyn ReviewSource>, tx: UnboundedSender<Action>) {
    let mut every = tokio::time::interval(WATCH);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut failing: Option<String> = None;
    loop {
        every.tick().await;
        let source = Arc::clone(&source);
        let looked = match tokio::task::spawn_blocking(move || source.changed()).await {
            Ok(looked) => looked,
            Err(e) => Err(format!("the look at the store did not return: {e}")),
        };
        match looked {
            Ok(changed) => {
                if failing.take().is_some() {
                    tracing::info!("the store can be watched again");
                    if tx.send(Action::LiveUpdates(None)).is_err() {
                        return;
                    }
                }
                if changed && tx.send(Action::StoreChanged).is_err() {
                    return;
                }
            }
            Err(e) => {
                if failing.as_ref() != Some(&e) {
                    tracing::warn!("cannot tell whether the store changed: {e}");
                    failing = Some(e.clone());
                    if tx.send(Action::LiveUpdates(Some(e))).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Stops the store watcher when the loop ends, however it ends.
struct Watching(tokio::task::JoinHandle<()>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn run_effect<W: Write>(
    effect: Effect,
    source: &Arc<dyn ReviewSource>,
    tx: &UnboundedSender<Action>,
    term: &mut Terminal<CrosstermBackend<W>>,
    (decisions, judging): (&mut InFlight, &Arc<AtomicU64>),
) -> Result<(), TuiError> {
    let source = Arc::clone(source);
    let tx = tx.clone();
    match effect {
        Effect::LoadSummaries => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Action::SummariesLoaded(source.summaries()));
            });
        }
        Effect::OpenQueue { first } => {
            tokio::task::spawn_blocking(move || {
                // An error here is the full load's to report, a moment later.
                match source.first_summaries(first) {
                    Ok(rows) if !rows.is_empty() => {
                        let _ = tx.send(Action::FirstSummariesLoaded(rows));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("the queue's first rows could not be read: {e}"),
                }
                let _ = tx.send(Action::SummariesLoaded(source.summaries()));
            });
        }
        Effect::SyncIntake => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Action::IntakeSynced(source.sync_intake()));
            });
        }
        Effect::LoadActivation => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Action::ActivationLoaded(source.activation()));
            });
        }
        Effect::ResetSandbox(transaction) => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Action::SandboxReset(source.reset_sandbox(transaction.as_deref())));
            });
        }
        Effect::JudgeRows { generation, first, rest } => {
            judging.store(generation, Ordering::SeqCst);
            let latest = Arc::clone(judging);
            tokio::task::spawn_blocking(move || {
                // The rows on screen, then the rest in batches: each batch shows as soon as it is judged.
                let batches = std::iter::once(first.as_slice()).chain(rest.chunks(JUDGE_BATCH));
                let count = 1 + rest.len().div_ceil(JUDGE_BATCH);
                for (i, ids) in batches.enumerate() {
                    // A newer load is being judged: these rows were replaced, judging them is wasted.
                    if latest.load(Ordering::SeqCst) != generation {
                        return;
                    }
                    let done = i + 1 == count;
                    let rows = source.judge_rows(ids);
                    let failed = rows.is_err();
                    // A closed channel means the TUI is gone; stop judging for it.
                    if tx.send(Action::RowsJudged { generation, rows, done: done || failed }).is_err() || failed {
                        return;
                    }
                }
            });
        }
        Effect::LoadDetail(id) => {
            tokio::task::spawn_blocking(move || {
                let result = source.detail(&id).map(Box::new);
                let _ = tx.send(Action::DetailLoaded(id, result));
            });
        }
        Effect::Decide(request) => decisions.start(source, request, tx),
        Effect::CancelDecision => decisions.cancel_latest(),
        Effect::ClearFlashLater(generation) => {
            tokio::spawn(async move {
                tokio::time::sleep(FLASH_FOR).await;
                let _ = tx.send(Action::ClearFlash(generation));
            });
        }
        Effect::WriteTerminal(bytes) => {
            let out = term.backend_mut();
            out.write_all(&bytes).map_err(TuiError::Terminal)?;
            out.flush().map_err(TuiError::Terminal)?;
        }
        Effect::Quit => {}
    }
    Ok(())
}
