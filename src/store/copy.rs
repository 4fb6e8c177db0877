//! `signoff store migrate`: a whole store copied into an empty one, SQLite or PostgreSQL on either side.
//!
//! Every table is copied row for row, each value exactly as stored (ids, `seq`s, hashes, the audit
//! payload text byte for byte), so the chain verifies on the target as it did on the source. The source
//! is verified first and read in one snapshot (a SQLite read transaction; PostgreSQL REPEATABLE READ), in
//! batches, so memory does not grow with the store. The target must be empty, and the copy becomes
//! visible only whole and verified: a new SQLite file is written under a temporary name beside the target
//! and linked into place at the end; a PostgreSQL target is written in one transaction that commits only
//! after the copied chain and state verify inside it.
//!
//! The backends' halves live in `copy_sqlite.rs` and `pg/copy.rs`, the tables and a row's values in
//! `copy_tables.rs`; this file holds the batching, the refusals and the comparison of the copy with the
//! source.

use serde::Serialize;

pub(crate) use super::copy_tables::{Cell, Kind, TABLES, Table};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{AuditVerified, Store, StoreAccess, StoreError, StoreLocation, copy_sqlite};

/// Set by [`request_stop`] (a signal handler's thread): the copy stops at its next batch, or before it
/// makes the copy visible, and keeps nothing.
static STOP: AtomicBool = AtomicBool::new(false);

/// Ask a running copy to stop and keep nothing (it does so between batches, or before the new store is
/// made visible; once visible, the copy is complete and stays).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Refuse to go on once a stop was asked for.
pub(crate) fn go_on() -> Result<(), StoreError> {
    if STOP.load(Ordering::SeqCst) { Err(StoreError::Stopped) } else { Ok(()) }
}

/// Where copied rows go: the new store, a batch of one table's rows at a time.
pub(crate) trait Sink {
    fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError>;
}

/// A batch holds at most this many rows …
const BATCH_ROWS: usize = 500;
/// … and about this many bytes of values (a run's payload is a few kilobytes; the catalog, megabytes).
const BATCH_BYTES: usize = 4 << 20;

/// One table's rows on their way to a [`Sink`], handed over a batch at a time.
pub(crate) struct Feed<'a> {
    sink: &'a mut dyn Sink,
    table: &'a Table,
    rows: Vec<Vec<Cell>>,
    bytes: usize,
}

impl<'a> Feed<'a> {
    pub(crate) fn new(sink: &'a mut dyn Sink, table: &'a Table) -> Self {
        Feed { sink, table, rows: Vec::with_capacity(BATCH_ROWS), bytes: 0 }
    }

    pub(crate) fn push(&mut self, row: Vec<Cell>) -> Result<(), StoreError> {
        self.bytes += row.iter().map(Cell::size).sum::<usize>();
        self.rows.push(row);
        if self.rows.len() >= BATCH_ROWS || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        go_on()?;
        if !self.rows.is_empty() {
            self.sink.write(self.table, &self.rows)?;
            self.rows.clear();
            self.bytes = 0;
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        self.flush()
    }
}

/// What the source's snapshot held: each table's row count (in [`TABLES`] order) and the chain's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) counts: Vec<u64>,
    pub(crate) head: Option<(i64, String)>,
}

/// Runs in the middle of a decision, and live leases, as the snapshot shows them.
pub(crate) const BUSY_RUNS: &str = "SELECT id, status FROM runs WHERE status IN ('executing', 'unknown') ORDER BY id";

/// Live leases; `{now}` is the parameter holding the current time.
pub(crate) fn live_leases(now: &str) -> String {
    format!("SELECT run_id, holder, expires_at FROM leases WHERE expires_at > {now} ORDER BY run_id")
}

/// The refusal when any run is mid-decision (`executing`, `unknown`) or claimed by a live lease.
pub(crate) fn refuse_busy(
    store: &str,
    runs: Vec<(String, String)>,
    leases: Vec<(String, String, String)>,
) -> Result<(), CopyError> {
    let mut busy: Vec<String> = runs.into_iter().map(|(id, status)| format!("{id} is {status}")).collect();
    busy.extend(leases.into_iter().map(|(id, holder, until)| format!("{id} is claimed by {holder} until {until}")));
    if busy.is_empty() { Ok(()) } else { Err(CopyError::SourceBusy { store: store.to_string(), busy }) }
}

/// How many rows of one table were copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub table: &'static str,
    pub rows: u64,
}

/// A finished copy: what the target now holds, verified and equal to the source's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub runs: u64,
    /// Audit events, as the target's verification counted them.
    pub events: u64,
    /// The chain's newest `(seq, hash)`, the same on both sides.
    pub head: Option<(i64, String)>,
    pub tables: Vec<TableCount>,
}

/// Why a copy was refused or failed. Every refusal comes before anything is visible at the target.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the source store {store} does not verify, and a broken store is never copied: {cause}; find out what \
         happened (`signoff audit verify`) and restore it from a backup before migrating"
    )]
    SourceBroken { store: String, cause: StoreError },

    #[error(
        "the source store {store} has decisions in flight: a copy now would split their evidence between two \
         stores; wait until they finish (or the leases end), settle `unknown` runs with `signoff reconcile`, \
         then migrate again"
    )]
    SourceBusy { store: String, busy: Vec<String> },

    #[error("the target {target} is the source store itself; name a new file or an empty database")]
    SameStore { target: String },

    #[error(
        "the target {target} is not empty: {what}; migrate never merges into or overwrites a store: name a file \
         that does not exist yet, or an empty PostgreSQL database or schema (`CREATE SCHEMA signoff_new`, then \
         `?options=-c%20search_path%3Dsignoff_new` in the URL)"
    )]
    TargetNotEmpty { target: String, what: String },

    #[error(
        "the copy at {target} does not match the source ({what}), so it was discarded and nothing was kept; \
         report this as a bug, with the log"
    )]
    CopyDiffers { target: String, what: String },

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CopyError {
    /// Refused before anything was written (the store's or the target's state), not a failure of the copy.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, CopyError::CopyDiffers { .. } | CopyError::Store(_))
    }

    /// The runs a [`CopyError::SourceBusy`] names, one line each.
    pub fn busy(&self) -> &[String] {
        match self {
            CopyError::SourceBusy { busy, .. } => busy,
            _ => &[],
        }
    }
}

/// The copy against the source's snapshot: every table's count, the head, and the verified chain's length.
pub(crate) fn compare(
    target: &str,
    source: &Snapshot,
    counts: &[u64],
    head: &Option<(i64, String)>,
    verified: AuditVerified,
) -> Result<CopyReport, CopyError> {
    let differs = |what: String| CopyError::CopyDiffers { target: target.to_string(), what };
    for ((table, want), got) in TABLES.iter().zip(&source.counts).zip(counts) {
        if want != got {
            return Err(differs(format!("{}: {got} rows, the source has {want}", table.name)));
        }
    }
    if head != &source.head {
        return Err(differs(format!("the chain's head is {head:?}, the source's {:?}", source.head)));
    }
    let events = source.counts[index_of("audit_events")];
    if verified.events != events {
        return Err(differs(format!("{} events verified of {events}", verified.events)));
    }
    Ok(CopyReport {
        runs: source.counts[index_of("runs")],
        events,
        head: head.clone(),
        tables: TABLES.iter().zip(counts).map(|(t, rows)| TableCount { table: t.name, rows: *rows }).collect(),
    })
}

fn index_of(table: &str) -> usize {
    TABLES.iter().position(|t| t.name == table).unwrap_or_default()
}

/// `SELECT COUNT(*)` of `table`.
pub(crate) fn count_sql(table: &Table) -> String {
    format!("SELECT COUNT(*) FROM {}", table.name)
}

impl Store {
    /// Copy this whole store into `target`, which must hold no store yet; a new SQLite file is created for
    /// `access`. The source is verified first and must have no decision in flight; the copy is verified
    /// and compared with the source before it becomes visible, and again once opened as signoff opens it.
    pub fn copy_to(&self, target: &StoreLocation, access: &StoreAccess) -> Result<CopyReport, CopyError> {
        let shown = target.shown();
        if let (StoreLocation::File(source), StoreLocation::File(path)) = (&self.location, target)
            && same_file(source, path)
        {
            return Err(CopyError::SameStore { target: shown });
        }
        self.verify_audit().map_err(|cause| match cause {
            StoreError::AuditBroken { .. } | StoreError::StateMismatch { .. } => {
                CopyError::SourceBroken { store: self.location.shown(), cause }
            }
            other => CopyError::Store(other),
        })?;
        let report = match target {
            StoreLocation::File(path) => {
                let mut file = copy_sqlite::NewFile::create(path, access)?;
                let snapshot = self.read_snapshot(&mut file)?;
                file.finish(&snapshot)?
            }
            StoreLocation::Postgres(location) => {
                let pg = super::pg::Pg::connect(location)?;
                if let super::Db::Postgres(source) = &self.db
                    && source.identity()? == pg.identity()?
                {
                    return Err(CopyError::SameStore { target: shown });
                }
                let mut database = super::pg::copy::NewDatabase::begin(&pg)?;
                let snapshot = self.read_snapshot(&mut database)?;
                database.finish(&snapshot)?
            }
        };
        // The copy as every later signoff will see it.
        let copy = target.open_with(access)?;
        let counts = copy.table_counts()?;
        let head = copy.audit_head()?;
        if counts != report.tables.iter().map(|t| t.rows).collect::<Vec<_>>() || head != report.head {
            return Err(CopyError::CopyDiffers {
                target: shown,
                what: "reopened, it holds other counts or another head than were verified".into(),
            });
        }
        Ok(report)
    }

    /// Read the whole store in one snapshot into `sink`, refusing first if a decision is in flight.
    fn read_snapshot(&self, sink: &mut dyn Sink) -> Result<Snapshot, CopyError> {
        match &self.db {
            super::Db::Sqlite(conn) => copy_sqlite::read(conn, &self.location.shown(), sink),
            super::Db::Postgres(pg) => pg.read_snapshot(sink),
        }
    }

    /// Each table's row count, in [`TABLES`] order.
    fn table_counts(&self) -> Result<Vec<u64>, StoreError> {
        match &self.db {
            super::Db::Sqlite(conn) => copy_sqlite::counts(conn),
            super::Db::Postgres(pg) => super::pg::copy::counts(pg),
        }
    }
}

/// Whether `target` exists and is the same file as `source` (a hard link or another spelling included).
fn same_file(source: &std::path::Path, target: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(source), std::fs::metadata(target)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
