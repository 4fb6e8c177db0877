//! Evidence of a write is never lost: F&O answered, the store stayed busy past its timeout, so the
//! exchanges and the outcome went to the local journal, and the next start folded them in.

use crate::review_support;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use review_support::{APPROVER, Harness, propose_vendor_us104};
use signoff::model::RunId;
use signoff::review::{Cancel, DecisionKind, DecisionRequest, Outcome, Progress, ProgressSink, Step};
use signoff::sim::SimOptions;

/// Hold the store's write lock from another connection for `hold`, starting now.
fn lock_store(path: std::path::PathBuf, hold: Duration) -> mpsc::Receiver<()> {
    let (locked, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").unwrap();
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_from_fno_is_kept_aside_while_the_store_is_busy_and_folded_in_at_the_next_start() {
    let h = Harness::start_with(SimOptions::default(), |c| c.store.busy_timeout_secs = 1).await;
    let keys = propose_vendor_us104(&h, "RUN-VND-BUSY", 1);
    let journal = signoff::review::journal::dir_of(&h.store_path);
    // Another process takes the store's write lock for 6 s as the PATCH goes out.
    let store_path = h.store_path.clone();
    let lock: Arc<Mutex<Option<mpsc::Receiver<()>>>> = Arc::default();
    let taken = lock.clone();
    let progress: ProgressSink = Arc::new(move |p: Progress| {
        let mut slot = taken.lock().unwrap();
        if p.step == Step::Sending && slot.is_none() {
            let rx = lock_store(store_path.clone(), Duration::from_secs(6));
            rx.recv().unwrap();
            *slot = Some(rx);
        }
    });
    let request = DecisionRequest {
        run_id: RunId::from("RUN-VND-BUSY"),
        kind: DecisionKind::Approve,
        reason: "Letter verified by phone".into(),
        dry_run: false,
        confirm_environment: None,
        reviewed_digest: h.digest_of("RUN-VND-BUSY"),
    };

    let outcome = h.reviewer(APPROVER).decide(&request, &progress, &Cancel::new()).await.unwrap();

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    let kept = std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0);
    assert!(kept >= 2, "the exchange and the outcome are kept in {}", journal.display());
    assert_eq!(h.status("RUN-VND-BUSY"), "executing", "the store has not taken the outcome yet");

    tokio::time::sleep(Duration::from_secs(6)).await;
    let swept = h.reviewer(APPROVER).reconcile(Duration::from_secs(3600)).await.unwrap();

    assert!(swept.is_empty(), "folding settled it; nothing was left to read from F&O: {swept:?}");
    assert_eq!(h.status("RUN-VND-BUSY"), "executed");
    let exchanges = h.store().exchanges(&RunId::from("RUN-VND-BUSY")).unwrap();
    assert!(exchanges.iter().any(|e| e.json.contains("\"PATCH\"")), "the PATCH exchange is in the store");
    assert_eq!(std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0), 0, "the journal is empty again");
    let patches = h.writes().iter().filter(|r| r.method == "PATCH").count();
    assert_eq!(patches, 1, "nothing was sent twice");
    signoff::store::Store::open(&h.store_path).unwrap().verify_audit().unwrap();
}
