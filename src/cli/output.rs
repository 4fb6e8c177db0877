//! Everything the CLI prints goes through here, so every output escapes the same characters.
//!
//! Text is written a line at a time through [`crate::text::visible`] (idempotent: text a renderer already
//! made visible passes unchanged, while a run id, a path or filter text echoed from the command line is
//! escaped here); JSON goes through [`crate::text::terminal_safe_json`]. Standard error gets the same
//! treatment in [`warn`].
//!
//! A closed pipe (`signoff runs list | head -1`): Rust starts with SIGPIPE ignored, so a write to a closed
//! standard output fails with EPIPE and `println!` would panic. We keep SIGPIPE ignored — restoring the
//! default would also let a write to a closed *socket* (the ssh-agent that signs a decision) kill the
//! process in the middle of a decision — and write through [`text`], which turns the broken pipe into
//! [`StdoutClosed`]. `cli::main` then ends quietly with exit 141, what a shell reports for a process a
//! closed pipe stopped, with no message.

use std::io::Write as _;

use serde::Serialize;

use crate::text::{terminal_safe_json, visible};

/// Standard output was closed by its reader: stop quietly.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// The exit code after [`StdoutClosed`]: 128 + SIGPIPE, as if the pipe had stopped the process.
pub const CLOSED_PIPE_EXIT: u8 = 141;

/// Print `s` to standard output, each line made visible.
pub fn text(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut lines = s.split('\n').peekable();
    while let Some(line) = lines.next() {
        let written = out.write_all(visible(line).as_bytes());
        let written = written.and_then(|()| if lines.peek().is_some() { out.write_all(b"\n") } else { Ok(()) });
        written.map_err(closed_or)?;
    }
    out.flush().map_err(closed_or)
}

/// Print one line (`s` and a newline) to standard output, made visible.
pub fn line(s: &str) -> anyhow::Result<()> {
    text(&format!("{s}\n"))
}

/// Print `value` as pretty JSON, every invisible character written as a `\uXXXX` escape.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    let mut out = std::io::stdout().lock();
    let written = out.write_all(terminal_safe_json(&json).as_bytes()).and_then(|()| out.write_all(b"\n"));
    written.and_then(|()| out.flush()).map_err(closed_or)
}

/// Print `s` to standard error, each line made visible. A closed standard error is ignored: there is
/// nobody left to tell.
pub fn warn(s: &str) {
    let mut err = std::io::stderr().lock();
    for line in s.lines() {
        let _ = writeln!(err, "{}", visible(line));
    }
}

fn closed_or(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe { StdoutClosed.into() } else { e.into() }
}

/// `say!("…", args)`: [`line`] with `format!` arguments.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::line(&format!($($arg)*))
    };
}
pub(crate) use say;
