//! Secrets: a type that never prints its value, where a secret comes from, and scrubbing text of it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    /// A shell command (`sh -c`) that prints the secret, stopped after `timeout`. Its text is never
    /// shown: it may contain a secret (`echo …`, a token in an argument).
    Command { command: String, timeout: Duration },
    /// The value written in the config file (permission-checked when loaded).
    Plain(Secret),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "environment variable {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
            SecretSource::Command { .. } => f.write_str("a command (its text is not shown)"),
            SecretSource::Plain(_) => f.write_str("the config file (plain value)"),
        }
    }
}

/// How long a secret command may run when the config does not say (`auth.secret_command_timeout_secs`).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

impl SecretSource {
    /// The first source set among an environment variable, a file and a command (in that order).
    pub fn first_of(
        env: &Option<String>,
        file: &Option<PathBuf>,
        command: &Option<String>,
        timeout: Duration,
    ) -> Option<SecretSource> {
        (env.clone().map(SecretSource::Env))
            .or_else(|| file.clone().map(SecretSource::File))
            .or_else(|| command.clone().map(|command| SecretSource::Command { command, timeout }))
    }
}

impl AuthConfig {
    /// How long a secret command may run.
    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.secret_command_timeout_secs)
    }

    /// Where the client secret comes from, if configured (validation ensures at most one source).
    pub fn client_secret_source(&self) -> Option<SecretSource> {
        let t = self.command_timeout();
        SecretSource::first_of(&self.client_secret_env, &self.client_secret_file, &self.client_secret_command, t)
            .or_else(|| self.client_secret.clone().map(|s| SecretSource::Plain(Secret::new(s))))
    }

    /// Where the refresh token comes from (delegated set-ups only).
    pub fn refresh_token_source(&self) -> Option<SecretSource> {
        let t = self.command_timeout();
        SecretSource::first_of(&self.refresh_token_env, &self.refresh_token_file, &self.refresh_token_command, t)
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
    #[error("cannot run the secret command: {source}")]
    CommandSpawn { source: std::io::Error },
    #[error("the secret command failed ({status}){}", stderr_suffix(.stderr))]
    CommandFailed { status: String, stderr: String },
    #[error("the secret command printed nothing: it should print the secret on standard output")]
    CommandEmpty,
    #[error(
        "the secret command did not finish within {} s and was stopped: check it runs without waiting for input, or \
         raise auth.secret_command_timeout_secs",
        .timeout.as_secs()
    )]
    CommandTimeout { timeout: Duration },
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
        SecretSource::File(path) => read_owner_only_file(path),
        SecretSource::Command { command, timeout } => run_command(command, *timeout),
    }
}

/// A secret file's trimmed text, refused unless only its owner can read it (a client secret, a refresh
/// token, a certificate's private key).
pub fn read_owner_only_file(path: &Path) -> Result<Secret, SecretError> {
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

fn run_command(command: &str, timeout: Duration) -> Result<Secret, SecretError> {
    // stdin stays the terminal's so a password manager can prompt; stdout is captured and never shown.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| SecretError::CommandSpawn { source })?;
    // Read both pipes on their own threads: a command that fills one pipe must not block on it.
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            let _ = tx.send(bytes);
        });
        rx
    };
    let stdout_rx = read_all(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr_rx = read_all(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SecretError::CommandTimeout { timeout });
            }
        }
    };
    // A background process the command left behind may hold the pipes open: wait no longer than the deadline.
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let stdout = stdout_rx.recv_timeout(left()).map_err(|_| SecretError::CommandTimeout { timeout })?;
    let stderr = stderr_rx.recv_timeout(left()).unwrap_or_default();
    let stdout = String::from_utf8(stdout);
    if !status.success() {
        let first =
            String::from_utf8_lossy(&stderr).lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        // A command may echo its output to stderr as well: scrub it from the line shown.
        let first = match &stdout {
            Ok(out) if !out.trim().is_empty() => redact(&first, &[&Secret::new(out.trim())]),
            _ => first,
        };
        let status = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        return Err(SecretError::CommandFailed { status, stderr: first });
    }
    let stdout = stdout.map_err(|_| SecretError::NotUtf8 { source_desc: "the secret command".into() })?;
    let value = stdout.trim();
    if value.is_empty() {
        return Err(SecretError::CommandEmpty);
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
    fn a_command_that_hangs_is_stopped_at_its_timeout_and_its_text_is_never_shown() {
        let source = SecretSource::Command {
            command: "sleep 5; echo hunter2-in-the-command".into(),
            timeout: Duration::from_millis(300),
        };
        let started = Instant::now();
        let err = resolve(&source).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert!(matches!(err, SecretError::CommandTimeout { .. }), "{err:?}");
        let shown = format!("{err} {source}");
        assert!(shown.contains("auth.secret_command_timeout_secs") && !shown.contains("hunter2"), "{shown}");
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
