//! Deciding an F&O workflow work item (`approve-workflow-item`): whose item it is, validate right before
//! complete, and reading an item back when complete's answer was lost (FNO.md §7, §8). Reading the inbox
//! into runs is `inbox.rs`; the names of everything come from `[intake.workflow]`.
//!
//! Unlike a plain run, a workflow item is decided IN F&O both ways: approving sends complete with the
//! approve outcome, rejecting sends complete with the reject outcome, each with the approver's reason as
//! the comment. Validate first: an item that no longer awaits the user is stale, and nothing is sent.

use serde_json::{Map, Value, json};

use crate::config::{Config, WorkflowIntake};
use crate::fno::{FnoClient, FnoError, Query, Sent};
use crate::model::{FieldValue, Fields, GovernedRun, WorkItem};

use super::eligibility::DecisionKind;
use super::execute::{Execution, StepFailure};
use super::outcome::FnoAnswer;
use super::reconcile::Finding;

/// Why the workflow inbox cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(
        "the F&O workflow inbox is off: set `enabled = true` under [intake.workflow] in the config (see \
         docs/config.md, \"The F&O workflow inbox\")"
    )]
    Off,
    #[error(
        "no F&O user is known for approver {approver}: map it under [intake.workflow.users] (\"{approver}\" = \
         \"<F&O user id>\"), or set the F&O user's Alias to {approver} (System administration > Users)"
    )]
    NoUser { approver: String },
    #[error(
        "{count} F&O users have the alias {approver}; map the approver under [intake.workflow.users] to name \
         the right one"
    )]
    AmbiguousUser { approver: String, count: usize },
    #[error(transparent)]
    Fno(#[from] FnoError),
}

/// The inbox settings, when the inbox is on.
pub fn settings(config: &Config) -> Result<&WorkflowIntake, WorkflowError> {
    let w = &config.intake.workflow;
    if w.enabled { Ok(w) } else { Err(WorkflowError::Off) }
}

/// The F&O user `approver` decides as: the one mapping (`[approver.fno_users]`, `[intake.workflow.users]`), else the one `SystemUsers` record whose
/// `Alias` (the user's UPN) is the approver's identity.
pub async fn fno_user(client: &FnoClient, config: &Config, approver: &str) -> Result<String, WorkflowError> {
    if let Some(user) = config.fno_user_of(approver) {
        return Ok(user.to_string());
    }
    let filter = format!("Alias eq {}", crate::fno::keys::string_literal(approver));
    let query = Query { filter: Some(filter), select: vec!["UserID".into(), "Alias".into()], ..Query::default() };
    let rows = client.query("SystemUsers", &query).await?.rows;
    let users: Vec<&str> =
        rows.iter().filter_map(|r| r.fields.get("UserID").and_then(FieldValue::as_text)).collect::<Vec<_>>();
    match users.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(WorkflowError::NoUser { approver: approver.to_string() }),
        many => Err(WorkflowError::AmbiguousUser { approver: approver.to_string(), count: many.len() }),
    }
}

/// The run's work item (an `approve-workflow-item` run always has one: the run format requires it).
pub fn item(run: &GovernedRun) -> Result<&WorkItem, FnoError> {
    run.work_item.as_ref().ok_or_else(|| FnoError::InvalidUrl {
        url: run.target.entity_set.clone(),
        reason: "the run names no work item".into(),
    })
}

/// The parameters both actions take: the item's id and, when configured, the user it awaits.
fn parameters(w: &WorkflowIntake, item: &WorkItem) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert(w.parameters.work_item.clone(), json!(item.id));
    if !w.parameters.user.is_empty() {
        body.insert(w.parameters.user.clone(), json!(item.user_id));
    }
    body
}

/// Ask F&O whether the item still awaits its user (the validate action; it changes nothing, so a dry
/// run sends it too).
pub async fn validate(client: &FnoClient, config: &Config, item: &WorkItem) -> Result<bool, FnoError> {
    let w = &config.intake.workflow;
    let body = Value::Object(parameters(w, item));
    match client.collection_action(&w.entity_set, &w.validate_action, &body, true).await? {
        Sent::Done(Some(Value::Bool(awaits))) => Ok(awaits),
        Sent::Done(other) => Err(FnoError::InvalidResponse {
            context: format!("{} action {}", w.entity_set, w.validate_action),
            reason: format!(
                "validate answered {} instead of true or false",
                other.map_or("nothing".to_string(), |v| crate::text::visible(&v.to_string()).into_owned())
            ),
        }),
        Sent::DryRun => Ok(true),
    }
}

/// The outcome name complete takes for a decision.
fn outcome(w: &WorkflowIntake, kind: DecisionKind) -> &str {
    match kind {
        DecisionKind::Reject => &w.outcomes.reject,
        _ => &w.outcomes.approve,
    }
}

/// Complete the item with the decision's outcome and the approver's reason as the comment. The caller
/// validated it just before; a lost answer is an unknown outcome, settled by [`finding`].
pub async fn execute(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    let fail = |error| StepFailure { error, written: Vec::new() };
    let w = &x.config.intake.workflow;
    let item = item(x.run).map_err(fail)?;
    if x.kind == DecisionKind::Rollback {
        return Err(fail(FnoError::InvalidUrl {
            url: w.entity_set.clone(),
            reason: "a completed workflow step cannot be undone from outside F&O".into(),
        }));
    }
    let mut body = parameters(w, item);
    body.insert(w.parameters.outcome.clone(), json!(outcome(w, x.kind)));
    body.insert(w.parameters.comment.clone(), json!(x.reason));
    (x.note)(format!("completing work item {} with outcome {}", item.id, outcome(w, x.kind)));
    let answer = x.client.collection_action(&w.entity_set, &w.complete_action, &Value::Object(body), false).await;
    let mut out = FnoAnswer::default();
    match answer.map_err(fail)? {
        Sent::Done(Some(Value::String(text))) => out.messages.push(text),
        Sent::Done(Some(other)) => out.messages.push(other.to_string()),
        Sent::Done(None) | Sent::DryRun => {}
    }
    out.messages.push(format!("work item {} completed: {}", item.id, outcome(w, x.kind)));
    Ok(out)
}

/// Read the work item as F&O holds it now (None: F&O no longer lists it).
pub async fn read_item(client: &FnoClient, config: &Config, item: &WorkItem) -> Result<Option<Fields>, FnoError> {
    let w = &config.intake.workflow;
    let mut key = Fields::new();
    key.insert(w.fields.id.clone(), FieldValue::Text(item.id.clone()));
    let query = Query { top: Some(1), ..Query::matching(&key) };
    Ok(client.query(&w.entity_set, &query).await?.rows.into_iter().next().map(|r| r.fields))
}

/// What the item's state shows about a complete whose answer was lost: still pending → not applied;
/// completed with this decision's outcome → applied; completed otherwise → not applied (someone decided
/// it in F&O); completed without an outcome F&O shows → undetermined.
pub fn finding(config: &Config, kind: DecisionKind, row: Option<&Fields>) -> Finding {
    let w = &config.intake.workflow;
    let Some(row) = row else {
        return Finding::Undetermined { detail: "F&O no longer lists the work item".into() };
    };
    let text = |name: &str| row.get(name).and_then(FieldValue::as_text).unwrap_or("").to_string();
    let status = text(&w.fields.status);
    if status == w.pending_status {
        return Finding::NotApplied { detail: format!("the work item is still {status}") };
    }
    let sent = outcome(w, kind);
    match text(&w.fields.outcome).as_str() {
        "" => Finding::Undetermined {
            detail: format!("the work item is {status} but F&O does not show its outcome; see its history in F&O"),
        },
        o if o == sent => Finding::Applied {
            answer: FnoAnswer {
                messages: vec![format!("the work item is {status} with outcome {o}")],
                ..Default::default()
            },
        },
        other => Finding::NotApplied {
            detail: format!("the work item was completed in F&O with outcome {other}, not {sent}"),
        },
    }
}
