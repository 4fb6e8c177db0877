//! Secrets: a type that never prints its value, where a secret comes from, and scrubbing text of it.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::AuthConfig;

/// A secret value (client secret, refresh token, bearer token). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Header and form field names whose values are secret; compare case-insensitively
/// ([`is_sensitive_name`]).
pub const SENSITIVE_NAMES: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "client_secret",
    "client_assertion",
    "refresh_token",
    "access_token",
    "id_token",
    "password",
    "cookie",
    "set-cookie",
];

/// Whether a header or form field with this name must be masked.
pub fn is_sensitive_name(name: &str) -> bool {
    SENSITIVE_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name.trim()))
}

/// The mask that replaces a secret.
pub const MASK: &str = "***";

/// `text` with every occurrence of each secret (raw, and as URL form-encoded) replaced by `***`.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let raw = secret.expose();
        if raw.is_empty() {
            continue;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        for form in [raw, encoded.as_str()] {
            if out.contains(form) {
                out = out.replace(form, MASK);
            }
        }
    }
    out
}

/// An `application/x-www-form-urlencoded` body with the values of sensitive fields masked.
pub fn redact_form(body: &str) -> String {
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive_name(&url_decode(name)) => format!("{name}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default()
}

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file readable only by its owner.
    File(PathBuf),
    /// A shell command (`sh -c`) that prints the secret.
    Command(String),
    /// The value written in the config file (permission-checked when loaded).
    Plain(Secret),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "environment variable {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
            SecretSource::Command(cmd) => write!(f, "command `{cmd}`"),
            SecretSource::Plain(_) => f.write_str("the config file (plain value)"),
        }
    }
}

impl AuthConfig {
    /// Where the client secret comes from, if configured (validation ensures at most one source).
    pub fn client_secret_source(&self) -> Option<SecretSource> {
        (self.client_secret_env.clone().map(SecretSource::Env))
            .or_else(|| self.client_secret_file.clone().map(SecretSource::File))
            .or_else(|| self.client_secret_command.clone().map(SecretSource::Command))
            .or_else(|| self.client_secret.clone().map(|s| SecretSource::Plain(Secret::new(s))))
    }

    /// Where the refresh token comes from (delegated set-ups only).
    pub fn refresh_token_source(&self) -> Option<SecretSource> {
        (self.refresh_token_env.clone().map(SecretSource::Env))
            .or_else(|| self.refresh_token_file.clone().map(SecretSource::File))
            .or_else(|| self.refresh_token_command.clone().map(SecretSource::Command))
    }
}

/// Why a secret could not be read. No variant ever holds the secret or a command's output.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {name} is not set (or not UTF-8): export it before running signoff")]
    EnvMissing { name: String },
    #[error("environment variable {name} is empty: it should hold the secret")]
    EnvEmpty { name: String },
    #[error("cannot read secret file {path}: {source} (check the path and that you own it)")]
    FileRead { path: PathBuf, source: std::io::Error },
    #[error(
        "secret file {path} is readable by group or others (mode {mode:04o}): run `chmod 600 {path}` so only its owner can read it"
    )]
    FileMode { path: PathBuf, mode: u32 },
    #[error("secret file {path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("secret file {path} is empty: it should hold the secret")]
    FileEmpty { path: PathBuf },
    #[error("cannot run secret command `{command}`: {source}")]
    CommandSpawn { command: String, source: std::io::Error },
    #[error("secret command `{command}` failed ({status}){}", stderr_suffix(.stderr))]
    CommandFailed { command: String, status: String, stderr: String },
    #[error("secret command `{command}` printed nothing: it should print the secret on standard output")]
    CommandEmpty { command: String },
    #[error("secret from {source_desc} is not valid UTF-8")]
    NotUtf8 { source_desc: String },
}

fn stderr_suffix(line: &str) -> String {
    if line.is_empty() { String::new() } else { format!(": {line}") }
}

/// Read the secret from its source.
pub fn resolve(source: &SecretSource) -> Result<Secret, SecretError> {
    match source {
        SecretSource::Plain(s) => Ok(s.clone()),
        SecretSource::Env(name) => match std::env::var(name) {
            Ok(v) if v.trim().is_empty() => Err(SecretError::EnvEmpty { name: name.clone() }),
            Ok(v) => Ok(Secret::new(v.trim())),
            Err(_) => Err(SecretError::EnvMissing { name: name.clone() }),
        },
        SecretSource::File(path) => read_file(path),
        SecretSource::Command(command) => run_command(command),
    }
}

fn read_file(path: &std::path::Path) -> Result<Secret, SecretError> {
    let read_err = |source| SecretError::FileRead { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    // Check the handle that is read, not the name (which could be swapped in between).
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(SecretError::NotAFile { path: path.to_path_buf() });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SecretError::FileMode { path: path.to_path_buf(), mode });
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_err)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| SecretError::NotUtf8 { source_desc: format!("file {}", path.display()) })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(SecretError::FileEmpty { path: path.to_path_buf() });
    }
    Ok(Secret::new(value))
}

fn run_command(command: &str) -> Result<Secret, SecretError> {
    // stdin stays the terminal's so a password manager can prompt; stdout is captured and never shown.
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| SecretError::CommandSpawn { command: command.to_string(), source })?;
    let stdout = String::from_utf8(output.stdout);
    if !output.status.success() {
        let first = String::from_utf8_lossy(&output.stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        // A command may echo its output to stderr as well: scrub it from the line shown.
        let first = match &stdout {
            Ok(out) if !out.trim().is_empty() => redact(&first, &[&Secret::new(out.trim())]),
            _ => first,
        };
        let status = match output.status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        return Err(SecretError::CommandFailed { command: command.to_string(), status, stderr: first });
    }
    let stdout = stdout.map_err(|_| SecretError::NotUtf8 { source_desc: format!("command `{command}`") })?;
    let value = stdout.trim();
    if value.is_empty() {
        return Err(SecretError::CommandEmpty { command: command.to_string() });
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("Qx8~k2.Zs9_LmN4opR7tUv");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }

    #[test]
    fn redact_masks_raw_and_form_encoded_occurrences() {
        let s = Secret::new("Qx8~k2.Zs9+LmN4/op");
        let text = "secret Qx8~k2.Zs9+LmN4/op sent as client_secret=Qx8%7Ek2.Zs9%2BLmN4%2Fop&grant_type=x";
        assert_eq!(redact(text, &[&s]), "secret *** sent as client_secret=***&grant_type=x");
    }

    #[test]
    fn redact_form_masks_sensitive_fields_by_name() {
        let body = "grant_type=client_credentials&client_id=8f2d&client_secret=abc%21&Refresh_Token=r1&scope=x";
        assert_eq!(
            redact_form(body),
            "grant_type=client_credentials&client_id=8f2d&client_secret=***&Refresh_Token=***&scope=x"
        );
        assert!(is_sensitive_name("Authorization") && !is_sensitive_name("client_id"));
    }
}
