//! The duplicate-invoice verdict comes from an index (`runs_by_invoice`), not a scan of the company's
//! invoices: it is still found at every store size, whichever of the two invoices was imported first, in
//! every path that judges (the decision's facts, `runs show`, the queue), and on a store written before the
//! index existed once it is migrated.

use crate::common;
use crate::judgement_common;

use serde_json::json;
use signoff::model::{FieldValue, GovernedRun, RunId, RunStatus};
use signoff::policy::Level;
use signoff::review::facts::other_invoices;
use signoff::review::preview::{assess_open_runs, judge};
use signoff::store::{SCHEMA_VERSION, Store};

const APPROVER: &str = "ben.miller@contoso.com";

/// `count` pending invoices of USMF from 40 vendors, every invoice number distinct: the adversarial shape.
fn history(count: u32) -> Vec<GovernedRun> {
    (0..count).map(|n| common::invoice(&format!("RUN-HIST-{n:06}"), n, "USMF", "1250.00")).collect()
}

/// The invoice under review: vendor US-101, INV-9000001.
fn original() -> GovernedRun {
    let mut run = common::invoice("RUN-2026-ORIGINAL", 9_000_000, "USMF", "4800.00");
    run.before.fields.insert("InvoiceAccount".into(), FieldValue::from("US-101"));
    run.before.fields.insert("InvoiceNumber".into(), FieldValue::from("INV-9000001"));
    run
}

/// The same invoice captured again by another automation: other spacing and case, same identity.
fn duplicate() -> GovernedRun {
    let mut run = original();
    run.id = RunId("RUN-2026-DUPLICATE".into());
    run.before.fields.insert("InvoiceAccount".into(), FieldValue::from(" us-101"));
    run.before.fields.insert("InvoiceNumber".into(), FieldValue::from("inv-9000001 "));
    run
}

/// The duplicate verdict of `id` as `runs show` judges it.
fn shown_verdict(store: &Store, id: &str) -> (Level, String) {
    let stored = store.get(&RunId(id.into())).unwrap().unwrap();
    let judgement = judge(store, &stored, &judgement_common::config(), APPROVER, None, None).unwrap();
    let v = judgement.evaluation.verdicts.iter().find(|v| v.rule == "invoice.duplicate").unwrap();
    (v.level, v.message.clone())
}

/// The duplicate verdict of `id` in the queue's batch judgement.
fn queued_verdict(store: &Store, id: &str) -> (Level, String) {
    let batch = assess_open_runs(store, &judgement_common::config(), APPROVER, |_| None).unwrap();
    let v = batch[&RunId(id.into())].evaluation.verdicts.iter().find(|v| v.rule == "invoice.duplicate").unwrap();
    (v.level, v.message.clone())
}

fn assert_each_names_the_other(store: &Store) {
    for (id, other) in [("RUN-2026-ORIGINAL", "RUN-2026-DUPLICATE"), ("RUN-2026-DUPLICATE", "RUN-2026-ORIGINAL")] {
        let run = store.get(&RunId(id.into())).unwrap().unwrap().run;
        let facts: Vec<String> = other_invoices(store, &run).unwrap().into_iter().map(|o| o.run_id.0).collect();
        assert_eq!(facts, vec![other.to_string()], "the decision's facts for {id}");
        for (path, (level, message)) in [("runs show", shown_verdict(store, id)), ("queue", queued_verdict(store, id))]
        {
            assert_eq!(level, Level::Hard, "{path} of {id}: {message}");
            assert!(message.contains(other), "{path} of {id}: {message}");
        }
    }
}

#[test]
fn the_duplicate_is_found_at_every_store_size_whether_imported_after_the_original_or_before() {
    for size in [0, 300, 3_000] {
        for duplicate_first in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("store.db")).unwrap();
            store.import(&history(size), "svc-ap-ingest").unwrap();
            let (first, second) = if duplicate_first { (duplicate(), original()) } else { (original(), duplicate()) };
            store.import(&[first], "svc-ap-ingest").unwrap();
            store
                .import(
                    &history(size / 2)
                        .into_iter()
                        .map(|mut r| {
                            r.id = RunId(format!("{}-LATER", r.id));
                            r
                        })
                        .collect::<Vec<_>>(),
                    "svc-ap-ingest",
                )
                .unwrap_or_else(|e| panic!("{e}"));
            store.import(&[second], "svc-ap-ingest").unwrap();
            assert_each_names_the_other(&store);
        }
    }
}

#[test]
fn an_executed_original_still_counts_and_a_rolled_back_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db")).unwrap();
    store.import(&history(200), "svc-ap-ingest").unwrap();
    store.import(&[original(), duplicate()], "svc-ap-ingest").unwrap();
    let id = RunId("RUN-2026-ORIGINAL".into());
    use RunStatus::{Approved, Executed, Executing, Pending, RolledBack};
    for pair in [Pending, Approved, Executing, Executed].windows(2) {
        store.transition(&id, &[pair[0]], pair[1], "test", json!({})).unwrap();
    }
    let (level, message) = shown_verdict(&store, "RUN-2026-DUPLICATE");
    assert_eq!(level, Level::Hard, "{message}");
    assert!(message.contains("RUN-2026-ORIGINAL"), "{message}");
    assert_eq!(queued_verdict(&store, "RUN-2026-DUPLICATE").0, Level::Hard);

    store.transition(&id, &[Executed], RolledBack, "test", json!({})).unwrap();
    for (level, message) in [shown_verdict(&store, "RUN-2026-DUPLICATE"), queued_verdict(&store, "RUN-2026-DUPLICATE")]
    {
        assert_eq!(level, Level::Pass, "{message}");
    }
}

#[test]
fn a_store_written_before_the_invoice_index_is_migrated_and_backfilled_from_its_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    Store::open(&path).unwrap().import(&[history(50), vec![original(), duplicate()]].concat(), "svc").unwrap();
    // Take the file back to schema 2 exactly: no key columns, no index (neither 3's, 4's, 5's nor 6's).
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP INDEX one_execution_per_run;
         DROP INDEX audit_events_by_kind;
         DROP INDEX runs_open_by_expiry;
         DROP INDEX runs_by_age;
         DROP INDEX runs_by_invoice;
         ALTER TABLE runs DROP COLUMN invoice_vendor;
         ALTER TABLE runs DROP COLUMN invoice_number;
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let keyed: i64 =
        conn.query_row("SELECT COUNT(*) FROM runs WHERE invoice_number IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(keyed, 52, "every stored invoice got its key");
    let key: (String, String) = conn
        .query_row("SELECT invoice_vendor, invoice_number FROM runs WHERE id = 'RUN-2026-DUPLICATE'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(key, ("us-101".to_string(), "inv-9000001".to_string()), "normalised as the rule compares");
    store.verify_audit().unwrap();
    assert_each_names_the_other(&store);
}

#[test]
fn an_edited_invoice_key_that_would_hide_a_duplicate_is_named_by_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path).unwrap();
    store.import(&[original(), duplicate()], "svc").unwrap();
    store.verify_audit().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE runs SET invoice_number = 'inv-hidden' WHERE id = 'RUN-2026-ORIGINAL'", []).unwrap();
    let err = store.verify_audit().unwrap_err().to_string();
    assert!(err.contains("RUN-2026-ORIGINAL") && err.contains("runs.invoice_number"), "{err}");
    let err = store.verify_run(&RunId("RUN-2026-ORIGINAL".into())).unwrap_err().to_string();
    assert!(err.contains("runs.invoice_number is 'inv-hidden' but its payload says 'inv-9000001'"), "{err}");
}

#[test]
fn a_stale_run_shown_against_its_live_record_is_looked_up_by_the_live_invoice_number() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db")).unwrap();
    let mut other = original();
    other.id = RunId("RUN-2026-RENUMBERED".into());
    other.before.fields.insert("InvoiceNumber".into(), FieldValue::from("INV-9000002"));
    store.import(&[history(100), vec![original(), other]].concat(), "svc").unwrap();
    // In F&O the invoice was renumbered to the original's number after it was captured.
    let stored = store.get(&RunId("RUN-2026-RENUMBERED".into())).unwrap().unwrap();
    let mut live = stored.run.before.clone();
    live.fields.insert("InvoiceNumber".into(), FieldValue::from("INV-9000001"));
    let config = judgement_common::config();
    let judgement = judge(&store, &stored, &config, APPROVER, Some(&live), None).unwrap();
    let v = judgement.evaluation.verdicts.iter().find(|v| v.rule == "invoice.duplicate").unwrap();
    assert_eq!(v.level, Level::Hard, "{}", v.message);
    assert!(v.message.contains("RUN-2026-ORIGINAL"), "{}", v.message);
    // Against its reviewed snapshot it has no twin.
    let (level, message) = shown_verdict(&store, "RUN-2026-RENUMBERED");
    assert_eq!(level, Level::Pass, "{message}");
}
