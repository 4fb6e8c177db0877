//! Versioned migrations, one list for both backends: each step has its SQLite and its PostgreSQL text.
//! SQLite tracks the version in its `user_version`, PostgreSQL in the `signoff_schema` table.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction and re-reads the version inside it, so
//! two processes opening a fresh store at the same moment migrate it once.

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::StoreError;

/// One step of the schema: SQL, then (when the new columns are a function of what is already stored)
/// a backfill in Rust, in the same transaction, so a store is never seen half-migrated.
pub(crate) struct Migration {
    pub(crate) sql: &'static str,
    /// The same step for PostgreSQL. A PostgreSQL store is always created by a build that knows every
    /// step above (no older build could open one), so the backfills so far have nothing to fill there; a
    /// later step whose backfill matters on PostgreSQL must carry one of its own.
    pub(crate) pg: &'static str,
    backfill: Option<Backfill>,
}

/// Fills new columns from what the store already holds, inside the migration's transaction.
type Backfill = fn(&Transaction<'_>) -> Result<(), StoreError>;

const fn sql(sql: &'static str, pg: &'static str) -> Migration {
    Migration { sql, pg, backfill: None }
}

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit a shipped one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    // 1: runs, history, approvals, leases, the audit chain, the metadata catalog, evidence exchanges.
    sql(
        r#"
    CREATE TABLE runs (
        id                 TEXT PRIMARY KEY NOT NULL,
        action             TEXT NOT NULL,
        status             TEXT NOT NULL,
        environment        TEXT NOT NULL,
        company            TEXT,
        target             TEXT NOT NULL,
        amount             TEXT,             -- exact decimal text, never REAL
        currency           TEXT,
        requester          TEXT NOT NULL,
        requested_at       TEXT NOT NULL,    -- RFC 3339, 9 fractional digits, Z: sorts as text
        expires_at         TEXT NOT NULL,
        required_approvals INTEGER NOT NULL,
        digest             TEXT NOT NULL,    -- SHA-256 of the canonical JSON in run_payloads
        imported_at        TEXT NOT NULL,
        updated_at         TEXT NOT NULL
    ) STRICT;
    CREATE INDEX runs_by_status ON runs(status);
    -- The documents live apart so that a queue scan of `runs` reads small rows only.
    CREATE TABLE run_payloads (
        run_id  TEXT PRIMARY KEY NOT NULL REFERENCES runs(id),
        payload TEXT NOT NULL              -- the run's canonical JSON
    ) STRICT;

    CREATE TABLE status_history (
        id          INTEGER PRIMARY KEY,
        run_id      TEXT NOT NULL REFERENCES runs(id),
        from_status TEXT,
        to_status   TEXT NOT NULL,
        actor       TEXT NOT NULL,
        at          TEXT NOT NULL,
        detail      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX status_history_by_run ON status_history(run_id, id);

    CREATE TABLE approvals (
        run_id         TEXT NOT NULL REFERENCES runs(id),
        approver       TEXT NOT NULL,
        approved_at    TEXT NOT NULL,
        reason         TEXT NOT NULL,
        digest         TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        PRIMARY KEY (run_id, approver)
    ) STRICT;

    CREATE TABLE leases (
        run_id      TEXT PRIMARY KEY NOT NULL REFERENCES runs(id),
        holder      TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    ) STRICT;

    -- Append only. run_id has no foreign key: the log outlives and precedes anything it describes.
    CREATE TABLE audit_events (
        seq       INTEGER PRIMARY KEY NOT NULL,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        run_id    TEXT,
        kind      TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_events_by_run ON audit_events(run_id, seq);

    -- The last event's seq and hash, so that deleting the newest events is detected too.
    CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash TEXT NOT NULL
    ) STRICT;

    CREATE TABLE catalog (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        json      TEXT NOT NULL,
        synced_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE exchanges (
        id     INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id),
        at     TEXT NOT NULL,
        json   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX exchanges_by_run ON exchanges(run_id, id);
    "#,
        r#"
    CREATE TABLE runs (
        id                 TEXT PRIMARY KEY,
        action             TEXT NOT NULL,
        status             TEXT NOT NULL,
        environment        TEXT NOT NULL,
        company            TEXT,
        target             TEXT NOT NULL,
        amount             TEXT,
        currency           TEXT,
        requester          TEXT NOT NULL,
        requested_at       TEXT NOT NULL,
        expires_at         TEXT NOT NULL,
        required_approvals BIGINT NOT NULL,
        digest             TEXT NOT NULL,
        imported_at        TEXT NOT NULL,
        updated_at         TEXT NOT NULL
    );
    CREATE INDEX runs_by_status ON runs(status);
    CREATE TABLE run_payloads (
        run_id  TEXT PRIMARY KEY REFERENCES runs(id),
        payload TEXT NOT NULL
    );
    CREATE TABLE status_history (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        run_id      TEXT NOT NULL REFERENCES runs(id),
        from_status TEXT,
        to_status   TEXT NOT NULL,
        actor       TEXT NOT NULL,
        at          TEXT NOT NULL,
        detail      TEXT NOT NULL
    );
    CREATE INDEX status_history_by_run ON status_history(run_id, id);
    CREATE TABLE approvals (
        run_id         TEXT NOT NULL REFERENCES runs(id),
        approver       TEXT NOT NULL,
        approved_at    TEXT NOT NULL,
        reason         TEXT NOT NULL,
        digest         TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        PRIMARY KEY (run_id, approver)
    );
    CREATE TABLE leases (
        run_id      TEXT PRIMARY KEY REFERENCES runs(id),
        holder      TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    );
    CREATE TABLE audit_events (
        seq       BIGINT PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        run_id    TEXT,
        kind      TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE INDEX audit_events_by_run ON audit_events(run_id, seq);
    CREATE TABLE audit_head (
        id   BIGINT PRIMARY KEY CHECK (id = 1),
        seq  BIGINT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE catalog (
        id        BIGINT PRIMARY KEY CHECK (id = 1),
        json      TEXT NOT NULL,
        synced_at TEXT NOT NULL
    );
    CREATE TABLE exchanges (
        id     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id),
        at     TEXT NOT NULL,
        json   TEXT NOT NULL
    );
    CREATE INDEX exchanges_by_run ON exchanges(run_id, id);
    "#,
    ),
    // 2: the approver's SSH signature (armored SSHSIG) over the approval; NULL for approvals recorded
    // without a proven identity.
    sql(
        r#"
    ALTER TABLE approvals ADD COLUMN signature TEXT;
    "#,
        "ALTER TABLE approvals ADD COLUMN signature TEXT;",
    ),
    // 3: a vendor invoice's identity, normalised as the duplicate-invoice rule compares it, so that rule's
    // question ("other runs with this company, vendor and invoice number") is one index probe instead of
    // a scan of every invoice of the company. NULL for runs that carry no invoice identity.
    Migration {
        sql: r#"
    ALTER TABLE runs ADD COLUMN invoice_vendor TEXT;
    ALTER TABLE runs ADD COLUMN invoice_number TEXT;
    -- Status last: the duplicate question filters on it, and the queue's pass reads the index alone.
    CREATE INDEX runs_by_invoice ON runs(invoice_number, invoice_vendor, company, status)
        WHERE invoice_number IS NOT NULL;
    "#,
        pg: r#"
    ALTER TABLE runs ADD COLUMN invoice_vendor TEXT;
    ALTER TABLE runs ADD COLUMN invoice_number TEXT;
    CREATE INDEX runs_by_invoice ON runs(invoice_number, invoice_vendor, company, status)
        WHERE invoice_number IS NOT NULL;
    "#,
        backfill: Some(super::invoice_key::backfill),
    },
    // 4: what every start of signoff asks first, answered by an index whatever the history: which open
    // runs are overdue (the open runs by expiry), and the queue's first screen (the oldest requests).
    sql(
        r#"
    CREATE INDEX runs_open_by_expiry ON runs(expires_at) WHERE status IN ('pending', 'approved');
    CREATE INDEX runs_by_age ON runs(requested_at, id);
    "#,
        r#"
    CREATE INDEX runs_open_by_expiry ON runs(expires_at) WHERE status IN ('pending', 'approved');
    CREATE INDEX runs_by_age ON runs(requested_at COLLATE "C", id COLLATE "C");
    "#,
    ),
    // 5: the audit events of one kind (connector status asks for the saves, validations, syncs and status
    // changes at every start of the TUI): an index probe, not a walk of the whole log.
    sql(
        r#"
    CREATE INDEX audit_events_by_kind ON audit_events(kind, seq);
    "#,
        r#"
    CREATE INDEX audit_events_by_kind ON audit_events(kind, seq);
    "#,
    ),
    // 6: at most one execution of a run's decision, as a fact of the database rather than only a check in
    // code: a run enters `executing` from `pending` or `approved` once in its life (an approval or a
    // rejection sent to F&O never returns the run to either), so a second such row in its history is
    // refused by a unique index, whatever state the run row was put back into. Rollbacks enter
    // `executing` from an executed state and may be retried; they are guarded by the status check.
    // On PostgreSQL, every committed change also notifies the channel `signoff_changes` (one notification
    // per transaction, delivered at commit), so open screens refresh without polling.
    sql(
        r#"
    CREATE UNIQUE INDEX one_execution_per_run ON status_history(run_id)
        WHERE to_status = 'executing' AND from_status IN ('pending', 'approved');
    "#,
        r#"
    CREATE UNIQUE INDEX one_execution_per_run ON status_history(run_id)
        WHERE to_status = 'executing' AND from_status IN ('pending', 'approved');
    CREATE FUNCTION signoff_notify_change() RETURNS trigger LANGUAGE plpgsql AS $notify$
    BEGIN
        PERFORM pg_notify('signoff_changes', '');
        RETURN NULL;
    END
    $notify$;
    CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE OR DELETE ON runs
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    CREATE TRIGGER approvals_notify AFTER INSERT OR UPDATE OR DELETE ON approvals
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    CREATE TRIGGER leases_notify AFTER INSERT OR UPDATE OR DELETE ON leases
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    CREATE TRIGGER audit_events_notify AFTER INSERT OR UPDATE OR DELETE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    CREATE TRIGGER catalog_notify AFTER INSERT OR UPDATE OR DELETE ON catalog
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    CREATE TRIGGER exchanges_notify AFTER INSERT OR UPDATE OR DELETE ON exchanges
        FOR EACH STATEMENT EXECUTE FUNCTION signoff_notify_change();
    "#,
    ),
    // 7: a change notification names the schema of the store that changed, so a screen on one store does
    // not re-read for another store's change in the same database (a rehearsal and a production schema).
    sql(
        "-- Nothing on SQLite: a file is one store.",
        r#"
    CREATE OR REPLACE FUNCTION signoff_notify_change() RETURNS trigger LANGUAGE plpgsql AS $notify$
    BEGIN
        PERFORM pg_notify('signoff_changes', TG_TABLE_SCHEMA);
        RETURN NULL;
    END
    $notify$;
    "#,
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Bring the schema up to [`SCHEMA_VERSION`]; refuse a store written by a newer build.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    loop {
        let found = user_version(conn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the write lock.
        let current = user_version(&tx)?;
        if current == found {
            let index = usize::try_from(current).map_err(|_| StoreError::corrupt("user_version", current))?;
            let migration = &MIGRATIONS[index];
            tx.execute_batch(migration.sql)?;
            if let Some(backfill) = migration.backfill {
                backfill(&tx)?;
            }
            tx.pragma_update(None, "user_version", current + 1)?;
        }
        tx.commit()?;
    }
}
