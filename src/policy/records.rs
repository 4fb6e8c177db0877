//! Rules of the generic record actions: the managed object allows the action, the target's keys are its
//! entity's, and an operation is configured, present in the catalog and given only its own parameters,
//! each of its declared type.

use super::Level;
use super::rules::*;
use super::values::vis;
use crate::config::ManagedObject;
use crate::judge::{NOT_SYNCED, record_operation_parameter, record_operation_status};
use crate::model::Action;

/// What the managed object does not allow the run's action to do (for `allowlist.object`).
pub fn permission(ctx: &Ctx<'_>, object: &ManagedObject) -> Vec<String> {
    let name = vis(&ctx.run.target.managed_object);
    match ctx.run.action {
        Action::CreateRecord if !object.allow_create => {
            vec![format!("managed object '{name}' does not allow create-record (allow_create is off)")]
        }
        Action::DeleteRecord if !object.allow_delete => {
            vec![format!("managed object '{name}' does not allow delete-record (allow_delete is off)")]
        }
        _ => Vec::new(),
    }
}

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    if !ctx.run.action.is_record_action() && !ctx.run.action.is_role_action() {
        return;
    }
    keys(ctx, out);
    if ctx.run.action == Action::ExecuteOperation {
        operation(ctx, out);
    }
}

/// The target names exactly one record: every key of the entity, nothing else, each value fitting its
/// declared type (a create writes them).
fn keys(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let target = &ctx.run.target;
    let Some(catalog) = ctx.facts.catalog else {
        out.push(RECORD_KEYS.verdict(Level::Hard, NOT_SYNCED, None));
        return;
    };
    let Some(entity) = catalog.entity_type_of(&target.entity_set) else {
        out.push(RECORD_KEYS.verdict(
            Level::Hard,
            format!("entity set '{}' is not in the synced metadata: {NOT_SYNCED}", vis(&target.entity_set)),
            None,
        ));
        return;
    };
    let mut problems = Vec::new();
    for key in entity.keys.iter().filter(|k| !target.keys.contains_key(*k)) {
        problems.push((format!("the key {} of {} is missing", vis(key), vis(&target.entity_set)), vis(key)));
    }
    for (name, value) in &target.keys {
        if !entity.keys.contains(name) {
            problems.push((format!("'{}' is not a key of {}", vis(name), vis(&target.entity_set)), vis(name)));
        } else if let Some(property) = entity.properties.get(name)
            && let Err(e) = crate::fno::encode_value(name, value, property, catalog)
        {
            problems.push((e.to_string(), vis(name)));
        }
    }
    if problems.is_empty() {
        out.push(RECORD_KEYS.pass(format!("the keys ({}) are {}'s", entity.keys.join(", "), vis(&target.entity_set))));
    }
    for (message, field) in problems {
        out.push(RECORD_KEYS.verdict(Level::Hard, message, Some(format!("target.keys.{field}"))));
    }
}

/// The operation is configured on the object and present in the catalog; each parameter is one it
/// declares, of its declared type.
fn operation(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let run = ctx.run;
    let object = &run.target.managed_object;
    let name = run.proposed.operation.as_deref().unwrap_or_default();
    match record_operation_status(ctx.config, ctx.facts.catalog, object, name) {
        Ok(()) => out.push(META_OPERATION.pass(format!(
            "operation '{}' of '{}' is configured and present in the synced catalog",
            vis(name),
            vis(object)
        ))),
        Err(why) => {
            out.push(META_OPERATION.verdict(Level::Hard, why, None));
            return;
        }
    }
    let Some(op) = ctx.config.record_operation(object, name) else { return };
    let mut refused = 0;
    for (logical, value) in &run.proposed.parameters {
        let label = format!("parameters.{}", vis(logical));
        let declared = op.parameters.get(logical).filter(|_| !run.target.keys.contains_key(logical));
        let Some(xpp) = declared else {
            refused += 1;
            out.push(ALLOW_FIELD.verdict(
                Level::Hard,
                format!("'{}' is not a parameter of operation '{}'", vis(logical), vis(name)),
                Some(label),
            ));
            continue;
        };
        let typed = ctx.facts.catalog.and_then(|c| {
            record_operation_parameter(c, &run.target.entity_set, op, xpp)
                .map(|p| crate::fno::encode_value(xpp, value, &p, c))
        });
        match typed {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                refused += 1;
                out.push(META_FACETS.verdict(Level::Hard, format!("{e} (operation {})", vis(name)), Some(label)));
            }
            None => {
                refused += 1;
                out.push(META_FIELD.verdict(
                    Level::Hard,
                    format!("parameter '{}' of operation '{}' is not in the synced metadata", vis(xpp), vis(name)),
                    Some(label),
                ));
            }
        }
    }
    if refused == 0 && !run.proposed.parameters.is_empty() {
        out.push(ALLOW_FIELD.pass(format!(
            "all {} parameter(s) are declared by operation '{}' and fit their types",
            run.proposed.parameters.len(),
            vis(name)
        )));
    }
}
