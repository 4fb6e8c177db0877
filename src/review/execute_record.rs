//! Executing the generic record actions: a create is one POST, a delete one DELETE under the live
//! ETag, an operation its bound action under the live ETag (or its custom service right after the
//! re-read); their rollbacks delete exactly the created record once nothing references it, re-create a
//! deleted record from its snapshot, or call the operation's compensation. An update is the same PATCH
//! (and PATCH back) as a vendor update, in `execute`.

use serde_json::Value;

use crate::config::{OperationKind, RecordOperation};
use crate::fno::{FnoError, Query, Sent};
use crate::model::{Action, Fields};
use crate::rollback::records::{operation_parameters, recreate_fields, reference_filter};
use crate::text::visible;

use super::execute::{Execution, StepFailure};
use super::outcome::FnoAnswer;
use super::revalidate::target_key;

fn failed(error: FnoError) -> StepFailure {
    StepFailure { error, written: Vec::new() }
}

/// Approve a create, delete or operation run (`None`: not one of them).
pub(super) async fn approve(x: &Execution<'_>) -> Option<Result<FnoAnswer, StepFailure>> {
    Some(match x.run.action {
        Action::CreateRecord => create(x).await,
        Action::DeleteRecord => delete(x).await,
        Action::ExecuteOperation => {
            let name = x.run.proposed.operation.clone().unwrap_or_default();
            operation(x, &name).await
        }
        _ => return None,
    })
}

/// Roll back a create, delete or operation run (`None`: not one of them).
pub(super) async fn rollback(x: &Execution<'_>) -> Option<Result<FnoAnswer, StepFailure>> {
    Some(match x.run.action {
        Action::CreateRecord => undo_create(x).await,
        Action::DeleteRecord => undo_delete(x).await,
        Action::ExecuteOperation => {
            let object = &x.run.target.managed_object;
            let name = x.run.proposed.operation.as_deref().unwrap_or_default();
            match x.config.record_operation(object, name).and_then(|op| op.compensation.clone()) {
                Some(compensation) => operation(x, &compensation).await,
                None => Err(failed(FnoError::InvalidUrl {
                    url: name.to_string(),
                    reason: "the operation names no compensation".into(),
                })),
            }
        }
        _ => return None,
    })
}

/// POST the record: its keys and the proposed fields.
async fn create(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let mut fields = run.target.keys.clone();
    fields.extend(run.proposed.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    (x.note)(format!("POST {} {}", run.target.entity_set, run.target.label()));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(created) = x.client.post(&run.target.entity_set, &fields).await.map_err(failed)? {
        // F&O may number a record itself: say so when the keys it kept are not the ones proposed.
        let renumbered: Vec<&String> = run
            .target
            .keys
            .iter()
            .filter(|(k, v)| created.fields.get(*k).is_some_and(|c| !c.same_value(v)))
            .map(|(k, _)| k)
            .collect();
        if !renumbered.is_empty() {
            answer.messages.push(format!(
                "F&O created the record under other key values ({}); the rollback deletes only the proposed key",
                visible(&renumbered.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
            ));
        }
        answer.new_etag = Some(created.etag.0);
        answer.messages.push(format!("created {}", visible(&run.target.label())));
    }
    Ok(answer)
}

/// DELETE the record under its live ETag.
async fn delete(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let key = target_key(run).map_err(failed)?;
    (x.note)(format!("DELETE {} with If-Match {}", run.target.entity_set, x.live.etag));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(()) = x.client.delete(&run.target.entity_set, &key, &x.live.etag).await.map_err(failed)? {
        answer.messages.push(format!("deleted {}", visible(&run.target.label())));
    }
    Ok(answer)
}

/// Call the managed object's operation `name` on the record: a bound action under the live ETag, or a
/// custom service (which cannot carry `If-Match`) right after the pipeline's re-read.
async fn operation(x: &Execution<'_>, name: &str) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let op = x.config.record_operation(&run.target.managed_object, name).ok_or_else(|| {
        failed(FnoError::InvalidUrl {
            url: name.to_string(),
            reason: format!("operation '{name}' is not configured on managed object {}", run.target.managed_object),
        })
    })?;
    let body = body(run, op);
    let sent = match op.kind {
        OperationKind::BoundAction => {
            let action = op.action.clone().unwrap_or_default();
            (x.note)(format!("calling operation {name} ({action}) with If-Match {}", x.live.etag));
            let key = target_key(run).map_err(failed)?;
            x.client.bound_action(&run.target.entity_set, &key, &action, &body, Some(&x.live.etag)).await
        }
        OperationKind::CustomService => {
            let service = op.service.clone().unwrap_or_default();
            (x.note)(format!("calling operation {name} (custom service {service})"));
            x.client.invoke_service(&service, &body).await.map(|s| match s {
                Sent::Done(v) => Sent::Done(Some(v)),
                Sent::DryRun => Sent::DryRun,
            })
        }
    };
    let mut answer = FnoAnswer::default();
    match sent.map_err(failed)? {
        Sent::Done(Some(Value::String(text))) => answer.messages.push(format!("{name}: {text}")),
        Sent::Done(Some(Value::Null) | None) => answer.messages.push(format!("{name} done")),
        Sent::Done(Some(other)) => answer.messages.push(format!("{name}: {other}")),
        Sent::DryRun => {}
    }
    Ok(answer)
}

fn body(run: &crate::model::GovernedRun, op: &RecordOperation) -> Value {
    Value::Object(operation_parameters(run, op).iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Delete exactly the created record, under its live ETag (the pipeline checked it is still the ETag
/// the create returned), once no configured referencing set points at it.
async fn undo_create(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let references =
        x.config.managed_objects.get(&run.target.managed_object).and_then(|m| m.referenced_by.clone()).ok_or_else(
            || {
                failed(FnoError::PreconditionFailed {
                    what: format!("{} (no referencing entity sets are configured)", run.target.entity_set),
                })
            },
        )?;
    for reference in &references {
        let filter = reference_filter(&reference.fields, &run.target.keys).ok_or_else(|| {
            failed(FnoError::InvalidUrl {
                url: reference.entity_set.clone(),
                reason: "referenced_by maps a field to a key the target does not have".into(),
            })
        })?;
        (x.note)(format!("reading {} for records that reference the created record", reference.entity_set));
        let query =
            Query { top: Some(1), cross_company: filter.contains_key("dataAreaId"), ..Query::matching(&filter) };
        let found = x.client.query(&reference.entity_set, &query).await.map_err(failed)?;
        if let Some(row) = found.rows.first() {
            return Err(failed(FnoError::PreconditionFailed {
                what: format!(
                    "{} (a record of {} references it{}: deleting it would break that reference)",
                    visible(&run.target.label()),
                    visible(&reference.entity_set),
                    row_label(&row.fields)
                ),
            }));
        }
    }
    let key = target_key(run).map_err(failed)?;
    (x.note)(format!("DELETE {} with If-Match {}", run.target.entity_set, x.live.etag));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(()) = x.client.delete(&run.target.entity_set, &key, &x.live.etag).await.map_err(failed)? {
        answer.messages.push(format!("deleted the created record {}", visible(&run.target.label())));
    }
    Ok(answer)
}

/// A referencing row named by a few of its values, for the message.
fn row_label(fields: &Fields) -> String {
    let parts: Vec<String> = fields
        .iter()
        .filter(|(k, _)| !k.starts_with('@') && *k != "RecId")
        .take(2)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if parts.is_empty() { String::new() } else { format!(", e.g. {}", visible(&parts.join(", "))) }
}

/// Re-create the deleted record from its before snapshot (the pipeline checked its key is still free).
async fn undo_delete(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let declared = x
        .client
        .catalog()
        .and_then(|c| c.entity_type_of(&run.target.entity_set).map(|t| t.properties.keys().cloned().collect()));
    let fields = recreate_fields(run, declared.as_ref());
    (x.note)(format!("POST {} to re-create {}", run.target.entity_set, run.target.label()));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(created) = x.client.post(&run.target.entity_set, &fields).await.map_err(failed)? {
        answer.new_etag = Some(created.etag.0);
        answer.messages.push(format!("re-created {} from the before snapshot", visible(&run.target.label())));
    }
    Ok(answer)
}
