//! Reading and checking the config file. (Stub: the config issue replaces this.)

use std::path::{Path, PathBuf};

use super::Config;

/// A loaded config and the file it came from (none when no file exists: defaults apply).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub source: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Load the config at `path`; a missing file means defaults.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LoadedConfig { config: Config::default(), source: None });
        }
        Err(source) => return Err(ConfigError::Read { path: path.to_path_buf(), source }),
    };
    let config =
        toml::from_str(&text).map_err(|e| ConfigError::Invalid { path: path.to_path_buf(), message: e.to_string() })?;
    Ok(LoadedConfig { config, source: Some(path.to_path_buf()) })
}
