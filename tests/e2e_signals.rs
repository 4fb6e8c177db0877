//! End to end: termination signals delivered to the real `signoff demo` in a pseudo-terminal leave the
//! terminal as it was, exit with 128 + the signal's number, and let the demo delete its files.

use crate::pty_support;

use pty_support::Session;

/// The demo's temporary directories (store, client secret, config) under the session's TMPDIR.
fn demo_files(s: &Session) -> Vec<String> {
    std::fs::read_dir(s.home.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("signoff-demo-"))
        .collect()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";

#[test]
fn sigterm_sighup_and_sigint_restore_the_terminal_exit_128_plus_signo_and_remove_the_demo_files() {
    let signals = [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP"), (libc::SIGINT, "SIGINT")];
    // All three at once: each demo is its own process with its own simulator.
    let mut sessions: Vec<Session> = signals.iter().map(|_| Session::start(&["demo"], 30, 100)).collect();
    for ((signo, name), s) in signals.iter().zip(&mut sessions) {
        s.wait_for(&["APINV-000123", "25/25 shown"]);
        assert_eq!(demo_files(s).len(), 1, "{name}: the demo's files exist while it runs");
        assert!(s.parser.lock().unwrap().screen().alternate_screen());
        s.signal(*signo);
        let status = s.wait_exit();
        assert_eq!(status.exit_code(), 128 + *signo as u32, "{name}: exit status {status:?}");

        let out = s.output();
        let text = String::from_utf8_lossy(&out);
        let left = rfind(&out, LEAVE_ALT).unwrap_or_else(|| panic!("{name}: the alternate screen was never left"));
        assert!(
            rfind(&out, ENTER_ALT) < Some(left),
            "{name}: nothing re-entered the alternate screen after leaving it"
        );
        let shown = rfind(&out, SHOW_CURSOR).unwrap_or_else(|| panic!("{name}: the cursor was never shown"));
        assert!(rfind(&out, HIDE_CURSOR) < Some(shown), "{name}: the cursor was hidden again");
        // What follows the restore is plain text: the line saying why signoff stopped.
        let tail = String::from_utf8_lossy(&out[left.max(shown)..]).into_owned();
        assert!(tail.contains(&format!("stopped by {name}")), "{name}: {tail:?}");
        assert!(!text.contains("panicked"), "{name}: {text}");
        let screen = s.parser.lock().unwrap();
        assert!(!screen.screen().alternate_screen() && !screen.screen().hide_cursor(), "{name}");
        drop(screen);
        assert!(s.cooked(), "{name}: raw mode is off (canonical input and echo are back)");
        assert!(demo_files(s).is_empty(), "{name}: the demo's files are gone: {:?}", demo_files(s));
    }
}
