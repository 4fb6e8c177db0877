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
pub(crate) fn propose(h: &Harness, config: &Path, args: &[&str]) -> String {
    propose_because(h, config, JUSTIFICATION, args)
}

/// [`propose`] with the requester's own justification.
pub(crate) fn propose_because(h: &Harness, config: &Path, justification: &str, args: &[&str]) -> String {
    let mut all = vec!["--json", "propose"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--justification", justification, "--import"]);
    let out = signoff(h, config, REQUESTER, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json_of(&out)["run"]["id"].as_str().unwrap().to_string()
}

pub(crate) fn rollback(h: &Harness, config: &Path, id: &str) -> Output {
    rollback_because(h, config, "Undo: agreed with credit control", id)
}

/// [`rollback`] by the approver, with their own reason.
pub(crate) fn rollback_because(h: &Harness, config: &Path, reason: &str, id: &str) -> Output {
    signoff(h, config, APPROVER, &["--json", "rollback", id, "--reason", reason])
}

/// Roll `id` back, which must say rolled-back: the writes it sent.
pub(crate) fn rolled_back(h: &Harness, config: &Path, id: &str) -> Vec<(String, String, Option<String>, String)> {
    let from = h.writes().len();
    let out = rollback(h, config, id);
    assert_eq!(outcome(&out), "rolled-back", "{}", text(&out));
    writes_since(h, from)
}

/// Approve `id` after its record changed in F&O: stale, and nothing sent.
pub(crate) fn approved_stale(h: &Harness, config: &Path, id: &str) {
    let from = h.writes().len();
    let out = approve(h, config, id);
    assert_eq!(outcome(&out), "stale", "{}", text(&out));
    assert!(writes_since(h, from).is_empty(), "a stale run sends nothing");
}

pub(crate) fn outcome(out: &Output) -> String {
    json_of(out)["outcome"].as_str().unwrap_or_default().to_string()
}

fn group(id: &str) -> Value {
    json!({"dataAreaId": "usmf", "CustomerGroupId": id})
}

fn customer(account: &str) -> Value {
    json!({"dataAreaId": "usmf", "CustomerAccount": account})
}

/// The writes the simulator logged since `from` (method, target, If-Match, body).
pub(crate) fn writes_since(h: &Harness, from: usize) -> Vec<(String, String, Option<String>, String)> {
    h.writes()
        .into_iter()
        .skip(from)
        .map(|r| {
            let if_match = r.headers.iter().find(|(k, _)| k == "if-match").map(|(_, v)| v.clone());
            (r.method, r.target, if_match, r.body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_record_executes_under_if_match_and_rolls_back() {
    for dialect in Dialect::ALL {
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
        // A dry run shows the guarded PATCH and sends nothing.
        let out = signoff(&h, &config, APPROVER, &["--json", "approve", &id, "--reason", "Checked", "--dry-run"]);
        assert_eq!(outcome(&out), "dry-run", "{}", text(&out));
        let request = &json_of(&out)["requests"][0];
        assert_eq!(request["method"], "PATCH", "{request}");
        let headers = request["headers"].as_array().unwrap();
        assert!(headers.iter().any(|h| h[0] == "If-Match" && h[1] == etag.as_str()), "{request}");
        assert!(h.writes().is_empty(), "a dry run writes nothing: {:?}", h.writes());

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

        let writes = rolled_back(&h, &config, &id);
        let new_etag = &writes[0].2;
        assert_eq!(writes[0].0, "PATCH");
        assert!(new_etag.as_deref().is_some_and(|e| e != etag), "the rollback is guarded by the executed ETag");
        assert_eq!(h.sim.record("CustomerGroups", &group("20")).unwrap()["PaymentTermId"], "Net45");

        // The record drifted after review: stale, nothing sent.
        let id = propose(
            &h,
            &config,
            &[
                "update-record",
                "--object",
                "customer_group",
                "--company",
                "usmf",
                "--key",
                "CustomerGroupId=10",
                "--set",
                "TaxGroupId=WA",
            ],
        );
        h.sim
            .edit_record("CustomerGroups", &group("10"), json!({"Description": "Wholesale and distributors"}))
            .unwrap();
        approved_stale(&h, &config, &id);
        assert_eq!(h.sim.record("CustomerGroups", &group("10")).unwrap()["TaxGroupId"], "CA");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_record_posts_and_its_rollback_removes_exactly_the_created_record() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let groups_before = h.sim.records("CustomerGroups").len();
        let create = |key: &str| {
            propose(
                &h,
                &config,
                &[
                    "create-record",
                    "--object",
                    "customer_group",
                    "--company",
                    "usmf",
                    "--key",
                    &format!("CustomerGroupId={key}"),
                    "--set",
                    "Description=Online marketplace customers",
                    "--set",
                    "PaymentTermId=Net14",
                ],
            )
        };
        let id = create("40");
        let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]));
        assert_eq!(shown["run"]["before"]["absent"], true, "the before state records that no such key exists");
        assert!(shown["run"]["before"].get("etag").is_none(), "an absent record has no ETag");

        let out = approve(&h, &config, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        let (method, target, _, body) = &writes[0];
        assert_eq!((method.as_str(), target.as_str()), ("POST", "/data/CustomerGroups"));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["CustomerGroupId"], "40");
        assert_eq!(body["dataAreaId"], "usmf");
        let created = h.sim.record("CustomerGroups", &group("40")).expect("the group exists");
        assert_eq!(created["Description"], "Online marketplace customers");
        assert_eq!(h.sim.records("CustomerGroups").len(), groups_before + 1);

        // A customer now uses the group: the rollback is refused and nothing is deleted.
        h.sim
            .insert_record(
                "CustomersV3",
                json!({"dataAreaId": "usmf", "CustomerAccount": "US-040", "OrganizationName": "Northwind Online",
                       "CustomerGroupId": "40", "CurrencyCode": "USD", "OnHoldStatus": "No"}),
            )
            .unwrap();
        let from = h.writes().len();
        let out = rollback(&h, &config, &id);
        assert_ne!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("CustomersV3"), "the refusal names the referencing set: {}", text(&out));
        assert!(writes_since(&h, from).is_empty(), "nothing was deleted: {:?}", writes_since(&h, from));
        assert!(h.sim.record("CustomerGroups", &group("40")).is_some());

        // Without the reference, the rollback deletes exactly the created record, under its ETag.
        let etag = created["@odata.etag"].as_str().unwrap().to_string();
        h.sim.edit_record("CustomersV3", &customer("US-040"), json!({"CustomerGroupId": "10"})).unwrap();
        let writes = rolled_back(&h, &config, &id);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, "DELETE");
        assert!(writes[0].1.contains("CustomerGroupId='40'"), "{:?}", writes[0]);
        assert_eq!(writes[0].2.as_deref(), Some(etag.as_str()), "deleted under the ETag its create returned");
        assert!(h.sim.record("CustomerGroups", &group("40")).is_none());
        assert_eq!(h.sim.records("CustomerGroups").len(), groups_before, "only the created record went");

        // A key taken between proposal and approval: the create is stale and nothing is sent.
        let id = create("50");
        h.sim
            .insert_record(
                "CustomerGroups",
                json!({"dataAreaId": "usmf", "CustomerGroupId": "50", "Description": "Created in F&O meanwhile"}),
            )
            .unwrap();
        approved_stale(&h, &config, &id);
        assert_eq!(h.sim.record("CustomerGroups", &group("50")).unwrap()["Description"], "Created in F&O meanwhile");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_record_shows_every_field_deletes_under_if_match_and_recreates() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let live = h.sim.record("CustomerGroups", &group("90")).unwrap();
        let etag = live["@odata.etag"].as_str().unwrap().to_string();
        let args = ["delete-record", "--object", "customer_group", "--company", "usmf", "--key", "CustomerGroupId=90"];
        let id = propose(&h, &config, &args);

        // Every field of the record is in the diff, as removed, with the value that disappears.
        let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]));
        let rows = shown["diff"]["header"]["rows"].as_array().expect("header rows");
        let fields: Vec<(&String, &Value)> =
            live.as_object().unwrap().iter().filter(|(k, _)| !k.starts_with('@')).collect();
        assert_eq!(fields.len(), 7, "{fields:?}");
        assert_eq!(rows.len(), fields.len(), "one row per field: {rows:?}");
        for (field, value) in fields {
            let row =
                rows.iter().find(|r| r["field"] == field.as_str()).unwrap_or_else(|| panic!("no row for {field}"));
            assert_eq!(row["kind"], "removed", "{row}");
            let shown_value = row["before"]["text"].as_str().unwrap();
            let expected = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
            assert_eq!(shown_value, expected, "{field}");
        }
        let page = text(&signoff(&h, &config, APPROVER, &["runs", "show", &id]));
        assert!(page.contains("-  CustomerGroupId") && page.contains("Intercompany customers"), "{page}");

        let out = approve(&h, &config, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, "DELETE");
        assert_eq!(writes[0].2.as_deref(), Some(etag.as_str()), "DELETE carries If-Match");
        assert!(h.sim.record("CustomerGroups", &group("90")).is_none());

        let writes = rolled_back(&h, &config, &id);
        assert_eq!(writes[0].0, "POST");
        let back = h.sim.record("CustomerGroups", &group("90")).expect("re-created");
        for field in ["Description", "PaymentTermId", "TaxGroupId", "IsSalesTaxIncludedInPrice"] {
            assert_eq!(back[field], live[field], "{field} restored from the snapshot");
        }

        // A group that drifted after review is not deleted: the run is stale.
        let id = propose(
            &h,
            &config,
            &["delete-record", "--object", "customer_group", "--company", "usmf", "--key", "CustomerGroupId=30"],
        );
        h.sim
            .edit_record("CustomerGroups", &group("30"), json!({"Description": "Retail customers (all stores)"}))
            .unwrap();
        approved_stale(&h, &config, &id);
        assert!(h.sim.record("CustomerGroups", &group("30")).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_operation_calls_the_bound_action_and_its_compensation() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let (hold, release, level, reason) = match dialect {
            Dialect::Signoff => ("signoffPlaceOnHold", "signoffReleaseHold", "_holdLevel", "_reason"),
            Dialect::Contoso => ("blockCustomer", "unblockCustomer", "_blockLevel", "_note"),
        };
        let etag =
            h.sim.record("CustomersV3", &customer("US-003")).unwrap()["@odata.etag"].as_str().unwrap().to_string();
        let operation = |account: &str| {
            propose(
                &h,
                &config,
                &[
                    "execute-operation",
                    "--object",
                    "customer",
                    "--company",
                    "usmf",
                    "--key",
                    &format!("CustomerAccount={account}"),
                    "--operation",
                    "place_on_hold",
                    "--param",
                    "hold=All",
                    "--param",
                    "reason=Credit limit exceeded by 12,400.00 USD",
                ],
            )
        };
        let id = operation("US-003");
        // The diff shows the operation, its parameters and the record it acts on.
        let shown = text(&signoff(&h, &config, APPROVER, &["runs", "show", &id]));
        for expected in ["(operation)", "place_on_hold", "(parameter) hold", "(parameter) reason", "usmf / US-003"] {
            assert!(shown.contains(expected), "{expected}:\n{shown}");
        }
        let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]));
        let rows = shown["diff"]["header"]["rows"].as_array().unwrap();
        let row =
            |field: &str| rows.iter().find(|r| r["field"] == field).unwrap_or_else(|| panic!("{field}: {rows:?}"));
        assert_eq!(row("OrganizationName")["before"]["text"], "Forest Wholesales", "the record it acts on");
        assert_eq!(row("OrganizationName")["kind"], "unchanged");
        assert_eq!(row("(parameter) hold")["proposed"]["text"], "All");
        assert_eq!(row("(parameter) hold")["kind"], "added");

        let out = approve(&h, &config, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        let (method, target, if_match, body) = &writes[0];
        assert_eq!(method, "POST");
        assert!(target.contains(&format!("/Microsoft.Dynamics.DataEntities.{hold}")), "{target}");
        assert_eq!(if_match.as_deref(), Some(etag.as_str()), "the bound action carries If-Match");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body[level], "All");
        assert_eq!(body[reason], "Credit limit exceeded by 12,400.00 USD");
        assert_eq!(h.sim.record("CustomersV3", &customer("US-003")).unwrap()["OnHoldStatus"], "All");

        let writes = rolled_back(&h, &config, &id);
        assert!(writes[0].1.contains(&format!("/Microsoft.Dynamics.DataEntities.{release}")), "{writes:?}");
        assert!(writes[0].2.as_deref().is_some_and(|e| e != etag), "the compensation is guarded by the live ETag");
        assert_eq!(h.sim.record("CustomersV3", &customer("US-003")).unwrap()["OnHoldStatus"], "No");

        // Drift: the customer changed after review; the operation is stale and nothing is sent.
        let id = operation("US-001");
        h.sim.edit_record("CustomersV3", &customer("US-001"), json!({"CreditLimit": 150000.00})).unwrap();
        approved_stale(&h, &config, &id);
        assert_eq!(h.sim.record("CustomersV3", &customer("US-001")).unwrap()["OnHoldStatus"], "No");
    }
}
