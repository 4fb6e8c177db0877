//! A connector's activation, read from the audit log: settings saved → validated → metadata synced →
//! first dry run → first live sandbox write with rollback evidence (DESIGN.md, "Sandbox first").
//!
//! Each step counts only evidence recorded after the step before it, for the configured environment, from
//! the first save of the current connection on (a save with another URL, tenant or client id starts
//! over); a config edited by hand, never saved by `connect`, counts from its first validation. The events for the first three are recorded where they happen (`connector connect`,
//! `connector validate`, `connector sync-metadata`); a dry run and an executed, rolled-back run are
//! audited by the decision pipeline already.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::{Config, EnvironmentKind};
use crate::model::{RunId, RunStatus};
use crate::store::{AuditEvent, Store, StoreError};

/// `connector connect` wrote the config.
pub const SAVED: &str = "connector.saved";
/// `connector validate` ran its checks (`outcome` pass or fail).
pub const VALIDATED: &str = "connector.validated";
/// `connector sync-metadata` stored a catalog and compared the config with it (or could not).
pub const SYNCED: &str = "metadata.synced";
/// The decision pipeline's dry run.
pub const DRY_RUN: &str = "decision.dry-run";

/// The five steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Saved,
    Validated,
    MetadataSynced,
    DryRun,
    SandboxWrite,
}

impl Step {
    pub const ALL: [Step; 5] = [Step::Saved, Step::Validated, Step::MetadataSynced, Step::DryRun, Step::SandboxWrite];

    /// How people name it.
    pub fn title(self) -> &'static str {
        match self {
            Step::Saved => "settings saved",
            Step::Validated => "validated",
            Step::MetadataSynced => "metadata synced",
            Step::DryRun => "first dry run",
            Step::SandboxWrite => "first sandbox write, rolled back",
        }
    }

    /// What to do to complete it.
    fn hint(self) -> &'static str {
        match self {
            Step::Saved => {
                "run `signoff connector connect --payload FILE` (or, for a config edited by hand, `signoff \
                 connector validate`)"
            }
            Step::Validated => "run `signoff connector validate`",
            Step::MetadataSynced => "run `signoff connector sync-metadata`",
            Step::DryRun => "propose a run and approve it with `--dry-run` (or `d` in the TUI)",
            Step::SandboxWrite => "approve a run in the sandbox, then `signoff rollback` it",
        }
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Done,
    /// The newest attempt failed; `detail` says why.
    Failed,
    Pending,
    /// A production connection has no sandbox write to rehearse.
    NotApplicable,
}

/// A rollback that undid the sandbox write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackEvidence {
    pub at: DateTime<Utc>,
    /// The `run.status` → `rolled-back` audit event.
    pub seq: i64,
    /// Requests and F&O's answers recorded for the run (`runs show`, `audit export`).
    pub exchanges: usize,
}

/// One step with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub step: Step,
    pub title: &'static str,
    pub state: StepState,
    /// When the evidence was recorded, and its audit event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackEvidence>,
    /// What the evidence says, why it failed, or what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl StepView {
    fn new(step: Step, state: StepState, detail: Option<String>) -> StepView {
        StepView {
            step,
            title: step.title(),
            state,
            at: None,
            seq: None,
            actor: None,
            run_id: None,
            rollback: None,
            detail,
        }
    }

    fn from_event(step: Step, state: StepState, e: &AuditEvent, detail: Option<String>) -> StepView {
        StepView {
            at: Some(e.at),
            seq: Some(e.seq),
            actor: Some(e.actor.clone()),
            run_id: e.run_id.clone(),
            ..StepView::new(step, state, detail)
        }
    }
}

/// The connector's activation: `connector status`, `connector connect --json`, and the TUI's header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activation {
    pub environment: String,
    pub url: Option<String>,
    pub kind: EnvironmentKind,
    /// Every step done (or not applicable).
    pub activated: bool,
    pub steps: Vec<StepView>,
    /// What to do next, when not activated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Activation {
    /// Steps done (or not applicable), of five.
    pub fn done(&self) -> usize {
        self.steps.iter().filter(|s| matches!(s.state, StepState::Done | StepState::NotApplicable)).count()
    }

    /// The first step not done.
    pub fn current(&self) -> Option<&StepView> {
        self.steps.iter().find(|s| matches!(s.state, StepState::Pending | StepState::Failed))
    }
}

/// Which connection an event is about: the environment URL, tenant and client id (never a secret).
fn connection(config: &Config) -> Value {
    json!({
        "url": config.environment.url,
        "tenant": config.auth.tenant,
        "client_id": config.auth.client_id,
    })
}

fn same_connection(e: &AuditEvent, connection: &Value) -> bool {
    ["url", "tenant", "client_id"].iter().all(|k| e.payload[k] == connection[k])
}

fn for_url(e: &AuditEvent, config: &Config) -> bool {
    e.payload["url"].as_str() == config.environment.url.as_deref()
}

/// Record that `connector connect` saved the settings; `extra` says what it saved (never a secret).
pub fn record_saved(store: &Store, actor: &str, config: &Config, extra: Value) -> Result<AuditEvent, StoreError> {
    let mut payload = connection(config);
    payload["environment"] = json!(config.environment.name);
    payload["saved"] = extra;
    store.append_audit(actor, None, SAVED, payload)
}

/// Record a validation: `failures` are the failed checks as `(check, detail)`.
pub fn record_validated(
    store: &Store,
    actor: &str,
    config: &Config,
    failures: &[(&str, &str)],
) -> Result<AuditEvent, StoreError> {
    let mut payload = connection(config);
    payload["outcome"] = json!(if failures.is_empty() { "pass" } else { "fail" });
    payload["failed"] = failures.iter().map(|(check, detail)| json!({ "check": check, "detail": detail })).collect();
    store.append_audit(actor, None, VALIDATED, payload)
}

/// Record a metadata sync: the mismatches found (or why none could be looked for).
pub fn record_synced(
    store: &Store,
    actor: &str,
    config: &Config,
    outcome: Result<&[String], &str>,
) -> Result<AuditEvent, StoreError> {
    let mut payload = connection(config);
    match outcome {
        Ok(mismatches) => {
            payload["outcome"] = json!(if mismatches.is_empty() { "pass" } else { "fail" });
            payload["mismatches"] = json!(mismatches);
        }
        Err(error) => {
            payload["outcome"] = json!("fail");
            payload["error"] = json!(error);
        }
    }
    store.append_audit(actor, None, SYNCED, payload)
}

/// The activation of `config`'s connection as `store` records it. `store` is `None` when there is none yet.
pub fn activation(store: Option<&Store>, config: &Config) -> Result<Activation, StoreError> {
    let mut steps = Vec::with_capacity(5);
    match store {
        Some(store) => walk(store, config, &mut steps)?,
        None => steps.push(StepView::new(Step::Saved, StepState::Pending, Some(Step::Saved.hint().into()))),
    }
    let production = config.environment.kind == EnvironmentKind::Production;
    for step in Step::ALL.into_iter().skip(steps.len()) {
        let state =
            if step == Step::SandboxWrite && production { StepState::NotApplicable } else { StepState::Pending };
        let detail = (state == StepState::NotApplicable)
            .then(|| "a production connection: rehearse the write on a sandbox connection first".to_string());
        steps.push(StepView::new(step, state, detail));
    }
    let mut activation = Activation {
        environment: config.environment.name.clone(),
        url: config.environment.url.clone(),
        kind: config.environment.kind,
        activated: false,
        steps,
        next: None,
    };
    activation.activated = activation.current().is_none();
    activation.next = activation.current().map(|s| match s.state {
        StepState::Failed => format!("{}: fix what failed, then {}", s.title, s.step.hint()),
        _ => format!("{}: {}", s.title, s.step.hint()),
    });
    Ok(activation)
}

/// Fill `steps` in order, stopping after the first step not done.
fn walk(store: &Store, config: &Config, steps: &mut Vec<StepView>) -> Result<(), StoreError> {
    let current = connection(config);
    let saves: Vec<AuditEvent> =
        store.events_of_kind_after(SAVED, 0)?.into_iter().filter(|e| for_url(e, config)).collect();
    let Some(newest) = saves.last() else {
        // A config written by hand (`connector init`, then edited) has no saved connect: its first
        // validation of this connection is where its rehearsal starts, and that validation counts.
        let validations = store.events_of_kind_after(VALIDATED, 0)?;
        if let Some(first) = validations.iter().find(|e| same_connection(e, &current)) {
            let detail = "edited by hand (no connect payload); counted from its first validation".to_string();
            steps.push(StepView::from_event(Step::Saved, StepState::Done, first, Some(detail)));
            return walk_from(store, config, &current, first.seq - 1, steps);
        }
        let detail = match &config.environment.url {
            Some(url) => format!("no saved connect for {url}: {}", Step::Saved.hint()),
            None => format!("no environment.url configured: {}", Step::Saved.hint()),
        };
        steps.push(StepView::new(Step::Saved, StepState::Pending, Some(detail)));
        return Ok(());
    };
    if !same_connection(newest, &current) {
        let detail = format!("the config's tenant or client id changed since the last save: {}", Step::Saved.hint());
        steps.push(StepView::new(Step::Saved, StepState::Pending, Some(detail)));
        return Ok(());
    }
    // The first save of the current streak: saving the same connection again keeps the progress.
    let first = saves.iter().rev().take_while(|e| same_connection(e, &current)).last().unwrap_or(newest);
    let objects = newest.payload["saved"]["managed_objects"].as_array().map_or(0, Vec::len);
    let saved_detail = format!("{objects} managed object(s) from a connect payload");
    steps.push(StepView::from_event(Step::Saved, StepState::Done, newest, Some(saved_detail)));
    walk_from(store, config, &current, first.seq, steps)
}

/// The steps after "settings saved", counting only evidence after event `after`.
fn walk_from(
    store: &Store,
    config: &Config,
    current: &Value,
    mut after: i64,
    steps: &mut Vec<StepView>,
) -> Result<(), StoreError> {
    for (step, kind) in [(Step::Validated, VALIDATED), (Step::MetadataSynced, SYNCED)] {
        let events: Vec<AuditEvent> =
            store.events_of_kind_after(kind, after)?.into_iter().filter(|e| same_connection(e, current)).collect();
        if let Some(pass) = events.iter().find(|e| e.payload["outcome"] == "pass") {
            steps.push(StepView::from_event(step, StepState::Done, pass, None));
            after = pass.seq;
            continue;
        }
        match events.last() {
            Some(failed) => steps.push(StepView::from_event(step, StepState::Failed, failed, Some(failure(failed)))),
            None => steps.push(StepView::new(step, StepState::Pending, Some(step.hint().into()))),
        }
        return Ok(());
    }

    // A dry run of an approval: the rehearsal's first look at the requests a write would send.
    let approvals = store.events_of_kind_after(DRY_RUN, after)?.into_iter();
    let Some(dry) = approvals.into_iter().find(|e| e.payload["decision"] == "approve") else {
        steps.push(StepView::new(Step::DryRun, StepState::Pending, Some(Step::DryRun.hint().into())));
        return Ok(());
    };
    let requests = dry.payload["requests"].as_array().map_or(0, Vec::len);
    steps.push(StepView::from_event(
        Step::DryRun,
        StepState::Done,
        &dry,
        Some(format!("{requests} request(s) shown, nothing sent")),
    ));
    if config.environment.kind == EnvironmentKind::Production {
        return Ok(());
    }
    steps.push(sandbox_write(store, dry.seq)?);
    Ok(())
}

/// The first run executed after the dry run and then rolled back.
fn sandbox_write(store: &Store, after: i64) -> Result<StepView, StoreError> {
    let executed = store.status_events_after(RunStatus::Executed, after)?;
    for rolled_back in store.status_events_after(RunStatus::RolledBack, after)? {
        let Some(write) = executed.iter().find(|e| e.run_id == rolled_back.run_id && e.seq < rolled_back.seq) else {
            continue;
        };
        let exchanges = match &write.run_id {
            Some(id) => store.exchanges(id)?.len(),
            None => 0,
        };
        let mut view = StepView::from_event(
            Step::SandboxWrite,
            StepState::Done,
            write,
            Some("executed in the sandbox, then rolled back".into()),
        );
        view.rollback = Some(RollbackEvidence { at: rolled_back.at, seq: rolled_back.seq, exchanges });
        return Ok(view);
    }
    let detail = match executed.first() {
        Some(e) => format!(
            "run {} was executed at {}; roll it back to complete the rehearsal: signoff rollback {0} --reason TEXT",
            e.run_id.as_ref().map_or("?", RunId::as_str),
            e.at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => Step::SandboxWrite.hint().into(),
    };
    Ok(StepView::new(Step::SandboxWrite, StepState::Pending, Some(detail)))
}

/// Why a recorded attempt failed, from its event.
fn failure(e: &AuditEvent) -> String {
    if let Some(error) = e.payload["error"].as_str() {
        return error.to_string();
    }
    if let Some(failed) = e.payload["failed"].as_array() {
        let parts: Vec<String> = failed
            .iter()
            .map(|f| format!("{}: {}", f["check"].as_str().unwrap_or("?"), f["detail"].as_str().unwrap_or("")))
            .collect();
        return parts.join("; ");
    }
    let mismatches: Vec<&str> =
        e.payload["mismatches"].as_array().map(|m| m.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    format!("{} mismatch(es): {}", mismatches.len(), mismatches.join("; "))
}
