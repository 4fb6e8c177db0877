//! Shared test set-up: the USMF/DEMF run fixtures, an in-memory source, and a TUI state driven
//! synchronously (effects run inline instead of on tokio).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::config::{ColorMode, UiConfig};
use signoff::model::{GovernedRun, RunStatus, RunSummary, parse_run};
use signoff::tui::action::{Action, Effect};
use signoff::tui::keymap::Key;
use signoff::tui::reducer::update;
use signoff::tui::source::ReviewSource;

pub mod fixed;
pub use fixed::Fixed;
use signoff::tui::state::State;
use signoff::tui::theme::Theme;
use signoff::tui::{TuiOptions, initial_state, views};

/// The clock every test runs at, so ages and expiries are stable.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).single().expect("a valid fixed time")
}

/// Every run fixture, parsed.
pub fn fixture_runs() -> Vec<GovernedRun> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
    let mut paths: Vec<_> =
        std::fs::read_dir(&dir).expect("fixtures/runs exists").flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("fixture readable");
            parse_run(&text, &p.display().to_string()).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// Fixtures with a realistic spread of statuses, approvals and leases.
pub fn fixture_pairs() -> Vec<(GovernedRun, RunSummary)> {
    fixture_runs()
        .into_iter()
        .map(|run| {
            let id = run.id.as_str().to_string();
            let status = if id.contains("00482") || id.contains("000131") {
                RunStatus::Stale
            } else if id.contains("000098") {
                RunStatus::Executed
            } else if id.contains("jmorales") {
                RunStatus::Rejected
            } else {
                RunStatus::Pending
            };
            let mut summary = RunSummary::of(&run, status);
            if id.contains("000123") {
                summary.lease_holder = Some("dana.whitley@contoso.com".into());
            }
            (run, summary)
        })
        .collect()
}

pub fn source() -> Fixed {
    // APINV-000131 is stale: someone put the invoice on hold and moved its due date in F&O after review.
    let runs = fixture_runs();
    let stale = runs.iter().find(|r| r.id.as_str() == "run-inv-usmf-apinv-000131").expect("fixture 000131");
    let mut live = stale.before.clone();
    live.fields.insert("IsOnHold".into(), "Yes".into());
    live.fields.insert("DueDate".into(), "2027-01-15T12:00:00Z".into());
    live.etag = signoff::model::ETag("W/\"JzIsNTYzNzE0NDU4OCc=\"".into());
    // Judged as after `connector sync-metadata`, as an approver meets them; `unsynced_source` shows the
    // fail-closed state of a store that never synced.
    Fixed::new(fixture_pairs()).at(now()).with_live(stale.id.clone(), live).with_catalog(synced_catalog())
}

/// The pending fixtures in a store whose metadata was never synced: every catalog rule fails closed.
pub fn unsynced_source() -> Fixed {
    Fixed::new(fixture_pairs()).at(now())
}

/// What `signoff connector sync-metadata` stores against the simulator: its `$metadata` (pinned in
/// fixtures/csdl/usmf-sandbox.xml, kept current by a test) parsed by signoff's own CSDL reader.
pub fn synced_catalog() -> std::sync::Arc<signoff::fno::Catalog> {
    let xml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/csdl/usmf-sandbox.xml"))
        .expect("the pinned $metadata");
    std::sync::Arc::new(signoff::fno::parse_csdl(&xml).expect("the pinned $metadata parses"))
}

/// The fixtures a few decisions later, judged with a synced catalog: journal 00461 is posted, invoice 000124
/// approved with a corrected due date, vendor US-104
/// partly executed, invoice 000140's answer was lost, vendor US-108 only partly rolled back, and user
/// jmorales disabled.
pub fn decided_source() -> Fixed {
    let pairs = fixture_pairs().into_iter().map(|(run, mut summary)| {
        let id = run.id.as_str();
        let decided = [
            ("run-jnl-usmf-00461", RunStatus::Executed),
            ("run-inv-usmf-apinv-000124", RunStatus::Executed),
            ("run-vnd-usmf-us-104", RunStatus::PartlyExecuted),
            ("run-inv-usmf-apinv-000140", RunStatus::Unknown),
            ("run-vnd-usmf-us-108", RunStatus::RollbackPartial),
            ("run-usr-disable-jmorales", RunStatus::Executed),
        ];
        if let Some((_, status)) = decided.iter().find(|(d, _)| *d == id) {
            summary.status = *status;
        }
        (run, summary)
    });
    Fixed::new(pairs.collect::<Vec<_>>()).at(now()).with_catalog(synced_catalog())
}

pub fn options(color: ColorMode) -> TuiOptions {
    let mut ui = UiConfig { color, ..UiConfig::default() };
    ui.filters = BTreeMap::from([
        ("big-invoices".to_string(), "action:invoice amount>=10000".to_string()),
        ("stale".to_string(), "status:stale".to_string()),
    ]);
    TuiOptions {
        ui,
        theme: None,
        color: None,
        read_only: false,
        environment: "usmf-sandbox".into(),
        production: false,
        approver: "nina.patel@contoso.com".into(),
    }
}

/// A harness: state, theme and a source (the in-memory one unless given), with effects run inline.
pub struct Harness<S: ReviewSource = Fixed> {
    pub state: State,
    pub theme: Theme,
    pub source: S,
    /// Effects that were not run inline (terminal writes, flash timers, quit).
    pub effects: Vec<Effect>,
}

impl Harness {
    pub fn new(width: u16, height: u16) -> Harness {
        Harness::with_options(width, height, options(ColorMode::Ansi16))
    }

    pub fn with_options(width: u16, height: u16, opts: TuiOptions) -> Harness {
        Harness::with_source(width, height, opts, source())
    }

    /// A harness over `source` instead of the pending fixtures.
    pub fn with_source(width: u16, height: u16, opts: TuiOptions, source: Fixed) -> Harness {
        Harness::over(width, height, opts, source)
    }
}

impl<S: ReviewSource> Harness<S> {
    /// A harness over any source (the pipeline-backed one included).
    pub fn over(width: u16, height: u16, opts: TuiOptions, source: S) -> Harness<S> {
        let mut h = Harness::opening(width, height, opts, source);
        let summaries = h.source.summaries();
        h.dispatch(Action::SummariesLoaded(summaries));
        h
    }

    /// A harness whose queue has not loaded yet: the TUI's first frame, before any I/O.
    pub fn opening(width: u16, height: u16, opts: TuiOptions, source: S) -> Harness<S> {
        let (state, theme) = initial_state(&opts, width, height, now()).expect("options are valid");
        Harness { state, theme, source, effects: Vec::new() }
    }

    /// Apply an action and run the resulting effects synchronously.
    pub fn dispatch(&mut self, action: Action) {
        let mut queue = vec![action];
        while let Some(a) = queue.pop() {
            for effect in update(&mut self.state, a) {
                match effect {
                    Effect::LoadDetail(id) => {
                        let r = self.source.detail(&id).map(Box::new);
                        queue.push(Action::DetailLoaded(id, r));
                    }
                    Effect::Decide(req) => {
                        let id = req.run_id.clone();
                        let progress: signoff::tui::source::Progress = std::sync::Arc::new(|_| {});
                        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                        queue.push(Action::Decided(id, self.source.decide(req, progress, cancel)));
                    }
                    Effect::LoadSummaries => queue.push(Action::SummariesLoaded(self.source.summaries())),
                    Effect::ResetSandbox(t) => {
                        queue.push(Action::SandboxReset(self.source.reset_sandbox(t.as_deref())))
                    }
                    Effect::JudgeRows { generation, first, rest } => {
                        let ids: Vec<_> = first.into_iter().chain(rest).collect();
                        let rows = self.source.judge_rows(&ids);
                        queue.push(Action::RowsJudged { generation, rows, done: true });
                    }
                    other => self.effects.push(other),
                }
            }
        }
    }

    /// Press keys given as keymap specs separated by spaces (`j j enter`, `ctrl-d`).
    pub fn press(&mut self, keys: &str) {
        for spec in keys.split(' ').filter(|s| !s.is_empty()) {
            let key = Key::parse(spec).unwrap_or_else(|e| panic!("{e}"));
            let mut mods = KeyModifiers::NONE;
            if key.ctrl {
                mods |= KeyModifiers::CONTROL;
            }
            self.dispatch(Action::Key(KeyEvent::new(key.code, mods)));
        }
    }

    /// Type text character by character (into a prompt or a dialog field).
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.dispatch(Action::Key(KeyEvent::new(crossterm::event::KeyCode::Char(c), KeyModifiers::NONE)));
        }
    }

    /// Move the queue selection to the run with this id.
    pub fn select(&mut self, id: &str) {
        self.press("g");
        for _ in 0..self.state.queue.view.len() {
            if self.state.queue.current().is_some_and(|s| s.id.as_str() == id) {
                return;
            }
            self.press("j");
        }
        panic!("run {id} is not in the queue view");
    }

    pub fn render(&self) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(self.state.width, self.state.height)).expect("test backend");
        terminal.draw(|f| views::draw(f, &self.state, &self.theme)).expect("draw");
        terminal
    }

    /// The screen as text rows.
    pub fn screen(&self) -> String {
        let terminal = self.render();
        let buf = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}
