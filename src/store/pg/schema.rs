//! PostgreSQL's side of the versioned migrations (`store::schema`): the version lives in
//! `signoff_schema`, and each step runs in its own transaction under an advisory lock, so two processes
//! opening a new store at once migrate it once.

use super::Pg;
use crate::store::StoreError;
use crate::store::schema::{MIGRATIONS, SCHEMA_VERSION};

/// The advisory lock every migration holds (an arbitrary constant: "signoff" in ASCII).
const MIGRATION_LOCK: i64 = 0x0073_6967_6e6f_6666;

/// The schema version a PostgreSQL store is at (0 for an empty database or schema).
pub(crate) fn schema_version(pg: &Pg) -> Result<i64, StoreError> {
    let exists = pg.query_opt("SELECT to_regclass('signoff_schema')::text", &[])?;
    if exists.and_then(|row| row.get::<_, Option<String>>(0)).is_none() {
        return Ok(0);
    }
    Ok(pg.query_opt("SELECT version FROM signoff_schema WHERE id = 1", &[])?.map_or(0, |row| row.get(0)))
}

/// Bring the schema up to [`SCHEMA_VERSION`]; refuse a store written by a newer build.
pub(crate) fn migrate(pg: &Pg) -> Result<(), StoreError> {
    loop {
        let found = schema_version(pg)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: pg.shown().into(), found, supported: SCHEMA_VERSION });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = pg.tx()?;
        lock(&tx)?;
        // Another process may have migrated while we waited for the lock.
        let current = schema_version(&tx)?;
        if current == found {
            step(&tx, current)?;
        }
        tx.commit()?;
    }
}

/// Take the migrations' lock for the rest of the transaction.
pub(crate) fn lock(tx: &Pg) -> Result<(), StoreError> {
    tx.query("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    Ok(())
}

/// Every step from version `from` to [`SCHEMA_VERSION`] inside the caller's transaction, which holds
/// [`lock`] (`store migrate` creates its target's schema and copies into it in one transaction).
pub(crate) fn migrate_in(tx: &Pg, from: i64) -> Result<(), StoreError> {
    for version in from..SCHEMA_VERSION {
        step(tx, version)?;
    }
    Ok(())
}

/// Migration `current` → `current + 1`, and the version recorded.
fn step(tx: &Pg, current: i64) -> Result<(), StoreError> {
    tx.execute(
        "CREATE TABLE IF NOT EXISTS signoff_schema (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        &[],
    )?;
    let index = usize::try_from(current).map_err(|_| StoreError::corrupt("signoff_schema", current))?;
    super::block_on(tx.client().batch_execute(MIGRATIONS[index].pg))??;
    tx.execute(
        "INSERT INTO signoff_schema (id, version) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version",
        &[&(current + 1)],
    )?;
    Ok(())
}
