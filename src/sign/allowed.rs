//! The allowed-signers file, in the format `git` and `ssh-keygen -Y verify` read (ssh-keygen(1),
//! "ALLOWED SIGNERS"): `principal[,principal…] [options] key-type base64-key [comment]`.
//!
//! Supported options: `namespaces="signoff,git"` (an entry restricted to other namespaces proves nothing
//! here), `valid-after=` and `valid-before=` (`YYYYMMDD[HHMM[SS]]`, `Z` for UTC, else local time), and
//! `cert-authority` (such entries are skipped: signoff signs with plain keys). Principal patterns (`*`,
//! `?`, `!`) are refused: an approver's identity is a name, not a pattern anyone matching may claim.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::PublicKey;

/// One entry: the principals a key may sign as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerEntry {
    pub principals: Vec<String>,
    pub key: PublicKey,
    /// `None`: every namespace.
    pub namespaces: Option<Vec<String>>,
    pub valid_after: Option<DateTime<Utc>>,
    pub valid_before: Option<DateTime<Utc>>,
    /// 1-based line in the file.
    pub line: usize,
}

impl SignerEntry {
    /// Whether this entry lets its key sign in `namespace` at `at`.
    pub fn applies(&self, namespace: &str, at: DateTime<Utc>) -> bool {
        self.namespaces.as_ref().is_none_or(|ns| ns.iter().any(|n| n == namespace))
            && self.valid_after.is_none_or(|t| at >= t)
            && self.valid_before.is_none_or(|t| at <= t)
    }
}

/// A parsed allowed-signers file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    pub entries: Vec<SignerEntry>,
}

/// Why an allowed-signers file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowedSignersError {
    #[error("cannot read the allowed signers file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("allowed signers line {line}: {reason}")]
    Line { line: usize, reason: String },
}

impl AllowedSigners {
    /// Read and parse the file at `path`.
    pub fn load(path: &Path) -> Result<Self, AllowedSignersError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AllowedSignersError::Read { path: path.to_path_buf(), reason: e.to_string() })?;
        Self::parse(&text).map_err(|e| match e {
            AllowedSignersError::Line { line, reason } => {
                AllowedSignersError::Read { path: path.to_path_buf(), reason: format!("line {line}: {reason}") }
            }
            other => other,
        })
    }

    /// Parse the file's text. Blank lines and `#` comments are skipped; any other malformed line is an
    /// error naming it, since a half-read list of approvers is worse than none.
    pub fn parse(text: &str) -> Result<Self, AllowedSignersError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |reason: String| AllowedSignersError::Line { line, reason };
            if let Some(entry) = parse_line(trimmed, line).map_err(err)? {
                entries.push(entry);
            }
        }
        Ok(AllowedSigners { entries })
    }

    /// Every principal `key` may sign as in `namespace` at `at`, in file order, without repeats.
    pub fn principals_for(&self, key: &PublicKey, namespace: &str, at: DateTime<Utc>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in self.entries.iter().filter(|e| e.key.key_data() == key.key_data() && e.applies(namespace, at)) {
            for p in &entry.principals {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }
}

/// Why the file at `path` could let someone other than an administrator choose who approves: it (or its
/// directory) is writable by others, or it belongs to the approver running signoff (`uid`).
pub fn ownership_warnings(path: &Path, uid: u32) -> Vec<String> {
    use std::os::unix::fs::MetadataExt as _;
    let mut out = Vec::new();
    let shown = crate::text::visible(&path.display().to_string()).into_owned();
    let Ok(meta) = std::fs::metadata(path) else {
        return out;
    };
    if meta.mode() & 0o022 != 0 {
        out.push(format!(
            "the allowed signers file {shown} is writable by its group or by others (mode {:o}): anyone who can \
             write it can approve as anyone; make it `chmod 644`, owned by an administrator",
            meta.mode() & 0o777
        ));
    }
    if meta.uid() == uid && uid != 0 {
        out.push(format!(
            "the allowed signers file {shown} belongs to you (uid {uid}): you could add your own key under any \
             approver's name; have an administrator own it (`chown root:root`, `chmod 644`)"
        ));
    }
    if let Some(dir) = path.parent()
        && let Ok(dmeta) = std::fs::metadata(dir)
        && dmeta.mode() & 0o002 != 0
        && dmeta.mode() & 0o1000 == 0
    {
        out.push(format!(
            "the directory of the allowed signers file {shown} is writable by everyone: the file can be replaced; \
             keep it in a directory only an administrator writes, such as /etc/signoff"
        ));
    }
    out
}

/// The next whitespace-delimited token of `s`, honouring double quotes; and the rest.
fn token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&s[..i], &s[i..]),
            _ => {}
        }
    }
    (s, "")
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-")
}

fn parse_line(text: &str, line: usize) -> Result<Option<SignerEntry>, String> {
    let (principals, rest) = token(text);
    let principals: Vec<String> =
        principals.trim_matches('"').split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    if principals.is_empty() {
        return Err("no principal before the key".into());
    }
    if let Some(p) = principals.iter().find(|p| p.contains(['*', '?', '!'])) {
        return Err(format!(
            "principal pattern '{}' is not supported; list each approver's name",
            crate::text::visible(p)
        ));
    }
    let (next, after) = token(rest);
    let (options, rest) = if is_key_type(next) { ("", rest) } else { (next, after) };
    let (key_type, rest) = token(rest);
    let (base64, _comment) = token(rest);
    if !is_key_type(key_type) || base64.is_empty() {
        return Err("expected `principals [options] key-type base64-key`".into());
    }
    let key =
        PublicKey::from_openssh(&format!("{key_type} {base64}")).map_err(|e| format!("the key does not parse: {e}"))?;
    let mut entry = SignerEntry { principals, key, namespaces: None, valid_after: None, valid_before: None, line };
    for option in split_options(options) {
        let (name, value) = match option.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim().trim_matches('"'))),
            None => (option.trim().to_ascii_lowercase(), None),
        };
        match (name.as_str(), value) {
            ("cert-authority", None) => return Ok(None),
            ("namespaces", Some(v)) => entry.namespaces = Some(v.split(',').map(|n| n.trim().to_string()).collect()),
            ("valid-after", Some(v)) => entry.valid_after = Some(parse_time(v)?),
            ("valid-before", Some(v)) => entry.valid_before = Some(parse_time(v)?),
            _ => return Err(format!("unsupported option '{}'", crate::text::visible(option))),
        }
    }
    Ok(Some(entry))
}

/// Options are comma-separated; commas inside double quotes belong to the value.
fn split_options(options: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in options.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&options[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < options.len() {
        out.push(&options[start..]);
    }
    out.into_iter().filter(|o| !o.trim().is_empty()).collect()
}

/// `YYYYMMDD[HHMM[SS]][Z]`, as ssh-keygen reads it: UTC with `Z`, local time without.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("'{}' is not a time like 20260301 or 202603010900Z", crate::text::visible(text));
    let (digits, utc) = match text.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (text, false),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let naive = match digits.len() {
        8 => NaiveDate::parse_from_str(digits, "%Y%m%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)),
        12 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M").ok(),
        14 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok(),
        _ => None,
    }
    .ok_or_else(bad)?;
    if utc {
        Ok(naive.and_utc())
    } else {
        Local.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc)).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::sign::{KeySigner, Signer};

    fn key() -> String {
        KeySigner::generate().keys().unwrap()[0].to_openssh().unwrap()
    }

    #[test]
    fn principals_options_and_comments_are_read_as_git_writes_them() {
        let (a, b) = (key(), key());
        let text = format!(
            "# approvers of the USMF sandbox\n\
             julia.funderburk@contoso.com,julia {a} julia's laptop\n\
             \n\
             alicia.thornber@contoso.com namespaces=\"git,signoff\",valid-after=\"20260101\",valid-before=\"20270101Z\" {b}\n"
        );
        let allowed = AllowedSigners::parse(&text).unwrap();
        assert_eq!(allowed.entries.len(), 2);
        assert_eq!(allowed.entries[0].principals, ["julia.funderburk@contoso.com", "julia"]);
        assert_eq!(allowed.entries[0].line, 2);
        let alicia = &allowed.entries[1];
        assert_eq!(alicia.namespaces.as_deref(), Some(&["git".to_string(), "signoff".to_string()][..]));
        assert_eq!(alicia.valid_before, Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()));
        let inside = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(allowed.principals_for(&alicia.key, "signoff", inside), ["alicia.thornber@contoso.com"]);
        assert!(allowed.principals_for(&alicia.key, "signoff", after).is_empty());
    }

    #[test]
    fn an_entry_for_other_namespaces_proves_nothing_here() {
        let a = key();
        let allowed = AllowedSigners::parse(&format!("julia namespaces=\"git\" {a}\n")).unwrap();
        assert!(allowed.principals_for(&allowed.entries[0].key, "signoff", Utc::now()).is_empty());
    }

    #[test]
    fn cert_authorities_are_skipped_and_bad_lines_are_named() {
        let a = key();
        let allowed = AllowedSigners::parse(&format!("*@contoso.com cert-authority {a}\n"));
        assert!(allowed.unwrap_err().to_string().contains("pattern"));
        let allowed = AllowedSigners::parse(&format!("julia cert-authority {a}\n")).unwrap();
        assert!(allowed.entries.is_empty());
        let err = AllowedSigners::parse(&format!("julia\n{a}\n")).unwrap_err();
        assert_eq!(
            err,
            AllowedSignersError::Line { line: 1, reason: "expected `principals [options] key-type base64-key`".into() }
        );
        let err = AllowedSigners::parse(&format!("julia no-touch-required {a}\n")).unwrap_err();
        assert!(err.to_string().contains("unsupported option 'no-touch-required'"), "{err}");
        let err = AllowedSigners::parse("julia ssh-ed25519 AAAAnotakey\n").unwrap_err();
        assert!(err.to_string().contains("the key does not parse"), "{err}");
    }

    #[test]
    fn a_file_writable_by_others_or_owned_by_the_approver_is_warned_about() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allowed_signers");
        std::fs::write(&path, format!("julia {}\n", key())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let uid = crate::sign::os_user::uid();
        let warnings = ownership_warnings(&path, uid);
        assert!(warnings.iter().any(|w| w.contains("writable by its group or by others (mode 666)")), "{warnings:?}");
        // Owned by whoever runs the test: an approver who owns the file is warned unless they are root.
        assert_eq!(warnings.iter().any(|w| w.contains("belongs to you")), uid != 0, "{warnings:?}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ownership_warnings(&path, uid.wrapping_add(1)).is_empty());
    }
}
