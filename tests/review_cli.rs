//! The decision verbs through the real binary: exit codes, dry run output, evidence export and verify,
//! and a killed process reconciled at the next start of any command.

use crate::review_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;
use signoff::model::{RunId, RunStatus};
use signoff::sim::{Fault, SimOptions};

use review_support::agent::{Agent, write_allowed_signers};
use review_support::{APPROVER, Harness, REQUESTER, propose_journal_00123, propose_vendor_us104};

const SECRET_VAR: &str = "SIGNOFF_REVIEW_TEST_SECRET";

/// Write the harness config as TOML, the secret named by an environment variable.
fn write_config(h: &Harness) -> PathBuf {
    h.write_config(SECRET_VAR)
}

fn signoff(h: &Harness, config: &Path, approver: &str, args: &[&str]) -> Output {
    signoff_env(h, config, approver, args, &[])
}

/// As [`signoff`], with extra environment variables (`SSH_AUTH_SOCK` for signed decisions).
fn signoff_env(h: &Harness, config: &Path, approver: &str, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .envs(env.iter().copied())
        .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
        .args(args)
        .env(SECRET_VAR, &h.sim.options().client_secret)
        .env("SIGNOFF_APPROVER", approver)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env("XDG_DATA_HOME", h.dir.path().join("data"))
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap()
}

/// F&O holds the journal post for 3 s, then applies it whether or not the caller is still there.
fn slow_post() -> Fault {
    Fault::SlowThenApply { path_contains: "signoffPost".into(), delay: Duration::from_secs(3), times: 1 }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_executes_and_exits_zero_with_json_output() {
    let h = Harness::start().await;
    let config = write_config(&h);
    let keys = propose_vendor_us104(&h, "RUN-CLI-VND", 1);

    let out = signoff(&h, &config, APPROVER, &["--json", "approve", "RUN-CLI-VND", "--reason", "Letter verified"]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"], "executed");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_distinguish_stale_refused_and_failed() {
    let options = signoff::sim::SimOptions { closed_periods: vec!["2026-01".into()], ..Default::default() };
    let h = Harness::start_with(options, |_| {}).await;
    let config = write_config(&h);
    let keys = propose_vendor_us104(&h, "RUN-CLI-STALE", 1);
    h.sim.edit_record("VendorsV2", &keys, json!({"DefaultPaymentTermsName": "Net10"})).unwrap();
    propose_journal_00123(&h, "RUN-CLI-FAILED");
    h.propose(
        "RUN-CLI-SOD",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-111"}),
        json!({"OnHoldStatus": "All"}),
        vec![],
        1,
    );

    let stale = signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-STALE", "--reason", "ok"]);
    let refused = signoff(&h, &config, REQUESTER, &["approve", "RUN-CLI-SOD", "--reason", "ok"]);
    let failed = signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-FAILED", "--reason", "ok"]);
    let no_reason = signoff(&h, &config, APPROVER, &["reject", "RUN-CLI-SOD"]);

    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert!(text(&stale).contains("Net10"), "the three-way view names the live value: {}", text(&stale));
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused));
    assert!(text(&refused).contains("segregation of duties"));
    assert_eq!(failed.status.code(), Some(5), "{}", text(&failed));
    assert_eq!(no_reason.status.code(), Some(2), "{}", text(&no_reason));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_the_request_and_writes_nothing() {
    let h = Harness::start().await;
    let config = write_config(&h);
    let keys = propose_vendor_us104(&h, "RUN-CLI-DRY", 1);
    let etag = h.sim.record("VendorsV2", &keys).unwrap()["@odata.etag"].as_str().unwrap().to_string();

    let out = signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-DRY", "--reason", "rehearsal", "--dry-run"]);

    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("PATCH ") && shown.contains(&etag), "{shown}");
    assert!(shown.contains(r#"{"DefaultPaymentTermsName":"Net30"}"#), "{shown}");
    assert!(!shown.contains(&h.sim.options().client_secret));
    assert!(h.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_bundle_verifies_offline_and_a_flipped_byte_fails() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let allowed = agent.dir.path().join("allowed_signers");
    let path = allowed.clone();
    let h = Harness::start_with(SimOptions::default(), move |c| c.approver.allowed_signers = Some(path)).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
    let config = write_config(&h);
    propose_vendor_us104(&h, "RUN-CLI-BUNDLE", 1);
    let signed =
        |args: &[&str]| signoff_env(&h, &config, APPROVER, args, &[("SSH_AUTH_SOCK", agent.socket.as_os_str())]);
    let bundle = h.dir.path().join("evidence");
    let export_args = ["audit", "export", "RUN-CLI-BUNDLE", "--out", bundle.to_str().unwrap()];

    // Imported after the newest checkpoint: no signature covers the run yet, and the export says what to do.
    let early = signed(&export_args);
    assert_eq!(early.status.code(), Some(1), "{}", text(&early));
    assert!(text(&early).contains("run `signoff audit checkpoint`"), "{}", text(&early));
    let checkpoint = signed(&["audit", "checkpoint"]);
    assert_eq!(checkpoint.status.code(), Some(0), "{}", text(&checkpoint));
    assert!(text(&checkpoint).contains(&format!("signed by {APPROVER}")), "{}", text(&checkpoint));
    // The signed approval ends under its own checkpoint: the run exports straight after it.
    let approve = signed(&["approve", "RUN-CLI-BUNDLE", "--reason", "ok"]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    let export = signed(&export_args);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    let ok = signoff(&h, &config, APPROVER, &["audit", "verify", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains(&format!("signed by {APPROVER}")), "{}", text(&ok));
    // An auditor without signoff's config names the allowed signers.
    let offline = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify", "--bundle", bundle.to_str().unwrap(), "--allowed-signers", allowed.to_str().unwrap()])
        .args(["--config", h.dir.path().join("no-such-config.toml").to_str().unwrap()])
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(0), "{}", text(&offline));

    let path = bundle.join("approvals.json");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let broken = signoff(&h, &config, APPROVER, &["audit", "verify", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(text(&broken).contains("approvals.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_post_is_neither_decided_nor_reconciled_by_a_second_process_and_ends_executed() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        c.environment.timeout_secs = 2;
        c.environment.max_retries = 0;
        c.environment.max_retry_wait_secs = 0;
        c.environment.settle_secs = 0;
        c.store.lease_secs = 1; // lengthened to outlive a request: 4 s
    })
    .await;
    let config = write_config(&h);
    let keys = propose_journal_00123(&h, "RUN-CLI-KILL");
    // F&O takes 3 s over the post and completes it even though the caller is gone.
    h.sim.inject(slow_post());
    let mut child = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
        .args(["approve", "RUN-CLI-KILL", "--reason", "Month-end accrual"])
        .env(SECRET_VAR, &h.sim.options().client_secret)
        .env("SIGNOFF_APPROVER", APPROVER)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let id = RunId::from("RUN-CLI-KILL");
    let started = Instant::now();
    // `executing` is recorded just before the post is sent; the simulator holds the post for 3 s.
    while h.status("RUN-CLI-KILL") != "executing" {
        assert!(started.elapsed() < Duration::from_secs(20), "the decision never started executing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(h.status("RUN-CLI-KILL"), "executing", "killed between send and record");

    // The same approver, another process, at once: it must neither decide nor reconcile the run.
    let again = signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-KILL", "--reason", "retry"]);
    assert_eq!(again.status.code(), Some(4), "{}", text(&again));
    assert!(text(&again).contains("pid"), "names the process holding the run: {}", text(&again));
    let sweep = signoff(&h, &config, APPROVER, &["reconcile"]);
    assert_eq!(sweep.status.code(), Some(6), "{}", text(&sweep));
    assert!(text(&sweep).contains("being decided right now"), "{}", text(&sweep));
    assert_eq!(h.status("RUN-CLI-KILL"), "executing");

    // Once the killed process's lease has lapsed and the window closed, reading F&O settles it.
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let settled = signoff(&h, &config, APPROVER, &["reconcile", "--since", "1d"]);

    assert_eq!(settled.status.code(), Some(0), "{}", text(&settled));
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
    assert_eq!(h.status("RUN-CLI-KILL"), "executed", "{}", text(&settled));
    let posts = h.sim.requests().iter().filter(|r| r.target.contains("signoffPost")).count();
    assert_eq!(posts, 1, "exactly one post, never re-sent");
    let kinds: Vec<String> = h.store().audit_events(&id).unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.iter().any(|k| k == "reconcile.finding"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_an_event_appended_behind_a_signed_decision_and_a_chain_cut_short() {
    let agent = review_support::agent::Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let allowed = agent.dir.path().join("allowed_signers");
    let path = allowed.clone();
    let h = Harness::start_with(SimOptions::default(), move |c| c.approver.allowed_signers = Some(path)).await;
    review_support::agent::write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
    let config = write_config(&h);
    propose_vendor_us104(&h, "RUN-CLI-REJ", 1);
    let signed =
        |args: &[&str]| signoff_env(&h, &config, APPROVER, args, &[("SSH_AUTH_SOCK", agent.socket.as_os_str())]);
    let reject = signed(&["reject", "RUN-CLI-REJ", "--reason", "duplicate of APINV-000121"]);
    assert_eq!(reject.status.code(), Some(0), "{}", text(&reject));
    let clean = signed(&["audit", "verify"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    assert!(text(&clean).contains("signed checkpoints verified"), "{}", text(&clean));

    // Re-opened through the store's own code: a correctly chained event, signed by nobody.
    let id = RunId::from("RUN-CLI-REJ");
    h.store().transition(&id, &[RunStatus::Rejected], RunStatus::Pending, "mallory", json!({})).unwrap();
    let appended = signed(&["audit", "verify"]);
    assert_eq!(appended.status.code(), Some(1), "{}", text(&appended));
    assert!(text(&appended).contains("(run.status of run RUN-CLI-REJ) is NOT covered"), "{}", text(&appended));

    // Cut short behind the remembered checkpoint: the last events deleted, the head moved back.
    let mut events = review_support::chain::events(&h.db);
    events.truncate(events.len() - 4);
    review_support::chain::rewrite(&h.db, events);
    let cut = signed(&["audit", "verify"]);
    assert_eq!(cut.status.code(), Some(1), "{}", text(&cut));
    assert!(text(&cut).contains("CUT SHORT"), "{}", text(&cut));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_bulk_approval_names_each_run_on_its_own_line_and_json_item() {
    let h = Harness::start().await;
    let config = write_config(&h);
    // Bank account changes are high risk: a soft verdict each, so the bulk is refused as a whole.
    for (id, vendor, bank) in [("RUN-CLI-BANK-1", "US-104", "SW-CHASE"), ("RUN-CLI-BANK-2", "US-111", "WF-CHK-441")] {
        h.propose(
            id,
            "dynamicsfinance.update-vendor",
            "VendorsV2",
            json!({"dataAreaId": "usmf", "VendorAccountNumber": vendor}),
            json!({"BankAccountId": bank}),
            vec![],
            1,
        );
    }
    let args = ["approve", "--all-matching", "action:vendor company:usmf", "--reason", "Month end"];

    let out = signoff(&h, &config, APPROVER, &args);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("^J"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert!(lines[0].starts_with("error: refused, nothing was decided: bulk approval takes only runs"), "{stderr}");
    assert!(lines[1].starts_with("  RUN-CLI-BANK-1: "), "{stderr}");
    assert!(lines[2].starts_with("  RUN-CLI-BANK-2: "), "{stderr}");

    let json_args: Vec<&str> = std::iter::once("--json").chain(args).collect();
    let out = signoff(&h, &config, APPROVER, &json_args);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["code"], "refused");
    assert_eq!(json["error"]["exit"], 4);
    let problems: Vec<&str> = json["error"]["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    assert_eq!(problems.len(), 2, "{json}");
    assert!(problems[0].starts_with("RUN-CLI-BANK-1: ") && problems[1].starts_with("RUN-CLI-BANK-2: "), "{json}");
    assert!(h.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_with_reviewed_binds_to_the_digest_runs_show_printed() {
    let h = Harness::start().await;
    let config = write_config(&h);
    propose_vendor_us104(&h, "RUN-CLI-SHOWN", 1);
    let shown = signoff(&h, &config, APPROVER, &["--json", "runs", "show", "RUN-CLI-SHOWN"]);
    let digest =
        serde_json::from_slice::<serde_json::Value>(&shown.stdout).unwrap()["digest"].as_str().unwrap().to_string();
    let stale_digest = "0".repeat(64);
    let wrong =
        signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-SHOWN", "--reason", "ok", "--reviewed", &stale_digest]);
    assert_eq!(wrong.status.code(), Some(4), "{}", text(&wrong));
    assert!(text(&wrong).contains("not the run that was reviewed"), "{}", text(&wrong));
    assert!(h.writes().is_empty(), "nothing sent");
    let right = signoff(&h, &config, APPROVER, &["approve", "RUN-CLI-SHOWN", "--reason", "ok", "--reviewed", &digest]);
    assert_eq!(right.status.code(), Some(0), "{}", text(&right));
    assert_eq!(h.writes().len(), 1);
}
