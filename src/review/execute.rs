//! Executing a decision against F&O, exactly as DESIGN.md's action table says.
//!
//! Approve: header corrections by `PATCH` under `If-Match` = live ETag (or, with line corrections, the
//! header and every line in ONE `$batch` changeset, each under its live ETag), then the configured
//! decision operation. Reject: the configured reject operation, where the action has one. Rollback: the
//! compensation recipe. Every step reports progress; the first failure stops everything after it.

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::config::{Config, OperationKind};
use crate::fno::{BatchOp, FnoClient, FnoError, Query, Sent};
use crate::model::{Action, FieldValue, Fields, GovernedRun, Snapshot};

use super::digest::line_key_text;
use super::eligibility::DecisionKind;
use super::outcome::FnoAnswer;
use super::revalidate::{line_key, line_set, target_key};

/// A step failed. `sent` says whether any write had already gone out before it (so F&O may be partly
/// changed) and `unknown` whether this very step's outcome is unknown (reconcile by reading).
#[derive(Debug)]
pub struct StepFailure {
    pub error: FnoError,
    pub sent: bool,
}

impl StepFailure {
    pub fn unknown(&self) -> bool {
        self.error.is_outcome_unknown()
    }
}

/// Refusal before anything is sent: the run cannot be executed with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the decision operation `{name}` is not configured; add [operations.{name}] to the config \
         (see docs/config.md) and run `signoff connector sync-metadata`"
    )]
    MissingOperation { name: String },
    #[error("the operation `{name}` is misconfigured: {reason}")]
    BadOperation { name: String, reason: String },
}

/// The configured operation name a decision on an action calls, if the action has one.
pub fn operation_name(action: Action, kind: DecisionKind) -> Option<&'static str> {
    match (action, kind) {
        (Action::ApproveVendorInvoice, DecisionKind::Approve) => Some("invoice_approve"),
        (Action::ApproveVendorInvoice, DecisionKind::Reject) => Some("invoice_reject"),
        (Action::ApproveVendorInvoice, DecisionKind::Rollback) => Some("invoice_recall"),
        (Action::PostJournal, DecisionKind::Approve) => Some("journal_post"),
        (Action::PostJournal, DecisionKind::Reject) => Some("journal_reject"),
        (Action::PostJournal, DecisionKind::Rollback) => Some("journal_reverse"),
        _ => None,
    }
}

/// Check, before anything is sent, that the operation this decision needs is configured.
pub fn check_operation(config: &Config, action: Action, kind: DecisionKind) -> Result<(), PlanError> {
    let Some(name) = operation_name(action, kind) else { return Ok(()) };
    let op = config.operations.get(name).ok_or(PlanError::MissingOperation { name: name.into() })?;
    let bad = |reason: &str| PlanError::BadOperation { name: name.into(), reason: reason.into() };
    match op.kind {
        OperationKind::BoundAction if op.action.is_none() => Err(bad("a bound action needs `action`")),
        OperationKind::CustomService if op.service.is_none() => Err(bad("a custom service needs `service`")),
        _ => Ok(()),
    }
}

/// Whether F&O is written at all for this decision on this action (a rejected vendor update is not).
pub fn writes_to_fno(action: Action, kind: DecisionKind) -> bool {
    kind != DecisionKind::Reject || operation_name(action, kind).is_some()
}

/// Execute the decision. `live` is the re-validated record. Progress is reported through `note`.
pub async fn execute(
    client: &FnoClient,
    config: &Config,
    run: &GovernedRun,
    live: &Snapshot,
    kind: DecisionKind,
    reason: &str,
    note: &(dyn Fn(String) + Send + Sync),
) -> Result<FnoAnswer, StepFailure> {
    let mut answer = FnoAnswer::default();
    let mut sent = false;
    let fail = |sent: bool| move |error: FnoError| StepFailure { error, sent };
    match kind {
        DecisionKind::Approve => {
            corrections(client, config, run, live, note, &mut answer).await.map_err(fail(sent))?;
            sent = !run.proposed.fields.is_empty() || !run.proposed.lines.is_empty();
        }
        DecisionKind::Rollback => {
            if let Some(fields) = inverse_fields(run, live) {
                note(format!("PATCH {} with If-Match {}", run.target.entity_set, live.etag));
                let key = target_key(run).map_err(fail(sent))?;
                let etag = client.patch(&run.target.entity_set, &key, &fields, &live.etag).await.map_err(fail(sent))?;
                answer.new_etag = done_etag(etag);
                sent = true;
            }
        }
        DecisionKind::Reject => {}
    }
    if let Some(name) = operation_name(run.action, kind) {
        note(format!("calling the {name} operation"));
        let value = call_operation(client, config, name, run, kind, reason).await.map_err(fail(sent))?;
        if let Sent::Done(Some(value)) = value {
            record_return(&value, kind, &mut answer);
        }
        if run.action == Action::PostJournal && kind == DecisionKind::Approve && !client.is_dry_run() {
            // Posting assigns vouchers to the lines: read them back as evidence (a read, never a resend).
            answer.vouchers = read_vouchers(client, config, run).await.unwrap_or_default();
        }
    }
    Ok(answer)
}

/// Header PATCH, or header + lines in one `$batch` changeset.
async fn corrections(
    client: &FnoClient,
    config: &Config,
    run: &GovernedRun,
    live: &Snapshot,
    note: &(dyn Fn(String) + Send + Sync),
    answer: &mut FnoAnswer,
) -> Result<(), FnoError> {
    let key = target_key(run)?;
    if run.proposed.lines.is_empty() {
        if !run.proposed.fields.is_empty() {
            note(format!("PATCH {} with If-Match {}", run.target.entity_set, live.etag));
            let etag = client.patch(&run.target.entity_set, &key, &run.proposed.fields, &live.etag).await?;
            answer.new_etag = done_etag(etag);
        }
        return Ok(());
    }
    let Some((set, _)) = line_set(run, config) else { return Ok(()) };
    let mut ops = Vec::new();
    if !run.proposed.fields.is_empty() {
        ops.push(BatchOp::patch(&run.target.entity_set, &key, &run.proposed.fields, &live.etag));
    }
    for line in &run.proposed.lines {
        let wanted = line_key_text(&line.keys);
        let live_line = live.lines.iter().find(|l| line_key_text(&l.keys) == wanted);
        let lkey = line_key(&line.keys)?;
        match (live_line, line.remove) {
            (Some(l), true) => ops.push(BatchOp::delete(&set, &lkey, &l.etag)),
            (Some(l), false) => ops.push(BatchOp::patch(&set, &lkey, &line.fields, &l.etag)),
            (None, _) => {
                let mut fields = line.keys.clone();
                fields.extend(line.fields.clone());
                ops.push(BatchOp::post(&set, &fields));
            }
        }
    }
    note(format!("$batch: one changeset of {} operation(s), each under its live ETag", ops.len()));
    if let Sent::Done(parts) = client.batch(&ops).await? {
        answer.messages.push(format!("$batch changeset committed: {} operation(s)", parts.len()));
    }
    Ok(())
}

/// The fields a rollback PATCHes back, for the actions compensated by a PATCH.
fn inverse_fields(run: &GovernedRun, _live: &Snapshot) -> Option<Fields> {
    match run.action {
        Action::UpdateVendor | Action::EnableUser | Action::DisableUser => Some(
            run.proposed
                .fields
                .keys()
                .map(|name| (name.clone(), run.before.fields.get(name).cloned().unwrap_or(FieldValue::Null)))
                .collect(),
        ),
        _ => None,
    }
}

fn done_etag(sent: Sent<Option<crate::model::ETag>>) -> Option<String> {
    match sent {
        Sent::Done(Some(etag)) => Some(etag.0),
        _ => None,
    }
}

/// Call the configured operation with the logical parameters it maps.
async fn call_operation(
    client: &FnoClient,
    config: &Config,
    name: &str,
    run: &GovernedRun,
    kind: DecisionKind,
    reason: &str,
) -> Result<Sent<Option<Value>>, FnoError> {
    let Some(op) = config.operations.get(name) else {
        return Err(FnoError::InvalidUrl { url: name.into(), reason: "the operation is not configured".into() });
    };
    let mut logical: Vec<(&str, Value)> = vec![("comment", json!(reason)), ("reason", json!(reason))];
    if kind == DecisionKind::Rollback {
        logical.push(("reversal_date", json!(format!("{}T12:00:00Z", Utc::now().date_naive()))));
    }
    let mut body = Map::new();
    for (logical_name, value) in logical {
        if let Some(param) = op.parameters.get(logical_name) {
            body.insert(param.clone(), value);
        }
    }
    for (key_name, value) in &run.target.keys {
        if let Some(param) = op.parameters.get(key_name) {
            body.insert(param.clone(), value.to_json());
        }
    }
    let body = Value::Object(body);
    match op.kind {
        OperationKind::BoundAction => {
            let set = op.entity_set.clone().unwrap_or_else(|| run.target.entity_set.clone());
            let action = op.action.clone().unwrap_or_default();
            client.bound_action(&set, &target_key(run)?, &action, &body).await
        }
        OperationKind::CustomService => {
            let service = op.service.clone().unwrap_or_default();
            Ok(match client.invoke_service(&service, &body).await? {
                Sent::Done(v) => Sent::Done(Some(v)),
                Sent::DryRun => Sent::DryRun,
            })
        }
    }
}

/// Keep what an operation returned: its text, and a reversing journal's number.
fn record_return(value: &Value, kind: DecisionKind, answer: &mut FnoAnswer) {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => return,
        other => other.to_string(),
    };
    if kind == DecisionKind::Rollback {
        let journal = value
            .get("JournalBatchNumber")
            .or_else(|| value.get("ReversingJournal"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| value.as_str().map(str::to_string));
        answer.reversing_journal = journal;
    }
    answer.messages.push(text);
}

/// The distinct voucher numbers on the journal's lines.
pub async fn read_vouchers(client: &FnoClient, config: &Config, run: &GovernedRun) -> Result<Vec<String>, FnoError> {
    let Some((set, _)) = line_set(run, config) else { return Ok(Vec::new()) };
    let filter: Vec<String> = run
        .target
        .keys
        .iter()
        .map(|(name, value)| match value {
            FieldValue::Text(s) => format!("{name} eq {}", crate::fno::keys::string_literal(s)),
            other => format!("{name} eq {other}"),
        })
        .collect();
    let query = Query {
        filter: Some(filter.join(" and ")),
        select: vec!["Voucher".into()],
        cross_company: run.company().is_some(),
        ..Default::default()
    };
    let mut vouchers: Vec<String> = client
        .query(&set, &query)
        .await?
        .rows
        .into_iter()
        .filter_map(|r| r.fields.get("Voucher").and_then(FieldValue::as_text).map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect();
    vouchers.sort();
    vouchers.dedup();
    Ok(vouchers)
}
