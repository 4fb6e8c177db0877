//! The lease on a run: taken before anything else, released on every exit path.
//!
//! A lease belongs to one claim of one process, never to an approver: a second process of the same
//! person neither decides the same run in parallel nor reconciles a decision still in flight. A
//! [`Claim`] releases its lease when dropped, so an early return, an error or a panic in the pipeline
//! cannot leave the run held until the lease expires. A lease that outlives a killed process simply
//! expires and is reclaimable by anyone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::model::RunId;
use crate::store::{Lease, Store, StoreError, StoreLocation};

/// The lease holder for one claim by `approver` in this process: readable by the other approvers who
/// see it (`julia@contoso.com (pid 4121 on jump1, claim 2)`) and unique to this claim.
pub fn holder(approver: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into());
    format!("{approver} (pid {} on {host}, claim {n})", std::process::id())
}

/// A held lease. Dropping it releases the lease (best effort: a failure to release is logged, and the
/// lease then ends at its expiry).
#[derive(Debug)]
pub struct Claim {
    store: StoreLocation,
    run_id: RunId,
    holder: String,
    ttl: Duration,
    pub lease: Lease,
    /// The lease this claim replaced, if any (a killed process's lease dates its last possible send).
    pub previous: Option<Lease>,
    released: bool,
}

impl Claim {
    /// Take the lease on `run_id` for `holder`; refused with `LeaseHeld` when someone else holds it.
    pub fn take(store: &Store, run_id: &RunId, holder: &str, ttl: Duration) -> Result<Claim, StoreError> {
        let previous = store.last_lease(run_id)?;
        let lease = store.acquire_lease(run_id, holder, ttl)?;
        Ok(Claim {
            store: store.location().clone(),
            run_id: run_id.clone(),
            holder: holder.to_string(),
            ttl,
            lease,
            previous,
            released: false,
        })
    }

    /// Extend the lease by its length from now (before each request to F&O).
    pub fn renew(&self, store: &Store) -> Result<(), StoreError> {
        store.renew_lease(&self.run_id, &self.holder, self.ttl).map(|_| ())
    }

    /// Who holds this claim.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Release now, reporting failure (the normal path; `Drop` is the safety net).
    pub fn release(mut self, store: &Store) -> Result<(), StoreError> {
        self.released = true;
        store.release_lease(&self.run_id, &self.holder).map(|_| ())
    }

    fn release_on_drop(&self) {
        let result = self.store.open().and_then(|store| store.release_lease(&self.run_id, &self.holder));
        if let Err(e) = result {
            tracing::warn!(run = %self.run_id, error = %e, "could not release the lease; it ends at its expiry");
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.released {
            self.release_on_drop();
        }
    }
}
