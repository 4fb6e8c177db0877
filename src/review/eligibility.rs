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
            DecisionKind::Rollback => &[RunStatus::Executed, RunStatus::PartlyExecuted, RunStatus::RollbackPartial],
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
    if req.kind == DecisionKind::Rollback && req.status == RunStatus::HandedOver {
        return Err(format!("run {} is handed-over: {}", run.id, crate::rollback::NOT_POSTED_YET));
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::EnvironmentKind;
    use crate::review::testdata::journal_run;

    fn config() -> Config {
        let mut c = Config::default();
        c.environment.name = "usmf-sandbox".into();
        c
    }

    fn request<'a>(run: &'a GovernedRun, approver: &'a str, groups: &'a [String], prior: &'a [String]) -> Request<'a> {
        Request {
            kind: DecisionKind::Approve,
            run,
            status: RunStatus::Pending,
            approver,
            approver_groups: groups,
            prior_approvers: prior,
            reason: "Accrual matches the freight contract",
            dry_run: false,
            confirm_environment: None,
            now: Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn an_eligible_approver_passes() {
        let run = journal_run();
        let groups = vec!["gl-approvers".to_string()];
        assert_eq!(check(&request(&run, "amy@contoso.com", &groups, &[]), &config()), Ok(()));
    }

    #[test]
    fn the_sponsor_of_an_automation_cannot_approve_its_run() {
        let run = journal_run();
        let groups = vec!["gl-approvers".to_string()];
        let err = check(&request(&run, "julia@contoso.com", &groups, &[]), &config()).unwrap_err();
        assert!(err.contains("segregation of duties"), "{err}");
    }

    #[test]
    fn an_approver_outside_the_eligible_groups_is_refused() {
        let run = journal_run();
        let groups = vec!["ap-clerks".to_string()];
        let err = check(&request(&run, "amy@contoso.com", &groups, &[]), &config()).unwrap_err();
        assert!(err.contains("gl-approvers"), "{err}");
    }

    #[test]
    fn a_blank_reason_and_an_expired_run_are_refused() {
        let run = journal_run();
        let groups = vec!["gl-approvers".to_string()];
        let mut blank = request(&run, "amy@contoso.com", &groups, &[]);
        blank.reason = "   ";
        assert!(check(&blank, &config()).unwrap_err().contains("reason is required"));
        let mut late = request(&run, "amy@contoso.com", &groups, &[]);
        late.now = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        assert!(check(&late, &config()).unwrap_err().contains("expired"));
    }

    #[test]
    fn production_needs_the_switch_and_the_typed_name_but_a_dry_run_needs_neither() {
        let run = journal_run();
        let groups = vec!["gl-approvers".to_string()];
        let mut prod = config();
        prod.environment.kind = EnvironmentKind::Production;
        let req = request(&run, "amy@contoso.com", &groups, &[]);
        assert!(check(&req, &prod).unwrap_err().contains("allow_production_writes"));
        prod.environment.allow_production_writes = true;
        assert!(check(&req, &prod).unwrap_err().contains("--confirm-environment usmf-sandbox"));
        let confirmed = Request { confirm_environment: Some("usmf-sandbox"), ..req.clone() };
        assert_eq!(check(&confirmed, &prod), Ok(()));
        prod.environment.allow_production_writes = false;
        assert_eq!(check(&Request { dry_run: true, ..req }, &prod), Ok(()));
    }
}
