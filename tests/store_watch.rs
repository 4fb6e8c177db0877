//! The change check open screens ask four times a second (`Store::watch`), on both backends: every kind
//! of change committed through another handle is seen, and reported once; reads are not changes. On
//! PostgreSQL the change is pushed (LISTEN/NOTIFY on `signoff_changes`): it arrives without a query,
//! asking costs none, a lost listening connection is a change, an outage is an error that names its
//! cause, and the watcher comes back by itself.

use crate::common;

use std::time::{Duration, Instant};

use common::backends::{PgDatabase, TestDb};
use common::journal;
use signoff::model::{RunId, RunStatus};
use signoff::store::{RunFilter, Store, StoreWatcher};

/// Ask until the watcher says "changed", failing after `limit`: how long it took.
fn seen_within(watcher: &mut StoreWatcher, limit: Duration, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        if watcher.changed().unwrap_or_else(|e| panic!("{what}: {e}")) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what} was not seen within {limit:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Long enough for a notification already sent to have arrived (SQLite's check has nothing in flight).
fn settle(db: &TestDb) {
    if matches!(db, TestDb::Postgres(_)) {
        std::thread::sleep(Duration::from_millis(300));
    }
}

type Change = Box<dyn Fn(&Store, &RunId)>;

#[test]
fn every_kind_of_change_through_another_handle_is_seen_once_and_reads_are_not_changes() {
    for db in TestDb::each_alone("every_kind_of_change_through_another_handle_is_seen_once") {
        let backend = db.name();
        let writer = db.open();
        let run = journal("RUN-W-000001", 1, "usmf", "1250000.00");
        writer.import(std::slice::from_ref(&run), "april.meyer@contoso.com").unwrap();
        // The watcher on a handle of its own, as the TUI holds it.
        let mut watcher = db.open().watch().unwrap();
        settle(&db);
        assert!(!watcher.changed().unwrap(), "{backend}: nothing happened since the watcher was made");

        // Another process reading everything a screen reads is not a change.
        let reader = db.open();
        reader.summaries(&RunFilter::default()).unwrap();
        reader.get(&run.id).unwrap().unwrap();
        reader.approvals(&run.id).unwrap();
        reader.load_catalog().unwrap();
        reader.verify_audit().unwrap();
        settle(&db);
        assert!(!watcher.changed().unwrap(), "{backend}: reads are not changes");

        let changes: Vec<(&str, Change)> = vec![
            (
                "a lease",
                Box::new(|s, id| {
                    s.acquire_lease(id, "julia.funderburk", Duration::from_secs(60)).unwrap();
                }),
            ),
            (
                "an approval",
                Box::new(|s, id| {
                    s.record_approval(id, "julia.funderburk", "coding checked", "sha256:00", "policy-3").unwrap();
                }),
            ),
            (
                "a transition",
                Box::new(|s, id| {
                    s.transition(id, &[RunStatus::Pending], RunStatus::Approved, "julia", serde_json::json!({}))
                        .unwrap();
                }),
            ),
            (
                "a catalog sync",
                Box::new(|s, _| {
                    s.save_catalog(r#"{"entity_sets":["VendorsV2"]}"#, "ops").unwrap();
                }),
            ),
            (
                "a recorded exchange",
                Box::new(|s, id| {
                    s.record_exchange(id, r#"{"requests":[]}"#, "julia").unwrap();
                }),
            ),
            (
                "an import",
                Box::new(|s, _| {
                    let run = journal("RUN-W-000002", 2, "usmf", "75.00");
                    s.import(&[run], "april.meyer@contoso.com").unwrap();
                }),
            ),
        ];
        for (what, change) in changes {
            change(&writer, &run.id);
            let took = seen_within(&mut watcher, Duration::from_secs(5), &format!("{backend}: {what}"));
            eprintln!("{backend}: {what} by another handle was seen after {took:?}");
            settle(&db);
            assert!(!watcher.changed().unwrap(), "{backend}: {what} is reported once");
        }
    }
}

/// The listening connection as the server sees it: (state, last query, when its state last changed).
fn listener_activity(db: &PgDatabase) -> Vec<Vec<Option<String>>> {
    db.admin_rows(
        "SELECT state, query, state_change::text FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'signoff-watch'",
    )
}

#[test]
fn on_postgres_a_change_is_pushed_and_asking_costs_no_query() {
    let Some(db) = PgDatabase::new("on_postgres_a_change_is_pushed_and_asking_costs_no_query") else { return };
    let store = Store::open_postgres(&db.target).unwrap();
    let mut watcher = store.watch().unwrap();
    let before = listener_activity(&db);
    assert_eq!(before.len(), 1, "one listening connection: {before:?}");
    assert_eq!(before[0][1].as_deref(), Some("LISTEN signoff_changes"), "{before:?}");

    // Asking is answered from what was heard: the listening connection sends nothing.
    for _ in 0..1_000 {
        assert!(!watcher.changed().unwrap());
    }
    assert_eq!(listener_activity(&db), before, "asking sent a query");

    // A commit elsewhere arrives by itself, promptly.
    let other = Store::open_postgres(&db.target).unwrap();
    other.import(&[journal("RUN-P-000001", 1, "usmf", "10.00")], "april.meyer@contoso.com").unwrap();
    let took = seen_within(&mut watcher, Duration::from_secs(1), "the import");
    eprintln!("postgres: the notification of a commit arrived after {took:?}");
    assert_eq!(listener_activity(&db), before, "hearing a change sent a query");
}

#[test]
fn on_postgres_a_lost_listener_is_a_change_an_outage_is_an_error_and_it_comes_back() {
    let Some(db) = PgDatabase::new("on_postgres_a_lost_listener_is_a_change") else { return };
    let store = Store::open_postgres(&db.target).unwrap();
    let mut watcher = store.watch().unwrap();
    assert!(!watcher.changed().unwrap());

    // An outage: the role may no longer log in, and the listening connection is ended by the server.
    db.admin(&format!("ALTER ROLE {} NOLOGIN", db.role));
    db.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'signoff-watch'",
    );
    // What was committed meanwhile went unheard: the loss is a change, so the screen re-reads.
    seen_within(&mut watcher, Duration::from_secs(5), "the lost connection");
    // Connecting again fails: said, not swallowed as "nothing changed".
    let start = Instant::now();
    let err = loop {
        match watcher.changed() {
            Err(e) => break e.to_string(),
            Ok(changed) => assert!(!changed, "nothing new while the connection is down"),
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the outage was never reported");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(err.contains("live updates are off") && err.contains("not permitted to log in"), "{err}");
    assert!(!err.contains(db.target.password.as_ref().unwrap().expose()), "the password leaked: {err}");

    // Back: the watcher connects again by itself, which is a change (nothing heard while away)...
    db.admin(&format!("ALTER ROLE {} LOGIN", db.role));
    let start = Instant::now();
    loop {
        if let Ok(true) = watcher.changed() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the watcher did not come back");
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...and it listens again: no error, and the next commit is heard.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!watcher.changed().unwrap());
    store.import(&[journal("RUN-B-000001", 1, "usmf", "10.00")], "april.meyer@contoso.com").unwrap();
    seen_within(&mut watcher, Duration::from_secs(2), "a commit after the return");
}

/// Two stores in two schemas of one database (a rehearsal and a production store): a change in one is not
/// a change of the other — a notification names its store's schema.
#[test]
fn on_postgres_another_stores_change_in_the_same_database_is_not_heard() {
    let Some(db) = PgDatabase::new("on_postgres_another_stores_change_in_the_same_database_is_not_heard") else {
        return;
    };
    let in_schema = |schema: &str| {
        common::backends::pg_try(&db.target, &format!("CREATE SCHEMA {schema}"), true).unwrap();
        let separator = if db.target.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}options=-c%20search_path%3D{schema}", db.target.url);
        Store::open_postgres(&signoff::store::pg::PgTarget { url, ..db.target.clone() }).unwrap()
    };
    let (rehearsal, production) = (in_schema("rehearsal"), in_schema("production"));
    let mut watcher = production.watch().unwrap();

    rehearsal.import(&[journal("RUN-S-000001", 1, "usmf", "10.00")], "april.meyer@contoso.com").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!watcher.changed().unwrap(), "the rehearsal store's import is not the production store's change");

    production.import(&[journal("RUN-S-000002", 2, "usmf", "10.00")], "april.meyer@contoso.com").unwrap();
    seen_within(&mut watcher, Duration::from_secs(1), "the production store's own import");
}
