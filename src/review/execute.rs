//! Executing a decision against F&O, exactly as DESIGN.md's action table says, every write guarded.
//!
//! Approve: the corrections and a bound-action operation go in ONE `$batch` changeset (each record under
//! its live ETag, so all of it commits or none does); without corrections the bound action alone carries
//! `If-Match`. A custom service cannot carry `If-Match`: corrections are committed first, the header is
//! re-read and compared, and only then is the service called. Reject: the configured reject operation.
//! Rollback: the compensating operation first, then every correction restored under fresh ETags.
//! Every step reports progress through `note` (the pipeline renews the lease there); the first failure
//! stops everything after it, and [`StepFailure::written`] says what had landed before it.

use serde_json::{Map, Value, json};

use crate::config::{Config, Operation, OperationKind, OperationName, OperationReturns, PostingMode};
use crate::fno::{BatchOp, EntityKey, FnoClient, FnoError, Sent};
use crate::model::{Action, ETag, FieldValue, Fields, GovernedRun, RunStatus, Snapshot};
use crate::rollback::RollbackPlan;

use super::digest::line_key_text;
use super::eligibility::DecisionKind;
use super::outcome::FnoAnswer;
use super::reconcile::{corrections_applied, has_corrections, operation_applied};
use super::revalidate::{line_key, line_set, read_header, read_live, target_key};

/// A step failed. `written` names, in order, what had already landed in F&O before it (empty: F&O is
/// as it was, unless this very step's outcome is unknown).
#[derive(Debug)]
pub struct StepFailure {
    pub error: FnoError,
    pub written: Vec<String>,
}

impl StepFailure {
    /// F&O may have applied the failed step: the caller must reconcile by reading.
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
    MissingOperation { name: OperationName },
    #[error("the operation `{name}` is misconfigured: {reason}")]
    BadOperation { name: OperationName, reason: String },
    #[error("{0}")]
    Workflow(String),
}

/// The configured operation a decision on an action calls, if the action has one.
pub fn operation_name(action: Action, kind: DecisionKind) -> Option<OperationName> {
    match (action, kind) {
        (Action::ApproveVendorInvoice, DecisionKind::Approve) => Some(OperationName::InvoiceApprove),
        (Action::ApproveVendorInvoice, DecisionKind::Reject) => Some(OperationName::InvoiceReject),
        (Action::ApproveVendorInvoice, DecisionKind::Rollback) => Some(OperationName::InvoiceRecall),
        (Action::PostJournal, DecisionKind::Approve) => Some(OperationName::JournalPost),
        (Action::PostJournal, DecisionKind::Reject) => Some(OperationName::JournalReject),
        (Action::PostJournal, DecisionKind::Rollback) => Some(OperationName::JournalReverse),
        _ => None,
    }
}

/// Check, before anything is sent, that the operation this decision needs is configured.
pub fn check_operation(config: &Config, run: &GovernedRun, kind: DecisionKind) -> Result<(), PlanError> {
    let action = run.action;
    if action == Action::ExecuteOperation {
        // The managed object's own operation (and, for a rollback, its compensation) must be configured.
        let object = &run.target.managed_object;
        let name = run.proposed.operation.as_deref().unwrap_or_default();
        let op = config.record_operation(object, name).ok_or_else(|| {
            PlanError::Workflow(format!(
                "operation '{name}' is not configured on managed object '{object}': add \
                 [managed_objects.{object}.operations.{name}] (see docs/config.md)"
            ))
        })?;
        if kind == DecisionKind::Rollback && op.compensation.is_none() {
            return Err(PlanError::Workflow(format!("operation '{name}' names no compensation to roll it back with")));
        }
        return Ok(());
    }
    if action == Action::ApproveWorkflowItem {
        // Decided through [intake.workflow]'s validate and complete actions, which must be on.
        return super::workflow::settings(config).map(|_| ()).map_err(|e| PlanError::Workflow(e.to_string()));
    }
    let Some(name) = operation_name(action, kind) else { return Ok(()) };
    let op = config.operation(name).ok_or(PlanError::MissingOperation { name })?;
    let bad = |reason: &str| PlanError::BadOperation { name, reason: reason.into() };
    match op.kind {
        OperationKind::BoundAction if op.action.is_none() => Err(bad("a bound action needs `action`")),
        OperationKind::CustomService if op.service.is_none() => Err(bad("a custom service needs `service`")),
        _ => Ok(()),
    }
}

/// Whether F&O is written at all for this decision on this action (a rejected vendor update is not; a
/// rejected workflow item is: F&O's work item is completed with the reject outcome).
pub fn writes_to_fno(action: Action, kind: DecisionKind) -> bool {
    kind != DecisionKind::Reject || operation_name(action, kind).is_some() || action == Action::ApproveWorkflowItem
}

/// What one execution needs to know.
pub struct Execution<'a> {
    pub client: &'a FnoClient,
    pub config: &'a Config,
    pub run: &'a GovernedRun,
    /// The re-validated live record.
    pub live: &'a Snapshot,
    pub kind: DecisionKind,
    pub reason: &'a str,
    /// The status the run had before this decision (a rollback of a partly executed run has no
    /// operation to compensate).
    pub from: RunStatus,
    /// For a rollback: the plan the approver was shown; its reversal date is the one sent.
    pub plan: Option<&'a RollbackPlan>,
    pub note: &'a (dyn Fn(String) + Send + Sync),
}

/// Execute the decision.
pub async fn execute(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    if x.run.action == Action::ApproveWorkflowItem {
        // Approve and reject alike complete the F&O work item (the pipeline validated it just before).
        return super::workflow::execute(x).await;
    }
    match x.kind {
        DecisionKind::Approve => approve(x).await,
        DecisionKind::Reject => {
            let mut answer = FnoAnswer::default();
            if let Some(name) = operation_name(x.run.action, x.kind) {
                let fail = |error| StepFailure { error, written: Vec::new() };
                (x.note)(format!("calling the {name} operation"));
                let value = call_operation(x, name, Some(&x.live.etag), &[]).await.map_err(fail)?;
                keep_return(x, value, name, &mut answer);
            }
            Ok(answer)
        }
        DecisionKind::Rollback => rollback(x).await,
    }
}

/// The corrections of an approval as changeset operations, with what each writes, and whether the
/// header itself is written (then its guarded PATCH binds anything after it in the changeset).
pub(super) struct Corrections {
    ops: Vec<BatchOp>,
    written: Vec<String>,
    /// The header fields written (empty: the header is not written).
    header: Fields,
}

impl Corrections {
    fn header_patched(&self) -> bool {
        !self.header.is_empty()
    }
}

pub(super) fn corrections(x: &Execution<'_>, fields: &Fields, lines: &[LineWrite]) -> Result<Corrections, FnoError> {
    let run = x.run;
    let mut c = Corrections { ops: Vec::new(), written: Vec::new(), header: fields.clone() };
    if !fields.is_empty() {
        let key = target_key(run)?;
        c.ops.push(BatchOp::patch(&run.target.entity_set, &key, fields, &x.live.etag));
        c.written.push(format!("{} header: {}", run.target.entity_set, names(fields)));
    }
    let Some((set, _)) = line_set(run, x.config) else { return Ok(c) };
    for line in lines {
        let key_text = line_key_text(&line.keys);
        match &line.write {
            LineOp::Patch { fields, etag } => {
                c.ops.push(BatchOp::patch(&set, &line_key(&line.keys)?, fields, etag));
                c.written.push(format!("line {key_text}: {}", names(fields)));
            }
            LineOp::Delete { etag } => {
                c.ops.push(BatchOp::delete(&set, &line_key(&line.keys)?, etag));
                c.written.push(format!("line {key_text} removed"));
            }
            LineOp::Post { fields } => {
                c.ops.push(BatchOp::post(&set, fields));
                c.written.push(format!("line {key_text} added"));
            }
        }
    }
    Ok(c)
}

/// One line write: its key and what is done to it.
pub(super) struct LineWrite {
    keys: Fields,
    write: LineOp,
}

enum LineOp {
    Patch { fields: Fields, etag: ETag },
    Delete { etag: ETag },
    Post { fields: Fields },
}

/// The line writes an approval makes: each proposed line against its live version.
pub(super) fn proposed_line_writes(run: &GovernedRun, live: &Snapshot) -> Vec<LineWrite> {
    run.proposed
        .lines
        .iter()
        .map(|line| {
            let wanted = line_key_text(&line.keys);
            let live_line = live.lines.iter().find(|l| line_key_text(&l.keys) == wanted);
            let write = match (live_line, line.remove) {
                (Some(l), true) => LineOp::Delete { etag: l.etag.clone() },
                (Some(l), false) => LineOp::Patch { fields: line.fields.clone(), etag: l.etag.clone() },
                (None, _) => {
                    let mut fields = line.keys.clone();
                    fields.extend(line.fields.clone());
                    LineOp::Post { fields }
                }
            };
            LineWrite { keys: line.keys.clone(), write }
        })
        .collect()
}

fn names(fields: &Fields) -> String {
    fields.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}

async fn approve(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    if let Some(done) = super::execute_record::approve(x).await {
        return done;
    }
    if let Some(done) = super::execute_role::approve(x).await {
        return done;
    }
    let run = x.run;
    let mode = x.config.posting_mode();
    if run.action == Action::PostJournal && mode != PostingMode::Post {
        // Approved, and left to F&O to post: the corrections and the hand-over fields, never the post.
        return super::handover::hand_over(x, mode).await;
    }
    let mut answer = FnoAnswer::default();
    let lines = proposed_line_writes(run, x.live);
    let c = corrections(x, &run.proposed.fields, &lines).map_err(|error| StepFailure { error, written: Vec::new() })?;
    let Some(name) = operation_name(run.action, x.kind) else {
        // Vendor and user runs: the corrections are the whole decision.
        let written = send_corrections(x, c, &mut answer).await?;
        if written.is_empty() {
            answer.messages.push("nothing to write: the run proposes no change".into());
        }
        return Ok(answer);
    };
    let op = x.config.operation(name).ok_or_else(|| StepFailure {
        error: FnoError::InvalidUrl { url: name.to_string(), reason: "the operation is not configured".into() },
        written: Vec::new(),
    })?;
    match op.kind {
        OperationKind::BoundAction if !c.ops.is_empty() => {
            // Corrections and the operation in one atomic changeset: never half a decision.
            let if_match = (!c.header_patched()).then_some(&x.live.etag);
            let mut ops = c.ops;
            ops.push(
                action_op(x, op, name, if_match, &[]).map_err(|error| StepFailure { error, written: Vec::new() })?,
            );
            (x.note)(format!(
                "$batch: one changeset of {} operation(s): the corrections and the {name} operation, each guarded",
                ops.len()
            ));
            let parts = x.client.batch(&ops).await.map_err(|error| StepFailure { error, written: Vec::new() })?;
            if let Sent::Done(parts) = parts
                && let Some(last) = parts.last()
                && !last.body.trim().is_empty()
            {
                let value = crate::fno::action_value(&last.body, name.as_str()).ok();
                keep_return(x, Sent::Done(value), name, &mut answer);
            }
            answer.messages.push(format!("$batch changeset committed: {}", c.written.join("; ")));
        }
        OperationKind::BoundAction => {
            (x.note)(format!("calling the {name} operation with If-Match {}", x.live.etag));
            let value = call_operation(x, name, Some(&x.live.etag), &[])
                .await
                .map_err(|error| StepFailure { error, written: Vec::new() })?;
            keep_return(x, value, name, &mut answer);
        }
        OperationKind::CustomService => {
            let had_corrections = !c.ops.is_empty();
            let written = send_corrections(x, c, &mut answer).await?;
            if had_corrections && !x.client.is_dry_run() {
                // A custom service cannot carry If-Match: re-read the header right before calling it.
                (x.note)(format!("re-reading {} before the {name} custom service", run.target.entity_set));
                guard_before_service(x).await.map_err(|error| StepFailure { error, written: written.clone() })?;
            }
            (x.note)(format!("calling the {name} custom service"));
            let value = call_operation(x, name, None, &[])
                .await
                .map_err(|error| StepFailure { error, written: written.clone() })?;
            keep_return(x, value, name, &mut answer);
        }
    }
    if run.action == Action::PostJournal && !x.client.is_dry_run() && answer.vouchers.is_empty() {
        // Posting may renumber the vouchers (number allocation at posting). When the answer did not
        // name them, read them back as evidence (a read, never a resend).
        answer.vouchers = read_vouchers(x.client, x.config, run).await.unwrap_or_default();
    }
    Ok(answer)
}

/// Send corrections on their own: one guarded PATCH for header fields alone, else one changeset.
/// Returns what was written.
pub(super) async fn send_corrections(
    x: &Execution<'_>,
    c: Corrections,
    answer: &mut FnoAnswer,
) -> Result<Vec<String>, StepFailure> {
    let fail = |error| StepFailure { error, written: Vec::new() };
    match c.ops.len() {
        0 => return Ok(Vec::new()),
        1 if c.header_patched() => {
            let run = x.run;
            (x.note)(format!("PATCH {} with If-Match {}", run.target.entity_set, x.live.etag));
            let key = target_key(run).map_err(fail)?;
            let etag = x.client.patch(&run.target.entity_set, &key, &c.header, &x.live.etag).await.map_err(fail)?;
            answer.new_etag = done_etag(etag);
        }
        n => {
            (x.note)(format!("$batch: one changeset of {n} operation(s), each under its live ETag"));
            x.client.batch(&c.ops).await.map_err(fail)?;
            answer.messages.push(format!("$batch changeset committed: {}", c.written.join("; ")));
        }
    }
    Ok(c.written)
}

/// Right before a custom service: the header must be exactly as the corrections left it. Every header
/// field of the reviewed snapshot must hold its live value, or the proposed value where the run wrote
/// it. Totals F&O derives from the lines are left out after line corrections: the lines themselves were
/// written under their ETags in the changeset.
async fn guard_before_service(x: &Execution<'_>) -> Result<(), FnoError> {
    let run = x.run;
    let now = read_header(x.client, run).await?;
    let derived: &[&str] =
        if run.proposed.lines.is_empty() { &[] } else { super::drift::derived_from_lines(run.action) };
    let mut changed = Vec::new();
    for (name, live_value) in &x.live.fields {
        if derived.contains(&name.as_str()) {
            continue;
        }
        let expected = run.proposed.fields.get(name).unwrap_or(live_value);
        if !now.fields.get(name).is_some_and(|v| v.same_value(expected)) {
            changed.push(name.clone());
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    Err(FnoError::PreconditionFailed {
        what: format!(
            "{} (re-read before the custom service: {} changed by someone else)",
            run.target.entity_set,
            crate::text::visible(&changed.join(", "))
        ),
    })
}

/// A rollback undoes everything the run did, in reverse order: the compensating operation first (recall,
/// reverse), then every correction restored to its before-value under fresh ETags, wherever F&O still
/// lets the record be edited.
async fn rollback(x: &Execution<'_>) -> Result<FnoAnswer, StepFailure> {
    if let Some(done) = super::execute_record::rollback(x).await {
        return done;
    }
    if let Some(done) = super::execute_role::rollback(x).await {
        return done;
    }
    let run = x.run;
    let mut answer = FnoAnswer::default();
    let mut written: Vec<String> = Vec::new();
    let name = operation_name(run.action, x.kind);
    let decision_in_effect = operation_applied(run, DecisionKind::Approve, &x.live.fields) == Some(true);
    if let Some(name) = name
        && decision_in_effect
    {
        // The plan shown is the plan sent: its comment and its reversal date (the approver's reason is in
        // the audit trail of the rollback).
        let comment = json!(format!("rollback of {}", run.id));
        let mut extra: Vec<(&str, Value)> = vec![("comment", comment.clone()), ("reason", comment)];
        if let (Some(date), Some(op)) = (x.plan.and_then(|p| p.reversal_date), x.config.operation(name)) {
            let catalog = x.client.catalog();
            extra.push((
                "reversal_date",
                json!(crate::rollback::date_parameter(op, catalog.map(|c| c.as_ref()), "reversal_date", date)),
            ));
        }
        (x.note)(format!("calling the {name} operation with If-Match {}", x.live.etag));
        let value = call_operation(x, name, Some(&x.live.etag), &extra)
            .await
            .map_err(|error| StepFailure { error, written: Vec::new() })?;
        keep_return(x, value, name, &mut answer);
        written.push(match name {
            OperationName::JournalReverse => match &answer.reversing_journal {
                Some(j) => format!("journal reversed by journal {j}"),
                None => "journal reversed".into(),
            },
            _ => format!("{name} operation"),
        });
    }
    if run.action == Action::PostJournal && decision_in_effect {
        // A posted journal cannot be edited: its reversal reverses the lines as posted, corrections included.
        return Ok(answer);
    }
    // Restore the corrections on the record as it is now (the operation changed its ETags).
    let current = if written.is_empty() || x.client.is_dry_run() {
        x.live.clone()
    } else {
        (x.note)(format!("re-reading {} to restore the corrections", run.target.entity_set));
        read_live(x.client, run, x.config).await.map_err(|error| StepFailure { error, written: written.clone() })?
    };
    if !corrections_applied(run, &current) && x.from != RunStatus::RollbackPartial && has_corrections(run) {
        return Err(StepFailure {
            error: FnoError::PreconditionFailed {
                what: format!("{} (the corrections are no longer as the run wrote them)", run.target.entity_set),
            },
            written,
        });
    }
    let before_len = written.len();
    let sub = Execution { live: &current, ..*x };
    let c = corrections(&sub, &restore_header(run, &current), &restore_writes(run, &current))
        .map_err(|error| StepFailure { error, written: written.clone() })?;
    let restored: Vec<String> = c.written.iter().map(|w| format!("restored {w}")).collect();
    match send_corrections(&sub, c, &mut answer).await {
        Ok(_) => written.extend(restored),
        Err(mut f) => {
            f.written = written;
            return Err(f);
        }
    }
    if written.len() == before_len && name.is_none() {
        answer.messages.push("nothing to restore: the record already holds its before-values".into());
    }
    answer.messages.extend(written);
    Ok(answer)
}

/// The header fields the run changed that still hold the proposed value, set back to their before-values.
fn restore_header(run: &GovernedRun, current: &Snapshot) -> Fields {
    run.proposed
        .fields
        .iter()
        .filter(|(name, proposed)| current.fields.get(*name).is_some_and(|v| v.same_value(proposed)))
        .map(|(name, _)| (name.clone(), run.before.fields.get(name).cloned().unwrap_or(FieldValue::Null)))
        .collect()
}

/// The line writes that undo the run's line corrections on `current`: changed lines PATCHed back, added
/// lines deleted, removed lines re-added from the before snapshot.
fn restore_writes(run: &GovernedRun, current: &Snapshot) -> Vec<LineWrite> {
    let mut out = Vec::new();
    for line in &run.proposed.lines {
        let key = line_key_text(&line.keys);
        let now = current.lines.iter().find(|l| line_key_text(&l.keys) == key);
        let before = run.before.lines.iter().find(|l| line_key_text(&l.keys) == key);
        let write = match (before, now, line.remove) {
            (Some(b), None, true) => {
                let mut fields = b.keys.clone();
                fields
                    .extend(b.fields.iter().filter(|(n, _)| !is_system_field(n)).map(|(n, v)| (n.clone(), v.clone())));
                LineOp::Post { fields }
            }
            (None, Some(n), false) => LineOp::Delete { etag: n.etag.clone() },
            (Some(b), Some(n), false) => {
                let fields: Fields = line
                    .fields
                    .iter()
                    .filter(|(name, proposed)| n.fields.get(*name).is_some_and(|v| v.same_value(proposed)))
                    .map(|(name, _)| (name.clone(), b.fields.get(name).cloned().unwrap_or(FieldValue::Null)))
                    .collect();
                if fields.is_empty() {
                    continue;
                }
                LineOp::Patch { fields, etag: n.etag.clone() }
            }
            _ => continue,
        };
        out.push(LineWrite { keys: line.keys.clone(), write });
    }
    out
}

/// Fields F&O assigns itself and refuses on create.
fn is_system_field(name: &str) -> bool {
    name.starts_with('@') || name == "RecId" || name == "RecVersion"
}

fn done_etag(sent: Sent<Option<ETag>>) -> Option<String> {
    match sent {
        Sent::Done(Some(etag)) => Some(etag.0),
        _ => None,
    }
}

/// The X++ parameters of an operation call: the logical ones it maps (`comment`, `reason`,
/// `reversal_date`, …) and the target's key fields it names.
fn operation_body(x: &Execution<'_>, op: &Operation, extra: &[(&str, Value)]) -> Value {
    let mut logical: Vec<(&str, Value)> = vec![("comment", json!(x.reason)), ("reason", json!(x.reason))];
    logical.extend(extra.iter().cloned());
    let mut body = Map::new();
    for (logical_name, value) in logical {
        if let Some(param) = op.parameters.get(logical_name) {
            body.insert(param.clone(), value);
        }
    }
    for (key_name, value) in &x.run.target.keys {
        if let Some(param) = op.parameters.get(key_name) {
            body.insert(param.clone(), value.to_json());
        }
    }
    Value::Object(body)
}

/// The entity set and key a bound action is bound to.
fn binding(x: &Execution<'_>, op: &Operation) -> Result<(String, EntityKey), FnoError> {
    let set = op.entity_set.clone().unwrap_or_else(|| x.run.target.entity_set.clone());
    Ok((set, target_key(x.run)?))
}

fn action_op(
    x: &Execution<'_>,
    op: &Operation,
    name: OperationName,
    if_match: Option<&ETag>,
    extra: &[(&str, Value)],
) -> Result<BatchOp, FnoError> {
    let (set, key) = binding(x, op)?;
    let action = op.action.clone().ok_or_else(|| FnoError::InvalidUrl {
        url: name.to_string(),
        reason: "a bound action needs `action`".into(),
    })?;
    Ok(BatchOp::action(&set, &key, &action, &operation_body(x, op, extra), if_match))
}

/// Call the configured operation; a bound action carries `If-Match` when given.
async fn call_operation(
    x: &Execution<'_>,
    name: OperationName,
    if_match: Option<&ETag>,
    extra: &[(&str, Value)],
) -> Result<Sent<Option<Value>>, FnoError> {
    let Some(op) = x.config.operation(name) else {
        return Err(FnoError::InvalidUrl { url: name.to_string(), reason: "the operation is not configured".into() });
    };
    let body = operation_body(x, op, extra);
    match op.kind {
        OperationKind::BoundAction => {
            let (set, key) = binding(x, op)?;
            let action = op.action.clone().unwrap_or_default();
            x.client.bound_action(&set, &key, &action, &body, if_match).await
        }
        OperationKind::CustomService => {
            let service = op.service.clone().unwrap_or_default();
            Ok(match x.client.invoke_service(&service, &body).await? {
                Sent::Done(v) => Sent::Done(Some(v)),
                Sent::DryRun => Sent::DryRun,
            })
        }
    }
}

/// Keep what an operation returned: its text, or for a journal reversal the reversing journal's number.
fn keep_return(x: &Execution<'_>, value: Sent<Option<Value>>, name: OperationName, answer: &mut FnoAnswer) {
    let Sent::Done(Some(value)) = value else { return };
    let declared = x.config.operation(name).and_then(|op| op.returns);
    if declared == Some(OperationReturns::Vouchers) {
        answer.vouchers = answered_vouchers(&value);
        if !answer.vouchers.is_empty() {
            return;
        }
    }
    let text = match &value {
        Value::String(s) => s.clone(),
        Value::Null => return,
        other => other.to_string(),
    };
    if name == OperationName::JournalReverse {
        let journal = value
            .get("JournalBatchNumber")
            .or_else(|| value.get("ReversingJournal"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| value.as_str().map(str::to_string));
        answer.reversing_journal = journal;
        return;
    }
    answer.messages.push(text);
}

/// The voucher numbers a post answered with: a comma-separated string or an array of strings.
fn answered_vouchers(value: &Value) -> Vec<String> {
    let mut vouchers: Vec<String> = match value {
        Value::String(s) => s.split(',').map(|v| v.trim().to_string()).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(|v| v.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    vouchers.retain(|v| !v.is_empty());
    vouchers.sort();
    vouchers.dedup();
    vouchers
}

/// The distinct voucher numbers on the journal's lines.
pub async fn read_vouchers(client: &FnoClient, config: &Config, run: &GovernedRun) -> Result<Vec<String>, FnoError> {
    let Some((set, _)) = line_set(run, config) else { return Ok(Vec::new()) };
    let query = crate::fno::Query {
        select: vec!["Voucher".into()],
        cross_company: run.company().is_some(),
        ..crate::fno::Query::matching(&run.target.keys)
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

#[cfg(test)]
mod tests {
    use super::answered_vouchers;
    use serde_json::json;

    #[test]
    fn a_post_answer_names_its_vouchers_as_a_list_or_an_array_and_anything_else_names_none() {
        assert_eq!(answered_vouchers(&json!("GNJL-2, GNJL-1,GNJL-2")), vec!["GNJL-1", "GNJL-2"]);
        assert_eq!(answered_vouchers(&json!(["GNJL-9", " ", "GNJL-3"])), vec!["GNJL-3", "GNJL-9"]);
        assert!(answered_vouchers(&json!("")).is_empty());
        assert!(answered_vouchers(&json!({"Posted": true})).is_empty());
    }
}
