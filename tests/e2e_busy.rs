//! Evidence of a write is never lost, on each backend: F&O answered while another connection held what
//! recording the answer must wait for (SQLite's write lock; on PostgreSQL the run's row lock) past the
//! store's busy timeout, so the exchange and the outcome went to the local journal, and the next start
//! folded them in — without reading or sending anything again.

use crate::common::backends::TestDb;
use crate::e2e_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use e2e_support::{Site, backends, text, wait_until};
use signoff::model::{RunId, RunStatus};
use signoff::sim::Fault;

use crate::review_support::APPROVER;

const RUN: &str = "RUN-BUSY-JRN";

/// Files in every `*.pending` journal directory under `dir`.
fn journal_entries(dir: &Path) -> usize {
    let Ok(read) = std::fs::read_dir(dir) else { return 0 };
    read.filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            if p.extension().is_some_and(|x| x == "pending") {
                std::fs::read_dir(&p).map(|d| d.count()).unwrap_or(0)
            } else {
                journal_entries(&p)
            }
        })
        .sum()
}

/// The site's journals: beside a SQLite file, under the state directory for PostgreSQL.
fn journal(site: &Site) -> usize {
    let beside = match &site.db {
        TestDb::Sqlite(file, _) => journal_entries(file.parent().unwrap()),
        TestDb::Postgres(_) => 0,
    };
    beside + journal_entries(site.h.dir.path())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_from_fno_is_kept_aside_while_the_run_is_locked_and_folded_in_by_the_next_start() {
    for db in
        backends("e2e_busy::an_answer_from_fno_is_kept_aside_while_the_run_is_locked_and_folded_in_by_the_next_start")
    {
        let site = Site::start(db, |c| c.store.busy_timeout_secs = 1).await;
        let backend = site.name();
        let keys = site.import_post_journal(RUN).await;
        // F&O takes 3 s over the post; meanwhile another connection takes the lock and keeps it for 8 s.
        site.h.sim.inject(Fault::Slow { path_contains: "signoffPost".into(), delay: Duration::from_secs(3), times: 1 });
        let child = site
            .command(APPROVER, &["--json", "approve", RUN, "--reason", "Month-end accrual"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("the post to arrive at F&O", Duration::from_secs(60), || site.h.sim.held() == 1).await;
        let lock = site.db.hold_write_lock(RUN);
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();

        assert_eq!(out.status.code(), Some(0), "{backend}: {}", text(&out));
        let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(outcome["outcome"], "executed", "{backend}: F&O's answer is the outcome: {}", text(&out));
        assert!(journal(&site) >= 2, "{backend}: the exchange and the outcome are kept aside: {}", text(&out));
        assert_eq!(site.status(RUN), RunStatus::Executing, "{backend}: the store has not taken the outcome yet");
        drop(lock);

        site.h.sim.clear_requests();
        let next = site.run(APPROVER, &["reconcile"]).await;

        assert_eq!(next.status.code(), Some(0), "{backend}: {}", text(&next));
        assert_eq!(site.status(RUN), RunStatus::Executed, "{backend}: {}", text(&next));
        assert_eq!(journal(&site), 0, "{backend}: the journal is empty again");
        let id = RunId::from(RUN);
        let exchanges = site.store().exchanges(&id).unwrap();
        assert!(exchanges.iter().any(|e| e.json.contains("signoffPost")), "{backend}: the post's exchange is kept");
        assert!(
            site.h.data_requests().is_empty(),
            "{backend}: folding read and sent nothing: {:?}",
            site.h.data_requests()
        );
        assert_eq!(site.h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
        let kinds: Vec<String> = site.store().audit_events(&id).unwrap().into_iter().map(|e| e.kind).collect();
        assert!(!kinds.iter().any(|k| k == "journal.unapplied"), "{backend}: every entry applied: {kinds:?}");
        site.assert_chain_verified().await;
    }
}
