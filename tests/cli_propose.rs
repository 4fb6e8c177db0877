//! `signoff propose`, `signoff runs recapture` and `signoff query` through the real binary against the
//! simulator on loopback, in both dialects: every run proposed imports, re-validates cleanly and
//! executes (judged by the simulator's records), every refused value names its field and rule and
//! leaves nothing behind, and a re-captured run executes with the audit linking it to the run it replaces.

use crate::review_support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use signoff::model::RunId;
use signoff::sim::Dialect;

use review_support::{APPROVER, Harness, REQUESTER, SECOND};

const SECRET_VAR: &str = "SIGNOFF_PROPOSE_TEST_SECRET";

pub(crate) fn signoff(h: &Harness, config: &Path, who: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["--config", config.to_str().unwrap(), "--store", h.store_path.to_str().unwrap()])
        .args(args)
        .env(SECRET_VAR, &h.sim.options().client_secret)
        .env("SIGNOFF_APPROVER", who)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env("XDG_DATA_HOME", h.dir.path().join("data"))
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap()
}

/// The dialect's own config file, as `Harness::start_dialect` wrote it (its secret in an owner-only file).
pub(crate) fn config_of(h: &Harness) -> std::path::PathBuf {
    h.dir.path().join("config.toml")
}

pub(crate) fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

pub(crate) fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

/// Propose as the requester, import, and return the new run's id.
fn propose(h: &Harness, config: &Path, args: &[&str]) -> String {
    let mut all = vec!["--json", "propose"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--justification", "Month-end close, checked against the documents", "--import"]);
    let out = signoff(h, config, REQUESTER, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let envelope = json_of(&out);
    assert_eq!(envelope["saved"], "imported");
    assert_eq!(envelope["run"]["requester"]["id"], REQUESTER, "the requester is the caller");
    envelope["run"]["id"].as_str().unwrap().to_string()
}

pub(crate) fn approve(h: &Harness, config: &Path, id: &str) -> Output {
    signoff(h, config, APPROVER, &["--json", "approve", id, "--reason", "Checked against the documents"])
}

fn runs_in_store(h: &Harness) -> u64 {
    if !h.store_path.exists() {
        return 0;
    }
    h.store().count_runs().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_proposed_from_the_live_record_executes() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let invoice = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
        let journal = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123"});
        let vendor = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});

        let cases: Vec<(Vec<&str>, &str, Value)> = vec![
            (
                vec!["approve-invoice", "APINV-000123", "--company", "usmf", "--set", "DueDate=2026-12-20"],
                "VendorInvoiceHeaders",
                invoice.clone(),
            ),
            (
                vec!["post-journal", "--key", "JournalBatchNumber=00123", "--company", "USMF"],
                "LedgerJournalHeaders",
                journal.clone(),
            ),
            (
                vec!["update-vendor", "US-104", "--company", "usmf", "--set", "BankAccountId=WF-CHK-441"],
                "VendorsV2",
                vendor.clone(),
            ),
            (vec!["disable-user", "jmorales"], "SystemUsers", json!({"UserID": "jmorales"})),
            (vec!["enable-user", "--key", "UserID=akumar"], "SystemUsers", json!({"UserID": "akumar"})),
        ];
        for (args, set, keys) in cases {
            let id = propose(&h, &config, &args);
            let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]));
            let etag = h.sim.record(set, &keys).unwrap()["@odata.etag"].clone();
            assert_eq!(shown["run"]["before"]["etag"], etag, "{id}: the before snapshot carries the live ETag");
            let out = approve(&h, &config, &id);
            assert_eq!(out.status.code(), Some(0), "{dialect:?} {id}: {}", text(&out));
            let out = match json_of(&out)["outcome"].as_str() {
                // A bank account is high risk: a second, distinct approver completes it.
                Some("approval-recorded") => {
                    signoff(&h, &config, SECOND, &["--json", "approve", &id, "--reason", "Call-back confirmed"])
                }
                _ => out,
            };
            assert_eq!(json_of(&out)["outcome"], "executed", "{id}: no drift, executed: {}", text(&out));
        }

        let record = |set: &str, keys: &Value| h.sim.record(set, keys).unwrap();
        let invoice = record("VendorInvoiceHeaders", &invoice);
        assert_eq!(invoice["DueDate"], "2026-12-20T12:00:00Z");
        assert_eq!(invoice["IsApproved"], "Yes");
        assert_eq!(record("LedgerJournalHeaders", &journal)["IsPosted"], "Yes");
        assert_eq!(record("VendorsV2", &vendor)["BankAccountId"], "WF-CHK-441");
        assert_eq!(record("SystemUsers", &json!({"UserID": "jmorales"}))["Enabled"], false);
        assert_eq!(record("SystemUsers", &json!({"UserID": "akumar"}))["Enabled"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_proposal_captures_every_line_with_its_etag() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let config = config_of(&h);
    let out = signoff(
        &h,
        &config,
        REQUESTER,
        &[
            "--json",
            "propose",
            "post-journal",
            "00478",
            "--company",
            "usmf",
            "--line",
            "2:Text=Accrual, corrected",
            "--justification",
            "x",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = json_of(&out)["run"].clone();
    let live: Vec<Value> =
        h.sim.records("LedgerJournalLines").into_iter().filter(|l| l["JournalBatchNumber"] == "00478").collect();
    let captured = run["before"]["lines"].as_array().unwrap();
    assert_eq!(captured.len(), live.len());
    for line in &live {
        let mine = captured.iter().find(|c| c["keys"]["LineNumber"] == line["LineNumber"]).unwrap();
        assert_eq!(mine["etag"], line["@odata.etag"]);
    }
    assert_eq!(run["proposed"]["lines"][0]["fields"]["Text"], "Accrual, corrected");
    assert_eq!(runs_in_store(&h), 0, "a dry run saves nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_breaking_the_allowlist_the_type_or_a_facet_is_refused_by_name_and_nothing_is_saved() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let cases = [
        (
            vec!["update-vendor", "US-104", "--company", "usmf", "--set", "VendorGroupId=20"],
            "VendorGroupId",
            "allowlist.field",
        ),
        (
            vec!["approve-invoice", "APINV-000123", "--company", "usmf", "--set", "DueDate=next friday"],
            "DueDate",
            "metadata.facets",
        ),
        (
            vec!["update-vendor", "US-104", "--company", "usmf", "--set", "BankAccountId=WF-CHK-44100"],
            "BankAccountId",
            "metadata.facets",
        ),
        (
            vec!["update-vendor", "US-104", "--company", "usmf", "--set", "OnHoldStatus=Maybe"],
            "OnHoldStatus",
            "metadata.facets",
        ),
        (
            vec!["post-journal", "00123", "--company", "usmf", "--line", "1:DebitAmount=10"],
            "lines[LineNumber=1].DebitAmount",
            "allowlist.field",
        ),
    ];
    for (args, field, rule) in cases {
        for destination in ["--out", "--import"] {
            let file = h.dir.path().join("refused.json");
            let mut all: Vec<&str> = vec!["--json", "propose"];
            all.extend_from_slice(&args);
            all.extend_from_slice(&["--justification", "x"]);
            let file_arg = file.to_str().unwrap().to_string();
            if destination == "--out" {
                all.extend_from_slice(&["--out", &file_arg]);
            } else {
                all.push("--import");
            }
            let out = signoff(&h, &config, REQUESTER, &all);
            assert_eq!(out.status.code(), Some(4), "{args:?}: {}", text(&out));
            let message = json_of(&out)["error"]["message"].as_str().unwrap().to_string();
            assert!(message.starts_with(&format!("{field} refused ({rule})")), "{args:?}: {message}");
            assert!(!file.exists(), "{args:?}: no file was written");
            assert_eq!(runs_in_store(&h), 0, "{args:?}: nothing was imported");
        }
    }
    assert!(h.writes().is_empty(), "nothing was sent to F&O");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_written_to_a_file_imports_as_it_is() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let file = h.dir.path().join("vendor.json");
    let patch = h.dir.path().join("patch.toml");
    std::fs::write(&patch, "[fields]\nBankAccountId = \"WF-CHK-441\"\n").unwrap();
    let out = signoff(
        &h,
        &config,
        REQUESTER,
        &[
            "propose",
            "update-vendor",
            "US-104",
            "--company",
            "usmf",
            "--patch",
            patch.to_str().unwrap(),
            "--justification",
            "Letter",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("BankAccountId"), "the diff is shown: {}", text(&out));
    let run = signoff::model::parse_run(&std::fs::read_to_string(&file).unwrap(), "vendor.json").unwrap();
    assert_eq!(run.proposed.fields["BankAccountId"].to_string(), "WF-CHK-441");
    let again = signoff(
        &h,
        &config,
        REQUESTER,
        &[
            "propose",
            "update-vendor",
            "US-104",
            "--company",
            "usmf",
            "--set",
            "BankAccountId=X",
            "--justification",
            "x",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(again.status.code(), Some(1), "an existing file is never overwritten: {}", text(&again));
    let imported = signoff(&h, &config, REQUESTER, &["runs", "import", file.to_str().unwrap()]);
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recapture_of_a_stale_run_executes_and_the_audit_links_both() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let config = config_of(&h);
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    let old =
        propose(&h, &config, &["update-vendor", "US-104", "--company", "usmf", "--set", "BankAccountId=WF-CHK-441"]);
    h.sim.edit_record("VendorsV2", &keys, json!({"DefaultPaymentTermsName": "Net10"})).unwrap();
    let stale = approve(&h, &config, &old);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["BankAccountId"], "BOA-9921", "nothing was written");

    let out = signoff(&h, &config, REQUESTER, &["--json", "runs", "recapture", &old, "--import"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let envelope = json_of(&out);
    let new = envelope["run"]["id"].as_str().unwrap().to_string();
    assert_eq!(envelope["run"]["supersedes"], old.as_str());
    assert_eq!(envelope["run"]["before"]["fields"]["DefaultPaymentTermsName"], "Net10", "captured live");
    let moved = &envelope["replaces"]["moved"];
    assert_eq!(moved["drift"], true, "the three-way view shows what moved");
    let row =
        moved["header"]["rows"].as_array().unwrap().iter().find(|r| r["field"] == "DefaultPaymentTermsName").unwrap();
    assert_eq!(row["drift"], true);

    let shown = signoff(&h, &config, APPROVER, &["runs", "show", &new]);
    let shown = text(&shown);
    assert!(shown.contains(&format!("This run replaces run {old} (stale), whose record changed")), "{shown}");
    assert!(shown.contains("Net10"), "the live value is in the three-way view: {shown}");

    let again = signoff(&h, &config, REQUESTER, &["runs", "recapture", &old, "--dry-run"]);
    assert_eq!(again.status.code(), Some(4), "a run is re-captured once: {}", text(&again));

    let executed = approve(&h, &config, &new);
    assert_eq!(executed.status.code(), Some(0), "{}", text(&executed));
    let executed = signoff(&h, &config, SECOND, &["--json", "approve", &new, "--reason", "Call-back confirmed"]);
    assert_eq!(json_of(&executed)["outcome"], "executed", "{}", text(&executed));
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["BankAccountId"], "WF-CHK-441");

    let store = h.store();
    let imported = store.audit_events(&RunId::from(new.as_str())).unwrap();
    let imported = imported.iter().find(|e| e.kind == "run.imported").unwrap();
    assert_eq!(imported.payload["supersedes"], old.as_str());
    let superseded = store.audit_events(&RunId::from(old.as_str())).unwrap();
    let superseded = superseded.iter().find(|e| e.kind == "run.superseded").unwrap();
    assert_eq!(superseded.payload["by"], new.as_str());
    let verify = signoff(&h, &config, APPROVER, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_run_is_not_recaptured() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let id = propose(&h, &config, &["disable-user", "jmorales"]);
    let out = signoff(&h, &config, REQUESTER, &["runs", "recapture", &id, "--import"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("only a stale or expired run is re-captured"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_pages_through_every_record_and_escapes_hostile_text() {
    let h = Harness::start_dialect(Dialect::Contoso).await;
    let config = config_of(&h);
    let lines: Vec<Value> = (0..600)
        .map(|i| {
            json!({"dataAreaId": "usmf", "JournalBatchNumber": "00126", "AccountDisplayValue": "605140-001-022",
            "DebitAmount": 1.25, "TransDate": "2026-11-17T12:00:00Z", "Text": format!("Query line {i}")})
        })
        .collect();
    h.sim.insert_records("LedgerJournalLines", lines).unwrap();
    let out = signoff(
        &h,
        &config,
        APPROVER,
        &["--json", "query", "LedgerJournalLines", "--filter", "JournalBatchNumber eq '00126'", "--company", "usmf"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result = json_of(&out);
    let expected = h.sim.records("LedgerJournalLines").iter().filter(|l| l["JournalBatchNumber"] == "00126").count();
    assert_eq!(result["count"], expected);
    assert!(result["pages"].as_u64().unwrap() >= 3, "250 a page: {}", result["pages"]);

    let table = signoff(
        &h,
        &config,
        APPROVER,
        &["query", "VendorInvoiceHeaders", "--select", "HeaderReference,VendorName", "--cross-company"],
    );
    let shown = String::from_utf8_lossy(&table.stdout).to_string();
    assert_eq!(table.status.code(), Some(0), "{}", text(&table));
    assert!(shown.contains("APINV-000161") && shown.contains("Tailspin Toys^[[32m"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "no raw escape reaches the terminal");
    let json = signoff(&h, &config, APPROVER, &["--json", "query", "VendorInvoiceHeaders", "--top", "2"]);
    assert!(!String::from_utf8_lossy(&json.stdout).contains('\u{1b}'));
    assert_eq!(json_of(&json)["count"], 2);
    assert!(h.writes().is_empty(), "query is read-only");
}

/// `propose approve-workflow-item ITEM`: the work item awaiting the caller, as F&O holds it, becomes a run
/// that imports, re-validates cleanly and executes as F&O's own approval (validate, then complete).
/// Someone without an F&O user for the item gets nothing saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_item_proposed_by_its_id_executes_as_the_items_completion_in_fno() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let args = |extra: &[&'static str]| {
            let mut all = vec!["--json", "propose", "approve-workflow-item", "WI-000101"];
            all.extend_from_slice(&["--justification", "Invoice checked against the receipt"]);
            all.extend_from_slice(extra);
            all
        };

        let refused = signoff(&h, &config, SECOND, &args(&["--import"]));
        assert_ne!(refused.status.code(), Some(0), "{dialect}: {}", text(&refused));
        assert!(text(&refused).contains("no F&O user is known for approver"), "{dialect}: {}", text(&refused));
        assert_eq!(runs_in_store(&h), 0, "{dialect}: nothing saved for someone the item does not await");

        let out = signoff(&h, &config, APPROVER, &args(&["--import"]));
        assert_eq!(out.status.code(), Some(0), "{dialect}: {}", text(&out));
        let envelope = json_of(&out);
        assert_eq!(envelope["run"]["action"], "dynamicsfinance.approve-workflow-item", "{dialect}");
        assert_eq!(envelope["run"]["work_item"]["id"], "WI-000101", "{dialect}");
        assert_eq!(envelope["run"]["justification"], "Invoice checked against the receipt", "{dialect}");
        let id = envelope["run"]["id"].as_str().unwrap().to_string();

        let out = approve(&h, &config, &id);
        assert_eq!(out.status.code(), Some(0), "{dialect}: {}", text(&out));
        assert_eq!(h.status(&id), "executed", "{dialect}");
        let item = h.sim.record("WorkflowWorkItems", &json!({"InstanceId": "WI-000101"})).unwrap();
        assert_eq!(item["Status"], "Completed", "{dialect}");
        assert_eq!(item["Comment"], "Checked against the documents", "{dialect}");
    }
}
