//! What makes an evidence bundle proof rather than a set of files: the chain segment in `chain.json`
//! links event to event and closes on a checkpoint signed by a key the allowed signers list, so its
//! events are the ones that signer saw; every other file is then checked against those events.
//!
//! A forger who edits a file and recomputes the manifest must also rewrite the chain segment, and the
//! checkpoint's signature covers the chain up to the event it names. Each failure names the file and
//! what disagrees.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::GovernedRun;
use crate::sign::{self, AllowedSigners, CheckpointMessage, DecisionMessage};
use crate::store::{AuditEvent, GENESIS_HASH};
use crate::text::visible;

use super::checkpoint_sign::{CHECKPOINT_KIND, CheckpointPayload};
use super::evidence::{AUDIT_FILE, BUNDLE_FILES, CHAIN_FILE, EvidenceError, MANIFEST, Manifest, sha256_hex};

/// What a verified bundle's checkpoint proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The first and last seq of the chain segment.
    pub first: i64,
    pub last: i64,
    /// The event the checkpoint signs (every event up to it is fixed by the signature).
    pub signed_seq: i64,
    /// Who signed it (the checkpoint event's actor, proven by the key) and the key.
    pub signed_by: String,
    pub key: String,
}

fn invalid(message: String) -> EvidenceError {
    EvidenceError::Invalid(message)
}

fn read<T: serde::de::DeserializeOwned>(dir: &Path, name: &str, what: &str) -> Result<T, EvidenceError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|source| EvidenceError::Read { path, source })?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{name} is not {what}: {e}")))
}

/// Check the bundle in `dir`, whose manifest verified, against its chain segment and checkpoint.
pub fn check(dir: &Path, manifest: &Manifest, allowed: &AllowedSigners) -> Result<Proven, EvidenceError> {
    for name in BUNDLE_FILES {
        if !manifest.files.iter().any(|f| f.name == name) {
            return Err(invalid(format!(
                "the bundle has no {name} ({MANIFEST} does not list it): a bundle holds {}, and only a chain \
                 segment closed by a signed checkpoint proves anything; export it again",
                BUNDLE_FILES.join(", ")
            )));
        }
    }
    let chain: Vec<AuditEvent> = read(dir, CHAIN_FILE, "a list of audit events")?;
    let proven = check_segment(&chain, allowed)?;
    let run_id = manifest.run_id.as_str();
    let run_events: Vec<&AuditEvent> =
        chain.iter().filter(|e| e.run_id.as_ref().is_some_and(|r| r.as_str() == run_id)).collect();
    if let Some(late) = run_events.iter().find(|e| e.seq > proven.signed_seq) {
        return Err(invalid(format!(
            "{CHAIN_FILE}: event #{} of run {} comes after the event the checkpoint signs (#{}), so the \
             signature does not cover it",
            late.seq,
            visible(run_id),
            proven.signed_seq
        )));
    }
    let audit: Vec<AuditEvent> = read(dir, AUDIT_FILE, "a list of audit events")?;
    check_audit(&audit, &chain, &run_events, run_id)?;
    let run = RunEvents::of(&run_events, run_id)?;
    check_run(dir, &run, run_id)?;
    check_approvals(dir, &run, run_id, allowed)?;
    check_exchanges(dir, &run)?;
    Ok(proven)
}

/// The segment links, every hash recomputes, it starts at event #1 or a checkpoint, and it ends on a
/// checkpoint whose signature verifies, names a listed principal and signs an event of the segment.
fn check_segment(chain: &[AuditEvent], allowed: &AllowedSigners) -> Result<Proven, EvidenceError> {
    let (Some(first), Some(closing)) = (chain.first(), chain.last()) else {
        return Err(invalid(format!("{CHAIN_FILE} holds no events: nothing in the bundle is proven")));
    };
    let starts_well = (first.seq == 1 && first.prev_hash == GENESIS_HASH) || first.kind == CHECKPOINT_KIND;
    if !starts_well {
        return Err(invalid(format!(
            "{CHAIN_FILE} starts at event #{} ({}), which is neither event #1 nor a signed checkpoint: the \
             segment was truncated",
            first.seq,
            visible(&first.kind)
        )));
    }
    let mut previous: Option<&AuditEvent> = None;
    for event in chain {
        if let Some(prev) = previous {
            if event.seq != prev.seq + 1 {
                return Err(invalid(format!(
                    "{CHAIN_FILE}: event #{} follows #{}: events are missing or out of order",
                    event.seq, prev.seq
                )));
            }
            if event.prev_hash != prev.hash {
                return Err(invalid(format!(
                    "{CHAIN_FILE}: event #{}'s prev_hash is not the hash of event #{} before it",
                    event.seq, prev.seq
                )));
            }
        }
        if !event.hash_is_valid() {
            return Err(invalid(format!(
                "{CHAIN_FILE}: event #{} does not match its hash (actor, time, run, kind or payload altered)",
                event.seq
            )));
        }
        previous = Some(event);
    }
    let payload = match CheckpointPayload::of(closing) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return Err(invalid(format!("{CHAIN_FILE}: the closing checkpoint #{}: {e}", closing.seq))),
        None => {
            return Err(invalid(format!(
                "{CHAIN_FILE} ends at event #{} ({}), not a signed checkpoint: the segment was truncated, and \
                 nothing signs its events",
                closing.seq,
                visible(&closing.kind)
            )));
        }
    };
    let named = chain.iter().find(|e| e.seq == payload.seq);
    if named.is_none_or(|e| e.hash != payload.hash) {
        return Err(invalid(format!(
            "{CHAIN_FILE}: the closing checkpoint #{} signs event #{} with hash {}, which is not an event of the \
             segment (the segment was rewritten or truncated)",
            closing.seq,
            payload.seq,
            visible(&payload.hash)
        )));
    }
    let signed_at =
        payload.signed_at().map_err(|e| invalid(format!("{CHAIN_FILE}: checkpoint #{}: {e}", closing.seq)))?;
    let message = CheckpointMessage::new(payload.seq, &payload.hash).to_bytes();
    let verified = sign::verify(allowed, &message, &payload.signature, signed_at).map_err(|e| {
        invalid(format!("{CHAIN_FILE}: the closing checkpoint #{}'s signature does not prove it: {e}", closing.seq))
    })?;
    if verified.fingerprint != payload.key {
        return Err(invalid(format!(
            "{CHAIN_FILE}: the closing checkpoint #{} names key {} but is signed by {}",
            closing.seq,
            visible(&payload.key),
            verified.fingerprint
        )));
    }
    if !verified.proves(&closing.actor) {
        return Err(invalid(format!(
            "{CHAIN_FILE}: the closing checkpoint #{} is by '{}', but its key {} is allowed only as {}",
            closing.seq,
            visible(&closing.actor),
            verified.fingerprint,
            verified.principals.join(", ")
        )));
    }
    Ok(Proven {
        first: first.seq,
        last: closing.seq,
        signed_seq: payload.seq,
        signed_by: closing.actor.clone(),
        key: verified.fingerprint,
    })
}

/// `audit.json` is exactly the run's events of the segment: none added, altered or left out.
fn check_audit(
    audit: &[AuditEvent],
    chain: &[AuditEvent],
    run_events: &[&AuditEvent],
    run_id: &str,
) -> Result<(), EvidenceError> {
    for event in audit {
        match chain.iter().find(|e| e.seq == event.seq) {
            Some(e) if e == event => {}
            Some(_) => {
                return Err(invalid(format!(
                    "{AUDIT_FILE}: event #{} differs from event #{} in {CHAIN_FILE}",
                    event.seq, event.seq
                )));
            }
            None => return Err(invalid(format!("{AUDIT_FILE}: event #{} is not in {CHAIN_FILE}", event.seq))),
        }
        if event.run_id.as_ref().is_none_or(|r| r.as_str() != run_id) {
            return Err(invalid(format!("{AUDIT_FILE}: event #{} is not about run {}", event.seq, visible(run_id))));
        }
    }
    if let Some(missing) = run_events.iter().find(|e| !audit.iter().any(|a| a.seq == e.seq)) {
        return Err(invalid(format!(
            "{AUDIT_FILE} leaves out event #{} ({}) of run {} that {CHAIN_FILE} holds",
            missing.seq,
            visible(&missing.kind),
            visible(run_id)
        )));
    }
    Ok(())
}

/// The run's events of the segment, by kind.
struct RunEvents<'a> {
    imported: &'a AuditEvent,
    last_status: Option<&'a AuditEvent>,
    approvals: Vec<&'a AuditEvent>,
    exchanges: Vec<&'a AuditEvent>,
}

impl<'a> RunEvents<'a> {
    fn of(events: &[&'a AuditEvent], run_id: &str) -> Result<Self, EvidenceError> {
        let imported = events.iter().find(|e| e.kind == "run.imported").ok_or_else(|| {
            invalid(format!(
                "{CHAIN_FILE} holds no run.imported event of run {}: the segment was truncated",
                visible(run_id)
            ))
        })?;
        let of_kind = |kind: &str| events.iter().copied().filter(|e| e.kind == kind).collect::<Vec<_>>();
        Ok(RunEvents {
            imported,
            last_status: of_kind("run.status").last().copied(),
            approvals: of_kind("approval.recorded"),
            exchanges: of_kind("exchange.recorded"),
        })
    }
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_default()
}

/// `run.json`: the document hashes to the imported digest, and the status is the chain's last.
fn check_run(dir: &Path, events: &RunEvents<'_>, run_id: &str) -> Result<(), EvidenceError> {
    let run: Value = read(dir, "run.json", "a run")?;
    let digest = text(&events.imported.payload, "digest");
    if text(&run, "payload_digest") != digest {
        return Err(invalid(format!(
            "run.json: payload_digest {} is not the digest {} of the run.imported event #{}",
            visible(text(&run, "payload_digest")),
            visible(digest),
            events.imported.seq
        )));
    }
    let document: GovernedRun = serde_json::from_value(run["run"].clone())
        .map_err(|e| invalid(format!("run.json: its run is not a governed run: {e}")))?;
    if document.id.as_str() != run_id || document.payload_digest() != digest {
        return Err(invalid(format!(
            "run.json: the run document was altered: it hashes to {}, not the digest {digest} of the run.imported \
             event #{}",
            document.payload_digest(),
            events.imported.seq
        )));
    }
    let status = events.last_status.map_or("pending", |e| text(&e.payload, "to"));
    if text(&run, "status") != status {
        let by =
            events.last_status.map_or_else(|| "the import".to_string(), |e| format!("run.status event #{}", e.seq));
        return Err(invalid(format!(
            "run.json: status '{}' is not '{status}', the status {by} records",
            visible(text(&run, "status"))
        )));
    }
    Ok(())
}

/// One approval as exported.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleApproval {
    run_id: String,
    approver: String,
    approved_at: DateTime<Utc>,
    reason: String,
    digest: String,
    policy_version: String,
    signature: Option<String>,
}

/// `approvals.json`: one approval per `approval.recorded` event, every field equal, each signature
/// verifying over its own fields and proving its approver.
fn check_approvals(
    dir: &Path,
    events: &RunEvents<'_>,
    run_id: &str,
    allowed: &AllowedSigners,
) -> Result<(), EvidenceError> {
    const FILE: &str = "approvals.json";
    let approvals: Vec<BundleApproval> = read(dir, FILE, "a list of approvals")?;
    for a in &approvals {
        let who = visible(&a.approver).into_owned();
        let event = events.approvals.iter().find(|e| e.actor == a.approver).ok_or_else(|| {
            invalid(format!("{FILE}: the approval by '{who}' has no approval.recorded event in {CHAIN_FILE}"))
        })?;
        let p = &event.payload;
        let differs = [
            ("run_id", a.run_id != run_id),
            ("approved_at", a.approved_at != event.at),
            ("reason", a.reason != text(p, "reason")),
            ("digest", a.digest != text(p, "digest")),
            ("policy_version", a.policy_version != text(p, "policy_version")),
            ("signature", a.signature.as_deref() != p["signature"].as_str()),
        ];
        if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(invalid(format!(
                "{FILE}: the approval by '{who}' has a {field} other than its approval.recorded event #{}",
                event.seq
            )));
        }
        let Some(signature) = &a.signature else {
            return Err(invalid(format!(
                "{FILE}: the approval by '{who}' carries no signature: it proves no approver"
            )));
        };
        let message = DecisionMessage::new(run_id, "approve", &a.approver, &a.reason, &a.digest, a.approved_at);
        let verified = sign::verify(allowed, &message.to_bytes(), signature, a.approved_at)
            .map_err(|e| invalid(format!("{FILE}: the approval by '{who}' does not verify: {e}")))?;
        if !verified.proves(&a.approver) {
            return Err(invalid(format!(
                "{FILE}: the approval by '{who}' is signed by {}, which is allowed only as {}",
                verified.fingerprint,
                verified.principals.join(", ")
            )));
        }
    }
    if let Some(missing) = events.approvals.iter().find(|e| !approvals.iter().any(|a| a.approver == e.actor)) {
        return Err(invalid(format!(
            "{FILE} leaves out the approval by '{}' that {CHAIN_FILE} records (event #{})",
            visible(&missing.actor),
            missing.seq
        )));
    }
    Ok(())
}

/// One exchange as exported.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleExchange {
    id: i64,
    at: DateTime<Utc>,
    stored: String,
    exchange: Value,
}

/// `exchanges.json`: each stored exchange hashes to its `exchange.recorded` event's sha256, and its
/// readable form is the same exchange.
fn check_exchanges(dir: &Path, events: &RunEvents<'_>) -> Result<(), EvidenceError> {
    const FILE: &str = "exchanges.json";
    let exchanges: Vec<BundleExchange> = read(dir, FILE, "a list of exchanges")?;
    for x in &exchanges {
        let event =
            events.exchanges.iter().find(|e| e.payload["exchange"].as_i64() == Some(x.id)).ok_or_else(|| {
                invalid(format!("{FILE}: exchange {} has no exchange.recorded event in {CHAIN_FILE}", x.id))
            })?;
        if sha256_hex(x.stored.as_bytes()) != text(&event.payload, "sha256") || x.at != event.at {
            return Err(invalid(format!(
                "{FILE}: exchange {} was altered: its sha256 or time is not that of exchange.recorded event #{}",
                x.id, event.seq
            )));
        }
        let readable = serde_json::from_str::<Value>(&x.stored).unwrap_or_else(|_| Value::String(x.stored.clone()));
        if readable != x.exchange {
            return Err(invalid(format!("{FILE}: exchange {}'s readable form differs from its stored text", x.id)));
        }
    }
    if let Some(missing) =
        events.exchanges.iter().find(|e| !exchanges.iter().any(|x| e.payload["exchange"].as_i64() == Some(x.id)))
    {
        return Err(invalid(format!(
            "{FILE} leaves out exchange {} that {CHAIN_FILE} records (event #{})",
            missing.payload["exchange"], missing.seq
        )));
    }
    Ok(())
}
