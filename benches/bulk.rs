//! Bulk approval of 100 eligible vendor runs against the simulator with 50 ms of latency on every
//! request (token, reads, writes), with the default concurrency of 4. Each vendor run is a header read
//! and a guarded PATCH, so the latency floor is 25 rounds of 2 × 50 ms = 2.5 s (plus one token).
//! Targets: within 1.3× of that floor on an empty store, and within 1.2× of the empty-store figure on a
//! store holding 100,000 executed invoice runs of the same company (USMF).

#[path = "../tests/review_support/mod.rs"]
mod review_support;
#[path = "../tests/store_common/mod.rs"]
mod store_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use signoff::model::filter::Filter;
use signoff::review::no_progress;
use signoff::sim::SimOptions;

const RUNS: u32 = 100;

/// 100,000 executed invoice runs of USMF in the store, imported in chunks as `runs import` would; their
/// status is set in one statement (300,000 audited transitions would take many minutes to build, and a
/// decision verifies only the run it decides).
fn executed_history(store_path: &std::path::Path, count: u32) {
    let store = signoff::store::Store::open(store_path).unwrap();
    let started = Instant::now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let runs: Vec<_> =
            chunk.iter().map(|&n| store_common::invoice(&format!("RUN-HIST-{n:06}"), n, "USMF", "1250.00")).collect();
        store.import(&runs, "svc-ap-ingest").unwrap();
    }
    let conn = rusqlite::Connection::open(store_path).unwrap();
    conn.execute("UPDATE runs SET status = 'executed' WHERE id LIKE 'RUN-HIST-%'", []).unwrap();
    eprintln!("{count} executed invoice runs in the store, built in {:.1} s", started.elapsed().as_secs_f64());
}

fn bulk(c: &mut Criterion) {
    for (history, name) in
        [(0, "approve_100_vendor_runs_50ms_latency"), (100_000, "approve_100_vendor_runs_50ms_latency_100k_executed")]
    {
        bulk_on(c, history, name);
    }
}

fn bulk_on(c: &mut Criterion, history: u32, name: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let h = rt.block_on(review_support::Harness::start_with(SimOptions::default(), |_| {}));
    if history > 0 {
        executed_history(&h.store_path, history);
    }
    let vendors: Vec<serde_json::Value> = (0..RUNS)
        .map(|i| {
            json!({"dataAreaId": "usmf", "VendorAccountNumber": format!("US-9{i:03}"),
                   "VendorOrganizationName": format!("Bench Supplier {i}"), "VendorGroupId": "10",
                   "CurrencyCode": "USD", "DefaultPaymentTermsName": "Net30", "OnHoldStatus": "No"})
        })
        .collect();
    h.sim.insert_records("VendorsV2", vendors).unwrap();
    let round = AtomicU32::new(0);
    let mut group = c.benchmark_group("bulk");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Fresh pending runs each round: every vendor's terms flip between Net30 and Net45.
                let r = round.fetch_add(1, Ordering::SeqCst);
                let terms = if r.is_multiple_of(2) { "Net45" } else { "Net30" };
                h.sim.set_latency(Duration::ZERO);
                for i in 0..RUNS {
                    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": format!("US-9{i:03}")});
                    h.propose(
                        &format!("RUN-BENCH-{r}-{i:03}"),
                        "dynamicsfinance.update-vendor",
                        "VendorsV2",
                        keys,
                        json!({"DefaultPaymentTermsName": terms}),
                        vec![],
                        1,
                    );
                }
                h.sim.set_latency(Duration::from_millis(50));
                // A new process: its own client, so the token fetch is part of the measurement.
                let client = Arc::new(review_support::client_for(&h.config, h.sim.options()));
                let reviewer = Arc::new(signoff::review::Reviewer::new(
                    &h.store_path,
                    Arc::clone(&h.config),
                    client,
                    review_support::APPROVER,
                ));
                let filter = Filter::parse("action:vendor").unwrap();
                let start = Instant::now();
                let report =
                    rt.block_on(reviewer.approve_all(&filter, "Payment terms harmonised", 4, &no_progress())).unwrap();
                total += start.elapsed();
                assert_eq!(report.outcomes.len(), RUNS as usize);
                assert_eq!(report.exit_code(), 0, "{:?}", report.outcomes.first());
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bulk);
criterion_main!(benches);
