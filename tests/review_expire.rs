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

#[test]
fn partly_approved_runs_expire_too_and_decided_runs_never_do_whatever_their_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.db")).unwrap();
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0).single().unwrap();
    let mut runs = Vec::new();
    for (n, status) in
        [(1, RunStatus::Pending), (2, RunStatus::Approved), (3, RunStatus::Executed), (4, RunStatus::Rejected)]
    {
        let mut run = fixture("inv-usmf-apinv-000123.json");
        run.id = RunId::from(format!("run-expiry-{n}").as_str());
        run.expires_at = at(20 + n);
        store.import(std::slice::from_ref(&run), "april.meyer@contoso.com").unwrap();
        if status != RunStatus::Pending {
            store.transition(&run.id, &[RunStatus::Pending], status, "test", serde_json::json!({})).unwrap();
        }
        runs.push(run);
    }
    // At the second run's expiry, to the nanosecond: that run is overdue (at or before), the first too.
    assert_eq!(expire_overdue(&store, at(22)).unwrap(), vec![runs[0].id.clone(), runs[1].id.clone()]);
    // Long after every expiry, the executed and the rejected run keep their status.
    assert!(expire_overdue(&store, at(30)).unwrap().is_empty());
    let statuses: Vec<_> = runs.iter().map(|r| store.status(&r.id).unwrap().unwrap()).collect();
    assert_eq!(statuses, [RunStatus::Expired, RunStatus::Expired, RunStatus::Executed, RunStatus::Rejected]);
    store.verify_audit().unwrap();
}
