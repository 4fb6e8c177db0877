//! Runs past their expiry are moved to `expired` as a recorded, audited transition.

use chrono::{TimeZone, Utc};
use signoff::model::{RunId, RunStatus, parse_run};
use signoff::review::expire::{EXPIRY_ACTOR, expire_overdue};
use signoff::store::Store;

fn fixture(name: &str) -> signoff::model::GovernedRun {
    let path = format!("{}/fixtures/runs/{name}", env!("CARGO_MANIFEST_DIR"));
    parse_run(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
}

#[test]
fn an_overdue_run_is_expired_with_an_audit_event_and_an_open_one_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db")).unwrap();
    let overdue = fixture("inv-usmf-apinv-000098.json");
    let open = fixture("inv-usmf-apinv-000123.json");
    store.import(&[overdue.clone(), open.clone()], "april.meyer@contoso.com").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().unwrap();
    assert!(overdue.expires_at <= now && open.expires_at > now, "the fixtures straddle the clock");

    assert_eq!(expire_overdue(&store, now).unwrap(), vec![overdue.id.clone()]);
    assert_eq!(store.status(&overdue.id).unwrap(), Some(RunStatus::Expired));
    assert_eq!(store.status(&open.id).unwrap(), Some(RunStatus::Pending));
    let events = store.audit_events(&overdue.id).unwrap();
    assert!(events.iter().any(|e| e.actor == EXPIRY_ACTOR), "{events:#?}");
    store.verify_audit().unwrap();

    assert!(expire_overdue(&store, now).unwrap().is_empty(), "a second pass changes nothing");
    assert_eq!(store.status(&RunId::from("run-inv-usmf-apinv-000098")).unwrap(), Some(RunStatus::Expired));
}
