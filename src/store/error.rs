//! What can go wrong with the store, each message saying the likely cause and what to do.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::model::{RunId, RunStatus};

/// An error from the run store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the store directory {path}: {source}; check the path and its permissions")]
    CreateDir { path: PathBuf, source: std::io::Error },

    #[error("cannot create the store {path}: {source}; check that you may write to its directory")]
    Create { path: PathBuf, source: std::io::Error },

    #[error(
        "there is no unix group '{group}' ([store] group in the config); create it (`groupadd {group}`) and add \
         the approvers to it, or remove the setting to keep the store owner-only"
    )]
    NoSuchGroup { group: String },

    #[error("cannot open the store {path}: {source}; check that it is a signoff store and that you may write to it")]
    Open { path: PathBuf, source: rusqlite::Error },

    #[error(
        "the store {path} has schema version {found}, but this signoff understands at most version {supported}; \
         it was written by a newer signoff: upgrade signoff before using this store"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },

    #[error("store database error: {0}")]
    Database(#[from] rusqlite::Error),

    #[error(
        "cannot reach the PostgreSQL store {target}: {detail}; check the URL, that the server is running, the \
         password's source ([store] password_env, password_file or password_command) and the TLS trust settings"
    )]
    PgConnect { target: String, detail: String },

    /// The PostgreSQL store's settings are unusable before any connection is tried (a password in the URL,
    /// an unreadable password source).
    #[error("the PostgreSQL store {target} is not usable as configured: {detail}")]
    PgSetting { target: String, detail: String },

    #[error("PostgreSQL store error: {detail}")]
    Postgres { detail: String, code: Option<String> },

    #[error(
        "run {id} is already in the store with different content (stored digest {stored_digest}, \
         new digest {new_digest}); an imported run never changes: give the new proposal a new id"
    )]
    Conflict { id: RunId, stored_digest: String, new_digest: String },

    /// A copy was asked to stop (a signal) before it was complete; nothing of it was kept.
    #[error("stopped before the copy was complete; nothing was kept at the target")]
    Stopped,

    #[error("no run {id} in the store; `signoff runs list` shows the runs it holds")]
    UnknownRun { id: RunId },

    #[error("run {id} is {actual}, not {}; it cannot become {to} (someone else may have decided it first)",
        expected_list(.expected))]
    StatusConflict { id: RunId, actual: RunStatus, expected: Vec<RunStatus>, to: RunStatus },

    #[error(
        "run {id} was already sent to F&O once (its history records the execution), and the store refuses a \
         second execution of its decision; `signoff runs show {id}` shows what became of it"
    )]
    AlreadyExecuted { id: RunId },

    #[error("run {id} is being reviewed by {holder} until {expires}; wait for the lease to end or ask them")]
    LeaseHeld { id: RunId, holder: String, expires: DateTime<Utc> },

    #[error("{approver} has already approved run {id}; a quorum counts distinct people")]
    AlreadyApproved { id: RunId, approver: String },

    #[error("the store holds unreadable data ({what}): {detail}; the file may have been edited by hand")]
    Corrupt { what: String, detail: String },

    #[error("audit chain broken at event #{seq}: {reason}")]
    AuditBroken { seq: i64, reason: String },

    #[error(
        "run {run}: {what}; the store's state no longer matches its audit chain, so nothing is decided on it: \
         restore the store from a backup, and find out who edited it"
    )]
    StateMismatch { run: RunId, what: String },
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres { detail: super::pg::describe(&e), code: e.code().map(|c| c.code().to_string()) }
    }
}

fn expected_list(expected: &[RunStatus]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
    names.join(" or ")
}

impl StoreError {
    /// A unique index or key refused the write (SQLite's or PostgreSQL's unique violation).
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            StoreError::Postgres { code, .. } => code.as_deref() == Some("23505"),
            _ => false,
        }
    }

    /// The one-execution index refused a second move of `id` into `executing`.
    pub(crate) fn second_execution(self, id: &RunId, to: RunStatus) -> Self {
        if to == RunStatus::Executing && self.is_unique_violation() {
            StoreError::AlreadyExecuted { id: id.clone() }
        } else {
            self
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, detail: impl ToString) -> Self {
        StoreError::Corrupt { what: what.into(), detail: detail.to_string() }
    }
}
