//! Re-reading the live record and its lines from F&O, with their ETags.

use crate::config::Config;
use crate::fno::{EntityKey, FnoClient, FnoError};
use crate::model::{Fields, GovernedRun, Snapshot};

/// The line entity set and the line-number key field for the run, if its action has lines.
pub fn line_set(run: &GovernedRun, config: &Config) -> Option<(String, &'static str)> {
    let (default_set, key_field) = run.document_action().lines()?;
    let set = config
        .managed_objects
        .get(&run.target.managed_object)
        .and_then(|m| m.line_entity_set.clone())
        .unwrap_or_else(|| default_set.to_string());
    Some((set, key_field))
}

/// The target's key for OData URLs.
pub fn target_key(run: &GovernedRun) -> Result<EntityKey, FnoError> {
    EntityKey::from_fields(&run.target.keys)
        .map_err(|reason| FnoError::InvalidUrl { url: run.target.entity_set.clone(), reason })
}

/// A line's key for OData URLs.
pub fn line_key(keys: &Fields) -> Result<EntityKey, FnoError> {
    EntityKey::from_fields(keys).map_err(|reason| FnoError::InvalidUrl { url: "line key".into(), reason })
}

/// Whether the run concerns lines at all (captured or proposed).
pub fn has_lines(run: &GovernedRun) -> bool {
    run.document_action().lines().is_some() && (!run.before.lines.is_empty() || !run.proposed.lines.is_empty())
}

/// Read the live header alone (one GET), with its ETag.
pub async fn read_header(client: &FnoClient, run: &GovernedRun) -> Result<Snapshot, FnoError> {
    super::capture::read_record(client, &run.target.entity_set, &run.target.keys, None).await
}

/// Read the live header (one GET) and, when the run concerns lines, the lines (one query, all pages):
/// the same reader `signoff propose` captures a before snapshot with (`review::capture`).
///
/// A generic record may be absent (a create's before state, a deleted record): F&O's 404 reads as an
/// absent snapshot, which drift compares like any other state.
pub async fn read_live(client: &FnoClient, run: &GovernedRun, config: &Config) -> Result<Snapshot, FnoError> {
    if run.action.is_record_action() {
        return super::capture::read_record_or_absent(client, &run.target.entity_set, &run.target.keys).await;
    }
    if run.action.is_role_action() {
        return super::capture::read_role_row(client, config, &run.target.entity_set, &run.target.keys).await;
    }
    read_record(client, run, config, has_lines(run)).await
}

/// Read the run's target header (one GET) and, when `with_lines` and its document has lines, every line
/// (one query, all pages): what a capture takes as the before snapshot (e.g. a workflow item's document).
pub async fn read_record(
    client: &FnoClient,
    run: &GovernedRun,
    config: &Config,
    with_lines: bool,
) -> Result<Snapshot, FnoError> {
    let lines = if with_lines { line_set(run, config) } else { None };
    let lines = lines.as_ref().map(|(set, field)| (set.as_str(), *field));
    super::capture::read_record(client, &run.target.entity_set, &run.target.keys, lines).await
}
