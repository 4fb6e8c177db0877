//! Evidence of a write is never lost: when F&O has answered and the store stays busy past its timeout
//! (another process holds a long write), the exchanges and the outcome go to a local journal beside the
//! store — one small JSON file per entry, written whole then renamed — and the next decision or sweep
//! folds them into the store, in order, before anything else.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{RunId, RunStatus};
use crate::store::{Store, StoreError, StoreLocation};

/// One record the store could not take in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "kebab-case")]
pub enum Entry {
    Exchange { run_id: RunId, actor: String, json: String },
    Transition { run_id: RunId, from: Vec<RunStatus>, to: RunStatus, actor: String, detail: Value },
    Audit { run_id: RunId, actor: String, kind: String, detail: Value },
}

impl Entry {
    fn apply(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            Entry::Exchange { run_id, actor, json } => store.record_exchange(run_id, json, actor).map(|_| ()),
            Entry::Transition { run_id, from, to, actor, detail } => {
                store.transition(run_id, from, *to, actor, detail.clone()).map(|_| ())
            }
            Entry::Audit { run_id, actor, kind, detail } => {
                store.append_audit(actor, Some(run_id), kind, detail.clone()).map(|_| ())
            }
        }
    }
}

/// The journal of one store. Once a write has gone to it, every later write of the same decision does
/// too, so the store receives them in the order they happened.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    degraded: AtomicBool,
}

/// The journal directory of the store at `store`: `<store>.pending/` beside a SQLite file, under the
/// state directory for PostgreSQL ([`StoreLocation::pending_dir`]).
pub fn dir_of(store: impl Into<StoreLocation>) -> PathBuf {
    store.into().pending_dir()
}

/// The store cannot take the write now, and may later: SQLite answered "busy" or "locked" past its busy
/// timeout; PostgreSQL is unreachable, lost the connection, is shutting down, or a row lock outlasted the
/// lock timeout (or a deadlock or serialization failure rolled the transaction back).
pub fn is_busy(error: &StoreError) -> bool {
    match error {
        StoreError::Database(rusqlite::Error::SqliteFailure(e, _)) => {
            matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        }
        StoreError::PgConnect { .. } => true,
        // No SQLSTATE: the connection itself failed (closed, reset, timed out).
        StoreError::Postgres { code: None, .. } => true,
        StoreError::Postgres { code: Some(code), .. } => {
            code.starts_with("08") || matches!(code.as_str(), "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03")
        }
        _ => false,
    }
}

impl Journal {
    pub fn for_store(store: &StoreLocation) -> Journal {
        Journal { dir: store.pending_dir(), degraded: AtomicBool::new(false) }
    }

    /// Whether anything of this decision went to the journal.
    pub fn used(&self) -> bool {
        self.degraded.load(Ordering::SeqCst)
    }

    /// Write through `store`; if it stays busy (after one more try), keep `entry` in the journal.
    pub fn write(&self, store: &Store, entry: Entry) -> Result<(), StoreError> {
        if !self.used() {
            match entry.apply(store) {
                Ok(()) => return Ok(()),
                Err(e) if is_busy(&e) => {
                    tracing::warn!(error = %e, "the store is busy; trying once more before keeping the evidence aside");
                    std::thread::sleep(Duration::from_secs(1));
                    match entry.apply(store) {
                        Ok(()) => return Ok(()),
                        Err(e) if is_busy(&e) => self.degraded.store(true, Ordering::SeqCst),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        self.append(&entry).map_err(|e| {
            StoreError::corrupt(
                "local evidence journal",
                format!("the store stayed busy and {} cannot be written either: {e}", self.dir.display()),
            )
        })
    }

    fn append(&self, entry: &Entry) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir)?;
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let name = format!("{nanos:020}-{}-{:06}.json", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let text = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join(name))?;
        tracing::warn!(dir = %self.dir.display(), "evidence kept in the local journal; the next start folds it in");
        Ok(())
    }
}

/// Fold every journal entry of the store into it, oldest first; returns how many were folded. An entry
/// the store refuses (e.g. the run moved on meanwhile) is kept as an audit event, never dropped.
pub fn fold(store: &Store) -> Result<usize, StoreError> {
    let dir = store.location().pending_dir();
    let Ok(read) = std::fs::read_dir(&dir) else { return Ok(0) };
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !is_hidden(p))
        .collect();
    files.sort();
    let mut folded = 0;
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| StoreError::corrupt("local evidence journal", format!("{}: {e}", path.display())))?;
        let entry: Entry = serde_json::from_str(&text)
            .map_err(|e| StoreError::corrupt("local evidence journal", format!("{}: {e}", path.display())))?;
        match entry.apply(store) {
            Ok(()) => {}
            Err(
                e @ (StoreError::StatusConflict { .. }
                | StoreError::AlreadyExecuted { .. }
                | StoreError::UnknownRun { .. }),
            ) => {
                let run = match &entry {
                    Entry::Exchange { run_id, .. } | Entry::Transition { run_id, .. } | Entry::Audit { run_id, .. } => {
                        run_id.clone()
                    }
                };
                store.append_audit(
                    "signoff (journal)",
                    Some(&run),
                    "journal.unapplied",
                    json!({ "entry": entry, "error": e.to_string() }),
                )?;
            }
            Err(e) => return Err(e),
        }
        std::fs::remove_file(&path)
            .map_err(|e| StoreError::corrupt("local evidence journal", format!("{}: {e}", path.display())))?;
        folded += 1;
    }
    Ok(folded)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}
