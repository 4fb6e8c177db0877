//! May this approver take this decision on this run, here, now? Checked before anything is read
//! from F&O, so a refusal costs nothing and writes nothing.

use chrono::{DateTime, Utc};

use crate::config::{Config, EnvironmentKind};
use crate::model::{GovernedRun, RunStatus};

/// The decision being taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    Approve,
    Reject,
    Rollback,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Reject => "reject",
            DecisionKind::Rollback => "rollback",
        }
    }

    /// `approved`, `rejected`, `rolled back`.
    pub fn past(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approved",
            DecisionKind::Reject => "rejected",
            DecisionKind::Rollback => "rolled back",
        }
    }

    /// The statuses a run may be in for this decision.
    pub fn allowed_from(self) -> &'static [RunStatus] {
        match self {
            // `approved`: quorum was reached but execution never started (e.g. the process died).
            DecisionKind::Approve | DecisionKind::Reject => &[RunStatus::Pending, RunStatus::Approved],
            DecisionKind::Rollback => &[RunStatus::Executed],
        }
    }
}

/// Everything the checks need.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub kind: DecisionKind,
    pub run: &'a GovernedRun,
    pub status: RunStatus,
    pub approver: &'a str,
    pub approver_groups: &'a [String],
    /// Approvers already counted.
    pub prior_approvers: &'a [String],
    pub reason: &'a str,
    pub dry_run: bool,
    /// The environment name typed by the approver (`--confirm-environment`).
    pub confirm_environment: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Why a decision is refused (before anything is sent).
pub fn check(req: &Request<'_>, config: &Config) -> Result<(), String> {
    let run = req.run;
    if req.reason.trim().is_empty() {
        return Err(format!("a reason is required to {} a run; pass --reason TEXT", req.kind.as_str()));
    }
    if !req.kind.allowed_from().contains(&req.status) {
        return Err(format!("run {} is {}; it cannot be {}", run.id, req.status, req.kind.past()));
    }
    if run.environment != config.environment.name {
        return Err(format!(
            "run {} was prepared for environment '{}', but this signoff is configured for '{}'; \
             decide it with that environment's config",
            run.id,
            crate::text::visible(&run.environment),
            config.environment.name
        ));
    }
    if req.kind != DecisionKind::Rollback && run.is_expired(req.now) {
        return Err(format!("run {} expired at {}; ask the requester for a new run", run.id, run.expires_at));
    }
    let route = &run.route.eligible_groups;
    if !route.is_empty() && !route.iter().any(|g| req.approver_groups.contains(g)) {
        return Err(format!(
            "{} is not in an eligible group for run {} (needs one of: {}); set approver.groups in the config \
             if this is wrong",
            req.approver,
            run.id,
            route.join(", ")
        ));
    }
    if req.kind == DecisionKind::Approve {
        if req.prior_approvers.iter().any(|a| a == req.approver) {
            return Err(format!(
                "{} has already approved run {}; a quorum counts distinct people, so another approver must approve",
                req.approver, run.id
            ));
        }
        let requester = run.requester.id.as_str();
        let sponsor = run.requester.sponsor.as_ref().map(|s| s.as_str());
        let creator = run.before.created_by.as_ref().map(|c| c.as_str());
        if req.approver == requester || Some(req.approver) == sponsor || Some(req.approver) == creator {
            return Err(format!(
                "segregation of duties: {} requested, sponsored or created run {} and cannot approve it; \
                 another approver must",
                req.approver, run.id
            ));
        }
    }
    production_guard(req, config)
}

/// Live decisions against production need `allow_production_writes` and the typed environment name.
fn production_guard(req: &Request<'_>, config: &Config) -> Result<(), String> {
    let env = &config.environment;
    if req.dry_run || env.kind != EnvironmentKind::Production {
        return Ok(());
    }
    if !env.allow_production_writes {
        return Err(format!(
            "'{}' is a production environment and allow_production_writes is false in the config; \
             rehearse in a sandbox, or enable production writes deliberately",
            env.name
        ));
    }
    match req.confirm_environment {
        Some(typed) if typed == env.name => Ok(()),
        Some(typed) => Err(format!(
            "--confirm-environment '{}' does not match the production environment '{}'",
            crate::text::visible(typed),
            env.name
        )),
        None => {
            Err(format!("'{}' is a production environment: confirm with --confirm-environment {}", env.name, env.name))
        }
    }
}
