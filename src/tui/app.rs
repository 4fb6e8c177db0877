//! The run loop: crossterm events, background results and a slow tick (only while work is in
//! progress) become Actions; the reducer applies them; a frame is drawn only when state changed, after
//! every ready input has been applied (coalescing), inside one synchronized update.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::action::{Action, Effect};
use super::reducer::update;
use super::source::{Progress, ReviewSource};
use super::state::State;
use super::theme::Theme;
use super::{TuiError, TuiOptions, initial_state, terminal, views};

/// How long a flash message stays.
const FLASH_FOR: Duration = Duration::from_secs(4);
/// The spinner tick: at most 4 Hz, and only while something is in progress.
const TICK: Duration = Duration::from_millis(250);

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

/// Run the TUI until the user quits. The terminal is restored on every way out.
pub async fn run_async(source: Arc<dyn ReviewSource>, options: TuiOptions) -> Result<(), TuiError> {
    let (mut state, theme) = initial_state(&options, 80, 24, Utc::now())?;
    let _guard = terminal::enter(options.ui.mouse).map_err(TuiError::Terminal)?;
    let mut term = Terminal::new(super::sgr16::backend(io::stdout(), theme.depth)).map_err(TuiError::Terminal)?;
    let size = term.size().map_err(TuiError::Terminal)?;
    update(&mut state, Action::Resize(size.width, size.height));
    // The first frame goes out before any I/O: the queue says "loading…".
    draw_frame(&mut term, &state, &theme).map_err(TuiError::Terminal)?;
    state.dirty = false;

    let (tx, mut rx) = unbounded_channel::<Action>();
    state.busy += 1;
    // The running decision's cancel flag (one decision at a time).
    let mut cancel: Option<Arc<AtomicBool>> = None;
    run_effect(Effect::LoadSummaries, &source, &tx, &mut term, &mut cancel)?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => event_action(ev),
                Some(Err(e)) => return Err(TuiError::Terminal(e)),
                None => break,
            },
            Some(action) = rx.recv() => Some(action),
            _ = tick.tick(), if state.busy > 0 => Some(Action::Tick(Utc::now())),
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
            for effect in update(&mut state, action) {
                if effect == Effect::Quit {
                    return Ok(());
                }
                run_effect(effect, &source, &tx, &mut term, &mut cancel)?;
            }
        }
        if state.quit {
            return Ok(());
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
    Ok(())
}

fn run_effect<W: Write>(
    effect: Effect,
    source: &Arc<dyn ReviewSource>,
    tx: &UnboundedSender<Action>,
    term: &mut Terminal<CrosstermBackend<W>>,
    cancel: &mut Option<Arc<AtomicBool>>,
) -> Result<(), TuiError> {
    let source = Arc::clone(source);
    let tx = tx.clone();
    match effect {
        Effect::LoadSummaries => {
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Action::SummariesLoaded(source.summaries()));
            });
        }
        Effect::LoadDetail(id) => {
            tokio::task::spawn_blocking(move || {
                let result = source.detail(&id).map(Box::new);
                let _ = tx.send(Action::DetailLoaded(id, result));
            });
        }
        Effect::Decide(request) => {
            let flag = Arc::new(AtomicBool::new(false));
            *cancel = Some(Arc::clone(&flag));
            tokio::task::spawn_blocking(move || {
                let id = request.run_id.clone();
                let (progress_tx, progress_id) = (tx.clone(), id.clone());
                let progress: Progress =
                    Arc::new(move |step| drop(progress_tx.send(Action::DecisionProgress(progress_id.clone(), step))));
                let _ = tx.send(Action::Decided(id, source.decide(request, progress, flag)));
            });
        }
        Effect::CancelDecision => {
            if let Some(flag) = cancel.take() {
                flag.store(true, Ordering::SeqCst);
            }
        }
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
