//! Bulk approval of 100 eligible vendor runs against the simulator with 50 ms of latency on every
//! request (token, reads, writes). Target: at most 10 s with the default concurrency of 4.

#[path = "../tests/review_support/mod.rs"]
mod review_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use signoff::model::filter::Filter;
use signoff::review::no_progress;
use signoff::sim::SimOptions;

const RUNS: u32 = 100;

fn bulk(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let h = rt.block_on(review_support::Harness::start_with(SimOptions::default(), |_| {}));
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
    group.bench_function("approve_100_vendor_runs_50ms_latency", |b| {
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
