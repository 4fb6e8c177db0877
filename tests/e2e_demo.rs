//! End to end: the real `signoff demo` binary in a pseudo-terminal (portable-pty + vt100), keys in,
//! screen out. The demo runs its own simulator on 127.0.0.1 and stops it when it exits.

use std::io::{Read, Write};
use std::num::NonZero;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// How long to wait for the screen to show something; generous because CI machines are slow.
const PATIENCE: Duration = Duration::from_secs(40);

/// The real binary on a pseudo-terminal, with a vt100 screen model fed by a reader thread.
struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    reader: Option<std::thread::JoinHandle<()>>,
    _home: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str], rows: u16, cols: u16) -> Session {
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
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(rows).unwrap(),
            std::num::NonZero::new(cols).unwrap(),
            0,
        )));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let sink = Arc::clone(&parser);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        Session { parser, writer, child, _master: pty.master, reader: Some(reader), _home: home }
    }

    /// Resize the terminal, as a person dragging the window (or tmux) would: the program gets SIGWINCH.
    fn resize(&mut self, rows: u16, cols: u16) {
        self._master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        self.parser.lock().unwrap().screen_mut().set_size(NonZero::new(rows).unwrap(), NonZero::new(cols).unwrap());
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Wait until the screen contains every one of `needles`; fail with the screen if it never does.
    fn wait_for(&self, needles: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(start.elapsed() < PATIENCE, "waited {PATIENCE:?} for {needles:?}; the screen shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key at a time, as a person types: the TUI sees each one in order.
        std::thread::sleep(Duration::from_millis(60));
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.keys(&c.to_string());
        }
    }

    /// Wait for the process to exit by itself; the reader thread then sees the end of the output.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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

const BACKTAB: &str = "\x1b[Z";

/// Filter the queue down to one run and open it.
fn open_run(s: &mut Session, filter: &str, run_id: &str) {
    s.wait_for(&["APINV-000123", "22/22 shown"]);
    s.keys("/");
    s.type_text(filter);
    s.keys("\r");
    s.wait_for(&["1/22 shown"]);
    s.keys("\r");
    s.wait_for(&[run_id, "Evidence", "Policy"]);
}

/// Approve the open run with a reason: `a`, Shift-Tab to the reason, type it, Tab Tab to Approve, Enter.
fn approve(s: &mut Session, run_id: &str, reason: &str) {
    s.keys("a");
    s.wait_for(&[&format!("Approve {run_id}?"), "Reason"]);
    s.keys(BACKTAB);
    s.type_text(reason);
    s.wait_for(&[reason]);
    s.keys("\t");
    s.keys("\t");
    s.keys("\r");
}

#[test]
fn demo_approves_an_invoice_shows_it_executed_and_restores_the_terminal() {
    let mut s = Session::start(&["demo"], 40, 120);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    // The outcome in place: the flash, the status in the header, and the approval counted.
    let screen = s.wait_for(&["run-inv-usmf-apinv-000123: executed", "approvals 1 of 1"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("executed")), "{screen}");
    {
        let parser = s.parser.lock().unwrap();
        assert!(parser.screen().alternate_screen(), "the TUI runs on the alternate screen");
    }
    s.keys("q");
    let status = s.wait_exit();
    assert!(status.success(), "signoff demo exited with {status:?}");
    let parser = s.parser.lock().unwrap();
    assert!(!parser.screen().alternate_screen(), "the alternate screen was left");
    assert!(!parser.screen().hide_cursor(), "the cursor is shown again");
}

/// Roll back the open run with a reason: `U`, wait for the plan, Shift-Tab to the reason, Tab Tab, Enter.
fn roll_back(s: &mut Session, run_id: &str, reason: &str) {
    s.keys("U");
    s.wait_for(&[&format!("Roll back {run_id}?"), "sent in this order", "Reason"]);
    s.keys(BACKTAB);
    s.type_text(reason);
    s.wait_for(&[reason]);
    s.keys("\t");
    s.keys("\t");
    s.keys("\r");
}

#[test]
fn demo_approves_an_invoice_then_rolls_it_back_through_the_same_pipeline() {
    let mut s = Session::start(&["demo"], 40, 120);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    s.wait_for(&["run-inv-usmf-apinv-000123: executed"]);
    roll_back(&mut s, "run-inv-usmf-apinv-000123", "approved against the wrong receipt");
    let screen = s.wait_for(&["run-inv-usmf-apinv-000123: rolled back"]);
    assert!(screen.lines().nth(1).is_some_and(|l| l.contains("rolled-back")), "{screen}");
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[test]
fn drift_scenario_turns_the_approval_into_a_stale_three_way_view_and_writes_nothing() {
    let mut s = Session::start(&["demo", "--scenario", "drift"], 50, 200);
    open_run(&mut s, "APINV-000123", "run-inv-usmf-apinv-000123");
    approve(&mut s, "run-inv-usmf-apinv-000123", "matched to receipt");
    let screen = s.wait_for(&["STALE", "live", "stale"]);
    // The drifted field is marked with `!` and shows the reviewed, proposed and live values side by side.
    let drift_row = screen
        .lines()
        .find(|l| l.trim_start().starts_with("! DueDate"))
        .unwrap_or_else(|| panic!("no drifted DueDate row in:\n{screen}"));
    assert!(drift_row.contains("2026-12-18") && drift_row.contains("2026-12-31"), "{drift_row}");
    assert!(!screen.contains("executed"), "a stale run is not executed:\n{screen}");
    // The same view stacked (`u`): reviewed, proposed and live each on their own line.
    s.keys("u");
    s.wait_for(&["- 2026-12-18T12:00:00Z", "+ 2026-12-18T12:00:00Z", "! live: 2026-12-31T12:00:00Z"]);
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_terminal_too_small_says_so_and_a_resize_brings_the_queue_back() {
    let mut s = Session::start(&["demo"], 20, 70);
    s.wait_for(&["terminal too small (need 80×24, have 70×20)"]);
    s.resize(30, 100);
    s.wait_for(&["APINV-000123", "22/22 shown"]);
    s.resize(26, 90);
    s.keys("j");
    s.wait_for(&["APINV-000123", "22/22 shown"]);
    s.keys("q");
    let status = s.wait_exit();
    assert!(status.success(), "signoff demo exited with {status:?} after resizes:\n{}", s.screen());
}
