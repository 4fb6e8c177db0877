//! `signoff propose ACTION` and `signoff runs recapture ID`: build a run from the live record
//! (`review::propose`), show the diff and the verdicts an approver will see (the `runs show` view), then
//! write it to a file, import it, or — with `--dry-run` — neither. A refused value names its field and
//! rule, and nothing is written anywhere.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Serialize;

use super::failure::{ErrorCode, Failure};
use super::output::{self, say};
use super::runs::judgement::ShowEnvelope;
use super::{Context, Globals, exit};
use crate::model::{Action, ActorId, FieldValue, GovernedRun, Requester, RequesterKind, Route, RunId, RunStatus};
use crate::policy::Level;
use crate::review::propose::{Patch, PatchLine, ProposalRequest, ProposeError};
use crate::store::{Store, StoredRun};

/// The rules a proposal must pass outright: a run that breaks one of them is never saved.
const REFUSING_RULES: [&str; 4] = ["allowlist.object", "allowlist.field", "metadata.field", "metadata.facets"];

#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// approve-invoice, post-journal, update-vendor, enable-user, disable-user, assign-role, revoke-role,
    /// or on any managed object update-record, create-record, delete-record, execute-operation (or the
    /// full action name).
    pub action: Action,
    /// The record, by its key: the invoice's HeaderReference, the journal's JournalBatchNumber, the
    /// vendor's VendorAccountNumber or the user's UserID (the same as --key NAME=RECORD); a generic
    /// record is named by --key alone.
    pub record: Option<String>,
    /// For update-record, create-record, delete-record and execute-operation: the managed object
    /// (`[managed_objects.NAME]`) the record belongs to.
    #[arg(long, value_name = "NAME")]
    pub object: Option<String>,
    /// For assign-role and revoke-role: the security role, by its name ("Accounts payable clerk") or
    /// identifier; the record argument is the F&O user id.
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
    /// For execute-operation: the managed object's operation (`[managed_objects.NAME.operations.OP]`).
    #[arg(long, value_name = "OP")]
    pub operation: Option<String>,
    /// For execute-operation: a parameter of the operation, NAME=VALUE, read as its $metadata type
    /// (repeat for several).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A key field of the record, FIELD=VALUE (repeat for several); dataAreaId comes from --company.
    #[arg(long = "key", value_name = "FIELD=VALUE")]
    pub keys: Vec<String>,
    /// The legal entity (dataAreaId); default: [environment] default_company.
    #[arg(long, value_name = "C")]
    pub company: Option<String>,
    /// A header value to write, FIELD=VALUE, read as the field's $metadata type (repeat for several).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// A line correction, N:FIELD=VALUE with N the line number (repeat for several).
    #[arg(long = "line", value_name = "N:FIELD=VALUE")]
    pub lines: Vec<String>,
    /// The changes as a file: JSON, or TOML when it ends in .toml ({"fields": {…}, "lines": [{"line": N, "fields": {…}}]}).
    #[arg(long, value_name = "FILE")]
    pub patch: Option<PathBuf>,
    /// Why the change is needed, for the approver.
    #[arg(long, value_name = "TEXT")]
    pub justification: String,
    /// How long the run stays open, e.g. 7d, 36h; default: [propose] expires_days.
    #[arg(long, value_name = "WINDOW")]
    pub expires: Option<String>,
    /// The approval route: N approvals, GROUP[,GROUP] eligible groups, or N:GROUP[,GROUP]; default:
    /// [propose.routes] for the action.
    #[arg(long, value_name = "N|GROUPS")]
    pub route: Option<String>,
    /// The run id; default: made from the action, the record and the time.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub requester: RequesterArgs,
    #[command(flatten)]
    pub destination: Destination,
}

/// Who asks: the caller's verified identity, or an automation and the person sponsoring it.
#[derive(Debug, Clone, clap::Args)]
pub struct RequesterArgs {
    /// An automation's id (svc-ap-ingest); needs --sponsor.
    #[arg(long, value_name = "ID", requires = "sponsor")]
    pub requester: Option<String>,
    /// The person accountable for the automation named by --requester.
    #[arg(long, value_name = "UPN", requires = "requester")]
    pub sponsor: Option<String>,
}

/// Where the run goes: exactly one of a file, the store, or nowhere (shown only).
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Destination {
    /// Write the run file here (never over an existing file).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Import the run into the store, ready for approval.
    #[arg(long)]
    pub import: bool,
    /// Show the run and its verdicts; save nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `runs recapture ID`.
#[derive(Debug, clap::Args)]
pub struct RecaptureArgs {
    /// The stale or expired run to propose again against the live record.
    pub id: String,
    /// A new justification; default: the replaced run's.
    #[arg(long, value_name = "TEXT")]
    pub justification: Option<String>,
    /// How long the new run stays open; default: [propose] expires_days.
    #[arg(long, value_name = "WINDOW")]
    pub expires: Option<String>,
    #[command(flatten)]
    pub requester: RequesterArgs,
    #[command(flatten)]
    pub destination: Destination,
}

/// `propose --json`: the run and its judgement as `runs show --json` prints them, and where it went.
#[derive(Debug, Serialize)]
struct ProposeEnvelope<'a> {
    #[serde(flatten)]
    show: ShowEnvelope<'a>,
    /// `dry-run`, `written` or `imported`.
    saved: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

pub fn run(globals: &Globals, args: ProposeArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let config = &ctx.loaded.config;
    let mut patch = match &args.patch {
        Some(path) => read_patch(path)?,
        None => Patch::default(),
    };
    let mut flags = Patch::default();
    for set in &args.set {
        flags.set(set).map_err(usage)?;
    }
    for line in &args.lines {
        flags.line(line).map_err(usage)?;
    }
    patch.extend(flags);
    let mut keys: Vec<(String, FieldValue)> = Vec::new();
    let security = &config.security;
    if args.action.is_role_action() != args.role.is_some() {
        let why = if args.role.is_some() {
            format!("{} assigns no role: leave out --role", args.action.verb())
        } else {
            format!(
                "{} needs --role NAME: the security role, e.g. --role \"Accounts payable clerk\"",
                args.action.verb()
            )
        };
        return Err(usage(why).into());
    }
    if let Some(role) = &args.role {
        keys.push((security.role_field.clone(), FieldValue::Text(role.clone())));
    }
    if let Some(record) = &args.record
        && args.action.is_role_action()
    {
        keys.push((security.user_field.clone(), FieldValue::Text(record.clone())));
    } else if let Some(record) = &args.record {
        let Some(key) = crate::model::record_key(args.action) else {
            return Err(usage(format!(
                "{} names its record with --key FIELD=VALUE (each key of the entity), not a bare '{record}'",
                args.action.verb()
            ))
            .into());
        };
        keys.push((key.to_string(), FieldValue::Text(record.clone())));
    }
    if args.action.is_record_action() != args.object.is_some() {
        let why = if args.object.is_some() {
            format!("{} writes its own record: leave out --object", args.action.verb())
        } else {
            format!("{} needs --object NAME: the managed object the record belongs to", args.action.verb())
        };
        return Err(usage(why).into());
    }
    let mut parameters: Vec<(String, FieldValue)> = Vec::new();
    for param in &args.params {
        let (name, value) = crate::review::propose::split_assignment(param, "--param NAME=VALUE").map_err(usage)?;
        parameters.push((name, FieldValue::Text(value)));
    }
    for key in &args.keys {
        let (name, value) = crate::review::propose::split_assignment(key, "--key FIELD=VALUE").map_err(usage)?;
        keys.push((name, FieldValue::Text(value)));
    }
    if let Some(company) = &args.company {
        if args.action.company_scoped() == Some(false) {
            return Err(usage(format!("{} is not company-scoped: leave out --company", args.action.verb())).into());
        }
        keys.push(("dataAreaId".into(), FieldValue::Text(company.clone())));
    }
    let request = ProposalRequest {
        action: args.action,
        object: args.object.clone(),
        operation: args.operation.clone(),
        parameters,
        keys,
        fields: patch.fields,
        lines: patch.lines,
        justification: args.justification.clone(),
        requester: requester(&ctx, &args.requester)?,
        expires_in: expires_in(&ctx, args.expires.as_deref())?,
        route: args.route.as_deref().map(parse_route).transpose().map_err(usage)?,
        id: args.id.clone().map(RunId),
        supersedes: None,
        evidence: Vec::new(),
        rollback_hint: None,
    };
    build_and_deliver(&ctx, config, &request, &args.destination)
}

/// Propose `id`'s change again against the live record, as a new run that supersedes it.
pub fn recapture(ctx: &Context, args: RecaptureArgs) -> anyhow::Result<u8> {
    let id = RunId(args.id.clone());
    let old = {
        let store = ctx.open_existing_store()?;
        let stored = store
            .get(&id)
            .map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?
            .ok_or_else(|| Failure::new(ErrorCode::NotFound, &format!("no run {} in the store", id)))?;
        // Read-only here as in `runs list`: a pending run past its expiry is expired.
        let status = match stored.status {
            RunStatus::Pending | RunStatus::Approved if stored.run.is_expired(chrono::Utc::now()) => RunStatus::Expired,
            other => other,
        };
        if !matches!(status, RunStatus::Stale | RunStatus::Expired) {
            return Err(Failure::new(
                ErrorCode::Refused,
                &format!(
                    "run {id} is {status}: only a stale or expired run is re-captured (a pending run can still be \
                     decided as it is)"
                ),
            )
            .into());
        }
        if let Some(by) = store
            .audit_events(&id)
            .map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?
            .iter()
            .find(|e| e.kind == "run.superseded")
            .and_then(|e| e.payload["by"].as_str().map(str::to_string))
        {
            return Err(Failure::new(
                ErrorCode::Refused,
                &format!("run {id} was already re-captured as run {by}; re-capture that one if it went stale too"),
            )
            .into());
        }
        stored.run
    };
    let request = recapture_request(ctx, &old, &args)?;
    build_and_deliver(ctx, &ctx.loaded.config, &request, &args.destination)
}

/// The same proposal as `old`, for the same record, requested now by the caller.
fn recapture_request(ctx: &Context, old: &GovernedRun, args: &RecaptureArgs) -> anyhow::Result<ProposalRequest> {
    let line_field = old.action.lines().map(|(_, key)| key);
    let lines = old
        .proposed
        .lines
        .iter()
        .map(|l| PatchLine {
            line: line_field.and_then(|f| l.keys.get(f).cloned()).unwrap_or(FieldValue::Null),
            fields: l.fields.clone(),
            remove: l.remove,
        })
        .collect();
    Ok(ProposalRequest {
        action: old.action,
        object: old.action.is_record_action().then(|| old.target.managed_object.clone()),
        operation: old.proposed.operation.clone(),
        parameters: old.proposed.parameters.clone().into_iter().collect(),
        keys: old.target.keys.clone().into_iter().collect(),
        fields: old.proposed.fields.clone().into_iter().collect(),
        lines,
        justification: args.justification.clone().unwrap_or_else(|| old.justification.clone()),
        requester: requester(ctx, &args.requester)?,
        expires_in: expires_in(ctx, args.expires.as_deref())?,
        route: Some(old.route.clone()),
        id: None,
        supersedes: Some(old.id.clone()),
        evidence: old.evidence.clone(),
        rollback_hint: old.rollback_hint.clone(),
    })
}

/// Build the run against live F&O, show it, refuse it if a value breaks a rule, then save it.
fn build_and_deliver(
    ctx: &Context,
    config: &crate::config::Config,
    request: &ProposalRequest,
    destination: &Destination,
) -> anyhow::Result<u8> {
    let store = open_catalog_store(ctx)?;
    let catalog =
        crate::review::facts::load_catalog(&store).map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?;
    // Keys are encoded by the catalog's types (a date key is sent bare), as when the run is decided.
    let client = super::connector::client_for(config)
        .map_err(|e| Failure::new(ErrorCode::Failed, &e))?
        .with_catalog(catalog.clone());
    let runtime = super::decide::runtime()?;
    let (run, accounts) = runtime
        .block_on(async {
            let run = crate::review::propose::propose(config, &client, catalog.as_deref(), request).await?;
            let accounts = crate::review::facts::read_accounts(&client, &run).await.ok().flatten();
            Ok::<_, ProposeError>((run, accounts))
        })
        .map_err(propose_failure)?;
    let stored = unsaved(&run);
    // Judged as an eligible approver of its route would see it: the requester's own groups are not the point.
    let mut as_approver = config.clone();
    as_approver.approver.groups = run.route.eligible_groups.clone();
    let judgement = crate::review::preview::judge(&store, &stored, &as_approver, "(an approver)", None, accounts)
        .map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?;
    let refusals: Vec<String> = judgement
        .evaluation
        .verdicts
        .iter()
        .filter(|v| v.level == Level::Hard && REFUSING_RULES.contains(&v.rule))
        .map(|v| format!("{} ({}): {}", v.field.as_deref().unwrap_or("(run)"), v.rule, v.message))
        .collect();
    if !refusals.is_empty() {
        return Err(Failure::new(
            ErrorCode::Refused,
            "the proposal breaks the allowlist or $metadata; nothing was saved",
        )
        .with_problems(refusals)
        .into());
    }
    let (saved, file) = save(&store, &run, destination)?;
    if ctx.globals.json {
        output::json(&ProposeEnvelope { show: ShowEnvelope::new(&stored, &judgement), saved, file })?;
        return Ok(exit::OK);
    }
    output::text(&super::runs::show::render_run(&stored, &judgement, 100))?;
    match (saved, file) {
        ("written", Some(path)) => {
            say!("\nwrote run {} to {path}; import it with `signoff runs import {path}`", run.id)?
        }
        ("imported", _) => say!(
            "\nimported run {}: an approver decides it with `signoff approve {} --reason TEXT` (or in the TUI)",
            run.id,
            run.id
        )?,
        _ => say!("\ndry run: run {} was not saved (use --out FILE or --import)", run.id)?,
    }
    Ok(exit::OK)
}

/// The run as the store would hold it the moment it is imported: pending, nothing counted yet.
fn unsaved(run: &GovernedRun) -> StoredRun {
    let now = chrono::Utc::now();
    StoredRun {
        run: run.clone(),
        status: RunStatus::Pending,
        digest: run.payload_digest(),
        imported_at: now,
        updated_at: now,
        approvals: Vec::new(),
        lease: None,
        history: Vec::new(),
    }
}

/// Write or import the run, as asked.
fn save(store: &Store, run: &GovernedRun, destination: &Destination) -> anyhow::Result<(&'static str, Option<String>)> {
    if let Some(path) = &destination.out {
        write_new(path, run)?;
        return Ok(("written", Some(path.display().to_string())));
    }
    if destination.import {
        store
            .import(std::slice::from_ref(run), run.requester.id.as_str())
            .map_err(|e| Failure::new(ErrorCode::Failed, &format!("nothing imported: {e}")))?;
        return Ok(("imported", None));
    }
    Ok(("dry-run", None))
}

/// The run file, pretty JSON, created only if nothing is there yet.
fn write_new(path: &Path, run: &GovernedRun) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(run)? + "\n";
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it already exists; choose another name or remove it".to_string()
        } else {
            e.to_string()
        };
        Failure::new(ErrorCode::Failed, &format!("cannot write {}: {why}; nothing was saved", path.display()))
    })?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The store holding the synced catalog: propose types every value by it, so without one nothing is built.
fn open_catalog_store(ctx: &Context) -> anyhow::Result<Store> {
    let location = ctx.store_location()?;
    if !location.may_exist() {
        return Err(Failure::new(
            ErrorCode::NoStore,
            &format!(
                "no store at {}: run `signoff connector sync-metadata` first (propose reads field types and \
                 facets from the catalog it stores), or pass --store",
                location.shown()
            ),
        )
        .into());
    }
    Ok(ctx.open_existing_store()?)
}

fn read_patch(path: &Path) -> anyhow::Result<Patch> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(ErrorCode::Usage, &format!("cannot read the patch file {}: {e}", path.display())))?;
    let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Patch::parse(&text, toml, &path.display().to_string()).map_err(|e| usage(e).into())
}

/// The requester: `--requester` (an automation, with its `--sponsor`), else the caller's verified identity.
fn requester(ctx: &Context, args: &RequesterArgs) -> anyhow::Result<Requester> {
    match (&args.requester, &args.sponsor) {
        (Some(id), Some(sponsor)) => Ok(Requester {
            id: ActorId(id.clone()),
            kind: RequesterKind::Automation,
            sponsor: Some(ActorId(sponsor.clone())),
        }),
        _ => {
            let id = super::decide::approver_id(&ctx.loaded.config)
                .map_err(|e| Failure::new(ErrorCode::Failed, &format!("who is proposing? {e}")))?;
            Ok(Requester { id: ActorId(id), kind: RequesterKind::Person, sponsor: None })
        }
    }
}

fn expires_in(ctx: &Context, text: Option<&str>) -> anyhow::Result<Duration> {
    match text {
        Some(t) => {
            let window = super::decide::parse_window(t).map_err(usage)?;
            Ok(Duration::from_std(window).map_err(|_| usage(format!("--expires {t} is too long")))?)
        }
        None => Ok(Duration::days(i64::from(ctx.loaded.config.propose.expires_days))),
    }
}

/// `2`, `ap-approvers,treasury` or `2:ap-approvers,treasury`.
fn parse_route(text: &str) -> Result<Route, String> {
    let (count, groups) = match text.split_once(':') {
        Some((n, g)) => (Some(n), g),
        None if text.trim().chars().all(|c| c.is_ascii_digit()) => (Some(text), ""),
        None => (None, text),
    };
    let required_approvals =
        match count {
            Some(n) => n.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("--route {text}: the number of approvals must be a whole number of at least 1")
            })?,
            None => 1,
        };
    let eligible_groups: Vec<String> =
        groups.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_string).collect();
    Ok(Route { required_approvals, eligible_groups })
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::new(ErrorCode::Usage, &e.to_string())
}

fn propose_failure(e: ProposeError) -> anyhow::Error {
    let code = match &e {
        ProposeError::Refused(_) => ErrorCode::Refused,
        ProposeError::Usage(_) => ErrorCode::Usage,
        ProposeError::Capture(_) | ProposeError::Invalid(_) => ErrorCode::Failed,
    };
    Failure::new(code, &e.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_a_count_groups_or_both() {
        assert_eq!(parse_route("2").unwrap(), Route { required_approvals: 2, eligible_groups: vec![] });
        assert_eq!(
            parse_route("ap-approvers, treasury").unwrap(),
            Route { required_approvals: 1, eligible_groups: vec!["ap-approvers".into(), "treasury".into()] }
        );
        assert_eq!(
            parse_route("2:treasury").unwrap(),
            Route { required_approvals: 2, eligible_groups: vec!["treasury".into()] }
        );
        assert!(parse_route("0").is_err());
    }
}
