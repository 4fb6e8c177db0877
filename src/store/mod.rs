//! The only code that touches the database: SQLite in WAL mode, shared by several processes.
//!
//! One [`Store`] wraps one connection. Several processes (approvers on one jump host) may open the
//! same file: reads never block in WAL mode, and every write runs in a `BEGIN IMMEDIATE` transaction,
//! so writers queue on the busy timeout instead of failing with "database is locked" halfway through.

mod audit;
pub mod canonical;
mod catalog;
mod error;
mod leases;
mod runs;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use audit::{AuditEvent, AuditVerified, GENESIS_HASH, verify_chain};
pub use catalog::Exchange;
pub use error::StoreError;
pub use leases::{Approval, Lease};
pub use runs::{ImportReport, RunFilter, StatusChange, StoredRun};
pub use schema::SCHEMA_VERSION;

/// How long a writer waits for another process's write transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on one store file. `Send`, not `Sync`: give each thread its own (opening is cheap).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the store at `path`, and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| StoreError::CreateDir { path: parent.to_path_buf(), source })?;
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        // The busy timeout first: every later statement, the WAL switch included, may meet a writer.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode = switch_to_wal(&conn).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::corrupt("journal mode", format!("SQLite kept journal mode '{mode}', not WAL")));
        }
        conn.pragma_update(None, "foreign_keys", true).map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn, path)?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so it either waits
    /// its turn on the busy timeout or fails before changing anything.
    fn write_tx(&self) -> Result<Transaction<'_>, StoreError> {
        Ok(Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?)
    }
}

/// Switch to WAL. On a brand-new file several processes may race for this; SQLite then answers
/// SQLITE_BUSY at once without consulting the busy handler, so retry until the busy timeout.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<String> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Times are stored as RFC 3339 with nine fractional digits and `Z`, so text order is time order.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn parse_ts(what: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(what, format!("'{text}' is not an RFC 3339 time: {e}")))
}
