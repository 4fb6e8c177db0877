//! End to end on one shared store: the real `signoff` TUI in pseudo-terminals against the simulator on
//! loopback, as approvers on a jump host run it. Another approver's decision shows in every open TUI
//! within seconds, and quitting while a decision waits on F&O ends with the truth, not a panic.

use crate::pty_support;
use crate::review_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pty_support::{Session, approve};
use review_support::{APPROVER, Harness, SECOND, propose_journal_00123, propose_vendor_us104};
use signoff::sim::Fault;

const SECRET_VAR: &str = "SIGNOFF_E2E_STORE_SECRET";

/// Write the harness config as TOML, the secret named by an environment variable.
fn write_config(h: &Harness) -> PathBuf {
    h.write_config(SECRET_VAR)
}

/// `signoff` (the TUI) on the harness's store and simulator, as `approver`.
fn tui(h: &Harness, config: &Path, approver: &str) -> Session {
    let secret = h.sim.options().client_secret.clone();
    let args = ["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()];
    Session::start_with(&args, &[(SECRET_VAR, &secret), ("SIGNOFF_APPROVER", approver)], 40, 120)
}

/// The queue row of the run whose target shows `target`.
fn row<'a>(screen: &'a str, target: &str) -> &'a str {
    screen.lines().find(|l| l.contains(target)).unwrap_or_else(|| panic!("no row for {target}:\n{screen}"))
}

/// Poll until `check` holds on the screen, failing after `limit` with what the screen showed.
fn within(s: &Session, limit: Duration, what: &str, check: impl Fn(&str) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let screen = s.screen();
        if check(&screen) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what} did not show within {limit:?}; the screen shows:\n{screen}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_by_another_approver_shows_in_both_open_tuis_within_two_seconds_and_cannot_be_repeated() {
    let h = Harness::start().await;
    let config = write_config(&h);
    propose_vendor_us104(&h, "RUN-LIVE-VND", 1);
    propose_journal_00123(&h, "RUN-LIVE-JNL");

    // Two approvers watching the same store: one on the queue, one with the run open.
    let queue = tui(&h, &config, SECOND);
    let mut run = tui(&h, &config, SECOND);
    queue.wait_for(&["US-104", "2/2 shown"]);
    run.wait_for(&["US-104", "2/2 shown"]);
    assert!(row(&queue.screen(), "US-104").contains("pending"));
    run.keys("/");
    run.type_text("US-104");
    run.keys("\r");
    run.wait_for(&["1/2 shown"]);
    run.keys("\r");
    run.wait_for(&["RUN-LIVE-VND", "Evidence", "approvals 0 of 1"]);

    // While nothing changes, the open TUIs only look at the store: nothing is reloaded, F&O is not read.
    h.sim.clear_requests();
    std::thread::sleep(Duration::from_secs(3));
    let idle: Vec<String> = h.sim.requests().iter().map(|r| r.target.clone()).collect();
    assert!(idle.is_empty(), "idle TUIs sent requests: {idle:?}");

    // A third approver decides from the command line, as another person at another terminal would.
    let secret = h.sim.options().client_secret.clone();
    let approved = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
        .args(["approve", "RUN-LIVE-VND", "--reason", "terms agreed with the vendor"])
        .env(SECRET_VAR, &secret)
        .env("SIGNOFF_APPROVER", APPROVER)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap();
    assert!(approved.status.success(), "{}", String::from_utf8_lossy(&approved.stderr));
    assert_eq!(h.status("RUN-LIVE-VND"), "executed");

    let limit = Duration::from_secs(2);
    within(&queue, limit, "the executed row in the other TUI's queue", |s| {
        s.lines().any(|l| l.contains("US-104") && l.contains("executed"))
    });
    within(&run, limit, "the executed run in the open run view", |s| {
        s.lines().nth(1).is_some_and(|l| l.contains("executed")) && s.contains("approvals 1 of 1")
    });

    // The run view's approver cannot approve it again: it is not pending any more.
    run.keys("a");
    let screen = run.wait_for(&["RUN-LIVE-VND is executed; no further decision can be taken"]);
    assert!(!screen.contains("Approve RUN-LIVE-VND?"), "no approve dialog opened:\n{screen}");
    assert_eq!(h.sim.requests().iter().filter(|r| r.method == "PATCH").count(), 1, "one write, by the CLI");
    for mut s in [queue, run] {
        s.keys("q");
        assert!(s.wait_exit().success());
    }
}

/// The TUI approving journal 00123 while F&O throttles its post (429, Retry-After 5 s): returned once
/// the throttled attempt is in the simulator's log, so the decision is waiting out the Retry-After.
fn approve_into_a_throttled_post(h: &Harness, config: &Path) -> (Session, serde_json::Value) {
    let keys = propose_journal_00123(h, "RUN-QUIT-JNL");
    h.sim.inject(Fault::Throttle { path_contains: "signoffPost".into(), retry_after_secs: 5, times: 1 });
    let mut s = tui(h, config, APPROVER);
    s.wait_for(&["00123", "1/1 shown"]);
    s.keys("\r");
    s.wait_for(&["RUN-QUIT-JNL", "Evidence"]);
    approve(&mut s, "RUN-QUIT-JNL", "Month-end accrual");
    let throttled = Instant::now();
    while !h.sim.requests().iter().any(|r| r.target.contains("signoffPost") && r.status == 429) {
        assert!(throttled.elapsed() < Duration::from_secs(30), "the post was never sent:\n{}", s.screen());
        std::thread::sleep(Duration::from_millis(20));
    }
    (s, keys)
}

/// The record agrees with F&O after the TUI is gone: posted once, executed, and the line printed after
/// the terminal was restored says so.
fn assert_concluded_truthfully(h: &Harness, s: &Session, keys: &serde_json::Value) {
    let output = String::from_utf8_lossy(&s.output()).into_owned();
    assert!(!output.contains("panicked") && !output.contains("being shutdown"), "{output}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", keys).unwrap()["IsPosted"], "Yes");
    assert_eq!(h.status("RUN-QUIT-JNL"), "executed");
    let posts: Vec<u16> =
        h.sim.requests().iter().filter(|r| r.target.contains("signoffPost")).map(|r| r.status).collect();
    assert_eq!(posts.iter().filter(|s| **s < 300).count(), 1, "exactly one post applied: {posts:?}");
    assert_eq!(posts.len(), 2, "the throttled attempt and the one that applied: {posts:?}");
    let restored = output.rfind("\x1b[?1049l").expect("the alternate screen was left");
    let after = &output[restored..];
    assert!(after.contains("the decision in flight concluded") && after.contains("executed"), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_while_a_throttled_post_waits_concludes_it_truthfully_and_exits_zero() {
    let h = Harness::start().await;
    let config = write_config(&h);
    let (mut s, keys) = approve_into_a_throttled_post(&h, &config);
    // Quit while signoff waits out the 429: it asks, then waits for the decision to conclude.
    s.keys("q");
    s.wait_for(&["Quit signoff?", "A decision on RUN-QUIT-JNL is being sent to F&O. Quit"]);
    s.keys("\t");
    s.keys("\r");
    let status = s.wait_exit();
    assert!(status.success(), "exit {status:?}:\n{}", String::from_utf8_lossy(&s.output()));
    assert_concluded_truthfully(&h, &s, &keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_a_throttled_post_waits_concludes_it_first_and_exits_143() {
    let h = Harness::start().await;
    let config = write_config(&h);
    let (mut s, keys) = approve_into_a_throttled_post(&h, &config);
    // A signal is a confirmed quit: no question, but the decision in flight still concludes first.
    s.signal(libc::SIGTERM);
    let status = s.wait_exit();
    assert_eq!(status.exit_code(), 128 + libc::SIGTERM as u32, "{}", String::from_utf8_lossy(&s.output()));
    assert_concluded_truthfully(&h, &s, &keys);
    assert!(String::from_utf8_lossy(&s.output()).contains("stopped by SIGTERM"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_in_one_tui_shows_in_the_other_tuis_run_view_and_queue_within_two_seconds() {
    let h = Harness::start().await;
    let config = write_config(&h);
    propose_vendor_us104(&h, "RUN-TWO-VND", 1);
    propose_journal_00123(&h, "RUN-TWO-JNL");
    let open = |s: &mut Session| {
        s.wait_for(&["US-104", "2/2 shown"]);
        s.keys("/");
        s.type_text("US-104");
        s.keys("\r");
        s.wait_for(&["1/2 shown"]);
        s.keys("\r");
        s.wait_for(&["RUN-TWO-VND", "Evidence", "approvals 0 of 1"]);
    };
    // Two approvers on one store, each with the run open.
    let mut first = tui(&h, &config, APPROVER);
    let mut second = tui(&h, &config, SECOND);
    open(&mut first);
    open(&mut second);

    approve(&mut first, "RUN-TWO-VND", "terms agreed with the vendor");
    first.wait_for(&["RUN-TWO-VND: executed"]);
    assert_eq!(h.status("RUN-TWO-VND"), "executed");
    let limit = Duration::from_secs(2);
    let took = within(&second, limit, "the executed run in the other approver's run view", |s| {
        s.lines().nth(1).is_some_and(|l| l.contains("executed")) && s.contains("approvals 1 of 1")
    });
    eprintln!("the other TUI's run view showed the approval after {took:?}");
    // The other approver cannot approve it again, and their queue says executed too.
    second.keys("a");
    second.wait_for(&["RUN-TWO-VND is executed; no further decision can be taken"]);
    second.keys("\x1b");
    within(&second, limit, "the executed row in the other approver's queue", |s| {
        s.lines().any(|l| l.contains("US-104") && l.contains("executed") && l.contains("1/1"))
    });
    assert_eq!(h.sim.requests().iter().filter(|r| r.method == "PATCH").count(), 1, "one write, by the first TUI");
    for mut s in [first, second] {
        s.keys("q");
        assert!(s.wait_exit().success());
    }
}
