//! Terminal lifecycle: enter raw mode and the alternate screen, and restore everything (raw mode,
//! alternate screen, mouse capture, bracketed paste, cursor) on exit, on error and on panic.

use std::io::{self, Write};
use std::sync::{Once, OnceLock};
use std::thread::ThreadId;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};

/// Undo everything [`enter`] may have done. Every step is attempted even if an earlier one fails,
/// because a half-restored terminal is worse than an error message.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, DisableMouseCapture);
    let _ = execute!(out, DisableBracketedPaste);
    let _ = execute!(out, LeaveAlternateScreen);
    let _ = execute!(out, Show);
    let _ = out.flush();
}

/// Restores the terminal when dropped, so an early return or `?` cannot leave it raw.
pub struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Enter raw mode and the alternate screen, with bracketed paste on and mouse capture only if asked.
pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
    let _ = TUI_THREAD.set(std::thread::current().id());
    install_panic_hook();
    enable_raw_mode()?;
    let guard = TerminalGuard;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste, Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(guard)
}

static HOOK: Once = Once::new();
/// The thread that owns the screen. A panic anywhere else (a decision's worker on tokio's blocking pool)
/// is caught by its task and reported in the TUI, which must then still have its terminal.
static TUI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// On panic: restore the terminal, log the panic (with its location) and print one short line;
/// the user never sees a stack trace drawn over a raw-mode screen.
fn install_panic_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if TUI_THREAD.get() != Some(&std::thread::current().id()) {
                tracing::error!(panic = %info, backtrace = %std::backtrace::Backtrace::force_capture(), "a worker panicked");
                return;
            }
            restore();
            tracing::error!(panic = %info, backtrace = %std::backtrace::Backtrace::force_capture(), "the TUI panicked");
            let _ = writeln!(
                io::stderr(),
                "signoff stopped because of an internal error; the terminal was restored and the details were written to the log."
            );
        }));
    });
}
