//! SQLite's half of `store migrate` (see `copy.rs`): reading a store file in one read transaction, and
//! writing a new store file under a temporary name that is linked into place only once it verifies.

use std::path::{Path, PathBuf};

use chrono::Utc;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::copy::{self, Cell, CopyError, CopyReport, Feed, Kind, Sink, Snapshot, TABLES, Table};
use super::{Store, StoreAccess, StoreError, ts};

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Null => ValueRef::Null,
            Cell::Int(n) => ValueRef::Integer(*n),
            Cell::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

fn cells(row: &rusqlite::Row<'_>, table: &Table) -> rusqlite::Result<Vec<Cell>> {
    let mut out = Vec::with_capacity(table.columns.len());
    for (i, (_, kind)) in table.columns.iter().enumerate() {
        out.push(match kind {
            Kind::Text => Cell::text(row.get(i)?),
            Kind::Int => Cell::int(row.get(i)?),
        });
    }
    Ok(out)
}

/// Read every table into `sink` inside one read transaction: one snapshot, whatever other processes
/// write meanwhile. Refused first if a decision is in flight.
pub(crate) fn read(conn: &Connection, shown: &str, sink: &mut dyn Sink) -> Result<Snapshot, CopyError> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred).map_err(StoreError::from)?;
    // The snapshot starts at this first read.
    let head = head(&tx)?;
    let runs = collect(&tx, copy::BUSY_RUNS, [], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let leases =
        collect(&tx, &copy::live_leases("?1"), [ts(Utc::now())], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    copy::refuse_busy(shown, runs, leases)?;
    let counts = counts(&tx)?;
    for table in TABLES {
        let mut stmt = tx.prepare(&table.select()).map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        let mut feed = Feed::new(sink, table);
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            feed.push(cells(row, table).map_err(StoreError::from)?)?;
        }
        feed.finish()?;
    }
    Ok(Snapshot { counts, head })
}

fn head(conn: &Connection) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Each table's row count, in [`TABLES`] order.
pub(crate) fn counts(conn: &Connection) -> Result<Vec<u64>, StoreError> {
    TABLES
        .iter()
        .map(|t| Ok(u64::try_from(conn.query_row(&copy::count_sql(t), [], |row| row.get::<_, i64>(0))?).unwrap_or(0)))
        .collect()
}

/// A new store file being written: `.<name>.migrate-<uuid>` beside the target until it verifies, then
/// linked to the target's name, which fails if anything appeared there meanwhile. Dropped unfinished, it
/// removes every file it made.
pub(crate) struct NewFile {
    target: PathBuf,
    temp: PathBuf,
    store: Option<Store>,
}

impl NewFile {
    /// Refused when anything exists at `target`; otherwise an empty store at the temporary name.
    pub(crate) fn create(target: &Path, access: &StoreAccess) -> Result<NewFile, CopyError> {
        let shown = target.display().to_string();
        if std::fs::symlink_metadata(target).is_ok() {
            return Err(CopyError::TargetNotEmpty { target: shown, what: "a file exists there".into() });
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.migrate-{}", uuid::Uuid::new_v4().simple()));
        let mut file = NewFile { target: target.to_path_buf(), temp, store: None };
        file.store = Some(Store::open_with(&file.temp, access)?);
        Ok(file)
    }

    /// Verify the copy as signoff opens it, compare it with the source's snapshot, and put it in place.
    pub(crate) fn finish(mut self, source: &Snapshot) -> Result<CopyReport, CopyError> {
        drop(self.store.take());
        let shown = self.target.display().to_string();
        let copy = Store::open(&self.temp)?;
        let conn = file_conn(&copy)?;
        let verified =
            copy.verify_audit().map_err(|e| CopyError::CopyDiffers { target: shown.clone(), what: e.to_string() })?;
        let report = copy::compare(&shown, source, &counts(conn)?, &copy.audit_head()?, verified)?;
        // Back to a rollback journal: every page in the file itself, no `-wal` left beside the temporary
        // name. The first signoff to open the store switches it to WAL again.
        let mode: String =
            conn.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0)).map_err(StoreError::from)?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(StoreError::corrupt("journal mode", format!("the copy kept journal mode '{mode}'")).into());
        }
        drop(copy);
        copy::go_on()?;
        place(&self.temp, &self.target).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => CopyError::TargetNotEmpty {
                target: shown.clone(),
                what: "a file appeared there during the copy".into(),
            },
            _ => CopyError::Store(StoreError::Create { path: self.target.clone(), source: e }),
        })?;
        Ok(report)
    }
}

/// Link `temp` to `target` (never replacing a file there), then remove the temporary name. Where hard
/// links are not supported, a rename after checking that `target` is still free.
fn place(temp: &Path, target: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(temp, target) {
        Ok(()) => std::fs::remove_file(temp),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if std::fs::symlink_metadata(target).is_ok() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(temp, target),
    }
}

/// The connection of a store opened from a file.
fn file_conn(store: &Store) -> Result<&Connection, StoreError> {
    match &store.db {
        super::Db::Sqlite(conn) => Ok(conn),
        super::Db::Postgres(_) => Err(StoreError::corrupt("store", "a file store opened as PostgreSQL")),
    }
}

impl Sink for NewFile {
    fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        let conn = file_conn(store)?;
        let params = (1..=table.columns.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO {} ({}) VALUES ({params})", table.name, table.column_list());
        let tx = super::write_tx(conn)?;
        {
            let mut stmt = tx.prepare_cached(&sql)?;
            for row in rows {
                stmt.execute(rusqlite::params_from_iter(row))?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        drop(self.store.take());
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = self.temp.as_os_str().to_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy's table list is the schema: every table and column SQLite holds, with its type.
    #[test]
    fn the_copied_tables_are_every_table_and_column_of_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let conn = store.sqlite_conn().unwrap();
        let mut names: Vec<String> = collect(
            conn,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            [],
            |row| row.get(0),
        )
        .unwrap();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        listed.sort();
        assert_eq!(names, listed);
        for table in TABLES {
            let columns: Vec<(String, String)> =
                collect(conn, &format!("PRAGMA table_info({})", table.name), [], |row| Ok((row.get(1)?, row.get(2)?)))
                    .unwrap();
            let expected: Vec<(String, String)> = table
                .columns
                .iter()
                .map(|(name, kind)| (name.to_string(), if *kind == Kind::Int { "INTEGER" } else { "TEXT" }.to_string()))
                .collect();
            assert_eq!(columns, expected, "table {}", table.name);
        }
    }
}
