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

/// Print `value` as pretty JSON, every invisible character written as a `\uXXXX` escape. Written as it is
/// serialised, never held whole: `runs list --json` of 100,000 runs is 50 MB of text.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = TerminalSafe::new(std::io::BufWriter::new(std::io::stdout().lock()));
    let written = serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from);
    written.and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).map_err(closed_or)
}

/// A writer that passes JSON text through [`terminal_safe_json`]. A character split across two writes
/// waits for its last byte; bytes that are not UTF-8 at all (never from serde_json) become U+FFFD.
struct TerminalSafe<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> TerminalSafe<W> {
    fn new(inner: W) -> Self {
        TerminalSafe { inner, pending: Vec::new() }
    }
}

impl<W: std::io::Write> std::io::Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        loop {
            let (valid, bad) = match std::str::from_utf8(&self.pending) {
                Ok(text) => (text.len(), None),
                Err(e) => (e.valid_up_to(), e.error_len()),
            };
            let text = String::from_utf8_lossy(&self.pending[..valid]);
            self.inner.write_all(terminal_safe_json(&text).as_bytes())?;
            match bad {
                Some(len) => {
                    self.inner.write_all("\u{fffd}".as_bytes())?;
                    self.pending.drain(..valid + len);
                }
                None => {
                    self.pending.drain(..valid);
                    return Ok(buf.len());
                }
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            // An unfinished character at the very end: never valid, shown as U+FFFD.
            self.pending.clear();
            self.inner.write_all("\u{fffd}".as_bytes())?;
        }
        self.inner.flush()
    }
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

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn json_written_in_pieces_is_made_terminal_safe_even_when_a_character_is_split() {
        let text = serde_json::to_string_pretty(&serde_json::json!({"name": "Con\u{202e}toso é \u{1b}[31m"})).unwrap();
        let mut safe = TerminalSafe::new(Vec::new());
        // Byte by byte: every multi-byte character arrives split.
        for byte in text.as_bytes() {
            safe.write_all(std::slice::from_ref(byte)).unwrap();
        }
        safe.flush().unwrap();
        assert_eq!(String::from_utf8(safe.inner).unwrap(), terminal_safe_json(&text));
        assert!(terminal_safe_json(&text).contains("\\u202e") && terminal_safe_json(&text).contains('é'));
    }
}
