//! Where config, data, state and logs resolve: XDG on every unix (macOS included, not Application Support).

use std::ffi::OsString;
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

/// What decided the config file's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config PATH`.
    Flag,
    /// `SIGNOFF_CONFIG`.
    SignoffConfig,
    /// `$XDG_CONFIG_HOME/signoff/config.toml`.
    XdgConfigHome,
    /// `~/.config/signoff/config.toml`.
    Home,
}

impl ConfigOrigin {
    /// How users name it: `--config`, `SIGNOFF_CONFIG`, …
    pub fn label(self) -> &'static str {
        match self {
            ConfigOrigin::Flag => "--config",
            ConfigOrigin::SignoffConfig => "SIGNOFF_CONFIG",
            ConfigOrigin::XdgConfigHome => "XDG_CONFIG_HOME",
            ConfigOrigin::Home => "default (~/.config)",
        }
    }
}

/// Resolve: `--config`, then `SIGNOFF_CONFIG`, then `$XDG_CONFIG_HOME/signoff/config.toml`, then
/// `~/.config/signoff/config.toml`; data in `$XDG_DATA_HOME/signoff` else `~/.local/share/signoff`; state and
/// the log file in `$XDG_STATE_HOME/signoff` else `~/.local/state/signoff`.
pub fn resolve(explicit_config: Option<&Path>) -> Paths {
    resolve_with_origin(explicit_config).0
}

/// [`resolve`], also saying what decided the config file.
pub fn resolve_with_origin(explicit_config: Option<&Path>) -> (Paths, ConfigOrigin) {
    resolve_in(explicit_config, &|name| std::env::var_os(name), home_dir())
}

/// The user's home: `$HOME`, else the password database (through `directories`).
pub fn home_dir() -> Option<PathBuf> {
    non_empty_abs(std::env::var_os("HOME")).or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
}

/// XDG says empty or relative values are to be ignored.
fn non_empty_abs(value: Option<OsString>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|p| p.is_absolute())
}

fn resolve_in(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    home: Option<PathBuf>,
) -> (Paths, ConfigOrigin) {
    // Without any home, fall back to the working directory rather than fail: `config path` shows it.
    let home = home.unwrap_or_else(|| PathBuf::from("."));
    let xdg = |var: &str, fallback: &str| non_empty_abs(env(var)).unwrap_or_else(|| home.join(fallback));
    let (config_file, origin) = if let Some(p) = explicit {
        (p.to_path_buf(), ConfigOrigin::Flag)
    } else if let Some(p) = env("SIGNOFF_CONFIG").filter(|v| !v.is_empty()) {
        (PathBuf::from(p), ConfigOrigin::SignoffConfig)
    } else if let Some(p) = non_empty_abs(env("XDG_CONFIG_HOME")) {
        (p.join("signoff").join("config.toml"), ConfigOrigin::XdgConfigHome)
    } else {
        (home.join(".config").join("signoff").join("config.toml"), ConfigOrigin::Home)
    };
    let data_dir = xdg("XDG_DATA_HOME", ".local/share").join("signoff");
    let state_dir = xdg("XDG_STATE_HOME", ".local/state").join("signoff");
    let log_file = state_dir.join("signoff.log");
    (Paths { config_file, data_dir, state_dir, log_file }, origin)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(vars: &[(&str, &str)], explicit: Option<&Path>) -> (Paths, ConfigOrigin) {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        resolve_in(explicit, &|k| map.get(k).cloned(), Some(PathBuf::from("/home/amy")))
    }

    #[test]
    fn without_any_variable_everything_lives_under_home_in_xdg_places() {
        let (p, origin) = with(&[], None);
        assert_eq!(origin, ConfigOrigin::Home);
        assert_eq!(p.config_file, PathBuf::from("/home/amy/.config/signoff/config.toml"));
        assert_eq!(p.data_dir, PathBuf::from("/home/amy/.local/share/signoff"));
        assert_eq!(p.state_dir, PathBuf::from("/home/amy/.local/state/signoff"));
        assert_eq!(p.log_file, PathBuf::from("/home/amy/.local/state/signoff/signoff.log"));
        assert_eq!(p.default_store(), PathBuf::from("/home/amy/.local/share/signoff/store.db"));
    }

    #[test]
    fn the_flag_beats_signoff_config_which_beats_xdg_config_home() {
        let vars = [("SIGNOFF_CONFIG", "/etc/signoff/usmf.toml"), ("XDG_CONFIG_HOME", "/cfg")];
        assert_eq!(with(&vars, Some(Path::new("/tmp/x.toml"))).0.config_file, PathBuf::from("/tmp/x.toml"));
        assert_eq!(with(&vars, None).0.config_file, PathBuf::from("/etc/signoff/usmf.toml"));
        assert_eq!(with(&vars[1..], None).0.config_file, PathBuf::from("/cfg/signoff/config.toml"));
    }

    #[test]
    fn empty_or_relative_xdg_values_are_ignored_as_the_spec_says() {
        let (p, _) =
            with(&[("XDG_DATA_HOME", ""), ("XDG_STATE_HOME", "relative/state"), ("XDG_CONFIG_HOME", "")], None);
        assert_eq!(p.data_dir, PathBuf::from("/home/amy/.local/share/signoff"));
        assert_eq!(p.state_dir, PathBuf::from("/home/amy/.local/state/signoff"));
        assert_eq!(p.config_file, PathBuf::from("/home/amy/.config/signoff/config.toml"));
    }
}
