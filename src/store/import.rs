//! Import, all or nothing, streamed: runs are written one at a time into one write transaction, so an
//! import of 100,000 run files holds one parsed run at a time, not all of them, and still commits whole
//! or not at all.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction};
use serde_json::json;

use super::runs::{ImportReport, insert_run};
use super::{Store, StoreError, audit, ts};
use crate::model::GovernedRun;

/// An import under way. [`Importer::commit`] makes it visible; dropping it (after an error, or because a
/// later file turned out invalid) rolls back everything it wrote.
pub struct Importer<'s> {
    tx: ImportTx<'s>,
    now: DateTime<Utc>,
    now_text: String,
    actor: String,
    report: ImportReport,
}

/// The import's transaction, on whichever backend the store is.
enum ImportTx<'s> {
    Sqlite(Transaction<'s>),
    Postgres(super::pg::import::PgImport<'s>),
}

impl Store {
    /// Import runs all or nothing, in one transaction. An identical re-import is a no-op; a different
    /// run under an existing id refuses the whole import, naming the id.
    pub fn import(&self, runs: &[GovernedRun], actor: &str) -> Result<ImportReport, StoreError> {
        let mut importer = self.importer(actor)?;
        for run in runs {
            importer.add(run)?;
        }
        importer.commit()
    }

    /// Start a streamed import by `actor`: the write lock is taken now and held until commit or drop.
    pub fn importer(&self, actor: &str) -> Result<Importer<'_>, StoreError> {
        let now = Utc::now();
        Ok(Importer {
            tx: match &self.db {
                super::Db::Sqlite(conn) => ImportTx::Sqlite(super::write_tx(conn)?),
                super::Db::Postgres(pg) => ImportTx::Postgres(super::pg::import::PgImport::begin(pg, now, actor)?),
            },
            now,
            now_text: ts(now),
            actor: actor.to_string(),
            report: ImportReport::default(),
        })
    }
}

impl Importer<'_> {
    /// Write one run. A run already stored with the same digest is counted unchanged; one stored with a
    /// different digest is a conflict, after which the import can only be dropped.
    pub fn add(&mut self, run: &GovernedRun) -> Result<(), StoreError> {
        let tx = match &mut self.tx {
            ImportTx::Sqlite(tx) => tx,
            ImportTx::Postgres(pg) => return pg.add(run, &mut self.report),
        };
        let payload = run.canonical_json();
        let digest = run.payload_digest();
        let stored: Option<String> = tx
            .prepare_cached("SELECT digest FROM runs WHERE id = ?1")?
            .query_row([run.id.as_str()], |row| row.get(0))
            .optional()?;
        match stored {
            Some(stored) if stored == digest => {
                self.report.unchanged.push(run.id.clone());
                return Ok(());
            }
            Some(stored_digest) => {
                return Err(StoreError::Conflict { id: run.id.clone(), stored_digest, new_digest: digest });
            }
            None => {}
        }
        insert_run(tx, run, &payload, &digest, &self.now_text, &self.actor)?;
        let mut imported = json!({ "digest": digest, "action": run.action.as_str(), "environment": run.environment });
        if let Some(old) = &run.supersedes {
            imported["supersedes"] = json!(old.as_str());
        }
        audit::append_at(tx, self.now, &self.actor, Some(&run.id), "run.imported", imported)?;
        // The replaced run's own trail names its successor, so either end of the link leads to the other.
        if let Some(old) = &run.supersedes {
            let known: Option<String> = tx
                .prepare_cached("SELECT id FROM runs WHERE id = ?1")?
                .query_row([old.as_str()], |row| row.get(0))
                .optional()?;
            if known.is_some() {
                audit::append_at(
                    tx,
                    self.now,
                    &self.actor,
                    Some(old),
                    "run.superseded",
                    json!({ "by": run.id.as_str(), "digest": digest }),
                )?;
            }
        }
        self.report.imported.push(run.id.clone());
        Ok(())
    }

    /// Commit every run added, and say what the import did.
    pub fn commit(mut self) -> Result<ImportReport, StoreError> {
        match self.tx {
            ImportTx::Sqlite(tx) => tx.commit()?,
            ImportTx::Postgres(pg) => pg.commit(&mut self.report)?,
        }
        Ok(self.report)
    }
}
