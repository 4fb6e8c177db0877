//! Re-reading the live record and its lines from F&O, with their ETags.

use chrono::Utc;

use crate::config::Config;
use crate::fno::{EntityKey, FnoClient, FnoError, Query};
use crate::model::{Fields, GovernedRun, LineSnapshot, Snapshot};

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
    let header = client.get_entity(&run.target.entity_set, &target_key(run)?).await?;
    Ok(Snapshot {
        etag: header.etag,
        captured_at: Utc::now(),
        created_by: None,
        fields: header.fields,
        lines: Vec::new(),
    })
}

/// Read the live header (one GET) and, when the run concerns lines, the lines (one query, all pages).
pub async fn read_live(client: &FnoClient, run: &GovernedRun, config: &Config) -> Result<Snapshot, FnoError> {
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
    let mut live = read_header(client, run).await?;
    if let (true, Some((set, line_field))) = (with_lines, line_set(run, config)) {
        live.lines = read_lines(client, run, &set, line_field).await?;
    }
    Ok(live)
}

async fn read_lines(
    client: &FnoClient,
    run: &GovernedRun,
    set: &str,
    line_field: &str,
) -> Result<Vec<LineSnapshot>, FnoError> {
    let query = Query { cross_company: run.company().is_some(), ..Query::matching(&run.target.keys) };
    let result = client.query(set, &query).await?;
    let mut lines = Vec::with_capacity(result.rows.len());
    for row in result.rows {
        let etag = row.etag.ok_or_else(|| FnoError::InvalidResponse {
            context: set.to_string(),
            reason: "a line came without an ETag (@odata.etag); its version cannot be checked".into(),
        })?;
        let mut keys = Fields::new();
        for name in run.target.keys.keys().map(String::as_str).chain([line_field]) {
            if let Some(v) = row.fields.get(name) {
                keys.insert(name.to_string(), v.clone());
            }
        }
        lines.push(LineSnapshot { keys, etag, fields: row.fields });
    }
    Ok(lines)
}
