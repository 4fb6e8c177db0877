//! Signing a checkpoint of the audit chain: the signer's signature over the head's `(seq, hash)`,
//! appended as a `checkpoint.signed` event. Whoever holds a checkpoint can prove the chain up to that
//! event is the one the signer saw; an evidence bundle closes on one (see `review::evidence_check`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::sign::{self, CheckpointMessage, PublicKey, SignError, Signer};
use crate::store::{AuditEvent, Store, StoreError};

use super::identity::Identity;

/// The audit event kind of a signed checkpoint.
pub const CHECKPOINT_KIND: &str = "checkpoint.signed";

/// A `checkpoint.signed` event's payload: event `seq` has hash `hash`, signed by `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointPayload {
    pub seq: i64,
    pub hash: String,
    /// `SHA256:…` of the signing key.
    pub key: String,
    /// Armored SSHSIG over [`CheckpointMessage`]`(seq, hash)`, namespace `signoff`.
    pub signature: String,
    /// RFC 3339 UTC with nanoseconds.
    pub signed_at: String,
}

impl CheckpointPayload {
    /// The payload of `event`, when it is a checkpoint.
    pub fn of(event: &AuditEvent) -> Option<Result<CheckpointPayload, String>> {
        (event.kind == CHECKPOINT_KIND).then(|| {
            serde_json::from_value(event.payload.clone()).map_err(|e| format!("its payload is not a checkpoint: {e}"))
        })
    }

    /// When it was signed.
    pub fn signed_at(&self) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(&self.signed_at).map(|t| t.to_utc()).map_err(|e| {
            format!("its signed_at '{}' is not an RFC 3339 time: {e}", crate::text::visible(&self.signed_at))
        })
    }
}

/// Why no checkpoint was signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the audit chain is empty: there is nothing to sign a checkpoint of")]
    EmptyChain,
    #[error("cannot sign the checkpoint: {0}")]
    Sign(#[from] SignError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot sign the checkpoint: {0}")]
    Identity(String),
}

/// Sign the chain's current head with `key` (held by `signer`) and append it as a `checkpoint.signed`
/// event by `principal`. Another process may append in between: the checkpoint still names an event
/// of the chain, just not the newest.
pub fn sign_checkpoint(
    store: &Store,
    signer: &dyn Signer,
    key: &PublicKey,
    principal: &str,
) -> Result<AuditEvent, CheckpointError> {
    let payload = sign_head(store, signer, key)?;
    append(store, principal, &payload)
}

/// Sign a checkpoint as the operator `identity` proves (`claim` chooses among its principals, as for a
/// decision). The signature is checked against the allowed signers before it is appended, so a signer
/// that signs other bytes than it is given never leaves a checkpoint nobody can verify.
pub fn checkpoint_as(store: &Store, identity: &Identity, claim: Option<&str>) -> Result<AuditEvent, CheckpointError> {
    let signing = identity.signing_key(claim).map_err(CheckpointError::Identity)?;
    let payload = sign_head(store, signing.signer.as_ref(), &signing.key)?;
    let message = CheckpointMessage::new(payload.seq, &payload.hash).to_bytes();
    let verified = sign::verify(&signing.allowed, &message, &payload.signature, Utc::now())
        .map_err(|e| CheckpointError::Identity(format!("the checkpoint signature does not verify: {e}")))?;
    if !verified.proves(&signing.principal) {
        return Err(CheckpointError::Identity(format!(
            "the checkpoint is signed by {}, which the allowed signers do not list as {}",
            verified.fingerprint,
            crate::text::visible(&signing.principal)
        )));
    }
    append(store, &signing.principal, &payload)
}

fn sign_head(store: &Store, signer: &dyn Signer, key: &PublicKey) -> Result<CheckpointPayload, CheckpointError> {
    let (seq, hash) = store.audit_head()?.ok_or(CheckpointError::EmptyChain)?;
    let signed_at = Utc::now();
    let signature = sign::sign_armored(signer, key, &CheckpointMessage::new(seq, &hash).to_bytes())?;
    Ok(CheckpointPayload {
        seq,
        hash,
        key: sign::fingerprint(key),
        signature,
        signed_at: signed_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
    })
}

fn append(store: &Store, principal: &str, payload: &CheckpointPayload) -> Result<AuditEvent, CheckpointError> {
    let payload = json!({
        "seq": payload.seq,
        "hash": payload.hash,
        "key": payload.key,
        "signature": payload.signature,
        "signed_at": payload.signed_at,
    });
    Ok(store.append_audit(principal, None, CHECKPOINT_KIND, payload)?)
}
