//! Signatures that prove who decided: SSH signatures in the format git uses (`ssh-keygen -Y sign`,
//! namespace `signoff`), made by the approver's own key through ssh-agent, and verified against an
//! allowed-signers file in git's format.
//!
//! This module knows nothing of runs, the store or the UI: it signs bytes, parses allowed signers and
//! says which principals a signature proves. `review` decides what that means for a decision.

mod agent;
pub mod allowed;
mod memory;
mod message;
pub mod os_user;

pub use agent::AgentSigner;
pub use allowed::{AllowedSigners, AllowedSignersError, SignerEntry};
pub use memory::KeySigner;
pub use message::{CheckpointMessage, DecisionMessage};
pub use ssh_key::{PublicKey, SshSig};

use chrono::{DateTime, Utc};
use ssh_key::{HashAlg, LineEnding};

/// The SSHSIG namespace of every signoff signature (`ssh-keygen -Y verify -n signoff`).
pub const NAMESPACE: &str = "signoff";

/// The hash git and `ssh-keygen -Y sign` use by default.
const HASH: HashAlg = HashAlg::Sha512;

/// Why a signature could not be made or did not verify. Each message names the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(
        "no ssh-agent to sign with: SSH_AUTH_SOCK is not set; start one (`eval $(ssh-agent)`) and `ssh-add` \
         your key, or connect to this host with `ssh -A` so your own agent signs"
    )]
    NoAgent,
    #[error("cannot reach the ssh-agent at {socket}: {reason}; check SSH_AUTH_SOCK (`ssh-add -L` lists its keys)")]
    Agent { socket: String, reason: String },
    #[error(
        "the ssh-agent refused to sign with {fingerprint}: {reason} (a key added with `ssh-add -c` needs confirming)"
    )]
    AgentSign { fingerprint: String, reason: String },
    #[error("no key {fingerprint} to sign with")]
    NoSuchKey { fingerprint: String },
    #[error("cannot encode the signature: {0}")]
    Encode(String),
}

/// Something that holds private keys and signs with them: the ssh-agent, or keys in memory.
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// The public keys this signer can sign with.
    fn keys(&self) -> Result<Vec<PublicKey>, SignError>;
    /// Sign `message` with `key` (one of [`Signer::keys`]) as an SSHSIG in the `signoff` namespace.
    fn sign(&self, key: &PublicKey, message: &[u8]) -> Result<SshSig, SignError>;
}

/// `SHA256:…`, as `ssh-add -l` and `ssh-keygen -l` show a key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The fingerprint of the key that made an armored signature, without verifying it (for display).
pub fn signer_fingerprint(armored: &str) -> Option<String> {
    let sig = SshSig::from_pem(armored.trim()).ok()?;
    Some(fingerprint(&PublicKey::from(sig.public_key().clone())))
}

/// Sign `message` with `key` and armor it (`-----BEGIN SSH SIGNATURE-----`), as `ssh-keygen -Y sign` writes.
pub fn sign_armored(signer: &dyn Signer, key: &PublicKey, message: &[u8]) -> Result<String, SignError> {
    let sig = signer.sign(key, message)?;
    sig.to_pem(LineEnding::LF).map_err(|e| SignError::Encode(e.to_string()))
}

/// What a verified signature proves: the key that made it and the principals the allowed signers give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `SHA256:…` of the signing key.
    pub fingerprint: String,
    /// Every principal whose allowed-signers entry lists the key (valid at the time, namespace allowed).
    pub principals: Vec<String>,
}

impl Verified {
    /// Whether the signature proves `principal`.
    pub fn proves(&self, principal: &str) -> bool {
        self.principals.iter().any(|p| p == principal)
    }
}

/// Why a signature does not prove anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature is not an armored SSH signature: {0}")]
    Malformed(String),
    #[error("the signature is for namespace '{0}', not 'signoff'")]
    Namespace(String),
    #[error("the signature by {0} does not verify over this decision (it was made over other data)")]
    BadSignature(String),
    #[error("the key {0} that made the signature is not in the allowed signers (for namespace signoff, at that time)")]
    NotAllowed(String),
}

/// Verify `armored` over `message` and find the principals its key has in `allowed` at `at`.
pub fn verify(
    allowed: &AllowedSigners,
    message: &[u8],
    armored: &str,
    at: DateTime<Utc>,
) -> Result<Verified, VerifyError> {
    let sig = SshSig::from_pem(armored.trim()).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if sig.namespace() != NAMESPACE {
        return Err(VerifyError::Namespace(crate::text::visible(sig.namespace()).into_owned()));
    }
    let key = PublicKey::from(sig.public_key().clone());
    let fingerprint = fingerprint(&key);
    key.verify(NAMESPACE, message, &sig).map_err(|_| VerifyError::BadSignature(fingerprint.clone()))?;
    let principals = allowed.principals_for(&key, NAMESPACE, at);
    if principals.is_empty() {
        return Err(VerifyError::NotAllowed(fingerprint));
    }
    Ok(Verified { fingerprint, principals })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed_for(principal: &str, key: &PublicKey) -> AllowedSigners {
        let line = format!("{principal} {}\n", key.to_openssh().unwrap());
        AllowedSigners::parse(&line).unwrap()
    }

    #[test]
    fn a_signature_verifies_and_names_the_principal_its_key_is_allowed_as() {
        let signer = KeySigner::generate();
        let key = signer.keys().unwrap().remove(0);
        let allowed = allowed_for("julia.funderburk@contoso.com", &key);
        let armored = sign_armored(&signer, &key, b"approve run 42").unwrap();
        assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{armored}");
        let verified = verify(&allowed, b"approve run 42", &armored, Utc::now()).unwrap();
        assert!(verified.proves("julia.funderburk@contoso.com"));
        assert_eq!(verified.fingerprint, fingerprint(&key));
    }

    #[test]
    fn a_signature_over_other_data_or_by_an_unlisted_key_proves_nothing() {
        let signer = KeySigner::generate();
        let key = signer.keys().unwrap().remove(0);
        let armored = sign_armored(&signer, &key, b"approve run 42").unwrap();
        let allowed = allowed_for("julia.funderburk@contoso.com", &key);
        let err = verify(&allowed, b"approve run 43", &armored, Utc::now()).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");
        let other = KeySigner::generate();
        let stranger = allowed_for("julia.funderburk@contoso.com", &other.keys().unwrap()[0]);
        let err = verify(&stranger, b"approve run 42", &armored, Utc::now()).unwrap_err();
        assert!(matches!(err, VerifyError::NotAllowed(_)), "{err}");
    }

    #[test]
    fn a_signature_in_another_namespace_is_refused() {
        let signer = KeySigner::generate();
        let private = signer.private_keys()[0].clone();
        let sig = private.sign("git", HASH, b"approve run 42").unwrap().to_pem(LineEnding::LF).unwrap();
        let allowed = allowed_for("julia.funderburk@contoso.com", private.public_key());
        let err = verify(&allowed, b"approve run 42", &sig, Utc::now()).unwrap_err();
        assert_eq!(err, VerifyError::Namespace("git".into()));
    }
}
