//! Logs go to a file under the state directory, never to the terminal the TUI owns.
//!
//! The level comes from `SIGNOFF_LOG`, else `RUST_LOG`, else `info`. `--verbose` adds standard error.
//! Nothing is ever written to standard output: that is for data (`--json`).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

use crate::config::paths::Paths;

/// Keeps logging set up; hold it for the life of the process.
#[derive(Debug)]
pub struct Guard {
    /// The file being appended to.
    pub log_file: PathBuf,
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create the state directory {path}: {source} (set XDG_STATE_HOME to a writable place)")]
    StateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the log file {path}: {source} (check its permissions)")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("logging was already set up in this process")]
    AlreadySet,
}

/// Start logging to `paths.log_file` (appending), and to standard error too when `verbose`.
pub fn init(paths: &Paths, verbose: bool) -> Result<Guard, LogError> {
    let file = open_log(paths)?;
    let (filter, bad_filter) = filter();
    let to_file = tracing_subscriber::fmt::layer().with_ansi(false).with_target(true).with_writer(file);
    let to_stderr = verbose.then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(filter).with(to_file).with(to_stderr);
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LogError::AlreadySet)?;
    if let Some(value) = bad_filter {
        tracing::warn!(filter = %value, "ignoring an invalid log filter (SIGNOFF_LOG / RUST_LOG); using info");
    }
    Ok(Guard { log_file: paths.log_file.clone() })
}

/// The filter from `SIGNOFF_LOG`, else `RUST_LOG`, else `info`; an invalid value falls back to `info`.
fn filter() -> (EnvFilter, Option<String>) {
    let wanted =
        ["SIGNOFF_LOG", "RUST_LOG"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()));
    match wanted {
        None => (EnvFilter::new("info"), None),
        Some(value) => match EnvFilter::try_new(&value) {
            Ok(f) => (f, None),
            Err(_) => (EnvFilter::new("info"), Some(value)),
        },
    }
}

fn open_log(paths: &Paths) -> Result<File, LogError> {
    let dir = paths.log_file.parent().map(PathBuf::from).unwrap_or_else(|| paths.state_dir.clone());
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir).map_err(|source| LogError::StateDir { path: dir.clone(), source })?;
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    // Logs hold record data and identities: owner-only, like the store.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(&paths.log_file).map_err(|source| LogError::Open { path: paths.log_file.clone(), source })
}
