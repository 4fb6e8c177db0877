//! What happened to a run, typed for the approver's screen: every audit event with its actor, time,
//! status change and reason, each recorded F&O exchange (masked when it was recorded) attached to the
//! event that recorded it, and, for a run that needs attention, why it stands where it stands.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{RunId, RunStatus};
use crate::store::{Store, StoreError, StoredRun};

/// One audit event of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `run.status`, `approval.recorded`, `exchange.recorded`, `decision.dry-run`, …
    pub kind: String,
    /// For a status change: from → to.
    pub transition: Option<(String, String)>,
    /// The reason, error or finding the event carries, in words.
    pub reason: Option<String>,
    /// The fingerprint of the key that signed the decision, when it was signed.
    pub signed_by: Option<String>,
    /// The request and answer an `exchange.recorded` event covers.
    pub exchange: Option<ExchangeView>,
}

/// A recorded request and F&O's answer, as the connector masked them when it recorded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeView {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    /// `None`: nothing came back (a dry run, a timeout, a dropped connection).
    pub status: Option<u16>,
    pub response_body: Option<String>,
    pub dry_run: bool,
}

/// Every audit event of `run_id`, oldest first, with its exchange where it recorded one.
pub fn history(store: &Store, run_id: &RunId) -> Result<Vec<AuditEntry>, StoreError> {
    let exchanges = store.exchanges(run_id)?;
    let events = store.audit_events(run_id)?;
    Ok(events
        .into_iter()
        .map(|e| {
            let exchange = (e.kind == "exchange.recorded")
                .then(|| e.payload["exchange"].as_i64())
                .flatten()
                .and_then(|id| exchanges.iter().find(|x| x.id == id))
                .and_then(|x| exchange_view(&x.json));
            let transition = (e.kind == "run.status").then(|| {
                let text = |k: &str| e.payload[k].as_str().unwrap_or("—").to_string();
                (text("from"), text("to"))
            });
            let signature = e.payload["signature"].as_str().or_else(|| e.payload["detail"]["signature"].as_str());
            AuditEntry {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                kind: e.kind,
                transition,
                reason: reason_of(&e.payload),
                signed_by: signature.and_then(crate::sign::signer_fingerprint),
                exchange,
            }
        })
        .collect())
}

/// Why a run that needs attention (failed, unknown, executing, partly executed, rollback-partial, stale)
/// stands where it does: the reason its newest status change recorded. `None` for any other run.
pub fn why(stored: &StoredRun) -> Option<String> {
    let attention = matches!(
        stored.status,
        RunStatus::Failed
            | RunStatus::Unknown
            | RunStatus::Executing
            | RunStatus::PartlyExecuted
            | RunStatus::RollbackPartial
            | RunStatus::Stale
    );
    if !attention {
        return None;
    }
    let change = stored.history.iter().rev().find(|h| h.to == stored.status)?;
    let reason = reason_of(&change.detail).unwrap_or_else(|| "no reason was recorded".into());
    Some(format!("{} since {}: {reason}", stored.status, change.at.format("%Y-%m-%d %H:%M UTC")))
}

/// Why a re-captured run is here: the run it replaces, whose record changed.
pub fn replacing(replaces: &super::preview::Replaces) -> String {
    let status = replaces.status.map(|s| format!(", {s}")).unwrap_or_default();
    format!(
        "re-captured: replaces run {}{status}, whose record changed after it was reviewed; the Diff tab shows what moved",
        replaces.id
    )
}

/// The live record a stale run drifted to, as its newest `stale` status change recorded it; `None` for a
/// run that is not stale.
pub fn stale_live(stored: &StoredRun) -> Option<crate::model::Snapshot> {
    if stored.status != RunStatus::Stale {
        return None;
    }
    let change = stored.history.iter().rev().find(|h| h.to == RunStatus::Stale)?;
    let drift: super::DriftReport = serde_json::from_value(change.detail.get("drift")?.clone()).ok()?;
    Some(drift.live_of(&stored.run))
}

/// The words an event's payload gives for itself: its reason, error, F&O's Infolog, what was written.
fn reason_of(payload: &Value) -> Option<String> {
    let detail = payload.get("detail").filter(|d| d.is_object()).unwrap_or(payload);
    let mut parts: Vec<String> = Vec::new();
    if let Some(by) = payload["by"].as_str() {
        parts.push(format!("re-captured as run {by}"));
    }
    if let Some(old) = payload["supersedes"].as_str() {
        parts.push(format!("replaces run {old}"));
    }
    for key in ["reason", "error"] {
        if let Some(text) = detail[key].as_str().or_else(|| payload[key].as_str()) {
            parts.push(text.to_string());
        }
    }
    if let Some(infolog) = detail["infolog"].as_str().filter(|i| !i.is_empty()) {
        parts.push(format!("F&O said: {infolog}"));
    }
    if let Some(written) = detail["written"].as_array().filter(|w| !w.is_empty()) {
        let written: Vec<&str> = written.iter().filter_map(Value::as_str).collect();
        parts.push(format!("written: {}", written.join("; ")));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn exchange_view(json: &str) -> Option<ExchangeView> {
    let x: crate::fno::Exchange = serde_json::from_str(json).ok()?;
    Some(ExchangeView {
        method: x.method,
        url: x.url,
        request_headers: x.request_headers,
        request_body: x.request_body,
        status: x.status,
        response_body: x.response_body,
        dry_run: x.dry_run,
    })
}
