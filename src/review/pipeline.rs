//! The decision flow itself: claim → check → re-read → drift → policy → digest → execute → record.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::fno::{FnoClient, FnoError};
use crate::judge::Facts;
use crate::model::{Action, ActorId, GovernedRun, RunId, RunStatus, Snapshot};
use crate::policy::{self, Level};
use crate::rollback;
use crate::store::{NewApproval, StoreError, StoredRun};

use super::Db;

use super::claim::{self, Claim};
use super::conclude::Record;
use super::digest::DigestInputs;
use super::drift::{self, DriftReport, DriftScope, FieldDrift};
use super::eligibility::{self, DecisionKind};
use super::execute;
use super::facts;
use super::identity::{self, Proof};
use super::outcome::{FnoAnswer, Outcome};
use super::progress::{Cancel, Progress, ProgressSink, Step};
use super::reconcile;
use super::record::{keep_exchanges, refuse, refuse_if_altered, request_json};
use super::revalidate::{read_header, read_live};
use super::workflow;
use super::{DecisionRequest, ReviewError, Reviewer};

fn report(progress: &ProgressSink, run_id: &RunId, step: Step, detail: impl Into<String>) {
    let detail = crate::text::visible(&detail.into()).into_owned();
    progress(Progress { run_id: run_id.clone(), step, detail });
}

pub(super) async fn decide(
    r: &Reviewer,
    req: &DecisionRequest,
    progress: &ProgressSink,
    cancel: &Cancel,
) -> Result<Outcome, ReviewError> {
    let store = Db::open(&r.store, Duration::from_secs(r.config.store.busy_timeout_secs))?;
    let id = &req.run_id;
    let Some(payload_digest) = store.db().get(id)?.map(|s| s.digest) else {
        return Err(StoreError::UnknownRun { id: id.clone() }.into());
    };
    // Only what was shown is decided: a run changed (re-imported) since, or a decision that names no
    // reviewed run at all, is refused before anything else.
    if req.reviewed_digest != payload_digest {
        let actor = if r.approver.trim().is_empty() { "unproven" } else { r.approver.as_str() };
        let reason = if req.reviewed_digest.trim().is_empty() {
            "the decision does not name the digest of the run that was reviewed; open the run and decide from \
             what it shows"
                .to_string()
        } else {
            format!(
                "run {id} is not the run that was reviewed (reviewed digest {}, stored {}); review it again",
                short(&req.reviewed_digest),
                short(&payload_digest)
            )
        };
        return refuse(&store.db(), actor, id, req.kind.as_str(), reason);
    }
    // Who decides is proven first: a refusal here has read nothing from F&O and claimed nothing.
    let decision =
        identity::Decision { run_id: id, kind: req.kind.as_str(), reason: &req.reason, digest: &payload_digest };
    let proof = match identity::prove(&r.identity, &r.approver, &decision) {
        Ok(proof) => proof,
        Err(why) => {
            let actor = if r.approver.trim().is_empty() { "unproven" } else { r.approver.as_str() };
            let reason = format!("cannot prove who decides: {why}; nothing was read from F&O");
            return refuse(&store.db(), actor, id, req.kind.as_str(), reason);
        }
    };
    report(progress, id, Step::Claimed, format!("deciding as {}", proof.approver));
    let taken = Claim::take(&store.db(), id, &claim::holder(&proof.approver), r.lease_ttl);
    let claim = match taken {
        Ok(claim) => claim,
        Err(e @ StoreError::LeaseHeld { .. }) => {
            return refuse(&store.db(), &proof.approver, id, req.kind.as_str(), e.to_string());
        }
        Err(e) => return Err(e.into()),
    };
    report(progress, id, Step::Claimed, format!("lease held until {}", claim.lease.expires_at));
    // Nothing is decided on a run whose stored state is not what its audit chain recorded.
    let altered = refuse_if_altered(&store.db(), &r.approver, id, req.kind.as_str())?;
    if let Some(refused) = altered {
        return Ok(refused);
    }
    // ... nor on a chain cut short, forked, or extended behind a signed decision's back.
    let unsigned = super::checkpoint::check_before_decision(&store.db(), &r.identity, &r.memory, id);
    if let Err(why) = unsigned {
        return refuse(&store.db(), &proof.approver, id, req.kind.as_str(), why);
    }
    let status = store.db().status(id)?;
    let result = if status.is_some_and(RunStatus::awaits_reconciliation) && !req.dry_run {
        // A decision whose answer was lost is settled first, by reading F&O: never decided again on top.
        report(progress, id, Step::Reconciling, "an earlier decision's outcome is unknown: reading F&O");
        super::sweep::reconcile_claimed(r, &store, id, &claim).await
    } else {
        decide_claimed(r, &store, req, progress, cancel, &claim, &proof).await
    };
    // The claim also releases on drop; releasing here reports a failure to do so.
    if let Err(e) = claim.release(&store.db()) {
        tracing::warn!(run = %id, error = %e, "could not release the lease; it ends at its expiry");
    }
    // The decision's events, its lease release included, end under the decider's signature.
    if result.is_ok()
        && let Err(e) = super::checkpoint::sign(&store.db(), &r.identity, &proof, &r.memory)
    {
        tracing::warn!(run = %id, error = %e, "could not sign a checkpoint after the decision");
    }
    result
}

/// The first characters of a digest, enough to tell two apart in a message.
fn short(digest: &str) -> String {
    crate::text::visible(digest.get(..12).unwrap_or(digest)).into_owned()
}

/// What a decision knows once the run is claimed and checked.
struct Ctx<'a> {
    r: &'a Reviewer,
    store: &'a Db,
    req: &'a DecisionRequest,
    stored: StoredRun,
    client: FnoClient,
    progress: &'a ProgressSink,
    claim: &'a Claim,
    /// Who decides, proven before anything was read.
    proof: &'a Proof,
    /// What the synced catalog proves.
    known: facts::KnownFacts,
}

impl Ctx<'_> {
    fn run(&self) -> &GovernedRun {
        &self.stored.run
    }

    fn id(&self) -> &RunId {
        &self.req.run_id
    }

    fn actor(&self) -> &str {
        &self.proof.approver
    }

    fn note(&self, step: Step, detail: impl Into<String>) {
        report(self.progress, self.id(), step, detail);
    }

    fn transition(&self, from: &[RunStatus], to: RunStatus, detail: serde_json::Value) -> Result<(), StoreError> {
        self.store.db().transition(self.id(), from, to, self.actor(), detail).map(|_| ())
    }

    fn keep(&self) -> Result<Vec<crate::fno::Exchange>, ReviewError> {
        keep_exchanges(self.store, self.id(), &self.client, self.actor())
    }

    /// F&O failed before anything was written: the run keeps its status.
    fn read_failed(&self, error: &FnoError) -> Result<Outcome, ReviewError> {
        self.keep()?;
        self.store.db().append_audit(
            self.actor(),
            Some(self.id()),
            "decision.read-failed",
            json!({ "decision": self.req.kind.as_str(), "error": error.to_string() }),
        )?;
        Ok(Outcome::NotSent { run_id: self.id().clone(), reason: format!("{error}; the run is unchanged") })
    }

    /// Renew the lease before a send, so it never lapses while a write is in flight.
    fn renew(&self) {
        if let Err(e) = self.claim.renew(&self.store.db()) {
            tracing::warn!(run = %self.id(), error = %e, "could not renew the lease");
        }
    }

    fn record(&self) -> Record<'_> {
        Record {
            store: self.store,
            actor: self.actor(),
            run: self.run(),
            kind: self.req.kind,
            config: &self.r.config,
            known: &self.known,
            prior: self.stored.status,
        }
    }
}

async fn decide_claimed(
    r: &Reviewer,
    store: &Db,
    req: &DecisionRequest,
    progress: &ProgressSink,
    cancel: &Cancel,
    claim: &Claim,
    proof: &Proof,
) -> Result<Outcome, ReviewError> {
    let id = &req.run_id;
    let stored = store.db().get(id)?.ok_or_else(|| StoreError::UnknownRun { id: id.clone() })?;
    let prior: Vec<String> = stored.approvals.iter().map(|a| a.approver.clone()).collect();
    let check = eligibility::Request {
        kind: req.kind,
        run: &stored.run,
        status: stored.status,
        approver: &proof.approver,
        approver_groups: &r.groups,
        prior_approvers: &prior,
        reason: &req.reason,
        dry_run: req.dry_run,
        confirm_environment: req.confirm_environment.as_deref(),
        now: Utc::now(),
    };
    if let Err(reason) = eligibility::check(&check, &r.config) {
        return refuse(&store.db(), &proof.approver, id, req.kind.as_str(), reason);
    }
    if let Err(e) = execute::check_operation(&r.config, &stored.run, req.kind) {
        return refuse(&store.db(), &proof.approver, id, req.kind.as_str(), e.to_string());
    }
    // The synced catalog, read once: writes are encoded by its property types (FNO.md §2), dry runs
    // included; policy and the compensation plan judge with it.
    let known = facts::load(&store.db())?;
    let client = r.client.fork(req.dry_run).with_catalog(known.catalog.clone());
    let ctx = Ctx { r, store, req, client, stored, progress, claim, proof, known };
    if let Some(done) = workflow_decider(&ctx).await? {
        return Ok(done);
    }
    if req.kind == DecisionKind::Reject && !execute::writes_to_fno(ctx.run().action, DecisionKind::Reject) {
        return reject_locally(&ctx);
    }
    // Main accounts first, so the re-read below is the last F&O request before the write: between them
    // signoff only writes to its own store.
    let accounts = if req.kind == DecisionKind::Approve {
        match facts::read_accounts(&ctx.client, ctx.run()).await {
            Ok(a) => a,
            Err(e) => return ctx.read_failed(&e),
        }
    } else {
        None
    };
    // The approver's F&O user and roles, read once for this decision (the F&O role rules; off without
    // `[approver.roles]`). A read that fails is kept as such: policy fails closed on it.
    let security = if req.kind == DecisionKind::Approve {
        facts::read_approver_security(&ctx.client, &r.config, ctx.actor(), ctx.run()).await
    } else {
        None
    };
    ctx.note(Step::Rereading, format!("reading {} {}", ctx.run().target.entity_set, ctx.run().target.label()));
    // A reject reads the header alone: its operation is guarded by the header's live ETag.
    let read = match req.kind {
        DecisionKind::Reject => read_header(&ctx.client, ctx.run()).await,
        _ => read_live(&ctx.client, ctx.run(), &r.config).await,
    };
    let live = match read {
        Ok(live) => Some(live),
        Err(e) => return ctx.read_failed(&e),
    };
    let mut digest = None;
    let mut plan = None;
    if let Some(live) = &live
        && req.kind != DecisionKind::Reject
    {
        ctx.note(Step::Comparing, "comparing the live record with the reviewed snapshot");
        let drift = match req.kind {
            DecisionKind::Rollback => {
                let created = created_etag(&store.db(), ctx.run())?;
                let mut drift = executed_state_drift(ctx.run(), ctx.stored.status, live);
                drift.drifts.extend(record_state_drift(ctx.run(), live, created.as_deref()));
                drift
            }
            DecisionKind::Reject => DriftReport::default(),
            DecisionKind::Approve => drift::detect(ctx.run(), live),
        };
        if !drift.is_empty() {
            return stale(&ctx, drift);
        }
        ctx.note(Step::Evaluating, "re-evaluating policy on the live record");
        let others = facts::other_invoices(&store.db(), ctx.run())?;
        // Judging records the approval: the last point a cancellation leaves no trace but an audit event.
        if cancel.is_cancelled() {
            return cancelled(&ctx);
        }
        match judge(&ctx, live, accounts.as_ref(), &others, &prior, security.as_ref())? {
            Judged::Proceed(d, p) => {
                digest = Some(d);
                plan = p;
            }
            Judged::Done(outcome) => return Ok(outcome),
        }
    }
    if cancel.is_cancelled() {
        return cancelled(&ctx);
    }
    let empty = Snapshot {
        etag: ctx.run().before.etag.clone(),
        absent: false,
        captured_at: Utc::now(),
        created_by: None,
        fields: Default::default(),
        lines: Vec::new(),
        enabled_roles: None,
    };
    let live = live.unwrap_or(empty);
    if req.dry_run {
        return dry_run(&ctx, &live, digest.as_deref(), plan.as_ref()).await;
    }
    send(&ctx, &live, digest.unwrap_or_default(), plan.as_ref()).await
}

/// A workflow item is decided by the F&O user it awaits: the approver must be that user (by
/// `[intake.workflow.users]` or their alias in F&O), or the decision is refused before anything else.
async fn workflow_decider(ctx: &Ctx<'_>) -> Result<Option<Outcome>, ReviewError> {
    let Some(item) = ctx.run().work_item.as_ref().filter(|_| ctx.run().action == Action::ApproveWorkflowItem) else {
        return Ok(None);
    };
    let refused = |reason: String| refuse(&ctx.store.db(), ctx.actor(), ctx.id(), ctx.req.kind.as_str(), reason);
    match workflow::fno_user(&ctx.client, &ctx.r.config, ctx.actor()).await {
        Ok(user) if user.eq_ignore_ascii_case(&item.user_id) => Ok(None),
        Ok(user) => refused(format!(
            "work item {} awaits F&O user {}, and {} is F&O user {user}; only the user it awaits can decide it",
            item.id,
            item.user_id,
            ctx.actor()
        ))
        .map(Some),
        Err(workflow::WorkflowError::Fno(e)) => ctx.read_failed(&e).map(Some),
        Err(e) => refused(e.to_string()).map(Some),
    }
}

/// Right before a workflow item's complete (or the dry run of it): ask F&O whether the item still
/// awaits its user. No → the run is stale and nothing is sent.
async fn validate_item(ctx: &Ctx<'_>) -> Result<Option<Outcome>, ReviewError> {
    let Some(item) = ctx.run().work_item.as_ref().filter(|_| ctx.run().action == Action::ApproveWorkflowItem) else {
        return Ok(None);
    };
    ctx.note(Step::Rereading, format!("validating work item {} for F&O user {}", item.id, item.user_id));
    match workflow::validate(&ctx.client, &ctx.r.config, item).await {
        Ok(true) => Ok(None),
        Ok(false) => {
            let reason = format!(
                "F&O says work item {} no longer awaits {} (decided, delegated or recalled in F&O); nothing was \
                 sent",
                item.id, item.user_id
            );
            stale_with(ctx, DriftReport::default(), reason).map(Some)
        }
        Err(e) => ctx.read_failed(&e).map(Some),
    }
}

fn cancelled(ctx: &Ctx<'_>) -> Result<Outcome, ReviewError> {
    ctx.keep()?;
    let detail = json!({ "decision": ctx.req.kind.as_str() });
    ctx.store.db().append_audit(ctx.actor(), Some(ctx.id()), "decision.cancelled", detail)?;
    Ok(Outcome::Cancelled { run_id: ctx.id().clone() })
}

enum Judged {
    /// Go on to execute, bound to this approval digest (and, for a rollback, the plan shown).
    Proceed(String, Option<rollback::RollbackPlan>),
    Done(Outcome),
}

/// Policy on the live state, the quorum, and the approval digests.
fn judge(
    ctx: &Ctx<'_>,
    live: &Snapshot,
    accounts: Option<&std::collections::BTreeSet<String>>,
    others: &[crate::judge::OtherInvoice],
    prior: &[String],
    security: Option<&crate::judge::ApproverSecurity>,
) -> Result<Judged, ReviewError> {
    let run = ctx.run();
    let mut f = Facts::new(Utc::now(), ActorId(ctx.actor().to_string()));
    f.approver_groups = ctx.r.groups.clone();
    f.prior_approvers = prior.iter().map(|p| ActorId(p.clone())).collect();
    f.live = Some(live);
    let known = &ctx.known;
    f.known_operations = known.operations.as_ref();
    f.known_entity_fields = known.entity_fields.as_ref();
    f.catalog = known.catalog.as_deref();
    f.known_accounts = accounts;
    f.other_runs = others;
    f.approver_security = security;
    if ctx.req.kind == DecisionKind::Rollback {
        // The recipe is the one planned for the reviewed state (what execution started from); that the
        // live record is still as execution left it was checked just before.
        let mut planned = f.clone();
        planned.live = None;
        let plan = rollback::plan(run, &ctx.r.config, &planned);
        if let rollback::Readiness::NotReady(why) = &plan.readiness {
            let reason = format!("the rollback is not possible: {why}");
            return refuse(&ctx.store.db(), ctx.actor(), ctx.id(), "rollback", reason).map(Judged::Done);
        }
        return Ok(Judged::Proceed(String::new(), Some(plan)));
    }
    let evaluation = policy::evaluate(run, &f, &ctx.r.config);
    let hard: Vec<&str> = evaluation.at(Level::Hard).map(|v| v.message.as_str()).collect();
    if !hard.is_empty() {
        let reason = format!("policy blocks the approval: {}", hard.join("; "));
        return refuse(&ctx.store.db(), ctx.actor(), ctx.id(), "approve", reason).map(Judged::Done);
    }
    let inputs = DigestInputs::new(run, live, &evaluation.policy_version);
    let digest = inputs.digest();
    // The re-validation itself is evidence: what was read, that it matched, how policy judged it.
    ctx.store.db().append_audit(
        ctx.actor(),
        Some(ctx.id()),
        "decision.revalidated",
        json!({
            "decision": ctx.req.kind.as_str(),
            "live_etag": live.etag,
            "drift": "none",
            "verdicts": evaluation.summary(),
            "required_approvals": evaluation.required_approvals,
            "digest": digest,
            "digest_inputs": inputs,
        }),
    )?;
    let outdated: Vec<&str> =
        ctx.stored.approvals.iter().filter(|a| a.digest != digest).map(|a| a.approver.as_str()).collect();
    if !outdated.is_empty() {
        let reason = format!(
            "the record version or the policy changed since {} approved; their approval no longer covers it",
            outdated.join(", ")
        );
        return stale_with(ctx, DriftReport::default(), reason).map(Judged::Done);
    }
    let required = evaluation.required_approvals.max(run.route.required_approvals);
    let count = u32::try_from(prior.len()).unwrap_or(u32::MAX).saturating_add(1);
    if count < required && !ctx.req.dry_run {
        let recorded = match record_approval(ctx, &digest, &evaluation.policy_version)? {
            Ok(n) => n,
            Err(refused) => return Ok(Judged::Done(refused)),
        };
        ctx.keep()?;
        ctx.note(Step::Recorded, format!("approval {recorded} of {required} recorded"));
        return Ok(Judged::Done(Outcome::ApprovalRecorded { run_id: ctx.id().clone(), approvals: recorded, required }));
    }
    if !ctx.req.dry_run {
        if let Err(refused) = record_approval(ctx, &digest, &evaluation.policy_version)? {
            return Ok(Judged::Done(refused));
        }
        // Checked again at execution time: every counted approval must cover exactly this digest.
        let approvals = ctx.store.db().approvals(ctx.id())?;
        if approvals.iter().any(|a| a.digest != digest) {
            let reason = "an approval recorded meanwhile covers another record version".to_string();
            return stale_with(ctx, DriftReport::default(), reason).map(Judged::Done);
        }
        // Every counted approval proves its approver again, over its own fields: a renamed approver or a
        // signature copied from another approval stops the write here.
        if let Err(why) = identity::verify_approvals(&ctx.r.identity, ctx.id(), &approvals) {
            let reason = format!("the approvals do not hold: {why}; nothing was sent");
            return refuse(&ctx.store.db(), ctx.actor(), ctx.id(), "approve", reason).map(Judged::Done);
        }
        if ctx.stored.status == RunStatus::Pending {
            ctx.transition(
                &[RunStatus::Pending],
                RunStatus::Approved,
                json!({ "digest": digest, "approvals": approvals.len() }),
            )?;
        }
    }
    Ok(Judged::Proceed(digest, None))
}

/// Record this approver's approval, signed over its digest when identity is proven; a second approval by
/// the same person (or the same key under another name) is refused, not an error.
fn record_approval(ctx: &Ctx<'_>, digest: &str, policy_version: &str) -> Result<Result<u32, Outcome>, ReviewError> {
    let refused = |reason: String| refuse(&ctx.store.db(), ctx.actor(), ctx.id(), "approve", reason).map(Err);
    if let Err(reason) = identity::check_distinct_key(&ctx.r.identity, ctx.proof, &ctx.stored.approvals) {
        return refused(reason);
    }
    let decision = identity::Decision { run_id: ctx.id(), kind: "approve", reason: &ctx.req.reason, digest };
    let signed = match identity::sign_approval(&ctx.r.identity, ctx.proof, &decision) {
        Ok(signed) => signed,
        Err(reason) => return refused(format!("the approval could not be signed: {reason}")),
    };
    let (signature, at) = match &signed {
        Some((signature, at)) => (Some(signature.as_str()), *at),
        None => (None, Utc::now()),
    };
    let approval =
        NewApproval { approver: ctx.actor(), reason: &ctx.req.reason, digest, policy_version, at, signature };
    // Bound first, so the store lock is released before a refusal takes it again.
    let recorded = ctx.store.db().record_signed_approval(ctx.id(), &approval);
    match recorded {
        Ok(n) => Ok(Ok(n)),
        Err(e @ StoreError::AlreadyApproved { .. }) => {
            refuse(&ctx.store.db(), ctx.actor(), ctx.id(), "approve", e.to_string()).map(Err)
        }
        Err(e) => Err(e.into()),
    }
}

/// Mark the run stale (unless a dry run or a rollback) and say what changed.
fn stale(ctx: &Ctx<'_>, drift: DriftReport) -> Result<Outcome, ReviewError> {
    let reason = drift.summary();
    stale_with(ctx, drift, reason)
}

fn stale_with(ctx: &Ctx<'_>, drift: DriftReport, reason: String) -> Result<Outcome, ReviewError> {
    ctx.keep()?;
    let detail = json!({ "decision": ctx.req.kind.as_str(), "reason": reason, "drift": drift });
    if ctx.req.dry_run || ctx.req.kind == DecisionKind::Rollback {
        // A rollback on a changed record is refused; the executed run stays executed.
        ctx.store.db().append_audit(ctx.actor(), Some(ctx.id()), "decision.stale", detail)?;
    } else {
        ctx.transition(&[RunStatus::Pending, RunStatus::Approved], RunStatus::Stale, detail)?;
    }
    Ok(Outcome::Stale { run_id: ctx.id().clone(), drift, reason })
}

/// For a rollback: the record must still be as the decision left it (a partial rollback resumes from
/// wherever it stopped; each of its writes is guarded by the ETags read now).
fn executed_state_drift(run: &GovernedRun, status: RunStatus, live: &Snapshot) -> DriftReport {
    let mut drifts = Vec::new();
    if status == RunStatus::RollbackPartial {
        return DriftReport { drifts };
    }
    for (name, executed) in &run.proposed.fields {
        let now = live.fields.get(name).cloned().unwrap_or(crate::model::FieldValue::Null);
        if !now.same_value(executed) {
            drifts.push(FieldDrift {
                scope: DriftScope::Header,
                field: name.clone(),
                reviewed: executed.clone(),
                live: now,
                proposed: run.before.fields.get(name).cloned(),
            });
        }
    }
    if status == RunStatus::Executed
        && let Some(false) = reconcile::operation_applied(run, DecisionKind::Approve, &live.fields)
    {
        drifts.push(FieldDrift {
            scope: DriftScope::Header,
            field: "status".into(),
            reviewed: "as executed".into(),
            live: "the executed decision is no longer in effect".into(),
            proposed: None,
        });
    }
    DriftReport { drifts }
}

/// For a create's rollback: the ETag its create returned, as the executed transition recorded it.
fn created_etag(db: &crate::store::Store, run: &GovernedRun) -> Result<Option<String>, ReviewError> {
    if !matches!(run.action, Action::CreateRecord | Action::AssignRole) {
        return Ok(None);
    }
    let events = db.audit_events(&run.id)?;
    Ok(events
        .iter()
        .rev()
        .filter(|e| e.kind == "run.status" && e.payload["to"] == "executed")
        .find_map(|e| e.payload["detail"]["answer"]["new_etag"].as_str().map(str::to_string)))
}

/// For a generic record's rollback: the record must be where the run left it. A created record still
/// exists under the very ETag its create returned (anyone's edit since makes deleting it someone
/// else's loss); a deleted record's key is still free; an updated or operated-on record still exists.
fn record_state_drift(run: &GovernedRun, live: &Snapshot, created: Option<&str>) -> Option<FieldDrift> {
    let presence = |reviewed: &str, now: String| FieldDrift {
        scope: DriftScope::Header,
        field: drift::RECORD_PRESENCE.into(),
        reviewed: reviewed.into(),
        live: crate::model::FieldValue::Text(now),
        proposed: None,
    };
    match run.action {
        Action::CreateRecord | Action::AssignRole if live.absent => {
            Some(presence("exists (as created)", "absent".into()))
        }
        Action::CreateRecord | Action::AssignRole => match created {
            Some(etag) if etag == live.etag.as_str() => None,
            Some(etag) => Some(presence(
                &format!("ETag {etag} (as created)"),
                format!("ETag {} (changed since it was created)", live.etag),
            )),
            None => {
                Some(presence("the ETag its create returned", "not on record: cannot prove it is unchanged".into()))
            }
        },
        Action::DeleteRecord | Action::RevokeRole if !live.absent => {
            Some(presence("absent (as deleted)", format!("exists again (ETag {})", live.etag)))
        }
        Action::UpdateRecord | Action::ExecuteOperation if live.absent => {
            Some(presence("exists (as executed)", "absent".into()))
        }
        _ => None,
    }
}

/// A rejection that writes nothing to F&O (vendor and user runs).
fn reject_locally(ctx: &Ctx<'_>) -> Result<Outcome, ReviewError> {
    if ctx.req.dry_run {
        return Ok(Outcome::DryRun { run_id: ctx.id().clone(), requests: Vec::new() });
    }
    let mut detail = json!({ "reason": ctx.req.reason, "fno": "nothing is written to F&O for this action" });
    ctx.proof.evidence(&mut detail);
    ctx.transition(&[RunStatus::Pending, RunStatus::Approved], RunStatus::Rejected, detail)?;
    ctx.note(Step::Recorded, "rejected");
    Ok(Outcome::Rejected { run_id: ctx.id().clone(), answer: FnoAnswer::default() })
}

async fn dry_run(
    ctx: &Ctx<'_>,
    live: &Snapshot,
    digest: Option<&str>,
    plan: Option<&rollback::RollbackPlan>,
) -> Result<Outcome, ReviewError> {
    if let Some(stale) = validate_item(ctx).await? {
        return Ok(stale);
    }
    ctx.note(Step::Sending, "dry run: recording the requests, sending nothing");
    let note = |d: String| report(ctx.progress, ctx.id(), Step::Sending, d);
    let result = execute::execute(&ctx.execution(live, plan, &note)).await;
    let exchanges = ctx.keep()?;
    if let Err(failure) = result {
        return ctx.read_failed(&failure.error);
    }
    let requests: Vec<serde_json::Value> = exchanges.iter().filter(|e| e.dry_run).map(request_json).collect();
    ctx.store.db().append_audit(
        ctx.actor(),
        Some(ctx.id()),
        "decision.dry-run",
        json!({ "decision": ctx.req.kind.as_str(), "digest": digest, "requests": requests }),
    )?;
    ctx.note(Step::Recorded, format!("{} request(s) recorded as evidence", requests.len()));
    Ok(Outcome::DryRun { run_id: ctx.id().clone(), requests })
}

impl<'a> Ctx<'a> {
    fn execution<'b>(
        &'b self,
        live: &'b Snapshot,
        plan: Option<&'b rollback::RollbackPlan>,
        note: &'b (dyn Fn(String) + Send + Sync),
    ) -> execute::Execution<'b> {
        execute::Execution {
            client: &self.client,
            config: &self.r.config,
            run: self.run(),
            live,
            kind: self.req.kind,
            reason: &self.req.reason,
            from: self.stored.status,
            plan,
            note,
        }
    }
}

/// The live send: into `executing`, execute, then record the answer. A lost answer makes the run
/// `unknown`; one read of F&O follows at once, and only evidence concludes it.
async fn send(
    ctx: &Ctx<'_>,
    live: &Snapshot,
    digest: String,
    plan: Option<&rollback::RollbackPlan>,
) -> Result<Outcome, ReviewError> {
    let from: &[RunStatus] = match ctx.req.kind {
        DecisionKind::Approve => &[RunStatus::Approved],
        kind => kind.allowed_from(),
    };
    // Validate right before complete: only store writes lie between them.
    if let Some(stale) = validate_item(ctx).await? {
        return Ok(stale);
    }
    let mut detail = json!({
        "decision": ctx.req.kind.as_str(),
        "digest": digest,
        "reason": ctx.req.reason,
        "prior": ctx.stored.status,
    });
    // A rejection or rollback is signed over the run as imported; an approval's signatures are its own.
    if ctx.req.kind != DecisionKind::Approve {
        ctx.proof.evidence(&mut detail);
    }
    match ctx.transition(from, RunStatus::Executing, detail) {
        Ok(()) => {}
        Err(e @ (StoreError::StatusConflict { .. } | StoreError::AlreadyExecuted { .. })) => {
            return refuse(&ctx.store.db(), ctx.actor(), ctx.id(), ctx.req.kind.as_str(), e.to_string());
        }
        Err(e) => return Err(e.into()),
    }
    // The approval and the move to `executing` are signed before anything is sent: a process killed
    // mid-send leaves a run whose state is covered, and reconciliation may settle it.
    if let Err(e) = super::checkpoint::sign(&ctx.store.db(), &ctx.r.identity, ctx.proof, &ctx.r.memory) {
        tracing::warn!(run = %ctx.id(), error = %e, "could not sign a checkpoint before sending");
    }
    ctx.note(Step::Sending, "sending to F&O");
    // Every step's progress note is also where the lease is renewed: right before each request.
    let note = |d: String| {
        ctx.renew();
        report(ctx.progress, ctx.id(), Step::Sending, d)
    };
    let result = execute::execute(&ctx.execution(live, plan, &note)).await;
    ctx.keep()?;
    let record = ctx.record();
    let outcome = match result {
        Ok(answer) => record.finish(answer, Some(live))?,
        Err(failure) if failure.unknown() => {
            let settles_after = record.lost(&failure)?;
            ctx.note(Step::Reconciling, "the answer was lost: reading F&O, sending nothing");
            let finding = reconcile::reconcile(&ctx.client, &ctx.r.config, ctx.run(), ctx.req.kind).await;
            ctx.keep()?;
            record.settle(finding, settles_after)?
        }
        Err(failure) => record.failed(&failure)?,
    };
    ctx.note(Step::Recorded, outcome.headline());
    Ok(outcome)
}
