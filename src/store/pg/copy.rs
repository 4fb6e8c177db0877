//! PostgreSQL's half of `store migrate` (see `store/copy.rs`): reading a store in one REPEATABLE READ
//! snapshot through a cursor, and writing a new store in one transaction — its schema, every row, the
//! identity sequences moved past the copied ids — that commits only once the copy verifies inside it.

use chrono::Utc;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::audit::head;
use super::cursor::Cursor;
use super::{Pg, Tx, schema};
use crate::store::copy::{self, Cell, CopyError, CopyReport, Feed, Kind, Sink, Snapshot, TABLES, Table};
use crate::store::{SCHEMA_VERSION, StoreError, ts};

/// The tables whose ids come from an identity sequence.
const IDENTITY_TABLES: &[&str] = &["status_history", "exchanges"];

fn cells(row: &Row, table: &Table) -> Result<Vec<Cell>, StoreError> {
    let mut out = Vec::with_capacity(table.columns.len());
    for (i, (_, kind)) in table.columns.iter().enumerate() {
        out.push(match kind {
            Kind::Text => Cell::text(row.try_get(i)?),
            Kind::Int => Cell::int(row.try_get(i)?),
        });
    }
    Ok(out)
}

/// Each table's row count, in `TABLES` order.
pub(crate) fn counts(pg: &Pg) -> Result<Vec<u64>, StoreError> {
    TABLES
        .iter()
        .map(|t| {
            let n: i64 = pg.query_opt(&copy::count_sql(t), &[])?.map_or(0, |row| row.get(0));
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .collect()
}

impl Pg {
    /// Read every table into `sink` in one REPEATABLE READ snapshot. Refused first if a decision is in
    /// flight.
    pub(crate) fn read_snapshot(&self, sink: &mut dyn Sink) -> Result<Snapshot, CopyError> {
        let tx = self.snapshot()?;
        let head = head(&tx)?;
        let runs = tx.query(copy::BUSY_RUNS, &[])?.iter().map(|row| (row.get(0), row.get(1))).collect();
        let leases = tx
            .query(&copy::live_leases("$1"), &[&ts(Utc::now())])?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        copy::refuse_busy(self.shown(), runs, leases)?;
        let counts = counts(&tx)?;
        for table in TABLES {
            let mut rows = Cursor::open(&tx, "signoff_copy", &table.select())?;
            let mut feed = Feed::new(sink, table);
            while let Some(row) = rows.next()? {
                feed.push(cells(&row, table)?)?;
            }
            feed.finish()?;
        }
        Ok(Snapshot { counts, head })
    }

    /// What tells two connections apart as databases: the server (its start time and port), the database
    /// and the schema signoff's tables go into.
    pub(crate) fn identity(&self) -> Result<String, StoreError> {
        let row = self.query_opt(
            "SELECT concat_ws('/', pg_postmaster_start_time()::text, current_setting('port'), current_database(),
                              current_schema())",
            &[],
        )?;
        Ok(row.map(|row| row.get(0)).unwrap_or_default())
    }
}

/// A new store being written in one transaction on its own connection.
pub(crate) struct NewDatabase<'a> {
    tx: Tx<'a>,
}

impl<'a> NewDatabase<'a> {
    /// Start the transaction, refuse a database that holds a store (or tables of signoff's names that are
    /// not one), and create the schema inside the transaction. The migrations' lock is held to the end,
    /// so a signoff opening this database meanwhile waits, then finds the finished store (or none).
    pub(crate) fn begin(pg: &'a Pg) -> Result<NewDatabase<'a>, CopyError> {
        let target = pg.shown().to_string();
        let not_empty = |what: String| CopyError::TargetNotEmpty { target: target.clone(), what };
        let tx = pg.tx()?;
        schema::lock(&tx)?;
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        let present: Vec<String> = tx
            .query("SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL", &[&names])?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let version = schema::schema_version(&tx)?;
        if version > SCHEMA_VERSION {
            return Err(
                StoreError::TooNew { path: target.clone().into(), found: version, supported: SCHEMA_VERSION }.into()
            );
        }
        if version == 0 && !present.is_empty() {
            return Err(not_empty(format!(
                "it has tables named as signoff's ({}) but is not a signoff store",
                present.join(", ")
            )));
        }
        if version > 0 {
            // An existing signoff schema: acceptable only with no row in any table, kept so to the end.
            tx.execute(&format!("LOCK TABLE {} IN EXCLUSIVE MODE", present.join(", ")), &[])?;
            for table in &present {
                let any: bool =
                    tx.query_opt(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])?.is_some_and(|r| r.get(0));
                if any {
                    let runs = tx.query_opt("SELECT COUNT(*) FROM runs", &[])?.map_or(0, |r| r.get::<_, i64>(0));
                    let events =
                        tx.query_opt("SELECT COUNT(*) FROM audit_events", &[])?.map_or(0, |r| r.get::<_, i64>(0));
                    return Err(not_empty(format!(
                        "it holds a signoff store ({runs} runs, {events} audit events; its {table} table has rows)"
                    )));
                }
            }
        }
        schema::migrate_in(&tx, version)?;
        Ok(NewDatabase { tx })
    }

    /// Move the identity sequences past the copied ids, verify the copy inside the transaction, compare
    /// it with the source's snapshot, and commit.
    pub(crate) fn finish(self, source: &Snapshot) -> Result<CopyReport, CopyError> {
        let tx = self.tx;
        for table in IDENTITY_TABLES {
            tx.query(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                ),
                &[],
            )?;
        }
        let target = tx.shown().to_string();
        let verified = super::verify::verify_in(&tx)
            .map_err(|e| CopyError::CopyDiffers { target: target.clone(), what: e.to_string() })?;
        let report = copy::compare(&target, source, &counts(&tx)?, &head(&tx)?, verified)?;
        copy::go_on()?;
        tx.commit()?;
        Ok(report)
    }
}

impl Sink for NewDatabase<'_> {
    /// One `INSERT … SELECT FROM unnest(…)` per batch: a column's values travel as one array parameter.
    fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> Result<(), StoreError> {
        let mut params: Vec<Box<dyn ToSql + Sync + '_>> = Vec::with_capacity(table.columns.len());
        let mut arrays = Vec::with_capacity(table.columns.len());
        for (i, (_, kind)) in table.columns.iter().enumerate() {
            match kind {
                Kind::Text => {
                    params.push(Box::new(rows.iter().map(|row| row[i].as_text()).collect::<Vec<Option<&str>>>()));
                    arrays.push(format!("${}::text[]", i + 1));
                }
                Kind::Int => {
                    params.push(Box::new(rows.iter().map(|row| row[i].as_int()).collect::<Vec<Option<i64>>>()));
                    arrays.push(format!("${}::int8[]", i + 1));
                }
            }
        }
        let sql =
            format!("INSERT INTO {} ({}) SELECT * FROM unnest({})", table.name, table.column_list(), arrays.join(", "));
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        self.tx.execute(&sql, &refs)?;
        Ok(())
    }
}
