//! Where config, data, state and logs resolve. (Stub: the config issue replaces this.)

use std::path::{Path, PathBuf};

/// Resolved locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The config file that is (or would be) read.
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub log_file: PathBuf,
}

impl Paths {
    /// The default store file, `<data dir>/store.db`.
    pub fn default_store(&self) -> PathBuf {
        self.data_dir.join("store.db")
    }
}

/// Resolve: an explicit `--config`, then `SIGNOFF_CONFIG`, then `$XDG_CONFIG_HOME/signoff/config.toml`.
pub fn resolve(explicit_config: Option<&Path>) -> Paths {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let xdg =
        |var: &str, fallback: &str| std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| home.join(fallback));
    let config_file = explicit_config
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SIGNOFF_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| xdg("XDG_CONFIG_HOME", ".config").join("signoff/config.toml"));
    let data_dir = xdg("XDG_DATA_HOME", ".local/share").join("signoff");
    let state_dir = xdg("XDG_STATE_HOME", ".local/state").join("signoff");
    let log_file = state_dir.join("signoff.log");
    Paths { config_file, data_dir, state_dir, log_file }
}
