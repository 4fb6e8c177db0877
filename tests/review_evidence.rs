//! Dry runs, evidence bundles (signed, through a real ssh-agent) and round trips, all counted on the
//! simulator's request log.

use crate::review_support;

use serde_json::json;
use signoff::model::RunId;
use signoff::review::checkpoint_sign::sign_checkpoint;
use signoff::review::evidence::verify_bundle;
use signoff::review::{DecisionKind, Outcome};
use signoff::sign::{AllowedSigners, Signer};
use signoff::sim::SimOptions;

use review_support::agent::{Agent, write_allowed_signers};
use review_support::{APPROVER, Harness, propose_vendor_us104};

#[tokio::test]
async fn a_dry_run_shows_the_exact_requests_and_writes_nothing() {
    let h = Harness::start().await;
    let keys = propose_vendor_us104(&h, "RUN-VND-DRY", 1);
    let etag = h.sim.record("VendorsV2", &keys).unwrap()["@odata.etag"].as_str().unwrap().to_string();

    let outcome = h.decide(APPROVER, "RUN-VND-DRY", DecisionKind::Approve, true).await;

    let Outcome::DryRun { requests, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["method"], "PATCH");
    let url = requests[0]["url"].as_str().unwrap();
    assert!(url.contains("/data/VendorsV2(") && url.contains("US-104"), "{url}");
    assert_eq!(requests[0]["body"], r#"{"DefaultPaymentTermsName":"Net30"}"#);
    let headers = requests[0]["headers"].to_string();
    assert!(headers.contains(&etag.replace('"', "\\\"")), "If-Match carries the live ETag: {headers}");
    assert!(!headers.contains("eyJ"), "no bearer token in evidence: {headers}");
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net45");
    assert_eq!(h.status("RUN-VND-DRY"), "pending");
    assert!(h.store().approvals(&RunId::from("RUN-VND-DRY")).unwrap().is_empty());
}

#[tokio::test]
async fn a_dry_run_of_a_journal_shows_the_changeset_with_the_post_and_writes_nothing() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124"});
    let lines = (1..=4)
        .map(|n| {
            (
                json!({"dataAreaId": "usmf", "JournalBatchNumber": "00124", "LineNumber": n}),
                json!({"Text": "Travel reclass"}),
            )
        })
        .collect();
    h.propose("RUN-JNL-DRY", "dynamicsfinance.post-journal", "LedgerJournalHeaders", keys.clone(), json!({}), lines, 1);

    let outcome = h.decide(APPROVER, "RUN-JNL-DRY", DecisionKind::Approve, true).await;

    let Outcome::DryRun { requests, .. } = &outcome else { panic!("{outcome:?}") };
    let methods: Vec<&str> = requests.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(requests.len(), 1, "one changeset holds the corrections and the post: {methods:?}");
    assert!(methods[0].ends_with("$batch"), "{methods:?}");
    assert!(requests[0]["body"].as_str().unwrap().contains("signoffPost"), "{:?}", requests[0]);
    assert!(h.writes().is_empty());
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
}

#[tokio::test]
async fn approving_a_single_record_run_costs_one_read_one_write_and_at_most_one_token() {
    let h = Harness::start().await;
    propose_vendor_us104(&h, "RUN-VND-TRIPS", 1);

    h.decide(APPROVER, "RUN-VND-TRIPS", DecisionKind::Approve, false).await;

    let data = h.data_requests();
    let reads = data.iter().filter(|r| r.method == "GET").count();
    let writes = data.iter().filter(|r| r.method != "GET").count();
    assert_eq!((reads, writes), (1, 1), "{data:?}");
    assert!(h.token_requests() <= 1);
}

#[tokio::test]
async fn approving_a_header_only_invoice_sends_one_changeset_after_one_read() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000121"});
    let due = json!({"DueDate": "2026-12-31T12:00:00Z"});
    let set = "VendorInvoiceHeaders";
    h.propose_opts("RUN-INV-TRIPS", "dynamicsfinance.approve-vendor-invoice", set, keys, due, vec![], 1, false);

    h.decide(APPROVER, "RUN-INV-TRIPS", DecisionKind::Approve, false).await;

    let data = h.data_requests();
    let methods: Vec<(&str, bool)> =
        data.iter().map(|r| (r.method.as_str(), r.body.contains("signoffApprove"))).collect();
    assert_eq!(methods, vec![("GET", false), ("POST", true)], "one read, then the correction and the approve together");
    assert!(data[1].target.ends_with("$batch"));
    assert!(h.token_requests() <= 1);
}

#[tokio::test]
async fn a_journal_of_many_lines_is_corrected_in_a_single_batch() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00777"});
    h.sim
        .insert_record(
            "LedgerJournalHeaders",
            json!({"dataAreaId": "usmf", "JournalBatchNumber": "00777", "JournalName": "GenJrn",
                   "Description": "Cost centre reclass, 40 lines", "IsPosted": "No", "AccountingCurrency": "USD",
                   "WorkflowApprovalStatus": "NotSubmitted"}),
        )
        .unwrap();
    let n: usize = 40;
    for i in 1..=n as u32 {
        let (debit, credit, account) =
            if i % 2 == 1 { ("125.00", "0", "605140-001-02") } else { ("0", "125.00", "200125-001-02") };
        let line: serde_json::Value = serde_json::from_str(&format!(
            r#"{{"dataAreaId":"usmf","JournalBatchNumber":"00777","LineNumber":{i},"AccountType":"Ledger",
                "AccountDisplayValue":"{account}","DebitAmount":{debit},"CreditAmount":{credit},"CurrencyCode":"USD",
                "TransDate":"2026-01-30T12:00:00Z","Voucher":"GNJL00{}","Text":"Reclass"}}"#,
            700 + i.div_ceil(2)
        ))
        .unwrap();
        h.sim.insert_record("LedgerJournalLines", line).unwrap();
    }
    let lines = (1..=n)
        .map(|i| {
            (
                json!({"dataAreaId": "usmf", "JournalBatchNumber": "00777", "LineNumber": i}),
                json!({"Text": "Reclass to cost centre 022"}),
            )
        })
        .collect();
    h.propose("RUN-JNL-00777", "dynamicsfinance.post-journal", "LedgerJournalHeaders", keys, json!({}), lines, 1);
    h.sim.clear_requests();

    let outcome = h.decide(APPROVER, "RUN-JNL-00777", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    let batches: Vec<_> = h.writes().into_iter().filter(|r| r.target.ends_with("$batch")).collect();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].body.matches("PATCH ").count(), n);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executed_runs_evidence_bundle_verifies_and_any_flipped_byte_fails() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let allowed_path = agent.dir.path().join("allowed_signers");
    let path = allowed_path.clone();
    let h = Harness::start_with(SimOptions::default(), move |c| c.approver.allowed_signers = Some(path)).await;
    write_allowed_signers(&allowed_path, &[(APPROVER, &julia)]);
    let allowed = AllowedSigners::load(&allowed_path).unwrap();
    propose_vendor_us104(&h, "RUN-VND-EVIDENCE", 1);
    h.decide_signed(APPROVER, agent.signer(), "RUN-VND-EVIDENCE", DecisionKind::Approve).await;
    let signer = agent.signer();
    sign_checkpoint(&h.store(), signer.as_ref(), &signer.keys().unwrap()[0], APPROVER).unwrap();
    let out = h.dir.path().join("bundle");

    let manifest = h.reviewer(APPROVER).export_evidence(&RunId::from("RUN-VND-EVIDENCE"), &out).unwrap();

    let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["run.json", "approvals.json", "exchanges.json", "audit.json", "chain.json"]);
    verify_bundle(&out, &allowed).unwrap();
    let exchanges = std::fs::read_to_string(out.join("exchanges.json")).unwrap();
    assert!(exchanges.contains("If-Match") || exchanges.contains("if-match"), "the PATCH is in the evidence");
    assert!(!exchanges.contains(&h.sim.options().client_secret), "no secret in the evidence");
    for name in ["run.json", "approvals.json", "exchanges.json", "audit.json", "chain.json", "manifest.json"] {
        let path = out.join(name);
        let original = std::fs::read(&path).unwrap();
        for i in (0..original.len()).step_by(97) {
            let mut altered = original.clone();
            altered[i] ^= 0x20;
            std::fs::write(&path, &altered).unwrap();
            assert!(verify_bundle(&out, &allowed).is_err(), "flipping byte {i} of {name} went unnoticed");
        }
        std::fs::write(&path, &original).unwrap();
    }
    verify_bundle(&out, &allowed).unwrap();
}
