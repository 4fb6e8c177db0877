//! A query's rows a batch at a time through a server-side cursor, inside the caller's transaction: memory
//! holds one batch whatever the table's size (`store migrate`'s copy, `audit verify`).

use std::collections::VecDeque;

use tokio_postgres::Row;

use super::{Pg, block_on};
use crate::store::StoreError;

/// How many rows one `FETCH` brings.
const BATCH: usize = 1000;

/// An open cursor named `name` (unique among the transaction's open cursors); closed when dropped.
pub(crate) struct Cursor<'a> {
    pg: &'a Pg,
    name: &'static str,
    rows: VecDeque<Row>,
    done: bool,
}

/// Run `sql` prepared afresh, never from the statement cache: a `FETCH` is described by the cursor it
/// names, whose columns change when the name is declared again for another query.
fn run(pg: &Pg, sql: &str) -> Result<Vec<Row>, StoreError> {
    Ok(block_on(pg.client().query(sql, &[]))??)
}

impl<'a> Cursor<'a> {
    pub(crate) fn open(pg: &'a Pg, name: &'static str, query: &str) -> Result<Cursor<'a>, StoreError> {
        run(pg, &format!("DECLARE {name} NO SCROLL CURSOR FOR {query}"))?;
        Ok(Cursor { pg, name, rows: VecDeque::new(), done: false })
    }

    /// The next row, fetching the next batch when the last one is used up.
    pub(crate) fn next(&mut self) -> Result<Option<Row>, StoreError> {
        if self.rows.is_empty() && !self.done {
            let rows = run(self.pg, &format!("FETCH FORWARD {BATCH} FROM {}", self.name))?;
            self.done = rows.len() < BATCH;
            self.rows.extend(rows);
        }
        Ok(self.rows.pop_front())
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // Best effort: a failed transaction has closed it already, and its end closes it anyway.
        let _ = block_on(self.pg.client().batch_execute(&format!("CLOSE {}", self.name)));
    }
}
