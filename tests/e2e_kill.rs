//! `kill -9` of an approving process while its write is in flight, on each backend: the run is left
//! `executing`, and reconciliation settles it from what F&O shows — never by sending again. Either the
//! write landed (executed, one post in F&O's log), or it never did (failed, once the settle window has
//! closed, and not before).

use crate::e2e_support;

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use e2e_support::{Site, backends, new_vendor, terms_run, text, wait_until};
use serde_json::Value;
use signoff::config::Config;
use signoff::model::{RunId, RunStatus};
use signoff::sim::Fault;
use signoff::store::Lease;

use crate::review_support::APPROVER;

const JOURNAL: &str = "RUN-KILL-JRN";
const LIMIT: Duration = Duration::from_secs(60);

/// Short requests and windows, so a killed process's lease lapses within seconds: a 2 s timeout, no
/// retries, a lease of 4 s from each renewal (its floor: one request and a timeout), and a settle window
/// of 4 s (the timeout and 2 s) after that.
fn short_windows(c: &mut Config) {
    c.environment.timeout_secs = 2;
    c.environment.max_retries = 0;
    c.environment.max_retry_wait_secs = 0;
    c.environment.settle_secs = 2;
    c.store.lease_secs = 1;
}

/// Start `approve` of the journal, wait until its post is held by the simulator (arrived, not yet
/// processed), SIGKILL it there, and return its lease as it was left (renewed right before the send).
async fn kill_mid_post(site: &Site) -> Lease {
    let mut child = site
        .command(APPROVER, &["approve", JOURNAL, "--reason", "Month-end accrual"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the post to arrive at F&O", LIMIT, || site.h.sim.held() == 1).await;
    child.kill().unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    let id = RunId::from(JOURNAL);
    assert_eq!(site.status(JOURNAL), RunStatus::Executing, "{}: killed between send and record", site.name());
    site.store().last_lease(&id).unwrap().expect("the killed process's lease is left behind")
}

fn posts(site: &Site) -> Vec<signoff::sim::LoggedRequest> {
    site.h.sim.requests().into_iter().filter(|r| r.target.contains("signoffPost")).collect()
}

fn kinds(site: &Site) -> Vec<String> {
    site.store().audit_events(&RunId::from(JOURNAL)).unwrap().into_iter().map(|e| e.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_while_its_post_is_in_flight_that_lands_is_reconciled_as_executed() {
    for db in backends("e2e_kill::a_process_killed_while_its_post_is_in_flight_that_lands_is_reconciled_as_executed") {
        let site = Site::start(db, short_windows).await;
        let backend = site.name();
        let keys = site.import_post_journal(JOURNAL).await;
        // F&O takes 2 s over the post and completes it although the caller is gone.
        site.h.sim.inject(Fault::SlowThenApply {
            path_contains: "signoffPost".into(),
            delay: Duration::from_secs(2),
            times: 1,
        });
        let lease = kill_mid_post(&site).await;

        // While the killed process's lease lasts, its request may still be in flight: left alone.
        let early = site.run(APPROVER, &["reconcile"]).await;
        if Utc::now() < lease.expires_at {
            assert_eq!(early.status.code(), Some(6), "{backend}: {}", text(&early));
            assert!(text(&early).contains("being decided right now"), "{backend}: {}", text(&early));
            assert_eq!(site.status(JOURNAL), RunStatus::Executing, "{backend}");
        } else {
            eprintln!("{backend}: the lease lapsed before `reconcile` ended (a slow machine): in-flight check skipped");
        }

        // The post lands; once the lease has lapsed, reading F&O settles the run.
        wait_until("the held post to be applied", LIMIT, || posts(&site).iter().any(|r| r.status == 200)).await;
        wait_until("the killed process's lease to lapse", LIMIT, || {
            site.store().lease(&RunId::from(JOURNAL)).unwrap().is_none()
        })
        .await;
        let settled = site.run(APPROVER, &["reconcile"]).await;

        assert_eq!(settled.status.code(), Some(0), "{backend}: {}", text(&settled));
        assert!(text(&settled).contains("executed"), "{backend}: {}", text(&settled));
        assert_eq!(site.status(JOURNAL), RunStatus::Executed, "{backend}");
        assert_eq!(site.h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
        assert_eq!(posts(&site).len(), 1, "{backend}: exactly one post, never re-sent");
        assert!(kinds(&site).iter().any(|k| k == "reconcile.finding"), "{backend}: {:?}", kinds(&site));
        site.assert_chain_verified().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_while_its_post_is_lost_is_failed_once_the_settle_window_closes_and_not_before() {
    for db in backends(
        "e2e_kill::a_process_killed_while_its_post_is_lost_is_failed_once_the_settle_window_closes_and_not_before",
    ) {
        let site = Site::start(db, short_windows).await;
        let backend = site.name();
        let keys = site.import_post_journal(JOURNAL).await;
        // F&O loses the post: held, never processed, never answered.
        site.h.sim.inject(Fault::Hang { path_contains: "signoffPost".into(), times: 1 });
        let lease = kill_mid_post(&site).await;
        let window = chrono::Duration::seconds(4);

        // Past the lease, within the window: F&O shows no post, which proves nothing yet.
        wait_until("the killed process's lease to lapse", LIMIT, || {
            site.store().lease(&RunId::from(JOURNAL)).unwrap().is_none()
        })
        .await;
        let started = Utc::now();
        let early = site.run(APPROVER, &["--json", "reconcile"]).await;
        let swept: Value = serde_json::from_slice(&early.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&early)));
        let outcome = &swept[0]["outcome"];
        if started < lease.expires_at + window {
            assert_eq!(early.status.code(), Some(6), "{backend}: {}", text(&early));
            assert_eq!(outcome["outcome"], "unknown", "{backend}: not failed before the window closes: {swept}");
            assert_eq!(site.status(JOURNAL), RunStatus::Unknown, "{backend}");
            let settles_after: DateTime<Utc> = outcome["settles_after"].as_str().unwrap().parse().unwrap();
            assert!(settles_after >= lease.expires_at + window, "{backend}: {settles_after} {}", lease.expires_at);
            // The window closes; the next deciding process's start reads F&O again and settles it.
            let wait = (settles_after - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait + Duration::from_millis(200)).await;
        } else {
            eprintln!("{backend}: the window closed before `reconcile` started (a slow machine): early check skipped");
        }
        let other = new_vendor(&site.h, "KILL-NEXT");
        site.import(&[terms_run(&site.h, "RUN-KILL-NEXT", &other, 1)]).await;
        let next = site.run(APPROVER, &["approve", "RUN-KILL-NEXT", "--reason", "Terms agreed"]).await;

        assert_eq!(next.status.code(), Some(0), "{backend}: {}", text(&next));
        assert!(text(&next).contains("reconciled a decision whose answer was lost"), "{backend}: {}", text(&next));
        assert_eq!(site.status(JOURNAL), RunStatus::Failed, "{backend}: {}", text(&next));
        assert_eq!(site.h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "No");
        let posts = posts(&site);
        assert_eq!(posts.len(), 1, "{backend}: the lost post was sent once and never again: {posts:#?}");
        assert_eq!(posts[0].status, 0, "{backend}: never answered");
        let findings = site.store().audit_events(&RunId::from(JOURNAL)).unwrap();
        let closed = findings.iter().filter(|e| e.kind == "reconcile.finding" && e.payload["window_closed"] == true);
        assert_eq!(closed.count(), 1, "{backend}: {:?}", kinds(&site));
        site.assert_chain_verified().await;
    }
}
