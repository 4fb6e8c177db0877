//! The real `signoff` binary in a pseudo-terminal (portable-pty), with a vt100 screen model and the raw
//! output kept, so tests drive it with keys and read the screen, as a person at a terminal would.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::num::NonZero;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// How long to wait for the screen to show something; generous because CI machines are slow.
pub const PATIENCE: Duration = Duration::from_secs(40);

pub const BACKTAB: &str = "\x1b[Z";

/// The real binary on a pseudo-terminal, with a vt100 screen model fed by a reader thread.
pub struct Session {
    pub parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote to the terminal, in order.
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    reader: Option<std::thread::JoinHandle<()>>,
    pub home: tempfile::TempDir,
}

impl Session {
    pub fn start(args: &[&str], rows: u16, cols: u16) -> Session {
        Session::start_with(args, &[], rows, cols)
    }

    /// Start `signoff ARGS` with a clean environment (a fresh HOME and XDG dirs, TMPDIR inside it) plus `env`.
    pub fn start_with(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Session {
        let pty = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_DATA_HOME", home.path().join("data"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env("TMPDIR", home.path());
        cmd.env("TERM", "xterm-256color");
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let parser =
            Arc::new(Mutex::new(vt100::Parser::new(NonZero::new(rows).unwrap(), NonZero::new(cols).unwrap(), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let (sink, raw_sink) = (Arc::clone(&parser), Arc::clone(&raw));
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
                raw_sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        Session { parser, raw, writer, child, master: pty.master, reader: Some(reader), home }
    }

    /// Resize the terminal, as a person dragging the window (or tmux) would: the program gets SIGWINCH.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        self.parser.lock().unwrap().screen_mut().set_size(NonZero::new(rows).unwrap(), NonZero::new(cols).unwrap());
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Everything written to the terminal so far.
    pub fn output(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Wait until the screen contains every one of `needles`; fail with the screen if it never does.
    pub fn wait_for(&self, needles: &[&str]) -> String {
        self.wait_for_within(needles, PATIENCE)
    }

    /// As [`Session::wait_for`], failing after `limit`.
    pub fn wait_for_within(&self, needles: &[&str], limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(start.elapsed() < limit, "waited {limit:?} for {needles:?}; the screen shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn keys(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key at a time, as a person types: the TUI sees each one in order.
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.keys(&c.to_string());
        }
    }

    /// Send signal `signo` to the program, as `kill -SIGNO PID` would.
    pub fn signal(&self, signo: i32) {
        let pid = self.child.process_id().expect("the child has a pid") as libc::pid_t;
        // SAFETY: kill(2) with a pid this test spawned and still holds (not yet reaped).
        assert_eq!(unsafe { libc::kill(pid, signo) }, 0, "kill({pid}, {signo})");
    }

    /// Whether the terminal is in canonical (cooked) mode with echo, i.e. raw mode is off.
    pub fn cooked(&self) -> bool {
        let fd = self.master.as_raw_fd().expect("a unix pty");
        // SAFETY: tcgetattr only writes into the zeroed termios it is given.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr on the pty");
        t.c_lflag & libc::ICANON != 0 && t.c_lflag & libc::ECHO != 0
    }

    /// Wait for the process to exit by itself; the reader thread then sees the end of the output.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(start.elapsed() < PATIENCE, "signoff did not exit; the screen shows:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Approve the open run with a reason: `a`, Shift-Tab to the reason, type it, Tab Tab to Approve, Enter.
pub fn approve(s: &mut Session, run_id: &str, reason: &str) {
    confirm(s, "a", &[&format!("Approve {run_id}?"), "Reason"], reason);
}

/// Open a decision dialog with `key`, wait for it to show `shown`, type `reason` into its Reason field
/// (Shift-Tab from the focused Cancel), then Tab Tab to the confirm button and Enter.
pub fn confirm(s: &mut Session, key: &str, shown: &[&str], reason: &str) {
    s.keys(key);
    s.wait_for(shown);
    s.keys(BACKTAB);
    s.type_text(reason);
    s.wait_for(&[reason]);
    s.keys("\t");
    s.keys("\t");
    s.keys("\r");
}
