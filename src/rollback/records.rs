//! The compensation of the generic record actions: an update is PATCHed back, a create deleted while
//! nothing references it, a delete re-created from the snapshot, an operation undone by its configured
//! compensation.

use super::request::{PlannedRequest, body_of, entity_path};
use super::{Readiness, RollbackPlan};
use crate::config::{Config, OperationKind, RecordOperation};
use crate::judge::{Facts, NOT_SYNCED, record_operation_status};
use crate::model::{FieldValue, Fields, GovernedRun};
use crate::text::visible;

fn plan(readiness: Readiness, recipe: Vec<PlannedRequest>, explanation: &str) -> RollbackPlan {
    RollbackPlan { readiness, recipe, explanation: explanation.to_string(), reversal_date: None }
}

fn not_ready(why: String, explanation: &str) -> RollbackPlan {
    plan(Readiness::NotReady(why), Vec::new(), explanation)
}

/// The `$filter` that finds records of a referencing set pointing at the target (`CustomerGroupId eq
/// '20' and dataAreaId eq 'usmf'`), or `None` when a mapped key is not among the target's keys.
pub fn reference_filter(fields: &std::collections::BTreeMap<String, String>, keys: &Fields) -> Option<Fields> {
    fields.iter().map(|(referencing, key)| keys.get(key).map(|v| (referencing.clone(), v.clone()))).collect()
}

/// A create is undone by deleting exactly the created record, under the ETag its create returned, and
/// only while no record of the configured referencing sets points at it (read right before the DELETE).
/// Without `referenced_by` nothing is known about references, so it fails closed.
pub fn create(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    let explanation = "The rollback deletes exactly the created record, under the ETag its create returned, once \
                       the configured referencing entity sets show no record that points at it.";
    let target = &run.target;
    let object = &target.managed_object;
    if facts.known_entity_fields.is_none() {
        return not_ready(NOT_SYNCED.into(), explanation);
    }
    let Some(references) = config.managed_objects.get(object).and_then(|m| m.referenced_by.as_ref()) else {
        return not_ready(
            format!(
                "managed object '{}' names no referencing entity sets, so signoff cannot prove nothing refers to \
                 the created record: list them under [[managed_objects.{}.referenced_by]] (or set referenced_by = \
                 [] when nothing can reference it)",
                visible(object),
                visible(object)
            ),
            explanation,
        );
    };
    let mut recipe = Vec::new();
    for reference in references {
        let Some(filter) = reference_filter(&reference.fields, &target.keys) else {
            return not_ready(
                format!(
                    "referenced_by {} maps a field to a key {} does not have",
                    visible(&reference.entity_set),
                    visible(&target.entity_set)
                ),
                explanation,
            );
        };
        let text: Vec<String> = filter.iter().map(|(k, v)| format!("{k} eq {}", literal(v))).collect();
        recipe.push(PlannedRequest {
            method: "GET".into(),
            path: visible(&format!("/data/{}?$filter={}&$top=1", reference.entity_set, text.join(" and ")))
                .into_owned(),
            if_match: None,
            body: String::new(),
            purpose: format!(
                "prove no {} record references it (any row refuses the rollback)",
                visible(&reference.entity_set)
            ),
        });
    }
    recipe.push(PlannedRequest {
        method: "DELETE".into(),
        path: entity_path(&target.entity_set, &target.keys),
        if_match: Some("the ETag the create returned".into()),
        body: String::new(),
        purpose: "delete the created record, only if nobody changed it since".into(),
    });
    let readiness = if references.is_empty() {
        Readiness::Ready
    } else {
        let sets: Vec<String> = references.iter().map(|r| visible(&r.entity_set).into_owned()).collect();
        Readiness::Conditional(format!(
            "only while no record of {} references the created record (read right before the DELETE)",
            sets.join(", ")
        ))
    };
    plan(readiness, recipe, explanation)
}

fn literal(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}

/// The fields a deleted record is re-created with: everything the snapshot holds that the entity
/// declares, except what F&O assigns itself (`RecId`, annotations).
pub fn recreate_fields(run: &GovernedRun, declared: Option<&std::collections::BTreeSet<String>>) -> Fields {
    run.before
        .fields
        .iter()
        .filter(|(name, _)| !name.starts_with('@') && *name != "RecId" && *name != "RecVersion")
        .filter(|(name, _)| declared.is_none_or(|d| d.contains(*name)))
        .map(|(n, v)| (n.clone(), v.clone()))
        .chain(run.target.keys.iter().map(|(n, v)| (n.clone(), v.clone())))
        .collect()
}

/// A delete is undone by creating the record again from its before snapshot, which F&O may refuse.
pub fn delete(run: &GovernedRun, facts: &Facts<'_>) -> RollbackPlan {
    let explanation = "The rollback re-creates the deleted record from the before snapshot (every field F&O \
                       accepts on create); F&O gives it a new RecId and ETag.";
    let Some(catalog) = facts.known_entity_fields else {
        return not_ready(NOT_SYNCED.into(), explanation);
    };
    let Some(declared) = catalog.get(&run.target.entity_set) else {
        return not_ready(
            format!("entity set {} is not in the synced metadata", visible(&run.target.entity_set)),
            explanation,
        );
    };
    let fields = recreate_fields(run, Some(declared));
    let recipe = vec![PlannedRequest {
        method: "POST".into(),
        path: visible(&format!("/data/{}", run.target.entity_set)).into_owned(),
        if_match: None,
        body: body_of(&fields),
        purpose: format!("re-create {} with its {} reviewed field(s)", visible(&run.target.label()), fields.len()),
    }];
    let readiness = Readiness::Conditional(
        "F&O must accept the same key again: nobody may have created a record with it meanwhile, and a number \
         sequence or the entity's own rules may refuse it; records that referred to the old record's RecId are \
         not re-linked"
            .into(),
    );
    plan(readiness, recipe, explanation)
}

/// An operation is undone by its configured compensation, called with the parameters the run gave.
pub fn operation(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    let explanation = "The rollback calls the operation's configured compensation on the same record, with the \
                       parameters the run gave (those the compensation declares).";
    let object = &run.target.managed_object;
    let name = run.proposed.operation.as_deref().unwrap_or_default();
    let Some(op) = config.record_operation(object, name) else {
        return not_ready(
            format!("operation '{}' is not configured on managed object '{}'", visible(name), visible(object)),
            explanation,
        );
    };
    let Some(compensation) = op.compensation.as_deref() else {
        return not_ready(
            format!(
                "operation '{}' of managed object '{}' names no compensation, so signoff cannot undo it: set \
                 compensation = \"<operation>\" under [managed_objects.{}.operations.{}], or undo it in F&O",
                visible(name),
                visible(object),
                visible(object),
                visible(name)
            ),
            explanation,
        );
    };
    if let Err(why) = record_operation_status(config, facts.catalog, object, compensation) {
        return not_ready(format!("its compensation: {why}"), explanation);
    }
    let Some(undo) = config.record_operation(object, compensation) else {
        return not_ready(format!("compensation '{}' is not configured", visible(compensation)), explanation);
    };
    let recipe = vec![operation_request(run, undo, compensation, "the ETag the operation left")];
    plan(Readiness::Ready, recipe, explanation)
}

/// The request that calls `op` on the run's record with the run's parameters, for review.
pub fn operation_request(run: &GovernedRun, op: &RecordOperation, name: &str, if_match: &str) -> PlannedRequest {
    let target = &run.target;
    let body = body_of(&operation_parameters(run, op));
    match op.kind {
        OperationKind::BoundAction => PlannedRequest {
            method: "POST".into(),
            path: format!(
                "{}/Microsoft.Dynamics.DataEntities.{}",
                entity_path(&target.entity_set, &target.keys),
                visible(op.action.as_deref().unwrap_or("?"))
            ),
            if_match: Some(if_match.into()),
            body,
            purpose: format!("call operation {}", visible(name)),
        },
        OperationKind::CustomService => PlannedRequest {
            method: "POST".into(),
            path: format!("/api/services/{}", visible(op.service.as_deref().unwrap_or("?"))),
            if_match: None,
            body,
            purpose: format!("call operation {} (a custom service: re-read right before, no If-Match)", visible(name)),
        },
    }
}

/// The X++ parameters `op` is called with: the run's parameters it declares, and the record's keys it
/// maps, by their X++ names.
pub fn operation_parameters(run: &GovernedRun, op: &RecordOperation) -> Fields {
    op.parameters
        .iter()
        .filter_map(|(logical, xpp)| {
            let value = run.proposed.parameters.get(logical).or_else(|| run.target.keys.get(logical))?;
            Some((xpp.clone(), value.clone()))
        })
        .collect()
}
