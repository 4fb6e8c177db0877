//! The store keeps runs exactly, imports all or nothing, and refuses to change an imported run.

use crate::common;

use common::backends::TestDb;
use common::{dec, invoice, journal, mixed_runs, user_disable};
use signoff::model::{Action, RunId, RunStatus};
use signoff::store::{RunFilter, SCHEMA_VERSION, Store, StoreError};

/// A fresh store on each backend; the tests that use it run against each.
fn fresh(test: &str) -> Vec<(TestDb, Store)> {
    TestDb::all(test)
        .into_iter()
        .map(|db| {
            let store = db.open();
            (db, store)
        })
        .collect()
}

#[test]
fn imported_runs_are_listed_pending_with_their_summaries() {
    for (db, store) in fresh("imported_runs_are_listed_pending_with_their_summaries") {
        let _backend = db.name();
        let runs = mixed_runs("A", 25);
        let report = store.import(&runs, "april.meyer@contoso.com").unwrap();
        assert_eq!(report.imported.len(), 25);
        assert!(report.unchanged.is_empty());

        let all = store.summaries(&RunFilter::default()).unwrap();
        assert_eq!(all.len(), 25);
        assert!(all.iter().all(|s| s.status == RunStatus::Pending && s.approvals == 0 && s.lease_holder.is_none()));
        let first = all.iter().find(|s| s.id.as_str() == "RUN-A-000001").unwrap();
        assert_eq!(first.action, Action::ApproveVendorInvoice);
        assert_eq!(first.company.as_deref(), Some("usmf"));
        assert_eq!(first.amount, Some(dec("1250000.00")));
        assert_eq!(first.currency.as_deref(), Some("USD"));
        assert_eq!(first.target, "usmf / APINV-000001");
    }
}

#[test]
fn summaries_filter_by_status_action_and_company() {
    for (db, store) in fresh("summaries_filter_by_status_action_and_company") {
        let _backend = db.name();
        let runs = mixed_runs("F", 30);
        store.import(&runs, "april.meyer@contoso.com").unwrap();
        let journals = store.summaries(&RunFilter { action: Some(Action::PostJournal), ..Default::default() }).unwrap();
        assert_eq!(journals.len(), runs.iter().filter(|r| r.action == Action::PostJournal).count());
        let usrt = store.summaries(&RunFilter { company: Some("USRT".into()), ..Default::default() }).unwrap();
        assert_eq!(usrt.len(), runs.iter().filter(|r| r.company().is_some_and(|c| c.as_str() == "usrt")).count());
        assert!(usrt.iter().all(|s| s.company.as_deref() == Some("usrt")));

        store
            .transition(
                &RunId::from("RUN-F-000002"),
                &[RunStatus::Pending],
                RunStatus::Rejected,
                "ap",
                serde_json::json!({}),
            )
            .unwrap();
        let rejected = store.summaries(&RunFilter { status: Some(RunStatus::Rejected), ..Default::default() }).unwrap();
        assert_eq!(rejected.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["RUN-F-000002"]);
    }
}

#[test]
fn identical_reimport_is_a_no_op_reported_as_unchanged() {
    for (db, store) in fresh("identical_reimport_is_a_no_op_reported_as_unchanged") {
        let _backend = db.name();
        let runs = mixed_runs("B", 10);
        store.import(&runs, "april.meyer@contoso.com").unwrap();
        let events_before = store.verify_audit().unwrap().events;

        let again = store.import(&runs, "april.meyer@contoso.com").unwrap();
        assert!(again.imported.is_empty());
        assert_eq!(again.unchanged.len(), 10);
        assert_eq!(store.count_runs().unwrap(), 10);
        assert_eq!(store.verify_audit().unwrap().events, events_before, "a no-op writes no audit event");
    }
}

#[test]
fn a_different_run_under_an_existing_id_is_refused_and_nothing_of_that_import_is_kept() {
    for (db, store) in fresh("a_different_run_under_an_existing_id_is_refused_and_nothing_of_that_import_is_kept") {
        let _backend = db.name();
        store.import(&[invoice("RUN-C-000001", 1, "usmf", "12.50")], "april.meyer@contoso.com").unwrap();

        let newcomer = journal("RUN-C-000002", 2, "usmf", "310.00");
        let tampered = invoice("RUN-C-000001", 1, "usmf", "1250000.00");
        let err = store.import(&[newcomer, tampered], "april.meyer@contoso.com").unwrap_err();
        assert!(matches!(&err, StoreError::Conflict { id, .. } if id.as_str() == "RUN-C-000001"), "{err}");
        assert!(err.to_string().contains("RUN-C-000001"), "{err}");

        assert_eq!(store.count_runs().unwrap(), 1, "the newcomer in the refused import was rolled back");
        let kept = store.get(&RunId::from("RUN-C-000001")).unwrap().unwrap();
        assert_eq!(kept.run.before.fields["ImportedAmount"].as_number(), Some(dec("12.50")));
        assert_eq!(store.verify_audit().unwrap().events, 1);
    }
}

#[test]
fn large_and_fractional_amounts_come_back_exactly() {
    for (db, store) in fresh("large_and_fractional_amounts_come_back_exactly") {
        let _backend = db.name();
        let amounts = ["98765432109876543.21", "12.50", "0.0000001", "1250000.00"];
        let runs: Vec<_> =
            amounts.iter().enumerate().map(|(i, a)| invoice(&format!("RUN-D-{i:06}"), i as u32, "usmf", a)).collect();
        store.import(&runs, "april.meyer@contoso.com").unwrap();
        for (run, amount) in runs.iter().zip(amounts) {
            let stored = store.get(&run.id).unwrap().unwrap();
            assert_eq!(stored.run, *run);
            assert_eq!(stored.digest, run.payload_digest());
            assert_eq!(stored.run.before.fields["ImportedAmount"].to_string(), amount);
        }
        let summaries = store.summaries(&RunFilter::default()).unwrap();
        let shown: Vec<String> = summaries.iter().filter_map(|s| s.amount.map(|a| a.to_string())).collect();
        for amount in amounts {
            assert!(shown.contains(&amount.to_string()), "{amount} in {shown:?}");
        }
    }
}

#[test]
fn get_returns_the_run_with_status_history_and_none_for_an_unknown_id() {
    for (db, store) in fresh("get_returns_the_run_with_status_history_and_none_for_an_unknown_id") {
        let _backend = db.name();
        let run = user_disable("RUN-E-000001", 1);
        store.import(std::slice::from_ref(&run), "it.admin@contoso.com").unwrap();
        let stored = store.get(&run.id).unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Pending);
        assert_eq!(stored.history.len(), 1);
        assert_eq!(stored.history[0].from, None);
        assert_eq!(stored.history[0].actor, "it.admin@contoso.com");
        assert!(store.get(&RunId::from("RUN-E-999999")).unwrap().is_none());
    }
}

#[test]
fn reopening_keeps_the_data_and_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    Store::open(&path).unwrap().import(&mixed_runs("G", 3), "ap").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count_runs().unwrap(), 3);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_store_from_a_newer_signoff_is_refused_with_a_clear_message() {
    for (db, store) in fresh("a_store_from_a_newer_signoff_is_refused_with_a_clear_message") {
        drop(store);
        // Where each backend records its schema version.
        let newer = SCHEMA_VERSION + 1;
        match db {
            TestDb::Sqlite(..) => db.batch(&format!("PRAGMA user_version = {newer}")),
            TestDb::Postgres(_) => assert_eq!(db.execute(&format!("UPDATE signoff_schema SET version = {newer}")), 1),
        }
        let err = match &db {
            TestDb::Sqlite(file, _) => Store::open(file).unwrap_err(),
            TestDb::Postgres(target) => Store::open_postgres(target).unwrap_err(),
        };
        assert!(matches!(err, StoreError::TooNew { found, .. } if found == newer), "{}: {err}", db.name());
        assert!(err.to_string().contains("upgrade signoff"), "{err}");
    }
}

#[test]
fn runs_left_executing_are_found_for_reconciliation() {
    for (db, store) in fresh("runs_left_executing_are_found_for_reconciliation") {
        let _backend = db.name();
        store.import(&mixed_runs("H", 4), "ap").unwrap();
        let id = RunId::from("RUN-H-000003");
        store.transition(&id, &[RunStatus::Pending], RunStatus::Approved, "controller", serde_json::json!({})).unwrap();
        store
            .transition(&id, &[RunStatus::Approved], RunStatus::Executing, "controller", serde_json::json!({}))
            .unwrap();
        assert_eq!(store.runs_in_status(RunStatus::Executing).unwrap(), vec![id.clone()]);
        assert_eq!(store.get(&id).unwrap().unwrap().history.len(), 3);
    }
}

#[test]
fn catalog_and_exchanges_are_kept_and_audited() {
    for (db, store) in fresh("catalog_and_exchanges_are_kept_and_audited") {
        let _backend = db.name();
        assert!(store.load_catalog().unwrap().is_none());
        store.save_catalog(r#"{"entity_sets":["VendorsV2"]}"#, "ops").unwrap();
        let (json, _synced) = store.load_catalog().unwrap().unwrap();
        assert_eq!(json, r#"{"entity_sets":["VendorsV2"]}"#);

        let run = invoice("RUN-I-000001", 1, "usmf", "12.50");
        store.import(std::slice::from_ref(&run), "ap").unwrap();
        store.record_exchange(&run.id, r#"{"request":{"method":"GET"}}"#, "ap").unwrap();
        store.record_exchange(&run.id, r#"{"request":{"method":"PATCH"}}"#, "ap").unwrap();
        let exchanges = store.exchanges(&run.id).unwrap();
        assert_eq!(exchanges.len(), 2);
        assert!(exchanges[1].json.contains("PATCH"));
        let kinds: Vec<String> = store.audit_events(&run.id).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["run.imported", "exchange.recorded", "exchange.recorded"]);
        assert_eq!(store.verify_audit().unwrap().events, 4);
    }
}

#[test]
fn the_test_builder_makes_runs_the_real_parser_accepts() {
    for run in mixed_runs("P", 10) {
        common::assert_parses(&run);
    }
}

mod file_access {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;

    use signoff::store::{Store, StoreAccess, StoreError, exposure, group_id};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    /// The current user's primary group, which a test may give files to without root.
    fn primary_group() -> String {
        let out = std::process::Command::new("id").arg("-gn").output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn a_new_store_is_created_owner_only_in_a_directory_others_cannot_enter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signoff/store.db");
        let store = Store::open(&path).unwrap();
        store.import(&super::mixed_runs("A", 2), "april.meyer@contoso.com").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&path.with_extension("db-wal")), 0o600, "SQLite gives the WAL the store's mode");
        assert_eq!(mode(path.parent().unwrap()), 0o750);
        assert!(exposure(&path, &StoreAccess::default()).is_empty());
    }

    #[test]
    fn a_store_shared_with_a_group_is_created_0660_in_a_setgid_directory_of_that_group() {
        let group = primary_group();
        let gid = group_id(&group).unwrap();
        let access = StoreAccess { group: Some(group) };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared/store.db");
        let store = Store::open_with(&path, &access).unwrap();
        store.import(&super::mixed_runs("A", 2), "april.meyer@contoso.com").unwrap();
        assert_eq!(mode(&path), 0o660);
        assert_eq!(std::fs::metadata(&path).unwrap().gid(), gid);
        for sibling in ["store.db-wal", "store.db-shm"] {
            let meta = std::fs::metadata(dir.path().join("shared").join(sibling)).unwrap();
            assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, gid), "{sibling}");
        }
        assert_eq!(mode(path.parent().unwrap()), 0o2770);
        assert!(exposure(&path, &access).is_empty(), "{:?}", exposure(&path, &access));
    }

    #[test]
    fn a_store_group_that_does_not_exist_is_refused_before_anything_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let access = StoreAccess { group: Some("signoff-approvers-nonexistent".into()) };
        let err = Store::open_with(&path, &access).unwrap_err();
        assert!(matches!(err, StoreError::NoSuchGroup { .. }), "{err}");
        assert!(err.to_string().contains("there is no unix group 'signoff-approvers-nonexistent'"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn a_store_others_may_read_is_named_with_its_mode_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(Store::open(&path).unwrap());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = exposure(&path, &StoreAccess::default());
        assert_eq!(
            found,
            [format!(
                "the store file {0} has mode 0644: every user of this machine may read it; run `chmod 600 {0}`, \
                 or set `[store] group` to share it with one unix group",
                path.display()
            )]
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
        assert!(exposure(&path, &StoreAccess::default())[0].contains("mode 0660: its group may read and write it"));
        assert!(exposure(&path, &StoreAccess { group: Some(primary_group()) }).is_empty());
    }
}

/// Every audit event after the first `skip`, as (seq, kind, run, payload): what must be the same on both
/// backends (the times, and so the hashes, differ).
fn events_without_times(store: &Store, skip: i64) -> Vec<(i64, String, Option<String>, String)> {
    let events = store.events_after(skip).unwrap();
    events.into_iter().map(|e| (e.seq, e.kind, e.run_id.map(|r| r.0), e.payload.to_string())).collect()
}

/// 2,500 runs in one import (more than PostgreSQL writes per batch), some superseding a run imported
/// before, one in the same import (across a batch boundary), one an unknown run, and one run added twice.
fn a_long_import(prefix: &str) -> Vec<signoff::model::GovernedRun> {
    let mut runs = mixed_runs(prefix, 2_500);
    runs[1_200].supersedes = Some(RunId(format!("RUN-{prefix}-000010")));
    runs[1_800].supersedes = Some(RunId("RUN-BEFORE-000001".into()));
    runs[2_000].supersedes = Some(RunId("RUN-NEVER-IMPORTED".into()));
    runs.push(runs[5].clone());
    runs
}

#[test]
fn a_long_import_writes_the_same_runs_history_and_chain_on_both_backends() {
    let mut seen = Vec::new();
    for (db, store) in fresh("a_long_import_writes_the_same_runs_history_and_chain_on_both_backends") {
        let backend = db.name();
        store.import(&[invoice("RUN-BEFORE-000001", 1, "usmf", "12.50")], "april.meyer@contoso.com").unwrap();
        let report = store.import(&a_long_import("L"), "april.meyer@contoso.com").unwrap();
        assert_eq!(report.imported.len(), 2_500, "{backend}");
        assert_eq!(report.imported.first().map(|r| r.as_str()), Some("RUN-L-000001"), "{backend}: in order");
        assert_eq!(report.imported.last().map(|r| r.as_str()), Some("RUN-L-002500"), "{backend}: in order");
        assert_eq!(report.unchanged, vec![RunId::from("RUN-L-000006")], "{backend}: the run added twice");
        assert_eq!(store.count_runs().unwrap(), 2_501, "{backend}");
        let verified = store.verify_audit().unwrap();
        assert_eq!(verified.events, 1 + 2_500 + 2, "{backend}: one event per run, two supersessions");
        let stored = store.get(&RunId::from("RUN-L-002500")).unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Pending, "{backend}");
        assert_eq!(stored.history.len(), 1, "{backend}: the import, once");
        let replaced = store.audit_events(&RunId::from("RUN-BEFORE-000001")).unwrap();
        assert_eq!(replaced.last().map(|e| e.kind.as_str()), Some("run.superseded"), "{backend}");
        assert_eq!(replaced.last().unwrap().payload["by"], "RUN-L-001801", "{backend}");
        store.verify_run(&RunId::from("RUN-L-001201")).unwrap();
        seen.push((backend, events_without_times(&store, 0), store.summaries(&RunFilter::default()).unwrap()));
    }
    if let [(_, sqlite_events, sqlite_rows), (_, pg_events, pg_rows)] = seen.as_slice() {
        assert_eq!(sqlite_events, pg_events, "the same events, in the same order, on both backends");
        assert_eq!(sqlite_rows, pg_rows, "the same runs on both backends");
    }
}

#[test]
fn a_conflict_late_in_a_long_import_refuses_all_of_it() {
    for (db, store) in fresh("a_conflict_late_in_a_long_import_refuses_all_of_it") {
        let backend = db.name();
        store.import(&[invoice("RUN-M-002200", 1, "usmf", "12.50")], "april.meyer@contoso.com").unwrap();
        let err = store.import(&mixed_runs("M", 2_500), "april.meyer@contoso.com").unwrap_err();
        assert!(matches!(&err, StoreError::Conflict { id, .. } if id.as_str() == "RUN-M-002200"), "{backend}: {err}");
        assert_eq!(store.count_runs().unwrap(), 1, "{backend}: nothing of the refused import was kept");
        assert_eq!(store.verify_audit().unwrap().events, 1, "{backend}");

        // A run added twice to one import, changed the second time, is refused the same way.
        let mut twice = mixed_runs("N", 3);
        let mut changed = twice[1].clone();
        changed.justification.push_str(" (changed)");
        twice.push(changed);
        let err = store.import(&twice, "april.meyer@contoso.com").unwrap_err();
        assert!(matches!(&err, StoreError::Conflict { id, .. } if id.as_str() == "RUN-N-000002"), "{backend}: {err}");
        assert_eq!(store.count_runs().unwrap(), 1, "{backend}");
    }
}
