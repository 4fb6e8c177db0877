//! The terminal UI: a queue of governed runs, the run view, decision dialogs, help and themes.
//!
//! Data comes only through [`source::ReviewSource`]; the TUI never talks to F&O or SQLite. Input,
//! background results and a slow tick become [`action::Action`]s; [`reducer::update`] is the only code
//! that changes [`state::State`]; [`views::draw`] only reads it.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod commands;
pub mod dialogs;
pub mod format;
pub mod inflight;
pub mod input;
pub mod keymap;
pub mod live;
pub mod reducer;
pub mod sections;
pub mod sgr16;
pub mod sort;
pub mod source;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{ColorMode, UiConfig};
pub use source::{ReviewSource, RunDetail};
use state::{Settings, State};
use theme::{Depth, Theme};

/// How the TUI is started (from the config and the command line).
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub ui: UiConfig,
    /// `--theme`, overriding `[ui] theme`.
    pub theme: Option<String>,
    /// `--color`, overriding `[ui] color`.
    pub color: Option<ColorMode>,
    /// `--read-only`: approve and reject are disabled.
    pub read_only: bool,
    /// The configured environment name.
    pub environment: String,
    /// The environment is production: confirming a decision requires typing its name.
    pub production: bool,
    pub approver: String,
}

/// Why the TUI could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("terminal error: {0}; is standard output a terminal? (use the CLI verbs with --json in scripts)")]
    Terminal(std::io::Error),
    #[error(transparent)]
    Keymap(#[from] keymap::KeymapError),
    #[error(transparent)]
    Theme(#[from] theme::ThemeError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Build the starting state and theme from options (and the process environment for colour).
pub fn initial_state(
    options: &TuiOptions,
    width: u16,
    height: u16,
    now: DateTime<Utc>,
) -> Result<(State, Theme), TuiError> {
    let mode = options.color.unwrap_or(options.ui.color);
    let depth = theme::resolve_depth(mode, |k| std::env::var(k).ok());
    if mode != ColorMode::Auto && depth != Depth::None {
        // An explicit colour choice overrides NO_COLOR, which crossterm would otherwise apply.
        crossterm::style::force_color_output(true);
    }
    let theme = Theme::load(options.theme.as_deref().unwrap_or(&options.ui.theme), depth)?;
    let keymap = keymap::Keymap::with_overrides(&options.ui.keys)?;
    let settings = Settings {
        read_only: options.read_only,
        environment: options.environment.clone(),
        production: options.production,
        approver: options.approver.clone(),
        clipboard: options.ui.clipboard,
        in_tmux: std::env::var_os("TMUX").is_some(),
        saved_filters: options.ui.filters.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        split_min_width: options.ui.split_min_width,
    };
    Ok((State::new(keymap, settings, width, height, now), theme))
}

/// Open the TUI on `source` and run until the user quits (builds its own tokio runtime).
pub fn run(source: Arc<dyn ReviewSource>, options: TuiOptions) -> Result<(), TuiError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(TuiError::Runtime)?;
    runtime.block_on(app::run_async(source, options)).map(drop)
}
