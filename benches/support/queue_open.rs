//! What an approver waits for when `signoff` opens on a store, as `signoff` does it, for the benches
//! that measure it (`tui_start`, `store_backends`): the first judged frame, and the whole queue's load.
//!
//! [`start`] is what `signoff` does from `cli::open::run` to the first frame that shows judged runs:
//! load the config file, build the reviewer and the pipeline source, build the initial state, load the
//! queue's first rows (`Effect::OpenQueue`: `ReviewSource::first_summaries`, three screens' worth), judge
//! the rows on screen (`ReviewSource::judge_rows`, the first `Effect::JudgeRows` batch) and draw the
//! frame at 120×40 through crossterm's backend (into a sink, as one synchronized update, like
//! `tui::app::draw_frame`). It checks that every open row on screen is judged in that frame.
//!
//! [`whole_queue`] is the load that follows in the background: every row (`ReviewSource::summaries`),
//! then every open row judged in the batches the TUI asks for (`Effect::JudgeRows`: the rows on screen,
//! then `tui::app::JUDGE_BATCH` at a time), each batch given to the reducer as `Action::RowsJudged`.
#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use signoff::cli::tui_source::PipelineSource;
use signoff::config::{Config, EnvironmentKind, load};
use signoff::review::Reviewer;
use signoff::store::StoreLocation;
use signoff::tui::action::{Action, Effect};
use signoff::tui::reducer::update;
use signoff::tui::{ReviewSource, TuiOptions, app, initial_state};

pub const APPROVER: &str = "amy.rhodes@contoso.com";
pub const WIDTH: u16 = 120;
pub const HEIGHT: u16 = 40;

/// Write a catalog-free config from the template for `store` (its `[store] path` when a file), with a
/// client secret file beside it, into `dir`; returns the config's path.
pub fn write_config(dir: &Path, store: &StoreLocation) -> PathBuf {
    let secret = dir.join("client-secret");
    write_owner_only(&secret, "bench-placeholder-not-a-secret");
    let config = dir.join("config.toml");
    let mut text = signoff::config::template()
        .replace("# id = \"amy.rhodes@contoso.com\"", &format!("id = \"{APPROVER}\""))
        .replace(
            "client_secret_env = \"SIGNOFF_CLIENT_SECRET\"",
            &format!("client_secret_file = {}", toml_path(&secret)),
        );
    if let Some(file) = store.file() {
        text = text.replace("# path = \"/srv/signoff/store.db\"", &format!("path = {}", toml_path(file)));
    }
    write_owner_only(&config, &text);
    config
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

/// The config at `config`, and the pipeline source on `store` that `signoff` builds from it.
pub fn source(
    config: &Path,
    store: &StoreLocation,
    runtime: &tokio::runtime::Runtime,
) -> (Arc<Config>, PipelineSource) {
    let config = Arc::new(load::load(config).unwrap_or_else(|e| panic!("config: {e}")).config);
    let reviewer = Reviewer::from_config(store, config.clone(), APPROVER).unwrap_or_else(|e| panic!("{e}"));
    let source = PipelineSource::new(Arc::new(reviewer), config.clone(), runtime.handle().clone());
    (config, source)
}

/// Timings of one start, stage by stage, in milliseconds.
#[derive(Default, Debug)]
pub struct Stages {
    pub setup: f64,
    pub summaries: f64,
    pub judge: f64,
    pub draw: f64,
}

/// From start to the first frame showing judged runs, as `signoff` does it. Returns the stages and what
/// the TUI holds then (dropped outside the measurement: `signoff` keeps it until the approver quits).
pub fn start(config: &Path, store: &StoreLocation, runtime: &tokio::runtime::Runtime) -> (Stages, impl Sized) {
    let mut stages = Stages::default();
    let t = Instant::now();
    let (config, source) = source(config, store, runtime);
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

/// Timings of one whole queue's load, in milliseconds: every row read, then every open row judged.
#[derive(Default, Debug)]
pub struct QueueStages {
    pub summaries: f64,
    pub judge: f64,
}

/// The whole queue's load on `source`, as the TUI runs it after the first frame: every row, then every
/// open row judged batch by batch. Returns the stages, how many rows were judged and the state (to drop
/// outside a measurement). Checks that every open row ends judged.
pub fn whole_queue(config: &Config, source: &PipelineSource) -> (QueueStages, usize, impl Sized) {
    let mut stages = QueueStages::default();
    let (mut state, _theme) =
        initial_state(&options(config), WIDTH, HEIGHT, Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let effects = update(&mut state, Action::SummariesLoaded(source.summaries()));
    stages.summaries = ms(t);
    let t = Instant::now();
    let Some(Effect::JudgeRows { generation, first, rest }) =
        effects.into_iter().find(|e| matches!(e, Effect::JudgeRows { .. }))
    else {
        panic!("the loaded queue asked for no judgement")
    };
    let batches: Vec<&[signoff::model::RunId]> =
        std::iter::once(first.as_slice()).chain(rest.chunks(app::JUDGE_BATCH)).collect();
    let count = batches.len();
    for (i, ids) in batches.into_iter().enumerate() {
        update(&mut state, Action::RowsJudged { generation, rows: source.judge_rows(ids), done: i + 1 == count });
    }
    stages.judge = ms(t);
    let open = state.queue.all.iter().filter(|s| !s.status.is_final()).count();
    let judged = state.queue.all.iter().filter(|s| s.judged.is_some()).count();
    assert_eq!(judged, open, "every open row of the queue is judged at the end of its load");
    (stages, judged, state)
}

pub fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
