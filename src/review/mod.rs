//! The decision pipeline: the one place decisions are made. The CLI and the TUI both call it.
//!
//! claim → check the approver → re-read live → detect drift → re-evaluate policy → digest →
//! execute (or show the dry-run requests) → record F&O's answer, the compensation plan and the audit
//! events → release the lease. See docs/pipeline.md.

pub mod activation;
pub mod bulk;
pub mod capture;
pub mod checkpoint;
pub mod checkpoint_sign;
pub mod claim;
mod conclude;
pub mod digest;
pub mod drift;
pub mod eligibility;
pub mod evidence;
pub mod evidence_check;
pub mod execute;
mod execute_record;
mod execute_role;
pub mod expire;
pub mod facts;
mod handover;
pub mod history;
pub mod identity;
pub mod inbox;
pub mod journal;
pub mod outcome;
mod pipeline;
pub mod preview;
pub mod progress;
pub mod propose;
pub mod queue;
pub mod reconcile;
mod record;
pub mod revalidate;
pub mod segment;
pub mod sweep;
pub mod workflow;

#[cfg(test)]
mod testdata;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::fno::FnoClient;
use crate::model::RunId;
use crate::store::{StoreError, StoreLocation};

pub use bulk::{BulkError, BulkReport};
pub use digest::DigestInputs;
pub use drift::{DriftReport, DriftScope, FieldDrift};
pub use eligibility::DecisionKind;
pub use identity::Identity;
pub use outcome::{FnoAnswer, Outcome, exit};
pub use progress::{Cancel, Progress, ProgressSink, Step, no_progress};
pub use record::export_from_store as record_export;

/// A store handle shared by one decision's steps: `Store` is `Send` but not `Sync`, and a decision's
/// future must be `Send` (the TUI and bulk approval spawn it), so each use locks briefly, never across
/// an `.await`.
#[derive(Debug)]
pub(crate) struct Db {
    store: std::sync::Mutex<crate::store::Store>,
    /// Where evidence goes when the store stays busy after F&O answered.
    pub(crate) journal: journal::Journal,
}

impl Db {
    /// Open the store and fold in any evidence an earlier process had to keep aside.
    pub(crate) fn open(location: &StoreLocation, busy_timeout: Duration) -> Result<Self, StoreError> {
        let mut store = location.open()?;
        store.set_busy_timeout(busy_timeout)?;
        let folded = journal::fold(&store)?;
        if folded > 0 {
            tracing::info!(folded, "folded evidence kept in the local journal into the store");
        }
        Ok(Db { journal: journal::Journal::for_store(location), store: std::sync::Mutex::new(store) })
    }

    /// The store; a poisoned lock still holds a usable connection (SQLite rolled back any open write).
    pub(crate) fn db(&self) -> std::sync::MutexGuard<'_, crate::store::Store> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write `entry` to the store, or keep it in the journal when the store stays busy.
    pub(crate) fn durably(&self, entry: journal::Entry) -> Result<(), StoreError> {
        let store = self.db();
        self.journal.write(&store, entry)
    }
}

/// What can stop the pipeline itself (as opposed to a decision outcome such as stale or refused).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Evidence(#[from] evidence::EvidenceError),
    #[error("cannot connect to the configured F&O environment: {0}")]
    Connect(String),
    #[error("cannot encode evidence for run {run}: {reason}")]
    Encode { run: RunId, reason: String },
    #[error(
        "no signed checkpoint covers run {run}'s last audit event #{last} yet, so its evidence cannot be \
         proven; take a decision or run `signoff audit checkpoint`, then export again"
    )]
    NoCheckpoint { run: RunId, last: i64 },
}

/// One decision to take.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    pub run_id: RunId,
    pub kind: DecisionKind,
    /// Mandatory: why the approver decides so (also the override reason for soft verdicts).
    pub reason: String,
    /// Show the exact requests and write nothing.
    pub dry_run: bool,
    /// The environment name the approver typed (required for live production decisions).
    pub confirm_environment: Option<String>,
    /// The payload digest of the run as the approver was shown it (`runs show`, the TUI's dialog). A
    /// decision whose digest is not the stored run's is refused before anything is read or sent.
    pub reviewed_digest: String,
}

/// The decision service. Cheap to share (`Arc`): each decision opens its own store handle and its own
/// forked F&O client (same token, own evidence), so decisions can run concurrently.
#[derive(Debug)]
pub struct Reviewer {
    store: StoreLocation,
    config: Arc<Config>,
    client: Arc<FnoClient>,
    /// The approver asked for (`SIGNOFF_APPROVER`, `approver.id`); with a proven identity, only a choice
    /// among the identities the proof allows.
    approver: String,
    identity: Identity,
    /// Where this process remembers the newest signed checkpoint of the store (outside it).
    memory: checkpoint::Memory,
    groups: Vec<String>,
    lease_ttl: Duration,
}

impl Reviewer {
    /// A reviewer deciding as `approver`, on the store at `store` (a SQLite path or a [`StoreLocation`]), against the environment `client`
    /// talks to. The approver's groups, the lease length and how identity is proven come from `config`
    /// (with `allowed_signers`, each decision is signed through the ssh-agent `SSH_AUTH_SOCK` names).
    pub fn new(store: impl Into<StoreLocation>, config: Arc<Config>, client: Arc<FnoClient>, approver: &str) -> Self {
        Reviewer {
            store: store.into(),
            groups: config.approver.groups.clone(),
            lease_ttl: config.lease_ttl(),
            identity: Identity::from_config(&config),
            memory: checkpoint::Memory::in_state_dir(&crate::config::paths::resolve(None).state_dir),
            config,
            client,
            approver: approver.to_string(),
        }
    }

    /// Sign through `signer` instead of the ssh-agent (the demo's throwaway key; a test's own agent).
    pub fn with_signer(mut self, signer: Arc<dyn crate::sign::Signer>) -> Self {
        self.identity = self.identity.with_signer(signer);
        self
    }

    /// Remember checkpoints in `memory` instead of the user's state directory (tests, the demo).
    pub fn with_memory(mut self, memory: checkpoint::Memory) -> Self {
        self.memory = memory;
        self
    }

    /// Where this reviewer remembers the newest signed checkpoint.
    pub fn memory(&self) -> &checkpoint::Memory {
        &self.memory
    }

    /// How this reviewer's identity is proven.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// A reviewer on the configured environment: secrets resolved from the config's sources, one client
    /// (one token) shared by every decision this reviewer takes. For the TUI and the CLI alike.
    pub fn from_config(
        store: impl Into<StoreLocation>,
        config: Arc<Config>,
        approver: &str,
    ) -> Result<Self, ReviewError> {
        let connect = |e: String| ReviewError::Connect(e);
        let settings = crate::fno::FnoSettings::resolve(&config).map_err(|e| connect(e.to_string()))?;
        let client = FnoClient::new(&settings).map_err(|e| connect(e.to_string()))?;
        Ok(Reviewer::new(store, config, Arc::new(client), approver))
    }

    /// The F&O client decisions go through (for metadata sync and start-up checks).
    pub fn client(&self) -> &FnoClient {
        &self.client
    }

    /// Who decides.
    pub fn approver(&self) -> &str {
        &self.approver
    }

    /// The payload digest of run `id` as stored now: what a CLI decision without `--reviewed` is bound to.
    pub fn stored_digest(&self, id: &RunId) -> Result<String, ReviewError> {
        let store = self.store.open()?;
        let stored = store.get(id)?.ok_or_else(|| StoreError::UnknownRun { id: id.clone() })?;
        Ok(stored.digest)
    }

    /// Where the store is.
    pub fn store(&self) -> &StoreLocation {
        &self.store
    }

    /// The SQLite store file (on PostgreSQL: its URL as shown), for messages and tests.
    pub fn store_path(&self) -> PathBuf {
        match &self.store {
            StoreLocation::File(path) => path.clone(),
            StoreLocation::Postgres(target) => PathBuf::from(target.shown()),
        }
    }

    /// Take one decision end to end. Stale, refused and failed decisions are outcomes, not errors; an
    /// error means signoff itself could not proceed (the store is unreadable, …).
    pub async fn decide(
        &self,
        request: &DecisionRequest,
        progress: &ProgressSink,
        cancel: &Cancel,
    ) -> Result<Outcome, ReviewError> {
        pipeline::decide(self, request, progress, cancel).await
    }

    /// Settle every run left `unknown` or `executing` (its lease lapsed), and record the posting of every
    /// `handed-over` journal F&O has posted, whose status changed within `since`, by reading F&O; runs
    /// another process is deciding right now are reported, not touched.
    pub async fn reconcile(&self, since: Duration) -> Result<Vec<sweep::Swept>, ReviewError> {
        sweep::sweep(self, since, true).await
    }

    /// [`Reviewer::reconcile`] without the `handed-over` journals: only decisions whose answer was lost
    /// (what the deciding verbs settle before they start; F&O's posting is `signoff reconcile`'s to read).
    pub async fn reconcile_lost(&self, since: Duration) -> Result<Vec<sweep::Swept>, ReviewError> {
        sweep::sweep(self, since, false).await
    }

    /// The outcomes of [`Reviewer::reconcile`] over the last year (the runs in flight elsewhere left out).
    pub async fn reconcile_interrupted(&self) -> Result<Vec<Outcome>, ReviewError> {
        let swept = self.reconcile(Duration::from_secs(365 * 24 * 3600)).await?;
        Ok(swept
            .into_iter()
            .filter_map(|s| match s {
                sweep::Swept::Settled { outcome } => Some(outcome),
                sweep::Swept::InFlight { .. } => None,
            })
            .collect())
    }

    /// Read the approver's F&O workflow inbox into the store (see [`inbox::sync`]).
    pub async fn sync_inbox(&self) -> Result<inbox::SyncReport, inbox::InboxError> {
        inbox::sync(self).await
    }

    /// Approve every run matching `filter` (one action, all verdicts pass), each re-validated and audited
    /// on its own, at most `concurrency` at a time.
    pub async fn approve_all(
        self: &Arc<Self>,
        filter: &crate::model::filter::Filter,
        reason: &str,
        concurrency: usize,
        progress: &ProgressSink,
    ) -> Result<BulkReport, BulkError> {
        bulk::approve_all(self, filter, reason, concurrency, progress).await
    }

    /// Write the evidence bundle of a run into `dir`.
    pub fn export_evidence(&self, run_id: &RunId, dir: &Path) -> Result<evidence::Manifest, ReviewError> {
        record::export_evidence(self, run_id, dir)
    }
}
