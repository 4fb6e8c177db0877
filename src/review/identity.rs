//! Who decides, proven: the approver is the principal of the allowed-signers entry whose key their
//! ssh-agent holds, and every decision carries their signature. `SIGNOFF_APPROVER` / `approver.id` may
//! choose among the identities the agent can prove, never invent one. Checked before anything is read
//! from F&O; every counted approval is verified again before a write.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Config, IdentityMode};
use crate::model::RunId;
use crate::sign::{self, AgentSigner, AllowedSigners, DecisionMessage, PublicKey, Signer};
use crate::store::Approval;

/// How this reviewer's identity is established.
#[derive(Debug, Clone)]
pub enum Identity {
    /// No proof configured: the approver is whoever the configuration or environment names (kept only for
    /// set-ups with neither `allowed_signers` nor `identity`).
    Claimed,
    /// The account name of the process's real user, from the kernel.
    OsUser,
    /// Signed through `signer`, verified against the allowed-signers file at `allowed`.
    Ssh { allowed: PathBuf, signer: Arc<dyn Signer> },
}

impl Identity {
    /// The identity the config asks for; ssh signs through the agent `SSH_AUTH_SOCK` names.
    pub fn from_config(config: &Config) -> Identity {
        match (config.approver.identity_mode(), &config.approver.allowed_signers) {
            (Some(IdentityMode::Ssh), Some(path)) => {
                Identity::Ssh { allowed: path.clone(), signer: Arc::new(AgentSigner::from_env()) }
            }
            // Validation refuses ssh without a file; if it gets here, fail closed at every decision.
            (Some(IdentityMode::Ssh), None) => {
                Identity::Ssh { allowed: PathBuf::new(), signer: Arc::new(AgentSigner::from_env()) }
            }
            (Some(IdentityMode::OsUser), _) => Identity::OsUser,
            (None, _) => Identity::Claimed,
        }
    }

    /// The same identity mode, signing through `signer` (the demo's key, a test's agent).
    pub fn with_signer(self, signer: Arc<dyn Signer>) -> Identity {
        match self {
            Identity::Ssh { allowed, .. } => Identity::Ssh { allowed, signer },
            other => other,
        }
    }

    /// Whether decisions are signed.
    pub fn signs(&self) -> bool {
        matches!(self, Identity::Ssh { .. })
    }

    /// The approver this process may act as, given the name it asks for (`claim`, possibly empty): for
    /// start-up, so the TUI and the CLI show and use a proven name.
    pub fn resolve(&self, claim: Option<&str>) -> Result<String, String> {
        let claim = claim.map(str::trim).filter(|c| !c.is_empty());
        match self {
            Identity::Claimed => claim.map(str::to_string).ok_or_else(|| {
                "no approver identity: set approver.allowed_signers (signed decisions), or approver.id, or \
                 SIGNOFF_APPROVER"
                    .to_string()
            }),
            Identity::OsUser => os_user(claim),
            Identity::Ssh { allowed, signer } => {
                let (allowed_signers, candidates) = candidates(allowed, signer.as_ref())?;
                drop(allowed_signers);
                choose(&candidates, claim, allowed).map(|(p, _)| p)
            }
        }
    }

    /// The principal to sign as, the key that proves it, the signer holding that key and the allowed
    /// signers that say so: for signing what is not a decision (an audit checkpoint). Chosen as for a
    /// decision; only an ssh identity can sign.
    pub fn signing_key(&self, claim: Option<&str>) -> Result<SigningKey, String> {
        let Identity::Ssh { allowed, signer } = self else {
            return Err("signing needs approver.allowed_signers in the config (decisions are not signed without \
                        it); see \"Signing for a team\" in docs/audit.md"
                .into());
        };
        let claim = claim.map(str::trim).filter(|c| !c.is_empty());
        let (allowed_signers, candidates) = candidates(allowed, signer.as_ref())?;
        let (principal, key) = choose(&candidates, claim, allowed)?;
        Ok(SigningKey { principal, key, signer: Arc::clone(signer), allowed: allowed_signers })
    }
}

/// A principal that can sign now: its key, the signer holding it, and the allowed signers listing it.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub principal: String,
    pub key: PublicKey,
    pub signer: Arc<dyn Signer>,
    pub allowed: AllowedSigners,
}

/// A proven decider, before anything is read from F&O.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    pub approver: String,
    /// The key that proved it (ssh only).
    key: Option<PublicKey>,
    /// The signature over the decision (ssh only).
    pub signature: Option<String>,
    pub signed_at: DateTime<Utc>,
    /// The digest the signature covers (the run's payload digest, for the decision as a whole).
    signed_digest: String,
}

impl Proof {
    /// The key that proved the decider (ssh only).
    pub fn key(&self) -> Option<&PublicKey> {
        self.key.as_ref()
    }

    /// The signature fields for a decision's audit event (nothing when unsigned).
    pub fn evidence(&self, detail: &mut serde_json::Value) {
        if let (Some(sig), Some(key)) = (&self.signature, &self.key) {
            detail["signature"] = serde_json::json!(sig);
            detail["signed_at"] = serde_json::json!(self.signed_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
            detail["key"] = serde_json::json!(sign::fingerprint(key));
            detail["signed_digest"] = serde_json::json!(self.signed_digest);
        }
    }
}

/// One decision to prove: the claimed approver signs (run, decision, reason, digest, now).
pub(crate) struct Decision<'a> {
    pub run_id: &'a RunId,
    pub kind: &'a str,
    pub reason: &'a str,
    pub digest: &'a str,
}

/// Prove that the approver `claim` takes `decision`: the agent holds a key the allowed signers list for
/// `claim` (or, with no claim, for exactly one principal), and its signature over the decision verifies.
pub(crate) fn prove(identity: &Identity, claim: &str, decision: &Decision<'_>) -> Result<Proof, String> {
    let now = Utc::now();
    let claim = Some(claim.trim()).filter(|c| !c.is_empty());
    match identity {
        Identity::Claimed => {
            let approver = identity.resolve(claim)?;
            Ok(Proof { approver, key: None, signature: None, signed_at: now, signed_digest: String::new() })
        }
        Identity::OsUser => {
            let approver = os_user(claim)?;
            Ok(Proof { approver, key: None, signature: None, signed_at: now, signed_digest: String::new() })
        }
        Identity::Ssh { allowed, signer } => {
            let (allowed_signers, candidates) = candidates(allowed, signer.as_ref())?;
            let (approver, key) = choose(&candidates, claim, allowed)?;
            let signature = sign_and_check(signer.as_ref(), &allowed_signers, &key, &approver, decision, now)?;
            let signed_digest = decision.digest.to_string();
            Ok(Proof { approver, key: Some(key), signature: Some(signature), signed_at: now, signed_digest })
        }
    }
}

/// Sign an approval of `digest` with the key that proved `proof`; `None` when decisions are not signed.
pub(crate) fn sign_approval(
    identity: &Identity,
    proof: &Proof,
    decision: &Decision<'_>,
) -> Result<Option<(String, DateTime<Utc>)>, String> {
    let (Identity::Ssh { allowed, signer }, Some(key)) = (identity, &proof.key) else {
        return Ok(None);
    };
    let allowed_signers = load(allowed)?;
    let now = Utc::now();
    let signature = sign_and_check(signer.as_ref(), &allowed_signers, key, &proof.approver, decision, now)?;
    Ok(Some((signature, now)))
}

/// The allowed signers decisions are verified against, when decisions are signed.
pub(crate) fn allowed_signers(identity: &Identity) -> Option<Result<AllowedSigners, String>> {
    match identity {
        Identity::Ssh { allowed, .. } => Some(load(allowed)),
        _ => None,
    }
}

/// Refuse a second approval of one run by the same key under another name: a quorum counts people.
pub(crate) fn check_distinct_key(identity: &Identity, proof: &Proof, prior: &[Approval]) -> Result<(), String> {
    let (Identity::Ssh { .. }, Some(key)) = (identity, &proof.key) else {
        return Ok(());
    };
    let mine = sign::fingerprint(key);
    for a in prior {
        if signing_key(a).as_deref() == Some(mine.as_str()) {
            return Err(format!(
                "the key {mine} already approved this run as {}; a quorum counts distinct people, so another \
                 approver must approve",
                crate::text::visible(&a.approver)
            ));
        }
    }
    Ok(())
}

/// Before a write: every counted approval must carry a signature that verifies against the allowed
/// signers over its own fields and proves its approver, and no key may count twice.
pub(crate) fn verify_approvals(identity: &Identity, run_id: &RunId, approvals: &[Approval]) -> Result<(), String> {
    let Identity::Ssh { allowed, .. } = identity else {
        return Ok(());
    };
    let allowed_signers = load(allowed)?;
    let mut keys: BTreeMap<String, &str> = BTreeMap::new();
    for a in approvals {
        let who = crate::text::visible(&a.approver).into_owned();
        let Some(signature) = &a.signature else {
            return Err(format!("the approval by {who} carries no signature; it must be given again, signed"));
        };
        let message =
            DecisionMessage::new(run_id.as_str(), "approve", &a.approver, &a.reason, &a.digest, a.approved_at);
        let verified = sign::verify(&allowed_signers, &message.to_bytes(), signature, a.approved_at)
            .map_err(|e| format!("the approval by {who} does not verify: {e}"))?;
        if !verified.proves(&a.approver) {
            return Err(format!(
                "the approval by {who} is signed by {} whose allowed identities are {}, not {who}",
                verified.fingerprint,
                verified.principals.join(", ")
            ));
        }
        if let Some(first) = keys.insert(verified.fingerprint.clone(), &a.approver) {
            return Err(format!(
                "the approvals by {} and {who} are signed by the same key {}; a quorum counts distinct people",
                crate::text::visible(first),
                verified.fingerprint
            ));
        }
    }
    Ok(())
}

/// Warnings about the allowed-signers file's ownership, for `config check` and start-up.
pub fn allowed_signers_warnings(config: &Config) -> Vec<String> {
    match &config.approver.allowed_signers {
        Some(path) => sign::allowed::ownership_warnings(path, sign::os_user::uid()),
        None => Vec::new(),
    }
}

/// The fingerprint of the key that signed an approval, without verifying it.
fn signing_key(a: &Approval) -> Option<String> {
    let sig = ssh_key::SshSig::from_pem(a.signature.as_deref()?.trim()).ok()?;
    Some(sign::fingerprint(&PublicKey::from(sig.public_key().clone())))
}

fn os_user(claim: Option<&str>) -> Result<String, String> {
    let account = sign::os_user::account_name()?;
    match claim {
        Some(c) if c != account => Err(format!(
            "approver.identity is \"os-user\": you are the account {account}, so you cannot decide as '{}'; \
             unset SIGNOFF_APPROVER / approver.id or set it to {account}",
            crate::text::visible(c)
        )),
        _ => Ok(account),
    }
}

fn load(path: &Path) -> Result<AllowedSigners, String> {
    if path.as_os_str().is_empty() {
        return Err("approver.identity is \"ssh\" but approver.allowed_signers is not set".into());
    }
    AllowedSigners::load(path).map_err(|e| format!("{e}; an administrator maintains this file (see docs/audit.md)"))
}

/// The (principal, key) pairs the agent can prove now, with the allowed signers they came from.
fn candidates(allowed: &Path, signer: &dyn Signer) -> Result<(AllowedSigners, Vec<(String, PublicKey)>), String> {
    let allowed_signers = load(allowed)?;
    let keys = signer.keys().map_err(|e| e.to_string())?;
    let now = Utc::now();
    let mut out = Vec::new();
    for key in &keys {
        for principal in allowed_signers.principals_for(key, sign::NAMESPACE, now) {
            out.push((principal, key.clone()));
        }
    }
    if out.is_empty() {
        let held: Vec<String> = keys.iter().map(sign::fingerprint).collect();
        let held = if held.is_empty() { "none".to_string() } else { held.join(", ") };
        return Err(format!(
            "no key in your ssh-agent is in the allowed signers file {} (keys held: {held}); ask an \
             administrator to add your public key (`ssh-add -L` prints it), or `ssh-add` the key that is listed",
            allowed.display()
        ));
    }
    Ok((allowed_signers, out))
}

fn choose(
    candidates: &[(String, PublicKey)],
    claim: Option<&str>,
    allowed: &Path,
) -> Result<(String, PublicKey), String> {
    let mut names: Vec<&str> = Vec::new();
    for (p, _) in candidates {
        if !names.contains(&p.as_str()) {
            names.push(p);
        }
    }
    match claim {
        Some(claim) => candidates.iter().find(|(p, _)| p == claim).cloned().ok_or_else(|| {
            format!(
                "SIGNOFF_APPROVER / approver.id names '{}', but your ssh-agent holds no key the allowed signers \
                 file {} lists for that name; it can prove: {}",
                crate::text::visible(claim),
                allowed.display(),
                names.join(", ")
            )
        }),
        None if names.len() == 1 => Ok(candidates[0].clone()),
        None => Err(format!(
            "your ssh-agent can prove several identities ({}); choose one with SIGNOFF_APPROVER or approver.id",
            names.join(", ")
        )),
    }
}

fn sign_and_check(
    signer: &dyn Signer,
    allowed: &AllowedSigners,
    key: &PublicKey,
    approver: &str,
    decision: &Decision<'_>,
    at: DateTime<Utc>,
) -> Result<String, String> {
    let message =
        DecisionMessage::new(decision.run_id.as_str(), decision.kind, approver, decision.reason, decision.digest, at);
    let bytes = message.to_bytes();
    let signature = sign::sign_armored(signer, key, &bytes).map_err(|e| e.to_string())?;
    let verified = sign::verify(allowed, &bytes, &signature, at)
        .map_err(|e| format!("the signature for this decision does not verify: {e}"))?;
    if !verified.proves(approver) {
        return Err(format!(
            "the signature for this decision is by {}, which the allowed signers list as {}, not {}",
            verified.fingerprint,
            verified.principals.join(", "),
            crate::text::visible(approver)
        ));
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::KeySigner;

    #[test]
    fn os_user_is_the_kernels_account_and_another_name_is_refused() {
        let account = sign::os_user::account_name().unwrap();
        assert_eq!(Identity::OsUser.resolve(None), Ok(account.clone()));
        assert_eq!(Identity::OsUser.resolve(Some(&account)), Ok(account.clone()));
        let err = Identity::OsUser.resolve(Some("someone.else@contoso.com")).unwrap_err();
        assert!(err.contains(&format!("you are the account {account}")), "{err}");
    }

    #[test]
    fn with_several_provable_identities_a_choice_is_required_and_only_among_them() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("allowed_signers");
        let signer = KeySigner::generate();
        let key = signer.keys().unwrap()[0].to_openssh().unwrap();
        std::fs::write(&allowed, format!("julia@contoso.com,jf@contoso.com {key}\n")).unwrap();
        let identity = Identity::Ssh { allowed, signer: Arc::new(signer) };
        let err = identity.resolve(None).unwrap_err();
        assert!(err.contains("several identities (julia@contoso.com, jf@contoso.com)"), "{err}");
        assert_eq!(identity.resolve(Some("jf@contoso.com")), Ok("jf@contoso.com".to_string()));
        let err = identity.resolve(Some("amy@contoso.com")).unwrap_err();
        assert!(err.contains("names 'amy@contoso.com'"), "{err}");
    }
}
