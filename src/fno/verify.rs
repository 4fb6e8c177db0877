//! Metadata verification: every managed entity set, allowlisted field and decision operation must exist
//! before any live write.

use serde::Serialize;

use super::client::FnoClient;
use super::error::FnoError;
use super::metadata::{Catalog, ServiceDef};
use super::operations::ServiceDescription;
use crate::config::{Config, OperationKind};

/// One way the config and the environment disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    #[error("managed object `{object}`: entity set {entity_set} does not exist in F&O{}", hint(.suggestions))]
    MissingEntitySet { object: String, entity_set: String, suggestions: Vec<String> },
    #[error("managed object `{object}`: field {field} does not exist on {entity_set}{}", hint(.suggestions))]
    MissingField { object: String, entity_set: String, field: String, suggestions: Vec<String> },
    #[error("operation `{operation}`: {problem}")]
    BadOperation { operation: String, problem: String },
    #[error("operation `{operation}`: action {action} is not bound to {entity_set} in F&O{}", hint(.suggestions))]
    MissingAction { operation: String, entity_set: String, action: String, suggestions: Vec<String> },
    #[error("operation `{operation}`: {target} has no parameter {parameter} (it has: {})", list(.available))]
    MissingParameter { operation: String, target: String, parameter: String, available: Vec<String> },
    #[error("operation `{operation}`: custom service {service} could not be described: {reason}")]
    MissingService { operation: String, service: String, reason: String },
}

fn hint(suggestions: &[String]) -> String {
    if suggestions.is_empty() { String::new() } else { format!("; did you mean {}?", suggestions.join(", ")) }
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

/// Check the config against the catalog. Custom services need a call: see [`verify_services`].
pub fn verify(catalog: &Catalog, config: &Config) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let sets: Vec<&str> = catalog.entity_sets.keys().map(String::as_str).collect();
    for (object, managed) in &config.managed_objects {
        let pairs =
            [(Some(&managed.entity_set), &managed.fields), (managed.line_entity_set.as_ref(), &managed.line_fields)];
        for (set, fields) in pairs {
            let Some(set) = set else { continue };
            let Some(ty) = catalog.entity_type_of(set) else {
                out.push(Mismatch::MissingEntitySet {
                    object: object.clone(),
                    entity_set: set.clone(),
                    suggestions: close_names(set, &sets),
                });
                continue;
            };
            let props: Vec<&str> = ty.properties.keys().map(String::as_str).collect();
            for field in fields {
                if !ty.properties.contains_key(field) {
                    out.push(Mismatch::MissingField {
                        object: object.clone(),
                        entity_set: set.clone(),
                        field: field.clone(),
                        suggestions: close_names(field, &props),
                    });
                }
            }
        }
    }
    for (object, managed) in &config.managed_objects {
        // A high-risk field may be a header or a line field (journal amounts live on lines).
        let sets = [Some(&managed.entity_set), managed.line_entity_set.as_ref()];
        let types: Vec<_> = sets.iter().flatten().filter_map(|s| catalog.entity_type_of(s)).collect();
        if types.is_empty() {
            continue;
        }
        for field in &managed.high_risk_fields {
            if !types.iter().any(|t| t.properties.contains_key(field)) {
                let props: Vec<&str> = types.iter().flat_map(|t| t.properties.keys().map(String::as_str)).collect();
                out.push(Mismatch::MissingField {
                    object: object.clone(),
                    entity_set: managed.entity_set.clone(),
                    field: field.clone(),
                    suggestions: close_names(field, &props),
                });
            }
        }
    }
    for Configured { name, kind, entity_set, action, parameters, .. } in configured(config) {
        if kind != OperationKind::BoundAction {
            continue;
        }
        let bad = |problem: &str| Mismatch::BadOperation { operation: name.clone(), problem: problem.into() };
        let (Some(set), Some(action)) = (&entity_set, &action) else {
            out.push(bad("a bound-action operation needs entity_set and action"));
            continue;
        };
        if catalog.entity_type_of(set).is_none() {
            out.push(Mismatch::MissingEntitySet {
                object: format!("operation {name}"),
                entity_set: set.clone(),
                suggestions: close_names(set, &sets),
            });
            continue;
        }
        let bound = catalog.bound_actions(set);
        let Some(def) = bound.iter().find(|a| &a.name == action && !a.collection_bound) else {
            let names: Vec<&str> = bound.iter().map(|a| a.name.as_str()).collect();
            out.push(Mismatch::MissingAction {
                operation: name.clone(),
                entity_set: set.clone(),
                action: action.clone(),
                suggestions: close_names(action, &names),
            });
            continue;
        };
        let available: Vec<String> = def.parameters.iter().map(|(n, _)| n.clone()).collect();
        for parameter in &parameters {
            if !available.contains(parameter) {
                out.push(Mismatch::MissingParameter {
                    operation: name.clone(),
                    target: format!("action {action}"),
                    parameter: parameter.clone(),
                    available: available.clone(),
                });
            }
        }
    }
    out
}

/// Describe every configured custom service (GET) and check its parameter names.
pub async fn verify_services(client: &FnoClient, config: &Config) -> Vec<Mismatch> {
    describe_services(client, config).await.1
}

/// Describe every configured custom service (GET): the ones F&O described, for the catalog, and every
/// mismatch with the config. A service is kept even when a configured parameter is missing: it exists
/// in F&O, and the mismatch is reported on its own.
pub async fn describe_services(client: &FnoClient, config: &Config) -> (Vec<ServiceDef>, Vec<Mismatch>) {
    let mut described = Vec::new();
    let mut out = Vec::new();
    for Configured { name, kind, service, parameters, .. } in configured(config) {
        if kind != OperationKind::CustomService {
            continue;
        }
        let Some(service) = &service else {
            out.push(Mismatch::BadOperation {
                operation: name.clone(),
                problem: "a custom-service operation needs service = \"<Group>/<Service>/<Operation>\"".into(),
            });
            continue;
        };
        match client.describe_service(service).await {
            Ok(description) => {
                if let Some(def) = service_def(service, &description)
                    && !described.contains(&def)
                {
                    described.push(def);
                }
                let available: Vec<String> = description.parameters.iter().map(|(n, _)| n.clone()).collect();
                for parameter in &parameters {
                    if !available.contains(parameter) {
                        out.push(Mismatch::MissingParameter {
                            operation: name.clone(),
                            target: format!("service {service}"),
                            parameter: parameter.clone(),
                            available: available.clone(),
                        });
                    }
                }
            }
            Err(e) => {
                let reason = match e {
                    FnoError::NotFound { .. } => "404: no such service group, service or operation".to_string(),
                    other => other.to_string(),
                };
                out.push(Mismatch::MissingService { operation: name.clone(), service: service.clone(), reason });
            }
        }
    }
    (described, out)
}

/// One configured operation: a decision operation (`[operations.<name>]`) or a managed object's record
/// operation (`[managed_objects.<object>.operations.<name>]`, bound to the object's entity set).
struct Configured {
    name: String,
    kind: OperationKind,
    entity_set: Option<String>,
    action: Option<String>,
    service: Option<String>,
    /// The X++ parameter names it is called with.
    parameters: Vec<String>,
}

fn configured(config: &Config) -> Vec<Configured> {
    let decisions = config.operations.iter().map(|(name, op)| Configured {
        name: name.clone(),
        kind: op.kind,
        entity_set: op.entity_set.clone(),
        action: op.action.clone(),
        service: op.service.clone(),
        parameters: op.parameters.values().cloned().collect(),
    });
    let records = config.managed_objects.iter().flat_map(|(object, managed)| {
        managed.operations.iter().map(move |(name, op)| Configured {
            name: format!("{object}.{name}"),
            kind: op.kind,
            entity_set: Some(managed.entity_set.clone()),
            action: op.action.clone(),
            service: op.service.clone(),
            parameters: op.parameters.values().cloned().collect(),
        })
    });
    decisions.chain(records).collect()
}

/// The catalog entry for a described `<Group>/<Service>/<Operation>`.
fn service_def(path: &str, description: &ServiceDescription) -> Option<ServiceDef> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let [group, service, operation] = parts.as_slice() else { return None };
    Some(ServiceDef {
        group: group.to_string(),
        service: service.to_string(),
        operation: operation.to_string(),
        parameters: description.parameters.clone(),
        return_type: description.return_type.clone(),
    })
}

/// Up to three names close to `wanted`: same letters ignoring case, or a small edit distance.
pub fn close_names(wanted: &str, candidates: &[&str]) -> Vec<String> {
    let w = wanted.to_lowercase();
    let limit = (w.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (distance(&w, &c.to_lowercase()), *c))
        .filter(|(d, c)| {
            *d <= limit || c.to_lowercase().contains(&w) || (w.len() >= 4 && w.contains(&c.to_lowercase()))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c.to_string()).collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_catch_typos_and_case() {
        let fields = ["InvoiceDescription", "InvoiceDate", "DueDate", "Currency"];
        assert_eq!(close_names("InvoiceDescripton", &fields), vec!["InvoiceDescription"]);
        assert_eq!(close_names("currency", &fields), vec!["Currency"]);
        assert!(close_names("BankAccount", &fields).is_empty());
    }
}
