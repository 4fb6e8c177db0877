//! Store speed: importing 10,000 runs (target ≤ 3 s), and opening a 100,000-run store and loading every
//! queue summary (target ≤ 250 ms, ≤ 100 MB for the summaries).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use signoff::model::RunSummary;
use signoff::store::{RunFilter, Store};

/// Bytes held by the summaries: the vector's allocated slots plus every string's heap buffer.
fn summaries_bytes(summaries: &Vec<RunSummary>) -> usize {
    let heap = |s: &str| s.len();
    let strings: usize = summaries
        .iter()
        .map(|s| {
            heap(s.id.as_str())
                + s.company.as_deref().map_or(0, heap)
                + heap(&s.target)
                + s.currency.as_deref().map_or(0, heap)
                + heap(&s.requester)
                + s.lease_holder.as_deref().map_or(0, heap)
        })
        .sum();
    summaries.capacity() * std::mem::size_of::<RunSummary>() + strings
}

fn build_store(path: &Path, count: u32) {
    let store = Store::open(path).expect("open bench store");
    let runs = common::mixed_runs("Q", count);
    for chunk in runs.chunks(10_000) {
        store.import(chunk, "bench").expect("import bench runs");
    }
}

fn import_10k(c: &mut Criterion) {
    let runs = common::mixed_runs("IMP", 10_000);
    let mut group = c.benchmark_group("store");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("import_10k_runs", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("tempdir"),
            |dir| {
                let store = Store::open(&dir.path().join("store.db")).expect("open");
                let report = store.import(black_box(&runs), "bench").expect("import");
                assert_eq!(report.imported.len(), 10_000);
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn open_and_load_100k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    let started = Instant::now();
    build_store(&path, 100_000);
    eprintln!("built a 100,000-run store in {:.1} s", started.elapsed().as_secs_f64());

    let summaries = Store::open(&path).expect("open").summaries(&RunFilter::default()).expect("summaries");
    assert_eq!(summaries.len(), 100_000);
    let bytes = summaries_bytes(&summaries);
    eprintln!(
        "100,000 summaries hold about {:.1} MB ({} bytes per slot + strings)",
        bytes as f64 / 1_000_000.0,
        std::mem::size_of::<RunSummary>()
    );
    drop(summaries);

    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.bench_function("open_and_load_100k_summaries", |b| {
        b.iter(|| {
            let store = Store::open(&path).expect("open");
            let summaries = store.summaries(&RunFilter::default()).expect("summaries");
            black_box(summaries.len())
        });
    });
    group.finish();
}

criterion_group!(benches, import_10k, open_and_load_100k);
criterion_main!(benches);
