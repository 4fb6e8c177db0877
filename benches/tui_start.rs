//! Start-up speed with 10,000 runs in a real SQLite store: from start to the first frame (target ≤ 150 ms),
//! and the background load that fills the queue's policy and rollback columns afterwards.
//!
//! The first frame is measured the way `signoff` starts (`cli::open::run` → `launch` → `tui::app::run_async`):
//! load the config file, build the reviewer and the pipeline source, build the initial state, and draw the
//! first frame at 120×40. `run_async` draws that frame before any store or network I/O, so the store's size
//! does not reach it; the summaries load is measured on its own.

#[path = "../tests/store_common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::cli::tui_source::PipelineSource;
use signoff::config::{Config, EnvironmentKind, load};
use signoff::review::Reviewer;
use signoff::store::Store;
use signoff::tui::action::Action;
use signoff::tui::reducer::update;
use signoff::tui::{ReviewSource, TuiOptions, initial_state, views};

const RUNS: u32 = 10_000;
const APPROVER: &str = "amy.rhodes@contoso.com";

/// A store of `RUNS` realistic runs, a catalog-free config from the template, and its secret file.
struct Fixture {
    _dir: tempfile::TempDir,
    store: PathBuf,
    config: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = dir.path().join("store.db");
    let started = Instant::now();
    // Fresh runs, open today, so the queue judges every one of them.
    let mut runs = common::mixed_runs("START", RUNS);
    let now = Utc::now();
    for run in &mut runs {
        run.before.captured_at = now - chrono::Duration::hours(2);
        run.requested_at = now - chrono::Duration::hours(1);
        run.expires_at = now + chrono::Duration::days(7);
    }
    Store::open(&store).and_then(|s| s.import(&runs, "bench")).unwrap_or_else(|e| panic!("import: {e}"));
    eprintln!("built a {}-run store in {:.1} s", runs.len(), started.elapsed().as_secs_f64());

    let secret = dir.path().join("client-secret");
    write_owner_only(&secret, "bench-placeholder-not-a-secret");
    let config = dir.path().join("config.toml");
    let text = signoff::config::template()
        .replace("# id = \"amy.rhodes@contoso.com\"", &format!("id = \"{APPROVER}\""))
        .replace("# path = \"/srv/signoff/store.db\"", &format!("path = {}", toml_path(&store)))
        .replace(
            "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
            &format!("client_secret_file = {}", toml_path(&secret)),
        );
    write_owner_only(&config, &text);
    Fixture { _dir: dir, store, config }
}

fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

fn write_owner_only(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// What `open::launch` gives the TUI.
fn options(config: &Config) -> TuiOptions {
    TuiOptions {
        ui: config.ui.clone(),
        environment: config.environment.name.clone(),
        production: config.environment.kind == EnvironmentKind::Production,
        approver: APPROVER.to_string(),
        ..TuiOptions::default()
    }
}

fn source(config: Arc<Config>, store: &Path, runtime: &tokio::runtime::Runtime) -> PipelineSource {
    let reviewer = Reviewer::from_config(store, config.clone(), APPROVER).unwrap_or_else(|e| panic!("reviewer: {e}"));
    PipelineSource::new(Arc::new(reviewer), config, runtime.handle().clone())
}

fn first_frame(c: &mut Criterion, fx: &Fixture, runtime: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("tui_start");
    group.bench_function("first_frame_10k_store_120x40", |b| {
        b.iter(|| {
            let config = Arc::new(load::load(&fx.config).unwrap_or_else(|e| panic!("config: {e}")).config);
            let source = source(config.clone(), &fx.store, runtime);
            let (mut state, theme) =
                initial_state(&options(&config), 80, 24, Utc::now()).unwrap_or_else(|e| panic!("{e}"));
            let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
            update(&mut state, Action::Resize(120, 40));
            terminal.draw(|f| views::draw(f, &state, &theme)).unwrap_or_else(|e| panic!("{e}"));
            black_box((source, terminal));
        })
    });
    group.finish();
}

fn summaries(c: &mut Criterion, fx: &Fixture, runtime: &tokio::runtime::Runtime) {
    let config = Arc::new(load::load(&fx.config).unwrap_or_else(|e| panic!("config: {e}")).config);
    let source = source(config, &fx.store, runtime);
    let started = Instant::now();
    let all = source.summaries().unwrap_or_else(|e| panic!("summaries: {e}"));
    assert_eq!(all.len(), RUNS as usize);
    // Runs past their expiry show as expired and need no judgement; every other one is judged.
    let open: Vec<_> = all.iter().filter(|s| !s.status.is_final()).collect();
    assert_eq!(open.len(), RUNS as usize, "every bench run is open");
    assert!(open.iter().all(|s| s.judged.is_some()), "every open run is judged");
    eprintln!("{} of {RUNS} runs are open and judged", open.len());
    eprintln!("PipelineSource::summaries on {RUNS} runs, first call: {:.3} s", started.elapsed().as_secs_f64());

    let mut group = c.benchmark_group("tui_start");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("pipeline_summaries_10k_runs", |b| {
        b.iter(|| black_box(source.summaries().unwrap_or_else(|e| panic!("summaries: {e}")).len()))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let fx = fixture();
    first_frame(c, &fx, &runtime);
    summaries(c, &fx, &runtime);
}

criterion_group!(start, benches);
criterion_main!(start);
