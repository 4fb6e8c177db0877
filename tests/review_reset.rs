//! `signoff sim reset` through the real binary against a running simulator: what approvals changed in
//! the simulated F&O goes back to the seed, all of it or one transaction with its lines, and no address
//! but the simulator's loopback one is ever reset.

use crate::review_support;

use std::process::{Command, Output};

use serde_json::{Value, json};
use signoff::review::{DecisionKind, Outcome};

use review_support::{APPROVER, Harness, propose_vendor_us104};

fn signoff(h: &Harness, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(args)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env("XDG_DATA_HOME", h.dir.path().join("data"))
        .env("XDG_CONFIG_HOME", h.dir.path().join("no-config"))
        .env_remove("SIGNOFF_CONFIG")
        .env_remove("HTTPS_PROXY")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

const JOURNAL: &str = "00124";

fn journal_keys() -> Value {
    json!({"dataAreaId": "usmf", "JournalBatchNumber": JOURNAL})
}

/// The journal's lines as served (fields and ETags), in line order.
fn journal_lines(h: &Harness) -> Vec<Value> {
    let mut lines: Vec<Value> =
        h.sim.records("LedgerJournalLines").into_iter().filter(|l| l["JournalBatchNumber"] == JOURNAL).collect();
    lines.sort_by_key(|l| l["LineNumber"].as_i64());
    lines
}

/// Approve journal 00124 with a correction on each line (posted, vouchers, new line ETags), and vendor
/// US-104's payment terms change: two transactions an approval changed.
async fn approve_journal_and_vendor(h: &Harness) -> Value {
    let line = |n: u32| {
        (json!({"dataAreaId": "usmf", "JournalBatchNumber": JOURNAL, "LineNumber": n}), json!({"Text": "Reclassed"}))
    };
    h.propose(
        "RUN-JNL-RESET",
        "dynamicsfinance.post-journal",
        "LedgerJournalHeaders",
        journal_keys(),
        json!({}),
        (1..=4).map(line).collect(),
        1,
    );
    let outcome = h.decide(APPROVER, "RUN-JNL-RESET", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    let vendor = propose_vendor_us104(h, "RUN-VND-RESET", 1);
    let outcome = h.decide(APPROVER, "RUN-VND-RESET", DecisionKind::Approve, false).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &journal_keys()).unwrap()["IsPosted"], "Yes");
    assert!(journal_lines(h).iter().all(|l| l["Text"] == "Reclassed"));
    assert_eq!(h.sim.record("VendorsV2", &vendor).unwrap()["DefaultPaymentTermsName"], "Net30");
    vendor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_reset_restores_that_journal_and_its_lines_and_nothing_else() {
    let h = Harness::start().await;
    let seed_header = h.sim.record("LedgerJournalHeaders", &journal_keys()).unwrap();
    let seed_lines = journal_lines(&h);
    assert!(!seed_lines.is_empty());
    let vendor = approve_journal_and_vendor(&h).await;
    h.sim.clear_requests();

    let url = h.sim.base_url();
    let out = signoff(&h, &["sim", "reset", "--url", &url, "--transaction", &format!("usmf/{JOURNAL}")]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("reset LedgerJournalHeaders:usmf/{JOURNAL}")), "{}", text(&out));
    // The header and every line are as seeded, ETags included: a run captured against the seed is current again.
    assert_eq!(h.sim.record("LedgerJournalHeaders", &journal_keys()).unwrap(), seed_header);
    assert_eq!(journal_lines(&h), seed_lines);
    // The vendor the other approval changed is left as it is.
    assert_eq!(h.sim.record("VendorsV2", &vendor).unwrap()["DefaultPaymentTermsName"], "Net30");
    let asked: Vec<_> = h.sim.requests().into_iter().filter(|r| r.target == "/_sim/reset").collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].method, "POST");
    assert_eq!(asked[0].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reset_restores_everything_an_approval_changed() {
    let h = Harness::start().await;
    let seed_header = h.sim.record("LedgerJournalHeaders", &journal_keys()).unwrap();
    let seed_lines = journal_lines(&h);
    let seed_vendor = h.sim.record("VendorsV2", &json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"}));
    let vendor = approve_journal_and_vendor(&h).await;

    let out = signoff(&h, &["--json", "sim", "reset", "--url", &h.sim.base_url()]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["reset"], "all", "{answer}");
    assert!(answer["restored"].as_u64().unwrap() > 100, "{answer}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &journal_keys()).unwrap(), seed_header);
    assert_eq!(journal_lines(&h), seed_lines);
    assert_eq!(h.sim.record("VendorsV2", &vendor), seed_vendor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_the_simulator_does_not_hold_is_refused_naming_the_forms() {
    let h = Harness::start().await;
    let before = h.sim.records("VendorInvoiceHeaders");
    let out = signoff(&h, &["sim", "reset", "--url", &h.sim.base_url(), "--transaction", "APINV-999999"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("APINV-999999") && text(&out).contains("HeaderReference"), "{}", text(&out));
    assert_eq!(h.sim.records("VendorInvoiceHeaders"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_address_but_the_simulators_loopback_one_is_refused_before_anything_is_sent() {
    let h = Harness::start().await;
    h.sim.clear_requests();
    let port = h.sim.addr().port();
    for url in [
        "https://contoso-test.sandbox.operations.dynamics.com".to_string(),
        "http://10.1.2.3:8080".to_string(),
        // The simulator itself, reached as https: not the simulator's address (it serves plain http).
        format!("https://127.0.0.1:{port}"),
    ] {
        let out = signoff(&h, &["--json", "sim", "reset", "--url", &url]);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", text(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("refusing to reset") && message.contains("database refresh"), "{message}");
    }
    assert!(h.sim.requests().is_empty(), "nothing was sent: {:?}", h.sim.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_endpoint_answers_only_json_addressed_to_loopback() {
    let h = Harness::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/_sim/reset", h.sim.base_url());
    // A form post (what a web page can send without asking) is refused, and so is a foreign Host.
    let form = client.post(&url).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(form.status().as_u16(), 415);
    let rebound = client
        .post(&url)
        .header("content-type", "application/json")
        .header("host", "attacker.example:80")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status().as_u16(), 403);
}
