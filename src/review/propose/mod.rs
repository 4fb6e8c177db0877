//! Building a governed run from the live record: `signoff propose` and `signoff runs recapture`.
//!
//! keys typed by `$metadata` → the record and its lines captured with their ETags (`review::capture`)
//! → every proposed value typed, allowlisted and checked against its facets (`values`) → a run in the
//! `signoff.run/v1` format, checked by the same parser `runs import` uses. Nothing here writes: the
//! caller prints, saves or imports the run, and only once it was built without a single refusal.

mod patch;
mod values;

use chrono::{Duration, Utc};

use super::capture::{self, CaptureError, RecordSource};
use crate::config::Config;
use crate::fno::{Catalog, FnoClient};
use crate::model::{
    Action, Evidence, FieldValue, Fields, GovernedRun, RUN_FORMAT, Requester, Route, RunFileError, RunId, Target,
    parse_run, record_key,
};
use crate::text::visible;

pub use patch::{Patch, PatchError, PatchLine, split_assignment};
pub use values::Refusal;

/// What to propose: the record, the changes and the run's metadata.
#[derive(Debug, Clone)]
pub struct ProposalRequest {
    pub action: Action,
    /// For a generic record action: the managed object (`--object`).
    pub object: Option<String>,
    /// For `execute-operation`: the managed object's operation (`--operation`).
    pub operation: Option<String>,
    /// For `execute-operation`: its parameters by logical name (`--param`), read as their declared types.
    pub parameters: Vec<(String, FieldValue)>,
    /// The record's keys, as typed (`--key`, the record argument, `--company`); read by `$metadata` type.
    pub keys: Vec<(String, FieldValue)>,
    /// Header values to write (`--set`, the patch file's `fields`).
    pub fields: Vec<(String, FieldValue)>,
    /// Line corrections (`--line`, the patch file's `lines`).
    pub lines: Vec<PatchLine>,
    pub justification: String,
    pub requester: Requester,
    pub expires_in: Duration,
    /// `None`: the config's route for the action (`[propose.routes]`).
    pub route: Option<Route>,
    /// `None`: an id made from the action, the record and the time.
    pub id: Option<RunId>,
    /// The stale or expired run this one replaces (`runs recapture`).
    pub supersedes: Option<RunId>,
    pub evidence: Vec<Evidence>,
    pub rollback_hint: Option<String>,
}

/// Why no run was built. Nothing was written anywhere.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Usage(String),
    #[error("the run built does not pass the run format's checks (a signoff bug; nothing was saved): {0}")]
    Invalid(#[from] RunFileError),
}

/// A workflow item's run is the item as F&O holds it (`review::inbox`): its document is captured, and the
/// decision is F&O's own approve or reject, so nothing is proposed to change. The requester must be the
/// F&O user the item awaits; `--justification`, `--route`, `--expires` and `--id` still apply.
async fn workflow_item(
    config: &Config,
    client: &FnoClient,
    request: &ProposalRequest,
) -> Result<GovernedRun, ProposeError> {
    if !request.fields.is_empty() || !request.lines.is_empty() {
        return Err(ProposeError::Usage(
            "a workflow item is approved or rejected as F&O holds it: leave out --set, --line and --patch".into(),
        ));
    }
    let [(_, FieldValue::Text(item_id))] = request.keys.as_slice() else {
        return Err(ProposeError::Usage("name the work item: signoff propose approve-workflow-item ITEM-ID".into()));
    };
    let found = crate::review::inbox::item_run(client, config, request.requester.id.as_str(), item_id).await;
    let mut run = match found {
        Ok(Ok(run)) => run,
        Ok(Err(why)) => return Err(ProposeError::Usage(why)),
        Err(e) => return Err(ProposeError::Usage(e.to_string())),
    };
    run.justification = request.justification.clone();
    run.expires_at = run.requested_at + request.expires_in;
    if let Some(route) = &request.route {
        run.route = route.clone();
    }
    if let Some(id) = &request.id {
        run.id = id.clone();
    }
    Ok(parse_run(&run.canonical_json(), run.id.as_str())?)
}

/// Capture the record `request` names from F&O and build the run that proposes its changes.
pub async fn propose(
    config: &Config,
    client: &FnoClient,
    catalog: Option<&Catalog>,
    request: &ProposalRequest,
) -> Result<GovernedRun, ProposeError> {
    if request.action == Action::ApproveWorkflowItem {
        return workflow_item(config, client, request).await;
    }
    if request.action.is_role_action() {
        return role_run(config, client, catalog, request).await;
    }
    let source = RecordSource::for_object(config, request.action, request.object.as_deref())?;
    let catalog = catalog.ok_or_else(|| CaptureError::NotSynced { set: source.header_set.clone() })?;
    let keys = typed_keys(config, catalog, request, &source.header_set)?;
    let before = capture::capture(client, Some(catalog), request.action, &source, &keys).await?;
    let proposed = values::proposal(config, catalog, request, &source, &before)?;
    assemble(config, request, &source, keys, before, proposed)
}

/// An assign-role or revoke-role run: the user and the role (by name or identifier, as F&O holds it),
/// the user-role row (absent before an assignment) and the user's enabled roles, read now.
async fn role_run(
    config: &Config,
    client: &FnoClient,
    catalog: Option<&Catalog>,
    request: &ProposalRequest,
) -> Result<GovernedRun, ProposeError> {
    let security = &config.security;
    let verb = request.action.verb();
    if !request.fields.is_empty() || !request.lines.is_empty() || request.object.is_some() {
        return Err(ProposeError::Usage(format!(
            "{verb} names only the user and the role: signoff propose {verb} USER --role NAME (leave out --set, \
             --line, --patch and --object)"
        )));
    }
    let given =
        |name: &str| request.keys.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_text()).map(str::to_string);
    let user = given(&security.user_field)
        .ok_or_else(|| ProposeError::Usage(format!("name the user: signoff propose {verb} USER --role NAME")))?;
    let role = given(&security.role_field).ok_or_else(|| {
        ProposeError::Usage(format!("name the role: signoff propose {verb} {user} --role \"Accounts payable clerk\""))
    })?;
    if let Some((extra, _)) = request.keys.iter().find(|(k, _)| *k != security.user_field && *k != security.role_field)
    {
        return Err(ProposeError::Usage(format!("{verb} takes no key {}", visible(extra))));
    }
    let source = RecordSource::of(config, request.action);
    let catalog = catalog.ok_or_else(|| CaptureError::NotSynced { set: source.header_set.clone() })?;
    let read =
        |e: crate::fno::FnoError| CaptureError::Read { what: visible(&security.roles).into(), source: Box::new(e) };
    if crate::fno::security::user_enabled(client, security, &user).await.map_err(read)?.is_none() {
        return Err(ProposeError::Usage(format!("F&O has no user {} ({})", visible(&user), security.users)));
    }
    let (role_id, role_name) = crate::fno::security::find_role(client, security, &role)
        .await
        .map_err(read)?
        .ok_or_else(|| ProposeError::Usage(format!("F&O has no security role named {}", visible(&role))))?;
    let keys: Fields = [
        (security.user_field.clone(), FieldValue::Text(user.clone())),
        (security.role_field.clone(), FieldValue::Text(role_id)),
    ]
    .into();
    capture::check_keys(catalog, &source.header_set, &keys)?;
    let what = format!("{}{}", visible(&source.header_set), visible(&format!(" {user} / {role_name}")));
    let before = capture::read_role_row(client, config, &source.header_set, &keys)
        .await
        .map_err(|e| CaptureError::Read { what: what.clone(), source: Box::new(e) })?;
    let mut proposed = crate::model::Proposed::default();
    match request.action {
        Action::AssignRole if !before.absent => {
            let status = before.fields.get(&security.status_field).map(|v| v.to_string()).unwrap_or_default();
            return Err(ProposeError::Usage(format!(
                "{} already has the role {} (assignment status {}): nothing to assign",
                visible(&user),
                visible(&role_name),
                visible(&status)
            )));
        }
        Action::AssignRole => {
            proposed.fields.insert(security.role_name.clone(), FieldValue::Text(role_name));
        }
        _ if before.absent => {
            return Err(ProposeError::Usage(format!(
                "{} does not have the role {}: nothing to revoke",
                visible(&user),
                visible(&role_name)
            )));
        }
        _ => {}
    }
    assemble(config, request, &source, keys, before, proposed)
}

/// The run proposing `proposed` on the record `keys` names, captured as `before`, checked by the parser
/// `runs import` uses.
fn assemble(
    config: &Config,
    request: &ProposalRequest,
    source: &RecordSource,
    keys: Fields,
    before: crate::model::Snapshot,
    proposed: crate::model::Proposed,
) -> Result<GovernedRun, ProposeError> {
    let requested_at = Utc::now().max(before.captured_at);
    let route = request.route.clone().unwrap_or_else(|| config.propose.route(request.action));
    let id = request.id.clone().unwrap_or_else(|| run_id(request.action, &keys, requested_at));
    let run = GovernedRun {
        format: RUN_FORMAT.into(),
        id,
        action: request.action,
        environment: config.environment.name.clone(),
        requester: request.requester.clone(),
        requested_at,
        expires_at: requested_at + request.expires_in,
        justification: request.justification.clone(),
        target: Target { entity_set: source.header_set.clone(), managed_object: source.object.clone(), keys },
        before,
        proposed,
        evidence: request.evidence.clone(),
        route,
        rollback_hint: request.rollback_hint.clone(),
        work_item: None,
        supersedes: request.supersedes.clone(),
    };
    // The run must be what `runs import` accepts: checked by the same parser, from the same JSON.
    Ok(parse_run(&run.canonical_json(), run.id.as_str())?)
}

/// The record's keys, each read as its `$metadata` type; a company-scoped record gets `dataAreaId` from
/// `--company`, else the config's default company, in lowercase as F&O answers.
fn typed_keys(
    config: &Config,
    catalog: &Catalog,
    request: &ProposalRequest,
    set: &str,
) -> Result<Fields, ProposeError> {
    let mut keys = Fields::new();
    for (name, value) in &request.keys {
        let value = match (name.as_str(), value) {
            ("dataAreaId", FieldValue::Text(c)) => FieldValue::Text(c.to_ascii_lowercase()),
            _ => value.clone(),
        };
        let typed = match catalog.property(set, name) {
            Some(property) => crate::fno::typed_value(name, &value, property, catalog)
                .map_err(|e| ProposeError::Refused(Refusal::new(name, "metadata.facets", e.to_string())))?,
            None => value,
        };
        if keys.insert(name.clone(), typed).is_some() {
            return Err(ProposeError::Usage(format!("the key {} is given twice", visible(name))));
        }
    }
    // A generic record is company-scoped when its entity's keys include dataAreaId.
    let scoped = request
        .action
        .company_scoped()
        .unwrap_or_else(|| catalog.entity_type_of(set).is_some_and(|t| t.keys.iter().any(|k| k == "dataAreaId")));
    if scoped && !keys.contains_key("dataAreaId") {
        let company = config.environment.default_company.clone().ok_or_else(|| {
            ProposeError::Usage(
                "which company? give --company (the dataAreaId, e.g. usmf) or set [environment] default_company".into(),
            )
        })?;
        keys.insert("dataAreaId".into(), FieldValue::Text(company.to_ascii_lowercase()));
    }
    Ok(keys)
}

/// `run-update-vendor-usmf-us-104-20261130-203511-3f9a`: the verb, the record's keys, the request time and
/// a salt,
/// lowercase, any run of other characters one `-`, at most 128 characters.
pub fn run_id(action: Action, keys: &Fields, at: chrono::DateTime<Utc>) -> RunId {
    let mut parts: Vec<String> = vec![action.verb().to_string()];
    if let Some(company) = keys.get("dataAreaId") {
        parts.push(company.to_string());
    }
    match record_key(action) {
        Some(key) => parts.extend(keys.get(key).map(ToString::to_string)),
        // A generic record: every key but the company, in name order.
        None => parts.extend(keys.iter().filter(|(k, _)| *k != "dataAreaId").map(|(_, v)| v.to_string())),
    }
    let mut middle = String::new();
    for c in parts.join("-").to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') { c } else { '-' };
        if !(c == '-' && middle.ends_with('-')) {
            middle.push(c);
        }
    }
    middle.truncate(100);
    let middle = middle.trim_end_matches('-');
    // Four random hex digits: two proposals of one record within a second (a recapture right after the
    // run it replaces) still get ids of their own.
    let salt = &uuid::Uuid::new_v4().simple().to_string()[..4];
    RunId(format!("run-{middle}-{}-{salt}", at.format("%Y%m%d-%H%M%S")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_run_id_names_the_verb_the_record_and_the_time_in_allowed_characters() {
        let keys: Fields = [
            ("dataAreaId".to_string(), FieldValue::Text("usmf".into())),
            ("VendorAccountNumber".to_string(), FieldValue::Text("US 104/ü".into())),
        ]
        .into_iter()
        .collect();
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 20, 35, 11).unwrap();
        let id = run_id(Action::UpdateVendor, &keys, at);
        assert!(id.as_str().starts_with("run-update-vendor-usmf-us-104-20261130-203511-"), "{id}");
        assert_eq!(id.as_str().len(), "run-update-vendor-usmf-us-104-20261130-203511-".len() + 4);
        assert_ne!(id, run_id(Action::UpdateVendor, &keys, at), "two proposals in one second differ");
        let long: Fields = [("UserID".to_string(), FieldValue::Text("x".repeat(300)))].into_iter().collect();
        assert!(run_id(Action::DisableUser, &long, at).as_str().len() <= 128);
    }
}
