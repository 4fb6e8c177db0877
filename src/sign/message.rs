//! The exact bytes an approver signs for one decision.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// One decision, as signed: which run, what decision, by whom, why, over which digest, when. Its bytes are
/// compact JSON with the fields in this order, so anyone can rebuild them from the stored approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionMessage {
    format: &'static str,
    pub run: String,
    /// `approve`, `reject`, `rollback`.
    pub decision: String,
    /// The principal the approver signs as: renaming the approval breaks the signature.
    pub approver: String,
    pub reason: String,
    /// For an approval, the approval digest; for a rejection or rollback, the run's payload digest.
    pub digest: String,
    /// RFC 3339 UTC with nanoseconds, as the store writes times.
    pub at: String,
}

impl DecisionMessage {
    /// The message for these fields.
    pub fn new(run: &str, decision: &str, approver: &str, reason: &str, digest: &str, at: DateTime<Utc>) -> Self {
        DecisionMessage {
            format: "signoff.decision/v1",
            run: run.to_string(),
            decision: decision.to_string(),
            approver: approver.to_string(),
            reason: reason.to_string(),
            digest: digest.to_string(),
            at: at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        }
    }

    /// The bytes signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising strings into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A checkpoint, as signed: the audit chain's event `seq` has hash `hash`. Whoever holds it can prove
/// the chain up to `seq` is the one the signer saw: a shorter or forked chain cannot carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointMessage {
    format: &'static str,
    pub seq: i64,
    pub hash: String,
}

impl CheckpointMessage {
    pub fn new(seq: i64, hash: &str) -> Self {
        CheckpointMessage { format: "signoff.checkpoint/v1", seq, hash: hash.to_string() }
    }

    /// The bytes signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_signed_bytes_are_pinned() {
        let at = Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
        let m = DecisionMessage::new("JE-00123", "approve", "amy@contoso.com", "Accrual \"checked\"\n", "9f2c", at);
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            r#"{"format":"signoff.decision/v1","run":"JE-00123","decision":"approve","approver":"amy@contoso.com","reason":"Accrual \"checked\"\n","digest":"9f2c","at":"2026-03-03T09:00:00.000000000Z"}"#
        );
    }

    #[test]
    fn the_checkpoint_bytes_are_pinned() {
        let m = CheckpointMessage::new(42, "ab12");
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            r#"{"format":"signoff.checkpoint/v1","seq":42,"hash":"ab12"}"#
        );
    }
}
