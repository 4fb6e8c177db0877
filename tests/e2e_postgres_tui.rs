//! Two approvers' TUIs on one PostgreSQL store (the real binary in pseudo-terminals, 80×24, against the
//! simulator): an approval in one shows in the other's queue within a second, pushed by the store's
//! change notifications (LISTEN/NOTIFY). Skipped loudly without `SIGNOFF_TEST_PG`; a failure under
//! `CI=true` (see `common::backends`).

use crate::common;
use crate::e2e_postgres::{PASSWORD_VAR, SECRET_VAR, ok, write_pg_config};
use crate::pty_support;
use crate::review_support;

use std::path::Path;
use std::time::{Duration, Instant};

use pty_support::{Session, approve};
use review_support::{APPROVER, Harness, SECOND, propose_journal_00123, propose_vendor_us104};

/// `signoff` (the TUI) on the PostgreSQL store the config names, as `approver`, without colour.
fn tui(h: &Harness, config: &Path, password: &str, approver: &str) -> Session {
    let secret = h.sim.options().client_secret.clone();
    let env =
        [(SECRET_VAR, secret.as_str()), (PASSWORD_VAR, password), ("SIGNOFF_APPROVER", approver), ("NO_COLOR", "1")];
    Session::start_with(&["--config", config.to_str().unwrap()], &env, 24, 80)
}

/// Whether the queue on `screen` shows the vendor run executed.
fn vendor_executed(screen: &str) -> bool {
    screen.lines().any(|l| l.contains("US-104") && l.contains("executed"))
}

/// Every file under `dir`, read as bytes (logs, state, the busy-store journal).
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_in_one_tui_shows_in_the_other_tuis_queue_within_a_second_on_postgres() {
    let target = std::thread::spawn(|| common::backends::pg_target("e2e_postgres_tui")).join().unwrap();
    let Some(target) = target else { return };
    let password = target.password.as_ref().unwrap().expose().to_string();
    let h = Harness::start().await;
    let config = write_pg_config(&h, &target.url);
    ok(&h, &config, &password, &["connector", "sync-metadata"]);
    // Two runs proposed through the harness, imported into PostgreSQL as run files.
    let keys = propose_vendor_us104(&h, "RUN-PGT-VND", 1);
    propose_journal_00123(&h, "RUN-PGT-JNL");
    let runs: Vec<_> =
        ["RUN-PGT-VND", "RUN-PGT-JNL"].iter().map(|id| h.store().get(&(*id).into()).unwrap().unwrap().run).collect();
    let run_dir = h.dir.path().join("pg-runs");
    common::write_runs(&run_dir, &runs);
    ok(&h, &config, &password, &["runs", "import", run_dir.to_str().unwrap()]);

    // Two approvers on the store: one opens the vendor run, the other watches the queue.
    let mut first = tui(&h, &config, &password, APPROVER);
    let watching = tui(&h, &config, &password, SECOND);
    for s in [&first, &watching] {
        s.wait_for(&["US-104", "2/2 shown"]);
    }
    first.keys("/");
    first.type_text("US-104");
    first.keys("\r");
    first.wait_for(&["1/2 shown"]);
    first.keys("\r");
    first.wait_for(&["RUN-PGT-VND", "approvals 0 of 1"]);
    assert!(!vendor_executed(&watching.screen()));

    h.sim.clear_requests();
    approve(&mut first, "RUN-PGT-VND", "terms agreed with the vendor");
    let waiting = Instant::now();
    // Both screens in one loop: when the deciding TUI shows the outcome, and when the other's queue does.
    let (mut decided, mut shown) = (None, None);
    while decided.is_none() || shown.is_none() {
        if decided.is_none() && first.screen().contains("RUN-PGT-VND: executed") {
            decided = Some(Instant::now());
        }
        if shown.is_none() && vendor_executed(&watching.screen()) {
            shown = Some(Instant::now());
        }
        assert!(
            waiting.elapsed() < pty_support::PATIENCE,
            "the decision did not show in both TUIs; the deciding one shows:\n{}\nthe other:\n{}",
            first.screen(),
            watching.screen()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let (decided, shown) = (decided.unwrap(), shown.unwrap());
    let lag = shown.saturating_duration_since(decided);
    eprintln!("postgres: the other TUI's queue showed the approval {lag:?} after the deciding TUI showed its outcome");
    assert!(lag < Duration::from_secs(1), "the other TUI showed the decision only after {lag:?}");

    // The decision happened once, in F&O and in the store.
    assert_eq!(h.writes().len(), 1, "one write in the simulator's log: {:?}", h.writes());
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    let pg = signoff::store::Store::open_postgres(&target).unwrap();
    assert_eq!(pg.get(&"RUN-PGT-VND".into()).unwrap().unwrap().status, signoff::model::RunStatus::Executed);

    for mut s in [first, watching] {
        s.keys("q");
        assert!(s.wait_exit().success());
        let output = String::from_utf8_lossy(&s.output()).into_owned();
        assert!(!output.contains(&password), "the store password was on the screen");
        for (path, bytes) in files_under(s.home.path()) {
            assert!(!String::from_utf8_lossy(&bytes).contains(&password), "the store password is in {path:?}");
        }
    }
}
