//! What the synced metadata catalog says about configured operations, and what to say when it was never synced.

use super::Facts;
use crate::config::{Config, OperationKind, RecordOperation};
use crate::fno::Catalog;
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

/// Whether managed object `object`'s operation `name` is configured and present in the synced catalog
/// (a bound action on the object's entity set, or a verified custom service); the error says why not.
pub fn record_operation_status(
    config: &Config,
    catalog: Option<&Catalog>,
    object: &str,
    name: &str,
) -> Result<(), String> {
    let Some(managed) = config.managed_objects.get(object) else {
        return Err(format!("managed object '{}' is not configured", visible(object)));
    };
    let Some(op) = managed.operations.get(name) else {
        let known: Vec<&str> = managed.operations.keys().map(String::as_str).collect();
        return Err(format!(
            "operation '{}' is not configured on managed object '{}' (its operations: {}): add \
             [managed_objects.{}.operations.{}]",
            visible(name),
            visible(object),
            if known.is_empty() { "none".to_string() } else { known.join(", ") },
            visible(object),
            visible(name)
        ));
    };
    let Some(catalog) = catalog else {
        return Err(format!("operation '{}' cannot be verified: {NOT_SYNCED}", visible(name)));
    };
    let present = match op.kind {
        OperationKind::BoundAction => {
            op.action.as_deref().is_some_and(|a| catalog.bound_actions(&managed.entity_set).iter().any(|d| d.name == a))
        }
        OperationKind::CustomService => op.service.as_deref().is_some_and(|s| catalog.service(s).is_some()),
    };
    if present {
        return Ok(());
    }
    let detail = op.action.as_deref().or(op.service.as_deref()).unwrap_or("no action or service named");
    Err(format!(
        "operation '{}' ({} on {}) is not in the synced catalog: deploy it in F&O, then run `signoff connector \
         sync-metadata`",
        visible(name),
        visible(detail),
        visible(&managed.entity_set)
    ))
}

/// The declared type of an operation's X++ parameter `param`, from the synced catalog.
pub fn record_operation_parameter(
    catalog: &Catalog,
    entity_set: &str,
    op: &RecordOperation,
    param: &str,
) -> Option<crate::fno::metadata::Property> {
    match op.kind {
        OperationKind::BoundAction => catalog.action_parameter(entity_set, op.action.as_deref()?, param),
        OperationKind::CustomService => catalog.service_parameter(op.service.as_deref()?, param),
    }
}
