//! The approval digest: what one approval covers.
//!
//! An approval is bound to the run's canonical payload, to the ETags of the live records it was
//! re-validated against, and to the policy version that judged it. Any change to one of them gives a
//! different digest, so an approval recorded against one version of the world cannot execute against
//! another.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{ETag, Fields, GovernedRun, Snapshot};

/// The inputs of an approval digest, kept beside it as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestInputs {
    /// SHA-256 of the run's canonical JSON.
    pub payload_digest: String,
    /// The live header ETag the approval was given against.
    pub header_etag: ETag,
    /// Live line ETags by the line's canonical key text.
    pub line_etags: BTreeMap<String, ETag>,
    /// The policy version that evaluated the run.
    pub policy_version: String,
}

impl DigestInputs {
    /// The inputs for `run` re-validated against `live`, judged by `policy_version`.
    pub fn new(run: &GovernedRun, live: &Snapshot, policy_version: &str) -> Self {
        DigestInputs {
            payload_digest: run.payload_digest(),
            header_etag: live.etag.clone(),
            line_etags: live.lines.iter().map(|l| (line_key_text(&l.keys), l.etag.clone())).collect(),
            policy_version: policy_version.to_string(),
        }
    }

    /// SHA-256 (hex) over a length-prefixed encoding of every input, so no two inputs collide.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        let mut put = |label: &str, value: &str| {
            hasher.update(label.as_bytes());
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_bytes());
        };
        put("signoff.approval/v1", "");
        put("payload", &self.payload_digest);
        put("header-etag", self.header_etag.as_str());
        for (key, etag) in &self.line_etags {
            put("line", key);
            put("line-etag", etag.as_str());
        }
        put("policy", &self.policy_version);
        hex::encode(hasher.finalize())
    }
}

/// A line's keys as one stable text (`InvoiceLineNumber=2,dataAreaId=usmf`), for maps and messages.
pub fn line_key_text(keys: &Fields) -> String {
    // Numbers by value (`1` = `1.0`) and text case-insensitively, as F&O matches keys.
    let parts: Vec<String> = keys
        .iter()
        .map(|(k, v)| match v {
            crate::model::FieldValue::Number(n) => format!("{k}={}", n.normalize()),
            crate::model::FieldValue::Text(t) => format!("{k}={}", t.to_lowercase()),
            other => format!("{k}={other}"),
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> DigestInputs {
        DigestInputs {
            payload_digest: "9f2c".repeat(16),
            header_etag: ETag::from("W/\"JzEsNjg3MTk1MTIyNjEn\""),
            line_etags: BTreeMap::from([("LineNumber=1".to_string(), ETag::from("W/\"JzEsNjg3MTk1MTIyNjIn\""))]),
            policy_version: "policy/2026.1".into(),
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_digest() {
        assert_eq!(inputs().digest(), inputs().digest());
        assert_eq!(inputs().digest().len(), 64);
    }

    #[test]
    fn a_changed_header_etag_changes_the_digest() {
        let mut other = inputs();
        other.header_etag = ETag::from("W/\"JzIsNjg3MTk1MTIyNjEn\"");
        assert_ne!(inputs().digest(), other.digest());
    }

    #[test]
    fn a_changed_line_etag_or_policy_version_changes_the_digest() {
        let mut line = inputs();
        line.line_etags.insert("LineNumber=1".into(), ETag::from("W/\"JzMsNjg3MTk1MTIyNjIn\""));
        let mut policy = inputs();
        policy.policy_version = "policy/2026.2".into();
        assert_ne!(inputs().digest(), line.digest());
        assert_ne!(inputs().digest(), policy.digest());
    }

    #[test]
    fn moving_text_between_inputs_does_not_collide() {
        let mut a = inputs();
        a.payload_digest = "ab".into();
        a.policy_version = "c".into();
        let mut b = inputs();
        b.payload_digest = "a".into();
        b.policy_version = "bc".into();
        assert_ne!(a.digest(), b.digest());
    }
}
