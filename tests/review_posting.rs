//! Journal posting modes (`[operations.journal_post] mode`): an approval that hands the journal over to
//! F&O's batch posting (or leaves it approved for a person to post) posts nothing, and `signoff
//! reconcile` records the posting once F&O shows it. Through the real binary, in both simulator
//! dialects, judged by the simulator's state and request log.

use crate::review_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use signoff::config::{Config, PostingMode};
use signoff::model::RunId;
use signoff::review::{DecisionKind, Outcome};
use signoff::sim::{Dialect, SimOptions};

use review_support::{APPROVER, Harness};

const JOURNAL: &str = "00123";

fn keys() -> Value {
    json!({"dataAreaId": "usmf", "JournalBatchNumber": JOURNAL})
}

/// Set the posting mode and the hand-over fields, as a customer edits `[operations.journal_post]`.
fn hand_over(config: &mut Config, mode: PostingMode, fields: &[(&str, &str)]) {
    let post = config.operations.get_mut("journal_post").expect("the dialect configures journal_post");
    post.mode = Some(mode);
    post.handover_fields =
        Some(fields.iter().map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string()))).collect());
}

async fn harness(dialect: Dialect, mode: PostingMode, fields: &[(&str, &str)]) -> (Harness, PathBuf) {
    let h = Harness::start_dialect_with(SimOptions::for_dialect(dialect), |c| hand_over(c, mode, fields)).await;
    // The loaded config as the binary reads it (its secret stays in the owner-only file it names).
    let path = h.dir.path().join("config.toml");
    std::fs::write(&path, toml::to_string(&*h.config).unwrap()).unwrap();
    (h, path)
}

fn signoff(h: &Harness, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
        .args(args)
        .env("SIGNOFF_APPROVER", APPROVER)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env("XDG_DATA_HOME", h.dir.path().join("data"))
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(output)))
}

/// Journal 00123 with its first line's text corrected: a hand-over writes it with the flag.
fn propose(h: &Harness, id: &str) {
    let line = json!({"dataAreaId": "usmf", "JournalBatchNumber": JOURNAL, "LineNumber": 1});
    let fields = json!({"Text": "Office supplies accrual (Jan)"});
    h.propose(id, "dynamicsfinance.post-journal", "LedgerJournalHeaders", keys(), json!({}), vec![(line, fields)], 1);
}

fn header(h: &Harness) -> Value {
    h.sim.record("LedgerJournalHeaders", &keys()).unwrap()
}

/// The distinct vouchers on the journal's lines, as F&O holds them.
fn line_vouchers(h: &Harness) -> Vec<String> {
    let mut v: Vec<String> = h
        .sim
        .records("LedgerJournalLines")
        .into_iter()
        .filter(|l| l["dataAreaId"] == "usmf" && l["JournalBatchNumber"] == JOURNAL)
        .map(|l| l["Voucher"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The one reconcile outcome of `signoff --json reconcile`.
fn reconciled(h: &Harness, config: &Path, since: &str) -> (Option<i32>, Value) {
    let out = signoff(h, config, &["--json", "reconcile", "--since", since]);
    let swept = json_of(&out);
    (out.status.code(), swept.as_array().and_then(|a| a.first()).map(|s| s["outcome"].clone()).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_left_for_batch_is_handed_over_unposted_and_reconciled_to_executed_once_the_batch_posts_it() {
    for (dialect, post_call) in [(Dialect::Signoff, "signoffPost"), (Dialect::Contoso, "postJournal")] {
        let (h, config) = harness(dialect, PostingMode::LeaveForBatch, &[("PostInBatch", "Yes")]).await;
        propose(&h, "RUN-JNL-BATCH");
        let provisional = line_vouchers(&h);

        let out = signoff(&h, &config, &["--json", "approve", "RUN-JNL-BATCH", "--reason", "Accrual checked"]);

        assert_eq!(out.status.code(), Some(0), "{dialect}: {}", text(&out));
        let outcome = json_of(&out);
        assert_eq!(outcome["outcome"], "handed-over", "{dialect}: {outcome}");
        assert_eq!(outcome["mode"], "leave-for-batch", "{dialect}");
        assert_eq!(h.status("RUN-JNL-BATCH"), "handed-over", "{dialect}");
        // Nothing was posted: F&O holds the correction and the flag, the journal unposted, its vouchers
        // still the provisional ones.
        let journal = header(&h);
        assert_eq!((journal["IsPosted"].as_str(), journal["PostInBatch"].as_str()), (Some("No"), Some("Yes")));
        assert_eq!(line_vouchers(&h), provisional, "{dialect}");
        let writes = h.writes();
        assert_eq!(writes.len(), 1, "{dialect}: one changeset, nothing else: {writes:?}");
        assert!(writes[0].target.ends_with("/$batch"), "{dialect}: {writes:?}");
        assert!(writes[0].body.contains("PostInBatch") && writes[0].body.contains("If-Match"), "{}", writes[0].body);
        assert!(h.sim.requests().iter().all(|r| !r.target.contains(post_call)), "{dialect}: the post was never called");
        // Rollback is not ready until F&O has posted it, and says why.
        let shown = signoff(&h, &config, &["runs", "show", "RUN-JNL-BATCH"]);
        assert!(text(&shown).contains("not ready: F&O has not posted the journal yet"), "{}", text(&shown));

        // Before the batch runs, reconciliation reads the journal unposted and leaves the run as it is.
        h.sim.clear_requests();
        let (code, early) = reconciled(&h, &config, "1d");
        assert_eq!(code, Some(0), "{dialect}: {early}");
        assert_eq!(early["outcome"], "handed-over", "{dialect}: {early}");
        assert_eq!(h.status("RUN-JNL-BATCH"), "handed-over", "{dialect}");

        let batch = h.sim.run_posting_batch();
        let posted = batch.posted.iter().find(|(c, j, _)| c == "usmf" && j == JOURNAL).expect("the batch posted it");
        assert_ne!(posted.2, provisional, "{dialect}: posting assigned final vouchers");

        let (code, done) = reconciled(&h, &config, "1d");

        assert_eq!(code, Some(0), "{dialect}: {done}");
        assert_eq!(done["outcome"], "executed", "{dialect}: {done}");
        assert_eq!(done["answer"]["vouchers"], json!(posted.2), "{dialect}: the vouchers F&O assigned");
        assert_eq!(h.status("RUN-JNL-BATCH"), "executed", "{dialect}");
        assert!(h.writes().is_empty(), "{dialect}: reconciliation only reads: {:?}", h.writes());
        signoff::store::Store::open(&h.store_path).unwrap().verify_audit().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approve_only_journal_waits_for_a_person_to_post_it_and_the_batch_leaves_it_alone() {
    for dialect in Dialect::ALL {
        let (h, config) = harness(dialect, PostingMode::ApproveOnly, &[("WorkflowApprovalStatus", "Approved")]).await;
        propose(&h, "RUN-JNL-MANUAL");

        let out = signoff(&h, &config, &["--json", "approve", "RUN-JNL-MANUAL", "--reason", "Accrual checked"]);

        assert_eq!(out.status.code(), Some(0), "{dialect}: {}", text(&out));
        assert_eq!(json_of(&out)["mode"], "approve-only", "{dialect}");
        assert_eq!(h.status("RUN-JNL-MANUAL"), "handed-over", "{dialect}");
        let journal = header(&h);
        assert_eq!(journal["WorkflowApprovalStatus"], "Approved", "{dialect}");
        assert_eq!(journal["IsPosted"], "No", "{dialect}");
        // F&O's batch only posts journals flagged for it.
        let batch = h.sim.run_posting_batch();
        assert!(batch.posted.iter().all(|(_, j, _)| j != JOURNAL), "{dialect}: {batch:?}");
        let (_, waiting) = reconciled(&h, &config, "1d");
        assert_eq!(waiting["outcome"], "handed-over", "{dialect}: {waiting}");
        assert!(waiting["detail"].as_str().unwrap().contains("still unposted"), "{waiting}");

        let vouchers = h.sim.post_journal("usmf", JOURNAL).unwrap();
        let (code, done) = reconciled(&h, &config, "1d");

        assert_eq!(code, Some(0), "{dialect}: {done}");
        assert_eq!(done["outcome"], "executed", "{dialect}: {done}");
        assert_eq!(done["answer"]["vouchers"], json!(vouchers), "{dialect}");
        assert_eq!(h.status("RUN-JNL-MANUAL"), "executed", "{dialect}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_looks_only_within_its_window() {
    let (h, config) = harness(Dialect::Signoff, PostingMode::LeaveForBatch, &[("PostInBatch", "Yes")]).await;
    propose(&h, "RUN-JNL-WINDOW");
    let out = signoff(&h, &config, &["approve", "RUN-JNL-WINDOW", "--reason", "Accrual checked"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    h.sim.run_posting_batch();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    h.sim.clear_requests();

    let outside = signoff(&h, &config, &["reconcile", "--since", "1s"]);

    assert_eq!(outside.status.code(), Some(0), "{}", text(&outside));
    assert!(text(&outside).contains("nothing to reconcile"), "{}", text(&outside));
    assert!(h.data_requests().is_empty(), "a run handed over before the window is not read");
    assert_eq!(h.status("RUN-JNL-WINDOW"), "handed-over");
    let inside = signoff(&h, &config, &["reconcile", "--since", "1h"]);
    assert!(text(&inside).contains("executed"), "{}", text(&inside));
    assert_eq!(h.status("RUN-JNL-WINDOW"), "executed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_over_journal_deleted_in_fno_fails_with_the_reads_that_prove_it_and_cannot_be_rolled_back_before() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        hand_over(c, PostingMode::LeaveForBatch, &[("PostInBatch", "Yes")])
    })
    .await;
    propose(&h, "RUN-JNL-GONE");
    let outcome = h.decide(APPROVER, "RUN-JNL-GONE", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::HandedOver { mode: PostingMode::LeaveForBatch, .. }), "{outcome:?}");
    let rollback = h.decide(APPROVER, "RUN-JNL-GONE", DecisionKind::Rollback, false).await;
    assert!(review_support::refusal(&rollback).contains("F&O has not posted the journal yet"), "{rollback:?}");

    h.sim.delete_record("LedgerJournalHeaders", &keys()).unwrap();
    let swept = h.reviewer(APPROVER).reconcile(std::time::Duration::from_secs(3600)).await.unwrap();

    let outcomes: Vec<String> = swept.iter().map(|s| format!("{s:?}")).collect();
    assert_eq!(h.status("RUN-JNL-GONE"), "failed", "{outcomes:?}");
    assert!(outcomes[0].contains("no longer exists in F&O"), "{outcomes:?}");
    let exchanges = h.store().exchanges(&RunId::from("RUN-JNL-GONE")).unwrap();
    let read: Vec<Value> = exchanges.iter().map(|e| serde_json::from_str(&e.json).unwrap()).collect();
    let answered =
        |status: u64, url: &str| read.iter().any(|e| e["status"] == status && e["url"].as_str().unwrap().contains(url));
    assert!(answered(404, "LedgerJournalHeaders("), "the keyed read's 404 is kept as evidence: {read:?}");
    assert!(answered(200, "$filter="), "so is the query that found no row: {read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_a_hand_over_shows_the_changeset_and_sends_nothing() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        hand_over(c, PostingMode::LeaveForBatch, &[("PostInBatch", "Yes")])
    })
    .await;
    propose(&h, "RUN-JNL-DRY");

    let outcome = h.decide(APPROVER, "RUN-JNL-DRY", DecisionKind::Approve, true).await;

    let Outcome::DryRun { requests, .. } = &outcome else { panic!("{outcome:?}") };
    let shown = serde_json::to_string(requests).unwrap();
    assert!(shown.contains("$batch") && shown.contains("PostInBatch"), "{shown}");
    assert!(!shown.contains("signoffPost"), "{shown}");
    assert!(h.writes().is_empty());
    assert_eq!(h.status("RUN-JNL-DRY"), "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_over_whose_answer_is_lost_is_settled_by_reading_the_journal_never_by_sending_again() {
    let h = Harness::start_with(SimOptions::default(), |c| {
        hand_over(c, PostingMode::LeaveForBatch, &[("PostInBatch", "Yes")])
    })
    .await;
    propose(&h, "RUN-JNL-LOST");
    h.sim.inject(signoff::sim::Fault::DropAfterProcessing { path_contains: "$batch".into(), times: 1 });

    let outcome = h.decide(APPROVER, "RUN-JNL-LOST", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::HandedOver { .. }), "F&O shows the flag and the correction: {outcome:?}");
    assert_eq!(h.status("RUN-JNL-LOST"), "handed-over");
    let stored = h.store().get(&RunId::from("RUN-JNL-LOST")).unwrap().unwrap();
    let path: Vec<String> = stored.history.iter().map(|c| c.to.to_string()).collect();
    assert!(path.ends_with(&["unknown".to_string(), "handed-over".to_string()]), "the answer was lost: {path:?}");
    assert_eq!(header(&h)["IsPosted"], "No");
    let batches = h.writes().iter().filter(|r| r.target.ends_with("/$batch")).count();
    assert_eq!(batches, 1, "the changeset was sent once");
}
