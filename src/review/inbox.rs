//! `signoff inbox sync`: F&O's workflow inbox as governed runs (`[intake.workflow]`, docs/pipeline.md).
//!
//! The pending work items assigned to the approver's F&O user are read from `WorkflowWorkItems`; each
//! becomes an `approve-workflow-item` run whose before snapshot is the item's document (the invoice or
//! journal header and every line, with their ETags, read by the same reader re-validation uses) and whose
//! `work_item` is the item itself. Idempotent: an item already in the store as a run is left as it is.
//! A run whose item F&O no longer lists as pending for the user (decided, delegated or recalled in F&O)
//! becomes stale: it is kept, with why, never dropped.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::fno::{FnoClient, FnoError, Query};
use crate::model::{
    Action, ActorId, FieldValue, Fields, GovernedRun, Proposed, RUN_FORMAT, Requester, RequesterKind, Route, RunId,
    RunStatus, Snapshot, Target, WorkItem, record_key,
};
use crate::store::StoreError;

use super::claim::{self, Claim};
use super::revalidate::read_record;
use super::workflow::{self, WorkflowError};
use super::{Db, Reviewer};

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// The F&O user whose inbox was read.
    pub user: String,
    /// Runs made from items that were not in the store yet.
    pub added: Vec<RunId>,
    /// Pending items already in the store as runs (left as they are).
    pub unchanged: Vec<RunId>,
    /// Runs whose item is no longer pending for the user in F&O: now stale.
    pub stale: Vec<RunId>,
    /// Pending items that could not become runs, with why.
    pub skipped: Vec<Skipped>,
}

/// A pending item left out of the queue, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub work_item: String,
    pub reason: String,
}

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("cannot read the F&O workflow inbox: {0}")]
    Fno(#[from] FnoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The run id an item becomes: `wf-` and its id, with anything outside the run id alphabet as `-`.
pub fn run_id(work_item: &str) -> RunId {
    let safe: String = work_item
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .take(125)
        .collect();
    RunId(format!("wf-{safe}"))
}

/// Read the approver's pending work items into the store, and mark stale the runs whose items are gone.
pub async fn sync(r: &Reviewer) -> Result<SyncReport, InboxError> {
    let config = &r.config;
    let w = workflow::settings(config)?;
    let client = r.client();
    let user = workflow::fno_user(client, config, r.approver()).await?;
    let mut key = Fields::new();
    key.insert(w.fields.user.clone(), FieldValue::Text(user.clone()));
    // Filtered by user only: the status is compared here, so its enum type's name need not be known.
    let rows = client.query(&w.entity_set, &Query::matching(&key)).await?.rows;
    let text = |fields: &Fields, name: &str| fields.get(name).and_then(FieldValue::as_text).unwrap_or("").to_string();
    let pending: Vec<Fields> =
        rows.into_iter().map(|r| r.fields).filter(|f| text(f, &w.fields.status) == w.pending_status).collect();
    let mut report = SyncReport { user: user.clone(), ..SyncReport::default() };
    let store = Db::open(&r.store, std::time::Duration::from_secs(config.store.busy_timeout_secs))?;
    let mut runs = Vec::new();
    let mut pending_ids = BTreeSet::new();
    for item in &pending {
        let id = text(item, &w.fields.id);
        pending_ids.insert(id.clone());
        if store.db().get(&run_id(&id))?.is_some() {
            report.unchanged.push(run_id(&id));
            continue;
        }
        match capture(client, config, &user, item).await {
            Ok(Ok(run)) => runs.push(run),
            Ok(Err(reason)) => {
                report.skipped.push(Skipped { work_item: crate::text::visible(&id).into_owned(), reason })
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !runs.is_empty() {
        report.added = store.db().import(&runs, r.approver())?.imported;
    }
    report.stale = mark_gone(r, &store, &user, &pending_ids)?;
    Ok(report)
}

/// The run for one work item, by its id, as [`sync`] would make it: `signoff propose
/// approve-workflow-item ID`. Refused (`Err(why)`) unless the item awaits `approver`'s F&O user now.
pub async fn item_run(
    client: &FnoClient,
    config: &Config,
    approver: &str,
    item_id: &str,
) -> Result<Result<GovernedRun, String>, InboxError> {
    let w = workflow::settings(config)?;
    let user = workflow::fno_user(client, config, approver).await?;
    let mut key = Fields::new();
    key.insert(w.fields.id.clone(), FieldValue::Text(item_id.to_string()));
    let Some(item) = client.query(&w.entity_set, &Query::matching(&key)).await?.rows.into_iter().next() else {
        return Ok(Err(format!("F&O has no work item {}", crate::text::visible(item_id))));
    };
    let text = |name: &str| item.fields.get(name).and_then(FieldValue::as_text).unwrap_or("").to_string();
    if text(&w.fields.user) != user || text(&w.fields.status) != w.pending_status {
        return Ok(Err(format!(
            "work item {} does not await you ({user} in F&O): it is {} for {}",
            crate::text::visible(item_id),
            crate::text::visible(&text(&w.fields.status)),
            crate::text::visible(&text(&w.fields.user))
        )));
    }
    Ok(capture(client, config, &user, &item.fields).await?)
}

/// One pending item as a run: `Ok(Err(why))` when it cannot become one (its document is unknown).
async fn capture(
    client: &FnoClient,
    config: &Config,
    user: &str,
    item: &Fields,
) -> Result<Result<GovernedRun, String>, FnoError> {
    let w = &config.intake.workflow;
    let f = &w.fields;
    let text = |name: &str| item.get(name).and_then(FieldValue::as_text).unwrap_or("").to_string();
    let id = text(&f.id);
    let menu_item = text(&f.menu_item);
    let Some(object) = w.document_for(&menu_item) else {
        return Ok(Err(format!(
            "its menu item '{}' names no document signoff knows; map it under [intake.workflow.documents] to \
             \"vendor_invoice\" or \"ledger_journal\"",
            crate::text::visible(&menu_item)
        )));
    };
    let Some(document) = Action::for_document(object) else {
        return Ok(Err(format!("[intake.workflow.documents] maps '{menu_item}' to '{object}', which is no document")));
    };
    let entity_set = config
        .managed_objects
        .get(object)
        .map(|m| m.entity_set.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| document.entity_set().unwrap_or_default().to_string());
    let Some(rec_id) = item.get(&f.document).filter(|v| !matches!(v, FieldValue::Null)).cloned() else {
        return Ok(Err(format!("it names no document ({} is empty)", f.document)));
    };
    let mut by_rec_id = Fields::new();
    by_rec_id.insert(f.document_rec_id.clone(), rec_id.clone());
    let query = Query { cross_company: true, top: Some(1), ..Query::matching(&by_rec_id) };
    let Some(row) = client.query(&entity_set, &query).await?.rows.into_iter().next() else {
        return Ok(Err(format!("its document ({entity_set} with {} {rec_id}) is not in F&O", f.document_rec_id)));
    };
    let mut keys = Fields::new();
    for name in ["dataAreaId", record_key(document).unwrap_or_default()] {
        match row.fields.get(name) {
            Some(FieldValue::Text(v)) if !v.is_empty() => {
                let v = if name == "dataAreaId" { v.to_lowercase() } else { v.clone() };
                keys.insert(name.to_string(), FieldValue::Text(v));
            }
            _ => return Ok(Err(format!("its document in {entity_set} came without its key {name}"))),
        }
    }
    let due = item.get(&f.due).and_then(FieldValue::as_text).and_then(due_date);
    let instructions = Some(text(&f.instructions)).filter(|s| !s.trim().is_empty());
    let originator = Some(text(&f.originator)).filter(|s| !s.trim().is_empty());
    let work_item = WorkItem {
        id: id.clone(),
        user_id: user.to_string(),
        subject: text(&f.subject),
        instructions,
        due_at: due,
        element_id: Some(text(&f.element_id)).filter(|s| !s.is_empty()),
        menu_item: Some(menu_item.clone()),
    };
    let subject =
        if work_item.subject.trim().is_empty() { "(no subject)".to_string() } else { work_item.subject.clone() };
    let mut run = GovernedRun {
        format: RUN_FORMAT.to_string(),
        id: run_id(&id),
        action: Action::ApproveWorkflowItem,
        environment: config.environment.name.clone(),
        // The item was put in the inbox by F&O's workflow; the person who submitted the document, when F&O
        // names them, answers for it (and so may not decide it).
        requester: Requester {
            id: ActorId("fno-workflow".into()),
            kind: RequesterKind::Automation,
            sponsor: Some(ActorId(originator.unwrap_or_else(|| "unknown-originator".into()))),
        },
        requested_at: Utc::now(),
        expires_at: Utc::now(),
        justification: format!("F&O workflow work item {id}: {subject}"),
        target: Target { entity_set, managed_object: object.to_string(), keys },
        before: Snapshot {
            etag: row.etag.clone().unwrap_or_else(|| crate::model::ETag(String::new())),
            absent: false,
            captured_at: Utc::now(),
            created_by: None,
            fields: Fields::new(),
            lines: Vec::new(),
            enabled_roles: None,
        },
        proposed: Proposed::default(),
        evidence: Vec::new(),
        route: Route { required_approvals: 1, eligible_groups: w.eligible_groups.clone() },
        rollback_hint: Some("a completed workflow step is undone only in F&O (recall or resubmit)".into()),
        work_item: Some(work_item),
        supersedes: None,
    };
    run.before = read_record(client, &run, config, true).await?;
    run.requested_at = run.before.captured_at.max(Utc::now());
    run.expires_at = run.requested_at + chrono::Duration::days(i64::from(w.expires_days));
    // The run must be one a run file could carry: the same checks, the same messages.
    if let Err(e) = crate::model::parse_run(&run.canonical_json(), &format!("work item {id}")) {
        return Ok(Err(format!("it does not make a valid run: {e}")));
    }
    Ok(Ok(run))
}

/// F&O's empty date (`1900-01-01…`) is no date.
fn due_date(text: &str) -> Option<DateTime<Utc>> {
    text.parse::<DateTime<Utc>>().ok().filter(|d| d.format("%Y").to_string() != "1900")
}

/// Every open run of `user`'s items that F&O no longer lists as pending becomes stale (a run another
/// process is deciding right now is left to that decision, which validates first).
fn mark_gone(r: &Reviewer, store: &Db, user: &str, pending: &BTreeSet<String>) -> Result<Vec<RunId>, StoreError> {
    let open = [RunStatus::Pending, RunStatus::Approved];
    let runs = store.db().runs_to_judge(&open, Some(Action::ApproveWorkflowItem))?;
    let mut stale = Vec::new();
    for judged in runs {
        let Some(item) = &judged.run.work_item else { continue };
        if !item.user_id.eq_ignore_ascii_case(user) || pending.contains(&item.id) {
            continue;
        }
        let id = judged.run.id.clone();
        let claim = match Claim::take(&store.db(), &id, &claim::holder(r.approver()), r.lease_ttl) {
            Ok(c) => c,
            Err(StoreError::LeaseHeld { .. }) => continue,
            Err(e) => return Err(e),
        };
        let reason = format!(
            "F&O no longer lists work item {} as pending for {user}: it was decided, delegated or recalled in F&O",
            item.id
        );
        let detail = json!({ "reason": reason, "work_item": item.id, "source": "inbox sync" });
        let moved = store.db().transition(&id, &open, RunStatus::Stale, r.approver(), detail);
        let _ = claim.release(&store.db());
        match moved {
            Ok(_) => stale.push(id),
            Err(StoreError::StatusConflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stale)
}
