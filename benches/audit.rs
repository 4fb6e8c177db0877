//! `audit verify` speed: open a store holding 100,000 audit events and walk the whole chain, checking
//! every run's state (runs row, payload, status history, approvals, exchanges) against it.
//!
//! The store is built once, outside the timed loop, through the store's public API, as decisions build
//! it: 15,000 runs imported from the fixtures under `fixtures/runs` (each given a unique id), then
//!
//! - 10,000 approved and executed: lease acquired, a signed approval, `pending → approved → executing`,
//!   one exchange (the PATCH and its answer), `executing → executed`, lease released (8 events each);
//! - 5,000 rejected: lease acquired, `pending → rejected`, lease released (4 events each);
//!
//! so 15,000 + 10,000 × 7 + 5,000 × 3 = 100,000 events.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use signoff::fno::Exchange;
use signoff::model::{GovernedRun, RunId, RunStatus, parse_run};
use signoff::sign::{self, DecisionMessage, KeySigner, Signer};
use signoff::store::{NewApproval, Store};

const EXECUTED: usize = 10_000;
const REJECTED: usize = 5_000;
const EVENTS: u64 = (EXECUTED * 8 + REJECTED * 4) as u64;
/// Runs imported per transaction, as a large `signoff import` would.
const IMPORT_CHUNK: usize = 1_000;

/// Every valid fixture run, in file-name order.
fn templates() -> Vec<GovernedRun> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read fixtures/runs")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let runs: Vec<GovernedRun> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read fixture run");
            parse_run(&text, &p.display().to_string()).unwrap_or_else(|e| panic!("fixture run: {e}"))
        })
        .collect();
    assert!(!runs.is_empty(), "no fixture runs under {}", dir.display());
    runs
}

/// `count` runs cycling through the templates, each with an id of its own.
fn runs(count: usize) -> Vec<GovernedRun> {
    let templates = templates();
    (0..count)
        .map(|n| {
            let mut run = templates[n % templates.len()].clone();
            run.id = RunId(format!("{}-{n:06}", run.id));
            run
        })
        .collect()
}

/// The redacted PATCH and its 204, as the F&O client records one write.
fn exchange_json(run: &GovernedRun) -> String {
    let exchange = Exchange {
        method: "PATCH".into(),
        url: format!(
            "https://usmf-sandbox.operations.dynamics.com/data/{}(dataAreaId='usmf',Key='{}')?cross-company=true",
            run.target.entity_set, run.id
        ),
        request_headers: vec![
            ("Authorization".into(), "Bearer ***".into()),
            ("If-Match".into(), run.before.etag.0.clone()),
            ("Content-Type".into(), "application/json".into()),
            ("Prefer".into(), "return=minimal".into()),
        ],
        request_body: Some(serde_json::to_string(&run.proposed.fields).expect("proposed fields")),
        status: Some(204),
        response_headers: vec![
            ("ETag".into(), "W/\"JzEsNjg3MTk1MTIzNTsnJw==\"".into()),
            ("request-id".into(), "5b1c7c1e-7f2a-4d8e-9a57-0c3b1f6e2d41".into()),
        ],
        response_body: None,
        elapsed: Duration::from_millis(142),
        dry_run: false,
        transport_error: None,
    };
    serde_json::to_string(&exchange).expect("exchange json")
}

/// Build the store at `path` and return how many events it holds.
fn build_store(path: &Path) -> u64 {
    let store = Store::open(path).expect("open bench store");
    let runs = runs(EXECUTED + REJECTED);
    for chunk in runs.chunks(IMPORT_CHUNK) {
        store.import(chunk, "svc-ap-automation").expect("import bench runs");
    }
    let signer = KeySigner::generate();
    let key = signer.keys().expect("key").remove(0);
    let ttl = Duration::from_secs(300);
    for (n, run) in runs.iter().enumerate() {
        let id = &run.id;
        let approver = if n % 2 == 0 { "julia.funderburk@contoso.com" } else { "alicia.thornber@contoso.com" };
        let holder = format!("{approver} (pid 4242 on jump-01, claim {n})");
        store.acquire_lease(id, &holder, ttl).expect("acquire lease");
        if n < EXECUTED {
            let digest = format!("{:064x}", n as u64 * 7919 + 17);
            let reason = "Matched to receipt and PO; coding corrected as agreed with the supplier.";
            let at = Utc::now();
            let message = DecisionMessage::new(id.as_str(), "approve", approver, reason, &digest, at);
            let signature = sign::sign_armored(&signer, &key, &message.to_bytes()).expect("sign approval");
            let approval = NewApproval {
                approver,
                reason,
                digest: &digest,
                policy_version: "2026.11.1",
                at,
                signature: Some(&signature),
            };
            store.record_signed_approval(id, &approval).expect("record approval");
            let detail = json!({ "approvals": 1, "required": 1 });
            store.transition(id, &[RunStatus::Pending], RunStatus::Approved, approver, detail).expect("approve");
            let detail = json!({ "decision": "approve" });
            store.transition(id, &[RunStatus::Approved], RunStatus::Executing, approver, detail).expect("execute");
            store.record_exchange(id, &exchange_json(run), approver).expect("record exchange");
            let detail = json!({ "decision": "approve", "requests": 1 });
            store.transition(id, &[RunStatus::Executing], RunStatus::Executed, approver, detail).expect("executed");
        } else {
            let detail = json!({ "decision": "reject", "reason": "Duplicate of an invoice already paid." });
            store.transition(id, &[RunStatus::Pending], RunStatus::Rejected, approver, detail).expect("reject");
        }
        assert!(store.release_lease(id, &holder).expect("release lease"));
    }
    EVENTS
}

fn verify_100k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    let started = Instant::now();
    let events = build_store(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built a store of {} runs and {events} audit events ({:.0} MB) in {:.1} s",
        EXECUTED + REJECTED,
        size as f64 / 1_000_000.0,
        started.elapsed().as_secs_f64()
    );
    let verified = Store::open(&path).expect("open").verify_audit().expect("the bench store verifies");
    assert_eq!(verified.events, events);

    let mut group = c.benchmark_group("audit");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("verify_100k_events_with_state", |b| {
        b.iter(|| {
            let store = Store::open(&path).expect("open");
            black_box(store.verify_audit().expect("verify").events)
        });
    });
    group.finish();
}

criterion_group!(benches, verify_100k);
criterion_main!(benches);
