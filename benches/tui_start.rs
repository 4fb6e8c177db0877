//! What an approver waits for when `signoff` opens: the time from start to the first frame that shows
//! judged runs, through the real terminal backend, on stores of 10,000 and 100,000 open invoices of the
//! adversarial shape (every invoice in one company, 40 vendors). Targets: ≤ 100 ms and ≤ 400 ms.
//!
//! One iteration is what `signoff` does from `cli::open::run` to that frame: load the config file, build
//! the reviewer and the pipeline source, build the initial state, load the queue's first rows
//! (`Effect::OpenQueue`: `ReviewSource::first_summaries`, three screens' worth), judge the rows on screen
//! (`ReviewSource::judge_rows`, the first `Effect::JudgeRows` batch) and draw the frame at 120×40 through
//! crossterm's backend (into a sink, as one synchronized update, like `tui::app::draw_frame`). The
//! iteration checks that every open row on screen is judged in that frame. The whole queue loads after
//! that frame, in the background (`pipeline_summaries_*` measures that load on its own).
//!
//! Run with `cargo bench --bench tui_start`; the store is built once per size (about 10 s for 100,000).

#[path = "../tests/store_common/mod.rs"]
mod common;
#[path = "support/queue_open.rs"]
mod queue_open;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use signoff::model::GovernedRun;
use signoff::store::{Store, StoreLocation};
use signoff::tui::ReviewSource;

/// A store of `count` open invoices of one company, and a catalog-free config from the template.
struct Fixture {
    _dir: tempfile::TempDir,
    store: StoreLocation,
    config: PathBuf,
}

fn fixture(count: u32) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store_path = dir.path().join("store.db");
    let started = Instant::now();
    let store = Store::open(&store_path).unwrap_or_else(|e| panic!("open: {e}"));
    let now = Utc::now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        // Fresh runs, open today, so the queue judges every one of them. Every 100th invoice repeats the
        // invoice number of the one before it, so the duplicate rule finds something to say.
        let runs: Vec<GovernedRun> = chunk
            .iter()
            .map(|&n| {
                let mut run = common::invoice(&format!("RUN-START-{n:06}"), n, "USMF", "1250.00");
                if n % 100 == 1 {
                    let twin = common::invoice("twin", n - 1, "USMF", "1250.00");
                    run.before.fields = twin.before.fields;
                }
                run.before.captured_at = now - chrono::Duration::hours(2);
                run.requested_at = now - chrono::Duration::hours(1);
                run.expires_at = now + chrono::Duration::days(7);
                run
            })
            .collect();
        store.import(&runs, "svc-ap-ingest").unwrap_or_else(|e| panic!("import: {e}"));
    }
    eprintln!("built a {count}-run store in {:.1} s", started.elapsed().as_secs_f64());
    let store = StoreLocation::File(store_path);
    let config = queue_open::write_config(dir.path(), &store);
    Fixture { _dir: dir, store, config }
}

fn start(fx: &Fixture, runtime: &tokio::runtime::Runtime) -> (queue_open::Stages, impl Sized) {
    queue_open::start(&fx.config, &fx.store, runtime)
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    for (count, name) in
        [(10_000, "first_judged_frame_10k_invoices_120x40"), (100_000, "first_judged_frame_100k_invoices_120x40")]
    {
        let fx = fixture(count);
        // The first start after the store was built, stage by stage (the store's pages are warm, as they
        // are for an approver who opens signoff on a host that has been working).
        for _ in 0..3 {
            eprintln!("{count} runs, one start: {:?}", start(&fx, &runtime).0);
        }
        let mut group = c.benchmark_group("tui_start");
        group.sample_size(10).measurement_time(Duration::from_secs(if count > 10_000 { 30 } else { 10 }));
        group.bench_function(name, |b| b.iter_with_large_drop(|| start(&fx, &runtime)));
        // The whole queue, as the background load after that frame reads it (rows unjudged).
        let (_config, source) = queue_open::source(&fx.config, &fx.store, &runtime);
        group.bench_function(format!("pipeline_summaries_{}k", count / 1000), |b| {
            b.iter_with_large_drop(|| source.summaries().unwrap_or_else(|e| panic!("summaries: {e}")))
        });
        group.finish();
    }
}

criterion_group!(start_group, benches);
criterion_main!(start_group);
