//! The only code that touches the database: SQLite in WAL mode, shared by several processes.
//!
//! One [`Store`] wraps one connection. Several processes (approvers on one jump host) may open the
//! same file: reads never block in WAL mode, and every write runs in a `BEGIN IMMEDIATE` transaction,
//! so writers queue on the busy timeout instead of failing with "database is locked" halfway through.

mod access;
mod audit;
mod binding;
pub mod canonical;
mod catalog;
mod copy;
mod copy_sqlite;
mod copy_tables;
mod error;
mod import;
mod invoice_key;
mod leases;
mod location;
mod many;
pub mod pg;
mod runs;
mod schema;
mod verify;
mod watch;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use access::{StoreAccess, exposure, group_id};
pub use audit::{AuditEvent, AuditVerified, GENESIS_HASH, verify_chain};
pub use catalog::Exchange;
pub use copy::{CopyError, CopyReport, TableCount, request_stop as stop_copy};
pub use error::StoreError;
pub use import::Importer;
pub use leases::{Approval, Lease, NewApproval};
pub use location::StoreLocation;
pub use many::RunToJudge;
pub use runs::{ImportReport, RunFilter, StatusChange, StoredRun};
pub use schema::SCHEMA_VERSION;
pub use watch::StoreWatcher;

/// How long a writer waits for another process's write transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database a store handle talks to.
#[derive(Debug)]
enum Db {
    Sqlite(Connection),
    Postgres(pg::Pg),
}

/// The SQLite connection of `$store`, or (on PostgreSQL) return at once what `$pg` gives.
macro_rules! sqlite_or {
    ($store:expr, |$p:ident| $pg:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite(conn) => conn,
            $crate::store::Db::Postgres($p) => return $pg,
        }
    };
}
pub(crate) use sqlite_or;

/// A handle on one store file. `Send`, not `Sync`: give each thread its own (opening is cheap).
#[derive(Debug)]
pub struct Store {
    db: Db,
    path: PathBuf,
    location: StoreLocation,
    busy_timeout: Duration,
}

impl Store {
    /// Open (creating if needed, owner-only) the store at `path`, and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, &StoreAccess::default())
    }

    /// Open the store at `path`, creating it (and its directory) for `access` if it does not exist.
    pub fn open_with(path: &Path, access: &StoreAccess) -> Result<Store, StoreError> {
        access::create(path, access)?;
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        // The busy timeout first: every later statement, the WAL switch included, may meet a writer.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode = switch_to_wal(&conn).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::corrupt("journal mode", format!("SQLite kept journal mode '{mode}', not WAL")));
        }
        conn.pragma_update(None, "foreign_keys", true).map_err(open_err)?;
        // No memory map: reading a whole 100,000-run store through one put up to its whole size in the
        // process's resident memory (370 MB for `runs list`), for no measurable gain in CPU time.
        conn.pragma_update(None, "mmap_size", 0_i64).map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn, path)?;
        access::share_siblings(path, access);
        Ok(Store {
            db: Db::Sqlite(conn),
            path: path.to_path_buf(),
            location: StoreLocation::File(path.to_path_buf()),
            busy_timeout: BUSY_TIMEOUT,
        })
    }

    /// Open the PostgreSQL store at `target` (through this process's pool), and bring its schema up to date.
    pub fn open_postgres(target: &pg::PgTarget) -> Result<Store, StoreError> {
        let pg = pg::Pg::open(target)?;
        Ok(Store {
            path: PathBuf::from(pg.shown()),
            db: Db::Postgres(pg),
            location: StoreLocation::Postgres(target.clone()),
            busy_timeout: BUSY_TIMEOUT,
        })
    }

    /// The SQLite connection, for this crate's tests of SQLite's query plans.
    #[cfg(test)]
    pub(crate) fn sqlite_conn(&self) -> Option<&Connection> {
        match &self.db {
            Db::Sqlite(conn) => Some(conn),
            Db::Postgres(_) => None,
        }
    }

    /// Whether this store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Wait up to `timeout` for another process's write (the default is [`BUSY_TIMEOUT`]).
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        self.busy_timeout = timeout;
        match &mut self.db {
            Db::Sqlite(conn) => Ok(conn.busy_timeout(timeout)?),
            Db::Postgres(pg) => {
                pg.set_lock_timeout(timeout);
                Ok(())
            }
        }
    }

    /// The file this store lives in (on PostgreSQL: its URL as shown, without a password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this store is, to open it again (another handle, another thread).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }
}

/// A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so it either waits its
/// turn on the busy timeout or fails before changing anything.
fn write_tx(conn: &Connection) -> Result<Transaction<'_>, StoreError> {
    Ok(Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?)
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
    if let Some(at) = parse_stored_ts(text) {
        return Ok(at);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(what, format!("'{text}' is not an RFC 3339 time: {e}")))
}

/// The fast path for the exact shape [`ts`] writes (`2026-03-02T08:00:37.000000000Z`): the queue parses
/// 200,000 of these per 100,000 runs.
fn parse_stored_ts(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 30 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b'.' || b[29] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..29)?)?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_round_trip_through_the_fast_path() {
        let at = DateTime::parse_from_rfc3339("2026-11-28T13:45:00.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_stored_ts(&ts(at)), Some(at));
        assert_eq!(parse_ts("t", "2026-11-28T13:45:00+01:00").unwrap().to_rfc3339(), "2026-11-28T12:45:00+00:00");
        assert!(parse_ts("t", "2026-13-28T13:45:00.000000000Z").is_err());
    }
}
