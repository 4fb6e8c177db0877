//! The idle cost of following the store: one `changed()` look (`PRAGMA data_version` on the watcher's own
//! connection) against a 100,000-run store. The TUI looks once a second, so the time per look is the
//! fraction of a core an idle, open TUI spends: 100 µs per look would be 0.01 %.

#[path = "../tests/store_common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use signoff::store::Store;

fn idle_change_check_100k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    let started = Instant::now();
    let store = Store::open(&path).expect("open bench store");
    for chunk in common::mixed_runs("LIVE", 100_000).chunks(10_000) {
        store.import(chunk, "bench").expect("import bench runs");
    }
    eprintln!("built a 100,000-run store in {:.1} s", started.elapsed().as_secs_f64());
    let mut watcher = store.watch().expect("watch");
    // The writer stays open, as another approver's process would; nothing commits while measuring.
    let mut group = c.benchmark_group("tui_live");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("idle_changed_check_100k_runs", |b| {
        b.iter(|| assert!(!black_box(watcher.changed().expect("changed"))));
    });
    group.finish();
    // And the look still sees a commit made by another connection.
    let id = store.summaries(&Default::default()).expect("summaries")[0].id.clone();
    Store::open(&path).expect("open").acquire_lease(&id, "bench", Duration::from_secs(60)).expect("lease");
    assert!(watcher.changed().expect("changed"), "a commit elsewhere is seen");
}

criterion_group!(benches, idle_change_check_100k);
criterion_main!(benches);
