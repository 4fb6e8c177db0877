//! What the synced metadata catalog says about configured operations, and what to say when it was never synced.

use super::Facts;
use crate::config::Config;
use crate::text::visible;

/// What to tell the user when the catalog has never been synced.
pub const NOT_SYNCED: &str = "metadata not synced: run `signoff connector sync-metadata`";

/// Whether configured operation `name` exists in config and in the synced catalog; the error says why not.
pub fn operation_status(config: &Config, facts: &Facts<'_>, name: &str) -> Result<(), String> {
    let Some(op) = config.operations.get(name) else {
        return Err(format!("operation '{name}' is not configured: add [operations.{name}] to the config"));
    };
    let Some(known) = facts.known_operations else {
        return Err(format!("operation '{name}' cannot be verified: {NOT_SYNCED}"));
    };
    // A custom service is known by its path, written with or without surrounding slashes.
    let service = op.service.as_deref().map(|s| s.trim_matches('/'));
    let candidates = [Some(name), op.action.as_deref(), service];
    if candidates.iter().flatten().any(|c| known.contains(*c)) {
        return Ok(());
    }
    let detail = op.action.as_deref().or(op.service.as_deref()).unwrap_or("no action or service named");
    Err(format!(
        "operation '{name}' ({}) is not in the synced catalog: deploy it in F&O, then run `signoff connector sync-metadata`",
        visible(detail)
    ))
}
