//! "Has anyone changed the store?", cheaply enough to ask every second while a screen stays open.
//!
//! SQLite's `PRAGMA data_version` changes when *another* connection commits, and costs a read of the
//! WAL index header, not a scan. So the watcher holds a connection of its own that never writes: every
//! commit — another approver's process, this process's own decisions (made on their own connections),
//! a reconciliation — shows up as a changed number.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{BUSY_TIMEOUT, Store, StoreError};

/// A long-lived, read-only view of one store's commit counter.
#[derive(Debug)]
pub struct StoreWatcher {
    source: Source,
    seen: i64,
}

#[derive(Debug)]
enum Source {
    Sqlite(Connection),
    /// On PostgreSQL, the audit chain's head: every change another screen shows appends an event.
    Postgres(Box<Store>),
}

impl Store {
    /// A watcher on this store. It starts at the current state: only later commits count.
    pub fn watch(&self) -> Result<StoreWatcher, StoreError> {
        match &self.db {
            super::Db::Sqlite(_) => StoreWatcher::open(self.path()),
            super::Db::Postgres(pg) => {
                let store = Store {
                    db: super::Db::Postgres(pg.reopen()?),
                    path: self.path.clone(),
                    location: self.location.clone(),
                    busy_timeout: self.busy_timeout,
                };
                let mut watcher = StoreWatcher { source: Source::Postgres(Box::new(store)), seen: 0 };
                watcher.seen = watcher.version()?;
                Ok(watcher)
            }
        }
    }
}

impl StoreWatcher {
    fn open(path: &Path) -> Result<StoreWatcher, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        // Read-write flags although it never writes: a read-only connection to a WAL database needs the
        // `-shm` file to exist already, and fails in confusing ways when it does not.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mut watcher = StoreWatcher { source: Source::Sqlite(conn), seen: 0 };
        watcher.seen = watcher.version()?;
        Ok(watcher)
    }

    /// Whether another connection has committed since the last call (or since the watcher was made).
    pub fn changed(&mut self) -> Result<bool, StoreError> {
        let now = self.version()?;
        let changed = now != self.seen;
        self.seen = now;
        Ok(changed)
    }

    fn version(&self) -> Result<i64, StoreError> {
        match &self.source {
            Source::Sqlite(conn) => Ok(conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?),
            Source::Postgres(store) => Ok(store.audit_head()?.map_or(0, |(seq, _)| seq)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunId;

    fn store_with_a_run(dir: &Path) -> Store {
        let store = Store::open(&dir.join("store.db")).unwrap();
        let text = include_str!("../../fixtures/runs/vnd-usmf-us-104.json");
        let run = crate::model::parse_run(text, "vnd-usmf-us-104.json").unwrap();
        store.import(&[run], "test").unwrap();
        store
    }

    #[test]
    fn a_commit_by_another_connection_is_seen_once_and_reads_are_not_changes() {
        let dir = tempfile::tempdir().unwrap();
        let writer = store_with_a_run(dir.path());
        let mut watcher = writer.watch().unwrap();
        assert!(!watcher.changed().unwrap(), "nothing has happened since the watcher was made");
        // Another process reading the queue is not a change.
        let reader = Store::open(writer.path()).unwrap();
        reader.summaries(&crate::store::RunFilter::default()).unwrap();
        assert!(!watcher.changed().unwrap());
        let id: RunId = reader.summaries(&Default::default()).unwrap()[0].id.clone();
        writer.acquire_lease(&id, "amy.rhodes@contoso.com", std::time::Duration::from_secs(60)).unwrap();
        assert!(watcher.changed().unwrap(), "a lease taken elsewhere is a change");
        assert!(!watcher.changed().unwrap(), "and it is reported once");
    }
}
