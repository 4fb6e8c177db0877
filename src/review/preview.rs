//! The judgement an approver sees before deciding — the diff, the policy evaluation and the rollback plan
//! of one stored run — computed the way the decision pipeline computes them, minus the live re-read.
//! `runs show` and the TUI both show this, so they never disagree.
//!
//! The facts come from the same places the pipeline takes them (`review::facts`): the synced catalog from
//! the store, the other live invoice runs for duplicate detection, the prior approvers from the stored
//! approvals. What only a live read can tell (main accounts) stays unknown, so its rule fails closed; the
//! message then says that the check happens at decision time rather than pointing at a missing sync.

use std::collections::HashMap;

use chrono::Utc;

use crate::config::Config;
use crate::diff::{self, RunDiff};
use crate::judge::{Facts, InvoiceKey, OtherInvoice};
use crate::model::{ActorId, GovernedRun, RunId, RunStatus, Snapshot};
use crate::policy::{self, Evaluation, Level};
use crate::review::facts::{self, KnownFacts};
use crate::rollback::{self, RollbackPlan};
use crate::store::{Approval, Store, StoreError, StoredRun};

/// The rule whose facts are only read live (`review::facts::read_accounts`).
const LIVE_ONLY_RULE: &str = "journal.account";

/// What replaces the "not synced" message of a rule that cannot be judged offline.
const LIVE_ONLY_MESSAGE: &str = "main accounts are read live from F&O at decision time and cannot be checked \
     here: this stays blocking in the preview and is judged again when the run is approved";

/// The diff, the verdicts and the rollback plan of one run, as the approver sees them before deciding.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub diff: RunDiff,
    pub evaluation: Evaluation,
    pub rollback: RollbackPlan,
    /// For a re-captured run: the run it replaces and what moved in the record since that one was reviewed.
    pub replaces: Option<Replaces>,
}

/// The run a re-captured run replaces (`supersedes`), and the three-way view of what moved: the old
/// run's before (reviewed), this run's before (the record as it was re-captured: live), and the proposal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Replaces {
    pub id: String,
    /// The replaced run's status, when it is in this store.
    pub status: Option<RunStatus>,
    /// `None` when the replaced run is not in this store.
    pub moved: Option<RunDiff>,
}

/// What `run` replaces, read from the store: the three-way view of its predecessor against `run`'s own
/// before snapshot.
pub fn replaces(store: &Store, run: &GovernedRun) -> Result<Option<Replaces>, StoreError> {
    let Some(old_id) = &run.supersedes else { return Ok(None) };
    let old = store.get(old_id)?;
    Ok(Some(Replaces {
        id: crate::text::visible(old_id.as_str()).into_owned(),
        status: old.as_ref().map(|o| o.status),
        moved: old.map(|o| diff::diff_run(&o.run, Some(&run.before))),
    }))
}

/// Judge `stored` for `approver` against its before snapshot (and, for a stale run, the live record it
/// drifted to), with the facts the store holds.
pub fn judge(
    store: &Store,
    stored: &StoredRun,
    config: &Config,
    approver: &str,
    live: Option<&Snapshot>,
    accounts: Option<std::collections::BTreeSet<String>>,
) -> Result<Judgement, StoreError> {
    let run = &stored.run;
    let mut known = facts::load(store)?;
    // Main accounts come from a live read (`facts::read_accounts`) when the caller could make one.
    known.accounts = known.accounts.or(accounts);
    let others = facts::other_invoices_judged_on(store, run, live)?;
    // A stale run is judged on the live record it drifted to, as a re-validation would judge it.
    let version = policy::policy_version(config);
    let Assessment { evaluation, mut rollback } =
        assess(run, &stored.approvals, config, approver, &known, &others, live, &version);
    if stored.status == RunStatus::HandedOver {
        rollback = rollback::handed_over(rollback);
    }
    Ok(Judgement { diff: diff::diff_run(run, live), evaluation, rollback, replaces: replaces(store, run)? })
}

/// Judge `stored` as `viewer` looks at it. A run still open is judged for the viewer. A run whose
/// decision went to F&O is judged from the side of the approval that completed it (the others as
/// prior approvals), so its pane explains the decision that was taken instead of judging the viewer's
/// own, already counted, approval.
pub fn judge_for_viewer(
    store: &Store,
    stored: &StoredRun,
    config: &Config,
    viewer: &str,
    live: Option<&Snapshot>,
    accounts: Option<std::collections::BTreeSet<String>>,
) -> Result<Judgement, StoreError> {
    if stored.status.reached_execution()
        && let Some((deciding, prior)) = stored.approvals.split_last()
    {
        let mut as_decided = stored.clone();
        as_decided.approvals = prior.to_vec();
        return judge(store, &as_decided, config, &deciding.approver, live, accounts);
    }
    judge(store, stored, config, viewer, live, accounts)
}

/// The one count of distinct approvers a run needs, shown alike in every view. A run whose decision went
/// to F&O needed exactly the approvals it had: the pipeline executes when the count is met. Any other run
/// needs what policy says (route, amount quorum, one more to override a soft verdict), or, unjudged, its
/// route's count.
/// `policy` is the evaluation's own count (`Evaluation::required_approvals`) where the run was judged.
pub fn required_approvals(status: RunStatus, given: u32, policy: Option<u32>, route: u32) -> u32 {
    match policy {
        _ if status.reached_execution() && given > 0 => given,
        Some(count) => count.max(route),
        None => route,
    }
}

/// A [`Judgement`] without its diff: what the queue's policy and rollback columns show.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub evaluation: Evaluation,
    pub rollback: RollbackPlan,
}

/// [`judge`] for every run that still needs a decision (every status but the final ones), as the queue
/// shows them: the store is read in a few queries and the facts are gathered once, not once per run.
/// Gives each run the same verdicts and rollback plan [`judge`] gives it alone. `accounts` is asked, once,
/// which main accounts of the open runs exist (a live read the caller may make; `None` = unknown).
pub fn assess_open_runs(
    store: &Store,
    config: &Config,
    approver: &str,
    accounts: impl FnOnce(&[&GovernedRun]) -> Option<std::collections::BTreeSet<String>>,
) -> Result<HashMap<RunId, Assessment>, StoreError> {
    assess_open_runs_with(store, config, approver, accounts, |_, assessment| assessment)
}

/// [`assess_open_runs`], keeping of each run only what `keep` makes of its assessment. The runs are read
/// and judged one at a time, so memory holds what `keep` returns (a queue row's few bytes), never every
/// open run's payload and full assessment at once.
pub fn assess_open_runs_with<T>(
    store: &Store,
    config: &Config,
    approver: &str,
    accounts: impl FnOnce(&[&GovernedRun]) -> Option<std::collections::BTreeSet<String>>,
    keep: impl FnMut(&crate::store::RunToJudge, Assessment) -> T,
) -> Result<HashMap<RunId, T>, StoreError> {
    assess_some_open_runs(store, config, approver, None, accounts, keep)
}

/// [`assess_open_runs_with`] for the open runs among `only` (all open runs when `None`): the queue judges
/// the rows on screen first, then the rest in batches.
pub fn assess_some_open_runs<T>(
    store: &Store,
    config: &Config,
    approver: &str,
    only: Option<&[RunId]>,
    accounts: impl FnOnce(&[&GovernedRun]) -> Option<std::collections::BTreeSet<String>>,
    mut keep: impl FnMut(&crate::store::RunToJudge, Assessment) -> T,
) -> Result<HashMap<RunId, T>, StoreError> {
    let open: Vec<RunStatus> = RunStatus::ALL.into_iter().filter(|s| !s.is_final()).collect();
    let mut known = facts::load(store)?;
    // Once for the whole queue: the config is the same for every run.
    let version = policy::policy_version(config);
    let mut out = HashMap::new();
    match only {
        // A few rows: read them, ask about their journals' accounts, and look each one's duplicates up in
        // the key index as a decision does (`facts::other_invoices_of`: one question for them all).
        Some(ids) => {
            let mut runs = Vec::new();
            store.each_run_to_judge_of(ids, &open, |r| {
                runs.push(r);
                Ok(())
            })?;
            if known.accounts.is_none() {
                let journals: Vec<&GovernedRun> = runs
                    .iter()
                    .map(|r| &r.run)
                    .filter(|r| r.document_action() == crate::model::Action::PostJournal)
                    .collect();
                known.accounts = accounts(&journals);
            }
            // Their duplicates, asked of the store once for the batch.
            let mut others = facts::other_invoices_of(store, &runs.iter().map(|r| &r.run).collect::<Vec<_>>())?;
            for r in runs {
                let others = others.remove(&r.run.id).unwrap_or_default();
                let assessment = assess(&r.run, &r.approvals, config, approver, &known, &others, None, &version);
                out.insert(r.run.id.clone(), keep(&r, assessment));
            }
        }
        None => {
            // The duplicate-invoice facts: only invoices that share their key with another open or counting
            // run (one pass over the key index), never every invoice of a company. A run's key bucket holds
            // the run itself, which the duplicate rule skips by id, and exactly the runs the rule would match.
            let mut among = open.clone();
            among.extend(facts::COUNTING_STATUSES.into_iter().filter(|s| !open.contains(s)));
            let invoices: HashMap<InvoiceKey, Vec<OtherInvoice>> = store
                .invoice_twins(&among)?
                .into_iter()
                .map(|(key, runs)| {
                    let counting = runs.into_iter().filter(|(_, s)| facts::counts_as_other_invoice(*s)).map(|(o, _)| o);
                    (key, counting.collect())
                })
                .collect();
            if known.accounts.is_none() {
                // Only journals name main accounts: they alone are read for the live account question.
                let journals = store.runs_to_judge(&open, Some(crate::model::Action::PostJournal))?;
                let open_journals: Vec<&GovernedRun> = journals.iter().map(|r| &r.run).collect();
                known.accounts = accounts(&open_journals);
            }
            store.each_run_to_judge(&open, None, |r| {
                let others = InvoiceKey::of(&r.run).and_then(|k| invoices.get(&k)).map(Vec::as_slice).unwrap_or(&[]);
                let assessment = assess(&r.run, &r.approvals, config, approver, &known, others, None, &version);
                out.insert(r.run.id.clone(), keep(&r, assessment));
                Ok(())
            })?;
        }
    }
    Ok(out)
}

/// The policy evaluation and the rollback plan of `run`, given its facts and the config's policy version:
/// the one place both are computed for a preview.
#[allow(clippy::too_many_arguments)]
fn assess(
    run: &GovernedRun,
    approvals: &[Approval],
    config: &Config,
    approver: &str,
    known: &KnownFacts,
    others: &[OtherInvoice],
    live: Option<&Snapshot>,
    version: &str,
) -> Assessment {
    let mut f = Facts::new(Utc::now(), ActorId(approver.to_string()));
    f.approver_groups = config.approver.groups.clone();
    f.prior_approvers = approvals.iter().map(|a| ActorId(a.approver.clone())).collect();
    f.known_operations = known.operations.as_ref();
    f.known_entity_fields = known.entity_fields.as_ref();
    f.catalog = known.catalog.as_deref();
    // Never set offline: the pipeline reads main accounts live (`facts::read_accounts`).
    f.known_accounts = known.accounts.as_ref();
    f.other_runs = others;
    f.live = live;

    let mut evaluation = policy::evaluate_versioned(run, &f, config, version.to_string());
    if f.known_accounts.is_none() {
        explain_live_only(&mut evaluation);
    }
    Assessment { evaluation, rollback: rollback::plan(run, config, &f) }
}

/// Reword the fail-closed verdict of a rule whose facts are read live, keeping its level: syncing metadata
/// would not help, the decision itself reads them.
fn explain_live_only(evaluation: &mut Evaluation) {
    for verdict in &mut evaluation.verdicts {
        if verdict.rule == LIVE_ONLY_RULE && verdict.level == Level::Hard && verdict.field.is_none() {
            verdict.message = LIVE_ONLY_MESSAGE.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Outcome, Verdict};

    fn verdict(rule: &'static str, level: Level, message: &str, field: Option<&str>) -> Verdict {
        Verdict { level, rule, version: 1, message: message.into(), field: field.map(str::to_string) }
    }

    #[test]
    fn an_unknown_main_account_check_says_it_is_judged_at_decision_time_and_stays_hard() {
        let unknown = "main accounts cannot be checked: metadata not synced";
        let missing = "main account 999999 does not exist in the synced chart of accounts (line(s) 1)";
        let mut evaluation = Evaluation {
            verdicts: vec![
                verdict("journal.account", Level::Hard, unknown, None),
                verdict("journal.account", Level::Hard, missing, Some("AccountDisplayValue")),
                verdict("metadata.field", Level::Hard, "metadata not synced", None),
            ],
            required_approvals: 1,
            policy_version: "0".repeat(64),
            outcome: Outcome::Blocked,
        };
        explain_live_only(&mut evaluation);
        assert_eq!(evaluation.verdicts[0].level, Level::Hard);
        assert!(evaluation.verdicts[0].message.contains("read live from F&O at decision time"));
        assert_eq!(evaluation.verdicts[1].message, missing);
        assert_eq!(evaluation.verdicts[2].message, "metadata not synced");
    }
}
