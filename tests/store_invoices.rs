//! The duplicate-invoice question asked for a batch of runs at once (the queue's rows, one question to the
//! store) answers, on both backends, exactly what asking run by run answers (a decision's facts).

use crate::common;

use common::backends::TestDb;
use serde_json::json;
use signoff::model::{FieldValue, GovernedRun, RunId, RunStatus};
use signoff::review::facts::{other_invoices, other_invoices_of};

/// Invoice `n` of USMF (vendor US-101..US-140), or a twin of invoice `of`: its vendor and number written
/// with other spacing and case, the same identity.
fn invoice(n: u32, twin_of: Option<u32>) -> GovernedRun {
    let mut run = common::invoice(&format!("RUN-DUP-{n:04}"), n, "USMF", "1250.00");
    if let Some(of) = twin_of {
        let original = common::invoice("original", of, "USMF", "1250.00").before.fields;
        let vendor = original["InvoiceAccount"].as_text().unwrap().to_ascii_lowercase();
        let number = original["InvoiceNumber"].as_text().unwrap().to_string();
        run.before.fields.insert("InvoiceAccount".into(), FieldValue::from(format!(" {vendor}").as_str()));
        run.before.fields.insert("InvoiceNumber".into(), FieldValue::from(format!("{number} ").as_str()));
    }
    run
}

fn ids(runs: &[signoff::judge::OtherInvoice]) -> Vec<String> {
    let mut ids: Vec<String> = runs.iter().map(|o| o.run_id.0.clone()).collect();
    ids.sort();
    ids
}

#[test]
fn a_batch_of_runs_gets_the_same_duplicates_as_asking_run_by_run() {
    for db in TestDb::all("a_batch_of_runs_gets_the_same_duplicates_as_asking_run_by_run") {
        let backend = db.name();
        let store = db.open();
        // 300 invoices; 10 and 20 repeat invoice 0; 30 repeats 5, which is then rejected (no longer counts);
        // 40 repeats 7, which is executed (still counts); a journal carries no invoice key at all.
        let twins = [(10, 0), (20, 0), (30, 5), (40, 7)];
        let mut runs: Vec<GovernedRun> =
            (0..300).map(|n| invoice(n, twins.iter().find(|(t, _)| *t == n).map(|(_, of)| *of))).collect();
        runs.push(common::journal("RUN-DUP-JOURNAL", 1, "USMF", "310.00"));
        store.import(&runs, "svc-ap-ingest").unwrap();
        let id = |n: u32| RunId(format!("RUN-DUP-{n:04}"));
        store.transition(&id(5), &[RunStatus::Pending], RunStatus::Rejected, "test", json!({})).unwrap();
        use RunStatus::{Approved, Executed, Executing, Pending};
        for pair in [Pending, Approved, Executing, Executed].windows(2) {
            store.transition(&id(7), &[pair[0]], pair[1], "test", json!({})).unwrap();
        }

        let batch = other_invoices_of(&store, &runs.iter().collect::<Vec<_>>()).unwrap();
        for run in &runs {
            let one = ids(&other_invoices(&store, run).unwrap());
            let many = batch.get(&run.id).map(|o| ids(o)).unwrap_or_default();
            assert_eq!(many, one, "{backend}: {}", run.id);
        }
        let of = |n: u32| batch.get(&id(n)).map(|o| ids(o)).unwrap_or_default();
        assert_eq!(of(0), vec!["RUN-DUP-0010", "RUN-DUP-0020"], "{backend}");
        assert_eq!(of(20), vec!["RUN-DUP-0000", "RUN-DUP-0010"], "{backend}");
        assert!(of(30).is_empty(), "{backend}: a rejected original does not count");
        assert_eq!(of(40), vec!["RUN-DUP-0007"], "{backend}: an executed original counts");
        assert!(of(1).is_empty(), "{backend}");
        assert!(!batch.contains_key(&RunId::from("RUN-DUP-JOURNAL")), "{backend}: a journal has no invoice key");
    }
}
