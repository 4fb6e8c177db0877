//! "Has anyone changed the store?", cheaply enough to ask several times a second while a screen stays open.
//!
//! On SQLite, `PRAGMA data_version` changes when *another* connection commits, and costs a read of the
//! WAL index header, not a scan. So the watcher holds a connection of its own that never writes: every
//! commit — another approver's process, this process's own decisions (made on their own connections),
//! a reconciliation — shows up as a changed number.
//!
//! On PostgreSQL every committed change notifies `signoff_changes`, and the watcher's own connection
//! listens ([`super::pg::listen`]): asking is an atomic load of the count of notifications heard. A lost
//! connection counts as a change; while it cannot be made again, the watcher says why.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::pg::listen::Listener;
use super::{BUSY_TIMEOUT, Store, StoreError, StoreLocation};

/// A long-lived, read-only view of one store's commits.
#[derive(Debug)]
pub struct StoreWatcher {
    source: Source,
    seen: u64,
}

#[derive(Debug)]
enum Source {
    Sqlite(Connection),
    Postgres(Listener),
}

impl Store {
    /// A watcher on this store. It starts at the current state: only later commits count.
    pub fn watch(&self) -> Result<StoreWatcher, StoreError> {
        match &self.location {
            StoreLocation::File(path) => StoreWatcher::open(path),
            StoreLocation::Postgres(target) => {
                let listener = Listener::start(target)?;
                Ok(StoreWatcher { seen: listener.events(), source: Source::Postgres(listener) })
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
        let seen = data_version(&conn)?;
        Ok(StoreWatcher { source: Source::Sqlite(conn), seen })
    }

    /// Whether anything was committed since the last call (or since the watcher was made). On
    /// PostgreSQL, an error while the listening connection cannot be made again (after saying "changed"
    /// once for its loss).
    pub fn changed(&mut self) -> Result<bool, StoreError> {
        let now = match &self.source {
            Source::Sqlite(conn) => data_version(conn)?,
            Source::Postgres(listener) => listener.events(),
        };
        let changed = now != self.seen;
        self.seen = now;
        if let (false, Source::Postgres(listener)) = (changed, &self.source)
            && let Some(failing) = listener.failing()
        {
            return Err(failing);
        }
        Ok(changed)
    }
}

fn data_version(conn: &Connection) -> Result<u64, StoreError> {
    let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?;
    Ok(version as u64)
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
