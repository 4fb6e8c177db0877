//! End to end: the F&O workflow inbox in the real `signoff` TUI (a pseudo-terminal) against the simulator
//! on loopback. The TUI reads the inbox at start and on `R` through its review source; approving an item
//! completes it in F&O. Judged by the simulator's state and request log.

use crate::pty_support;
use crate::review_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pty_support::{Session, approve};
use review_support::{APPROVER, Harness};
use serde_json::json;
use signoff::sim::Dialect;

const SECRET_VAR: &str = "SIGNOFF_E2E_INBOX_SECRET";

/// The dialect's customer config as a file whose secret comes from [`SECRET_VAR`].
fn write_config(h: &Harness) -> PathBuf {
    let mut config = (*h.config).clone();
    config.auth.client_secret_file = None;
    config.auth.client_secret_env = Some(SECRET_VAR.into());
    let path = h.dir.path().join("inbox-config.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    path
}

fn tui(h: &Harness, config: &std::path::Path) -> Session {
    let secret = h.sim.options().client_secret.clone();
    let args = ["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()];
    let state = h.dir.path().join("state");
    let env =
        [(SECRET_VAR, secret.as_str()), ("SIGNOFF_APPROVER", APPROVER), ("XDG_STATE_HOME", state.to_str().unwrap())];
    Session::start_with(&args, &env, 40, 140)
}

/// The work item actions called, in order.
fn item_actions(h: &Harness) -> Vec<String> {
    h.sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.target.starts_with("/data/WorkflowWorkItems/"))
        .map(|r| r.target.rsplit('.').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_reads_the_inbox_at_start_and_approving_an_item_completes_it_in_fno_with_the_comment() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = write_config(&h);
    // The store is empty: whatever the queue lists came from the F&O inbox.
    let mut s = tui(&h, &config);
    s.wait_for(&["APINV-000170", "00490", "2/2 shown"]);
    s.keys("/");
    s.type_text("APINV-000170");
    s.keys("\r");
    s.wait_for(&["1/2 shown"]);
    s.keys("\r");
    s.wait_for(&["wf-WI-000101", "F&O workflow work item WI-000101"]);
    h.sim.clear_requests();

    approve(&mut s, "wf-WI-000101", "chairs within the facilities budget");

    s.wait_for(&["wf-WI-000101: executed"]);
    let item = h.sim.record("WorkflowWorkItems", &json!({"InstanceId": "WI-000101"})).unwrap();
    assert_eq!(item["Status"], "Completed");
    assert_eq!(item["Comment"], "chairs within the facilities budget");
    assert_eq!(item["Outcome"], "Approve");
    assert_eq!(item_actions(&h), ["validate", "complete"]);
    let invoice =
        h.sim.record("VendorInvoiceHeaders", &json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000170"}));
    assert_eq!(invoice.unwrap()["VendorInvoiceReviewStatus"], "Approved");
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_reads_the_inbox_again_and_an_item_decided_in_fno_meanwhile_turns_stale_with_nothing_sent() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = write_config(&h);
    let mut s = tui(&h, &config);
    s.wait_for(&["00490", "2/2 shown"]);
    h.sim.complete_work_item("WI-000102", "demoapprover", false, "posted to the wrong period").unwrap();
    h.sim.clear_requests();

    s.keys("R");

    let start = Instant::now();
    loop {
        let screen = s.screen();
        if screen.lines().any(|l| l.contains("00490") && l.contains("stale")) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the journal item never showed stale:\n{screen}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(h.status("wf-WI-000102"), "stale");
    assert!(item_actions(&h).is_empty(), "reading the inbox never validates or completes: {:?}", item_actions(&h));
    s.keys("q");
    assert!(s.wait_exit().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_sync_from_the_command_line_adds_the_items_once_and_a_second_run_adds_nothing() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let config = write_config(&h);
    let sync = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
            .args(["inbox", "sync", "--json"])
            .env(SECRET_VAR, &h.sim.options().client_secret)
            .env("SIGNOFF_APPROVER", APPROVER)
            .env("XDG_STATE_HOME", h.dir.path().join("state"))
            .env_remove("SIGNOFF_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };

    let first = sync();
    let second = sync();

    assert_eq!(first["user"], "demoapprover");
    assert_eq!(first["added"], json!(["wf-WI-000101", "wf-WI-000102"]));
    assert_eq!(second["added"], json!([]));
    assert_eq!(second["unchanged"], json!(["wf-WI-000101", "wf-WI-000102"]));
    assert_eq!(h.store().count_runs().unwrap(), 2);
    assert!(item_actions(&h).is_empty(), "a sync never validates or completes");
}
