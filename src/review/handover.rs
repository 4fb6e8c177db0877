//! Handing an approved journal to F&O's posting instead of posting it (`[operations.journal_post] mode =
//! "leave-for-batch" | "approve-only"`), and recording the posting once F&O shows it.
//!
//! The hand-over sends only what OData defines: the run's corrections and the configured header fields
//! (`handover_fields`), in one guarded changeset (or one guarded `PATCH`), never the post operation. The
//! run becomes `handed-over`. `signoff reconcile` later reads the journal header: posted → `executed` with
//! the vouchers read back from its lines; still unposted → stays; gone from F&O (a posted journal cannot
//! be deleted, so nothing was posted from it) → `failed` with the reads that prove the absence.

use serde_json::json;

use crate::config::{Config, PostingMode};
use crate::fno::{FnoClient, FnoError, Query};
use crate::model::{FieldValue, GovernedRun, RunId, RunStatus, Snapshot};
use crate::store::StoreError;

use super::conclude::Record;
use super::eligibility::DecisionKind;
use super::execute::{Execution, StepFailure, corrections, proposed_line_writes, read_vouchers, send_corrections};
use super::outcome::{FnoAnswer, Outcome};
use super::reconcile::{Finding, all_equal, corrections_applied};
use super::record::keep_exchanges;
use super::revalidate::read_header;
use super::{Db, ReviewError, Reviewer};

/// Approve by handing over: the corrections and `handover_fields` (they win over a proposed field of the
/// same name), each record under its live ETag; the post operation is not called.
pub(super) async fn hand_over(x: &Execution<'_>, mode: PostingMode) -> Result<FnoAnswer, StepFailure> {
    let run = x.run;
    let mut header = run.proposed.fields.clone();
    header.extend(x.config.handover_fields());
    let lines = proposed_line_writes(run, x.live);
    let c = corrections(x, &header, &lines).map_err(|error| StepFailure { error, written: Vec::new() })?;
    let mut answer = FnoAnswer { handed_over: Some(mode), ..FnoAnswer::default() };
    let written = send_corrections(x, c, &mut answer).await?;
    answer.messages.push(if written.is_empty() {
        format!("handed over to {} without a write: no correction, no handover_fields", mode.who_posts())
    } else {
        format!("handed over to {}: {}", mode.who_posts(), written.join("; "))
    });
    Ok(answer)
}

fn is_posted(fields: &crate::model::Fields) -> bool {
    fields.get("IsPosted").and_then(FieldValue::as_text).is_some_and(|s| s.eq_ignore_ascii_case("yes"))
}

/// A lost hand-over answer, settled by reading: posted already → applied (and executed); the
/// corrections and hand-over fields visible → handed over; otherwise nothing of it landed (it was one
/// changeset or one PATCH).
pub(super) async fn lost_finding(
    client: &FnoClient,
    config: &Config,
    run: &GovernedRun,
    live: &Snapshot,
    mode: PostingMode,
) -> Result<Finding, FnoError> {
    if is_posted(&live.fields) {
        let vouchers = read_vouchers(client, config, run).await?;
        return Ok(Finding::Applied {
            answer: FnoAnswer { new_etag: Some(live.etag.0.clone()), vouchers, ..Default::default() },
        });
    }
    if corrections_applied(run, live) && all_equal(&config.handover_fields(), &live.fields) {
        let answer = FnoAnswer { new_etag: Some(live.etag.0.clone()), handed_over: Some(mode), ..Default::default() };
        return Ok(Finding::Applied { answer });
    }
    Ok(Finding::NotApplied { detail: "neither the corrections nor the hand-over fields are in F&O".into() })
}

/// The mode a run was handed over in, from its `handed-over` status change (the config may have changed
/// since); the config's mode when the change does not say.
fn mode_of(stored: &crate::store::StoredRun, config: &Config) -> PostingMode {
    stored
        .history
        .iter()
        .rev()
        .find(|h| h.to == RunStatus::HandedOver)
        .and_then(|h| serde_json::from_value(h.detail["answer"]["handed_over"].clone()).ok())
        .unwrap_or_else(|| match config.posting_mode() {
            PostingMode::Post => PostingMode::LeaveForBatch,
            other => other,
        })
}

/// What reading F&O showed about a handed-over journal.
enum Seen {
    Posted(Snapshot),
    Unposted,
    /// The keyed read answered 404 and a query by the same keys found no row.
    Gone,
}

async fn look(client: &FnoClient, run: &GovernedRun) -> Result<Seen, FnoError> {
    match read_header(client, run).await {
        Ok(live) if is_posted(&live.fields) => Ok(Seen::Posted(live)),
        Ok(_) => Ok(Seen::Unposted),
        Err(FnoError::NotFound { what }) => {
            // A 404 may also mean a wrong entity set: only a query that answers, with no row, proves absence.
            let query = Query { cross_company: run.company().is_some(), ..Query::matching(&run.target.keys) };
            let rows = client.query(&run.target.entity_set, &query).await?.rows;
            if rows.is_empty() { Ok(Seen::Gone) } else { Err(FnoError::NotFound { what }) }
        }
        Err(e) => Err(e),
    }
}

/// Reconcile one claimed handed-over run by reading F&O; nothing is ever sent.
pub(super) async fn reconcile_claimed(r: &Reviewer, store: &Db, id: &RunId) -> Result<Outcome, ReviewError> {
    let stored = store.db().get(id)?.ok_or_else(|| StoreError::UnknownRun { id: id.clone() })?;
    let run = &stored.run;
    let mode = mode_of(&stored, &r.config);
    let client = r.client.fork(false);
    let seen = look(&client, run).await;
    let seen = match seen {
        Ok(Seen::Posted(live)) => read_vouchers(&client, &r.config, run).await.map(|v| Some((live, v))),
        Ok(Seen::Unposted) => Ok(None),
        Ok(Seen::Gone) => {
            keep_exchanges(store, id, &client, &r.approver)?;
            return gone(r, store, &stored, mode);
        }
        Err(e) => Err(e),
    };
    keep_exchanges(store, id, &client, &r.approver)?;
    let known = super::facts::load(&store.db())?;
    let record = Record {
        store,
        actor: &r.approver,
        run,
        kind: DecisionKind::Approve,
        config: &r.config,
        known: &known,
        prior: RunStatus::HandedOver,
    };
    let journal = run.target.label();
    match seen {
        Ok(Some((live, vouchers))) => {
            let message =
                format!("F&O posted the journal after it was handed over ({mode}); recorded by reconciliation");
            let answer =
                FnoAnswer { new_etag: Some(live.etag.0), vouchers, messages: vec![message], ..Default::default() };
            Ok(record.finish(answer, None)?)
        }
        Ok(None) => {
            let finding = json!({ "state": "not-posted", "mode": mode, "detail": "IsPosted is No" });
            record.audit("reconcile.finding", json!({ "decision": "approve", "finding": finding }))?;
            let detail = format!("F&O shows journal {journal} still unposted");
            Ok(Outcome::HandedOver { run_id: id.clone(), mode, answer: FnoAnswer::default(), detail })
        }
        Err(e) => {
            record.audit("reconcile.deferred", json!({ "error": e.to_string() }))?;
            let detail = format!("F&O cannot be read now ({e}); the run stays handed-over");
            Ok(Outcome::HandedOver { run_id: id.clone(), mode, answer: FnoAnswer::default(), detail })
        }
    }
}

/// The journal is gone from F&O: deleted after the hand-over. A posted journal cannot be deleted (FNO.md
/// §8), so nothing was posted from it and nothing of the decision is in effect: `failed`, with the reads
/// that prove the absence kept as the run's exchanges.
fn gone(r: &Reviewer, store: &Db, stored: &crate::store::StoredRun, mode: PostingMode) -> Result<Outcome, ReviewError> {
    let run = &stored.run;
    let reason = format!(
        "journal {} no longer exists in F&O (the keyed read answered 404 and a query by its keys found no row): it \
         was deleted after it was handed over ({mode}), and a posted journal cannot be deleted, so nothing was \
         posted from it",
        run.target.label()
    );
    let detail = json!({ "decision": "approve", "reason": reason, "mode": mode, "evidence": "absent" });
    store.db().transition(&run.id, &[RunStatus::HandedOver], RunStatus::Failed, &r.approver, detail)?;
    Ok(Outcome::Failed { run_id: run.id.clone(), reason, infolog: None })
}
