//! Reading and checking the config file: every problem is collected and reported with its line:column.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, Deserializer};

use super::Config;
use super::spans::{self, KeyPath};

/// A loaded config and the file it came from (none when no file exists: defaults apply).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub source: Option<PathBuf>,
}

/// One thing wrong with a config file, where it is, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The key path (`environment.url`, `policy.quorum[1].approvals`), when one is to blame.
    pub key: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    /// A problem with `key` (located later, when the text is known).
    pub fn at(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { key: Some(key.into()), line: None, column: None, message: message.into() }
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source} (check the path and its permissions)")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}", ProblemList { path, problems })]
    Invalid { path: PathBuf, problems: Vec<Problem> },
}

impl ConfigError {
    /// Every problem found (one for an unreadable file).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ConfigError::Read { .. } => {
                vec![Problem { key: None, line: None, column: None, message: self.to_string() }]
            }
            ConfigError::Invalid { problems, .. } => problems.clone(),
        }
    }
}

struct ProblemList<'a> {
    path: &'a Path,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "config {}", self.path.display())?;
            match (p.line, p.column) {
                (Some(l), Some(c)) => write!(f, ":{l}:{c}")?,
                (Some(l), None) => write!(f, ":{l}")?,
                _ => {}
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

/// Load the config at `path`; a missing file means defaults.
///
/// A plain `auth.client_secret` is refused when the file is readable by group or others.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let read_err = |source| ConfigError::Read { path: path.to_path_buf(), source };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LoadedConfig { config: Config::default(), source: None });
        }
        Err(e) => return Err(read_err(e)),
    };
    // Mode from the open handle, so the file checked is the file read.
    let mode = file_mode(&file.metadata().map_err(read_err)?);
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_err)?;
    let config = parse(&text, path, mode)?;
    Ok(LoadedConfig { config, source: Some(path.to_path_buf()) })
}

/// Parse and check config text; `path` names it in messages and anchors relative paths. `mode` is the
/// file's permission bits (none: not checked).
pub fn parse(text: &str, path: &Path, mode: Option<u32>) -> Result<Config, ConfigError> {
    let invalid = |problems| ConfigError::Invalid { path: path.to_path_buf(), problems };
    let mut doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let (line, column) = e.span().map(|s| spans::line_col(text, s.start)).unzip();
            let message = format!("not valid TOML: {}", e.message());
            return Err(invalid(vec![Problem { key: None, line, column, message }]));
        }
    };
    spans::exact_decimals(doc.get_mut());
    let index = spans::index(doc.get_ref());
    let mut problems = Vec::new();
    let mut removed: Vec<KeyPath> = Vec::new();
    let mut parsed = None;
    // serde stops at the first error: drop the offending key and go again, to report them all.
    for _ in 0..200 {
        match Config::deserialize(Deserializer::from(doc.clone())) {
            Ok(config) => {
                parsed = Some(config);
                break;
            }
            Err(e) => {
                let span = e.span();
                let at = span.as_ref().map(|s| spans::locate(doc.get_ref(), s)).unwrap_or_default();
                let missing = missing_field(e.message());
                if let Some(field) = &missing {
                    let consequence = removed.iter().any(|r| r.parent() == at && r.last_key() == Some(field));
                    if !consequence {
                        let (line, column) = span.map(|s| spans::line_col(text, s.start)).unzip();
                        problems.push(Problem { key: None, line, column, message: describe_missing(&at, field) });
                    }
                    // Drop the incomplete table (an operation, a quorum rule) and look for more.
                    if at.is_empty() || !spans::remove(doc.get_mut(), &at) {
                        break;
                    }
                    removed.push(at.up_to_last_key());
                    continue;
                }
                let (line, column) = span.map(|s| spans::line_col(text, s.start)).unzip();
                problems.push(Problem { key: Some(at.to_string()), line, column, message: describe(&at, e.message()) });
                if at.is_empty() || !spans::remove(doc.get_mut(), &at) {
                    break;
                }
                removed.push(at.up_to_last_key());
            }
        }
    }
    if let Some(mut config) = parsed {
        super::normalise::normalise(&mut config, path.parent());
        let mut semantic = config.validate();
        if let (Some(mode), Some(_)) = (mode, &config.auth.client_secret)
            && mode & 0o077 != 0
        {
            semantic.push(Problem::at(
                "auth.client_secret",
                format!(
                    "a plain client_secret is refused: {} is readable by group or others (mode {:04o}); \
                     run `chmod 600 {}`, or move the secret out of the file with client_secret_env, \
                     client_secret_file or client_secret_command",
                    path.display(),
                    mode & 0o7777,
                    path.display()
                ),
            ));
        }
        for p in &mut semantic {
            if let Some(offset) = p.key.as_deref().and_then(|k| nearest_offset(&index, k)) {
                let (l, c) = spans::line_col(text, offset);
                (p.line, p.column) = (Some(l), Some(c));
            }
        }
        problems.extend(semantic);
        if problems.is_empty() {
            return Ok(config);
        }
    }
    problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
    Err(invalid(problems))
}

/// The offset of `key`, else of its nearest enclosing key (for a key that is missing).
fn nearest_offset(index: &std::collections::HashMap<String, usize>, key: &str) -> Option<usize> {
    let mut key = key;
    loop {
        if let Some(o) = index.get(key) {
            return Some(*o);
        }
        let cut = key.rfind(['.', '['])?;
        key = &key[..cut];
    }
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

/// The names inside backticks in a serde message (`unknown field `x`, expected one of `a`, `b``).
fn ticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.trim_end_matches('`').to_string())
}

fn describe_missing(table: &KeyPath, field: &str) -> String {
    if table.is_empty() {
        format!("the required key '{field}' is missing")
    } else {
        format!("{} is missing the required key '{field}'", table.as_table_header())
    }
}

/// Turn serde's message into one that names the key, never showing a secret's value.
fn describe(at: &KeyPath, message: &str) -> String {
    let key = at.to_string();
    if message.starts_with("unknown field") {
        let names = ticked(message);
        let unknown = names.first().copied().unwrap_or("?");
        let expected = names.get(1..).unwrap_or_default().join(", ");
        let place = at.parent();
        let place = if place.is_empty() { String::new() } else { format!(" in {}", place.as_table_header()) };
        return format!("unknown key '{unknown}'{place} (expected one of: {expected})");
    }
    if message.starts_with("unknown variant") {
        let names = ticked(message);
        let value = names.first().copied().unwrap_or("?");
        let expected = names.get(1..).unwrap_or_default().join(", ");
        return format!("'{key}' has an unknown value '{value}' (expected one of: {expected})");
    }
    if at.last_key().is_some_and(|k| matches!(k, "client_secret")) {
        return format!(
            "'{key}' has the wrong type (expected a string; the value is not shown because it is a secret)"
        );
    }
    let mut message = message.replace('`', "'");
    // serde names Rust types; say what to write instead.
    for (rust, plain) in [
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u16", "expected a whole number (0 or more)"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected an array like [\"a\", \"b\"]"),
        ("expected a Decimal type representing a fixed-point number", "expected an exact decimal like \"10000.00\""),
    ] {
        message = message.replace(rust, plain);
    }
    if let Some(at) = message.find("expected struct ") {
        message.replace_range(at.., "expected a table");
    }
    let message = message.strip_prefix("invalid type: ").map(|m| format!("found {m}")).unwrap_or(message);
    format!("'{key}' has the wrong type or value: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, Path::new("/etc/signoff/config.toml"), Some(0o600)) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems(),
        }
    }

    #[test]
    fn an_unknown_top_level_key_is_named_with_its_line_and_the_expected_keys() {
        let p = problems("[approver]\nid = \"amy@contoso.com\"\n\n[enviroment]\nname = \"usmf-sandbox\"\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].line, p[0].column), (Some(4), Some(2)));
        assert!(p[0].message.starts_with("unknown key 'enviroment' (expected one of: approver, store,"), "{p:?}");
    }

    #[test]
    fn every_unknown_key_and_wrong_type_is_reported_not_just_the_first() {
        let text = "[store]\nlease = 30\n\n[environment]\ntimeout_secs = \"thirty\"\n\n[ui]\nmouse = \"yes\"\n";
        let p = problems(text);
        let lines: Vec<_> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(2), Some(5), Some(8)], "{p:?}");
        assert!(p[0].message.contains("unknown key 'lease' in [store]"));
        assert!(p[1].message.contains("'environment.timeout_secs'"));
        assert!(p[2].message.contains("'ui.mouse'"));
    }

    #[test]
    fn a_wrong_type_on_a_required_key_is_not_also_reported_as_missing() {
        let text = "[operations.journal_post]\nkind = 7\nservice = \"SignoffServices/LedgerJournalService/post\"\n";
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("'operations.journal_post.kind'"));
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_echoed() {
        let p = problems("[auth]\nclient_secret = 84213377\n");
        assert_eq!(p.len(), 1);
        assert!(!p[0].message.contains("84213377"), "{p:?}");
    }

    #[test]
    fn a_plain_secret_in_a_group_readable_file_is_refused_without_showing_it() {
        let text = "[auth]\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"8f2d1c3e-5150-4f0a-9c1e-7a1b2c3d4e5f\"\n\
                    client_secret = \"Qx8~k2.Zs9_LmN4opR7tUv\"\n[environment]\nurl = \"https://usmf.sandbox.operations.dynamics.com\"\n";
        let Err(e) = parse(text, Path::new("/home/amy/.config/signoff/config.toml"), Some(0o100640)) else {
            panic!("group-readable plain secret must be refused")
        };
        let msg = e.to_string();
        assert!(msg.contains("config.toml:4:1:"), "{msg}");
        assert!(msg.contains("chmod 600") && msg.contains("0640"), "{msg}");
        assert!(!msg.contains("Qx8~k2"), "{msg}");
        assert!(parse(text, Path::new("/home/amy/.config/signoff/config.toml"), Some(0o100600)).is_ok());
    }
}
