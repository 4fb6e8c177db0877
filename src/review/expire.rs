//! Expiry: a run past its `expires_at` can no longer be decided. It is moved to `expired` with a status
//! change and an audit event, like every other transition, rather than only looking expired on screen.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::{RunId, RunStatus};
use crate::store::{Store, StoreError};

/// Who the store records for expiries: no person decided them.
pub const EXPIRY_ACTOR: &str = "signoff (expiry)";

/// Move every pending or partly approved run whose expiry is at or before `now` to `expired`.
/// Returns the runs it expired. A run another process moved on meanwhile is left as that process left it.
pub fn expire_overdue(store: &Store, now: DateTime<Utc>) -> Result<Vec<RunId>, StoreError> {
    let mut expired = Vec::new();
    for (id, expires_at) in store.overdue(now)? {
        let detail = json!({ "reason": format!("expired at {}", expires_at.to_rfc3339()) });
        match store.transition(
            &id,
            &[RunStatus::Pending, RunStatus::Approved],
            RunStatus::Expired,
            EXPIRY_ACTOR,
            detail,
        ) {
            Ok(_) => expired.push(id),
            Err(StoreError::StatusConflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}
