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

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use signoff::cli::tui_source::PipelineSource;
use signoff::config::{Config, EnvironmentKind, load};
use signoff::model::GovernedRun;
use signoff::review::Reviewer;
use signoff::store::Store;
use signoff::tui::action::{Action, Effect};
use signoff::tui::reducer::update;
use signoff::tui::{ReviewSource, TuiOptions, app, initial_state};

const APPROVER: &str = "amy.rhodes@contoso.com";
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// A store of `count` open invoices of one company, a catalog-free config from the template, and its
/// secret file.
struct Fixture {
    _dir: tempfile::TempDir,
    store: PathBuf,
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

    let secret = dir.path().join("client-secret");
    write_owner_only(&secret, "bench-placeholder-not-a-secret");
    let config = dir.path().join("config.toml");
    let text = signoff::config::template()
        .replace("# id = \"amy.rhodes@contoso.com\"", &format!("id = \"{APPROVER}\""))
        .replace("# path = \"/srv/signoff/store.db\"", &format!("path = {}", toml_path(&store_path)))
        .replace(
            "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
            &format!("client_secret_file = {}", toml_path(&secret)),
        );
    write_owner_only(&config, &text);
    Fixture { _dir: dir, store: store_path, config }
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

/// Timings of one start, stage by stage, in milliseconds.
#[derive(Default, Debug)]
struct Stages {
    setup: f64,
    summaries: f64,
    judge: f64,
    draw: f64,
}

/// From start to the first frame showing judged runs, as `signoff` does it. Returns the stages and what
/// the TUI holds then (dropped outside the measurement: `signoff` keeps it until the approver quits).
fn start(fx: &Fixture, runtime: &tokio::runtime::Runtime) -> (Stages, impl Sized) {
    let mut stages = Stages::default();
    let t = Instant::now();
    let config = Arc::new(load::load(&fx.config).unwrap_or_else(|e| panic!("config: {e}")).config);
    let reviewer = Reviewer::from_config(&fx.store, config.clone(), APPROVER).unwrap_or_else(|e| panic!("{e}"));
    let source = PipelineSource::new(Arc::new(reviewer), config.clone(), runtime.handle().clone());
    let (mut state, theme) = initial_state(&options(&config), 80, 24, Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    let backend = signoff::tui::sgr16::backend(io::sink(), theme.depth);
    let viewport = Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT));
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport }).unwrap_or_else(|e| panic!("{e}"));
    update(&mut state, Action::Resize(WIDTH, HEIGHT));
    app::draw_frame(&mut term, &state, &theme).unwrap_or_else(|e| panic!("draw: {e}"));
    stages.setup = ms(t);

    let t = Instant::now();
    // `Effect::OpenQueue`: the first rows first; the whole queue follows in the background.
    let first =
        source.first_summaries(3 * signoff::tui::views::layout::queue_rows(HEIGHT)).unwrap_or_else(|e| panic!("{e}"));
    let effects = update(&mut state, Action::FirstSummariesLoaded(first));
    stages.summaries = ms(t);

    let t = Instant::now();
    let Some(Effect::JudgeRows { generation, first, .. }) =
        effects.into_iter().find(|e| matches!(e, Effect::JudgeRows { .. }))
    else {
        panic!("the loaded queue asked for no judgement")
    };
    assert!(!first.is_empty(), "no open rows on screen");
    update(&mut state, Action::RowsJudged { generation, rows: source.judge_rows(&first), done: false });
    stages.judge = ms(t);

    let t = Instant::now();
    app::draw_frame(&mut term, &state, &theme).unwrap_or_else(|e| panic!("draw: {e}"));
    stages.draw = ms(t);
    let judged = state.queue.all.iter().filter(|s| first.contains(&s.id) && s.judged.is_some()).count();
    assert_eq!(judged, first.len(), "every open row on screen is judged in the first judged frame");
    (stages, (state, term, source))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
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
        let config = Arc::new(load::load(&fx.config).unwrap_or_else(|e| panic!("config: {e}")).config);
        let reviewer = Reviewer::from_config(&fx.store, config.clone(), APPROVER).unwrap_or_else(|e| panic!("{e}"));
        let source = PipelineSource::new(Arc::new(reviewer), config, runtime.handle().clone());
        group.bench_function(format!("pipeline_summaries_{}k", count / 1000), |b| {
            b.iter_with_large_drop(|| source.summaries().unwrap_or_else(|e| panic!("summaries: {e}")))
        });
        group.finish();
    }
}

criterion_group!(start_group, benches);
criterion_main!(start_group);
