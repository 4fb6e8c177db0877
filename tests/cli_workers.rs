//! Workers (HCM) as governed runs, through the real binary against the simulator in both dialects: a
//! worker's title (`Workers`, keyed by PersonnelNumber) and the department segment of its employment's
//! default dimensions (`Employments`, keyed by worker, legal entity and start date) are `update-record`
//! runs on the `worker` and `employment` managed objects. Each is proposed from the live record,
//! approved, executed with a PATCH under `If-Match` (read from the simulator's request log), rolled back,
//! and refused as stale when the worker drifted. Every write is judged by the simulator's state.

use serde_json::{Value, json};
use signoff::sim::Dialect;

use crate::cli_propose::{approve, config_of, json_of, signoff, text};
use crate::cli_records::{approved_stale, outcome, propose, rollback, rolled_back, writes_since};
use crate::review_support::{APPROVER, Harness};

fn worker(number: &str) -> Value {
    json!({"PersonnelNumber": number})
}

fn employment(number: &str, company: &str, start: &str) -> Value {
    json!({"PersonnelNumber": number, "LegalEntityId": company, "EmploymentStartDate": start})
}

fn etag_of(h: &Harness, set: &str, keys: &Value) -> String {
    h.sim.record(set, keys).unwrap()["@odata.etag"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workers_title_change_executes_under_if_match_rolls_back_and_goes_stale_on_drift() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let etag = etag_of(&h, "Workers", &worker("000124"));
        let id = propose(
            &h,
            &config,
            &[
                "update-record",
                "--object",
                "worker",
                "--key",
                "PersonnelNumber=000124",
                "--set",
                "TitleId=Senior accountant",
            ],
        );
        let shown = signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]);
        assert_eq!(shown.status.code(), Some(0), "{}", text(&shown));
        let run = &json_of(&shown)["run"];
        assert_eq!(run["target"]["entity_set"], "Workers", "{run}");
        assert!(run["target"]["keys"].get("dataAreaId").is_none(), "a worker is global: {run}");
        assert_eq!(run["before"]["fields"]["TitleId"], "Accountant", "{run}");

        let out = approve(&h, &config, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        let (method, target, if_match, body) = &writes[0];
        assert_eq!(method, "PATCH");
        assert!(target.starts_with("/data/Workers(") && target.contains("PersonnelNumber='000124'"), "{target}");
        assert_eq!(if_match.as_deref(), Some(etag.as_str()), "the PATCH carries the reviewed worker's ETag");
        assert_eq!(serde_json::from_str::<Value>(body).unwrap(), json!({"TitleId": "Senior accountant"}));
        assert_eq!(h.sim.record("Workers", &worker("000124")).unwrap()["TitleId"], "Senior accountant");

        let writes = rolled_back(&h, &config, &id);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, "PATCH");
        assert!(writes[0].2.as_deref().is_some_and(|e| e != etag), "the rollback is guarded by the executed ETag");
        assert_eq!(h.sim.record("Workers", &worker("000124")).unwrap()["TitleId"], "Accountant");

        // HR retitles the worker in F&O after the run was reviewed: stale, nothing sent.
        let id = propose(
            &h,
            &config,
            &["update-record", "--object", "worker", "--key", "PersonnelNumber=000248", "--set", "TitleId=Accountant"],
        );
        h.sim.edit_record("Workers", &worker("000248"), json!({"TitleId": "Financial controller"})).unwrap();
        approved_stale(&h, &config, &id);
        assert_eq!(h.sim.record("Workers", &worker("000248")).unwrap()["TitleId"], "Financial controller");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_move_on_the_employment_executes_and_rolls_back() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let keys = employment("000131", "USMF", "2021-06-14T12:00:00Z");
        let etag = etag_of(&h, "Employments", &keys);
        let id = propose(
            &h,
            &config,
            &[
                "update-record",
                "--object",
                "employment",
                "--key",
                "PersonnelNumber=000131",
                "--key",
                "LegalEntityId=USMF",
                "--key",
                "EmploymentStartDate=2021-06-14T12:00:00Z",
                "--set",
                "DimensionDisplayValue=001-022",
            ],
        );
        let out = approve(&h, &config, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        let (method, target, if_match, body) = &writes[0];
        assert_eq!(method, "PATCH");
        // The start date is a DateTimeOffset key: unquoted in the URL.
        assert!(target.contains("EmploymentStartDate=2021-06-14T12:00:00Z"), "{target}");
        assert!(target.contains("LegalEntityId='USMF'") && target.contains("PersonnelNumber='000131'"), "{target}");
        assert_eq!(if_match.as_deref(), Some(etag.as_str()));
        assert_eq!(serde_json::from_str::<Value>(body).unwrap(), json!({"DimensionDisplayValue": "001-022"}));
        assert_eq!(h.sim.record("Employments", &keys).unwrap()["DimensionDisplayValue"], "001-022");

        let out = rollback(&h, &config, &id);
        assert_eq!(outcome(&out), "rolled-back", "{}", text(&out));
        assert_eq!(h.sim.record("Employments", &keys).unwrap()["DimensionDisplayValue"], "001-024");
    }
}

/// A title F&O does not know is refused by F&O itself (the worker's title relates to the titles table):
/// the run fails with the Infolog text, and the worker keeps its title.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_title_is_refused_by_fno_and_the_worker_is_unchanged() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let id = propose(
        &h,
        &config,
        &["update-record", "--object", "worker", "--key", "PersonnelNumber=000131", "--set", "TitleId=Chief of staff"],
    );
    let out = approve(&h, &config, &id);
    assert_eq!(outcome(&out), "failed", "{}", text(&out));
    assert!(text(&out).contains("not found in the relating table 'Titles'"), "{}", text(&out));
    assert_eq!(h.sim.record("Workers", &worker("000131")).unwrap()["TitleId"], "Accounts payable specialist");
}
