//! The F&O metadata catalog (one JSON document) and the evidence exchanges recorded for runs.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::leases::ensure_run;
use super::{Store, StoreError, audit, parse_ts, ts};
use crate::model::RunId;

/// One recorded request/response exchange (or dry-run plan) for a run, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    pub id: i64,
    pub run_id: RunId,
    pub at: DateTime<Utc>,
    pub json: String,
}

impl Store {
    /// Replace the metadata catalog; audited (`catalog.saved`) with the document's SHA-256.
    pub fn save_catalog(&self, json_text: &str, actor: &str) -> Result<DateTime<Utc>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.save_catalog(json_text, actor));
        let tx = super::write_tx(conn)?;
        let now = Utc::now();
        tx.prepare_cached(
            "INSERT INTO catalog (id, json, synced_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json, synced_at = excluded.synced_at",
        )?
        .execute(params![json_text, ts(now)])?;
        let sha256 = hex::encode(Sha256::digest(json_text.as_bytes()));
        audit::append_at(&tx, now, actor, None, "catalog.saved", json!({ "sha256": sha256 }))?;
        tx.commit()?;
        Ok(now)
    }

    /// The metadata catalog and when it was synced, if ever.
    pub fn load_catalog(&self) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.load_catalog());
        let row: Option<(String, String)> = conn
            .prepare_cached("SELECT json, synced_at FROM catalog WHERE id = 1")?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        row.map(|(text, at)| Ok((text, parse_ts("catalog sync time", &at)?))).transpose()
    }

    /// Keep one exchange (requests and responses, secrets already removed) as evidence for `run_id`.
    /// Its SHA-256 goes into the audit chain (`exchange.recorded`), so an edited exchange is detectable.
    pub fn record_exchange(&self, run_id: &RunId, json_text: &str, actor: &str) -> Result<Exchange, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.record_exchange(run_id, json_text, actor));
        let tx = super::write_tx(conn)?;
        ensure_run(&tx, run_id)?;
        let at = Utc::now();
        tx.prepare_cached("INSERT INTO exchanges (run_id, at, json) VALUES (?1, ?2, ?3)")?.execute(params![
            run_id.as_str(),
            ts(at),
            json_text
        ])?;
        let id = tx.last_insert_rowid();
        let sha256 = hex::encode(Sha256::digest(json_text.as_bytes()));
        audit::append_at(
            &tx,
            at,
            actor,
            Some(run_id),
            "exchange.recorded",
            json!({ "exchange": id, "sha256": sha256 }),
        )?;
        tx.commit()?;
        Ok(Exchange { id, run_id: run_id.clone(), at, json: json_text.to_string() })
    }

    /// Every exchange recorded for `run_id`, oldest first.
    pub fn exchanges(&self, run_id: &RunId) -> Result<Vec<Exchange>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.exchanges(run_id));
        let mut stmt = conn.prepare_cached("SELECT id, at, json FROM exchanges WHERE run_id = ?1 ORDER BY id")?;
        let mut rows = stmt.query([run_id.as_str()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Exchange {
                id: row.get(0)?,
                run_id: run_id.clone(),
                at: parse_ts("exchange time", &row.get::<_, String>(1)?)?,
                json: row.get(2)?,
            });
        }
        Ok(out)
    }
}
