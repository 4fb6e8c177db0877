//! The approver's ssh-agent: local, or forwarded over SSH (`ssh -A`), so the private key never leaves
//! the approver's machine.

use std::path::PathBuf;

use ssh_agent_client_rs::Client;
use ssh_key::SshSig;

use super::{HASH, NAMESPACE, PublicKey, SignError, Signer, fingerprint};

/// Signs through the ssh-agent listening on a Unix socket. Each call opens its own connection, so one
/// signer serves concurrent decisions.
#[derive(Debug, Clone)]
pub struct AgentSigner {
    socket: Option<PathBuf>,
}

impl AgentSigner {
    /// The agent `SSH_AUTH_SOCK` names (checked when first used, so a missing agent is a decision's
    /// refusal, not a start-up failure).
    pub fn from_env() -> Self {
        let socket = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()).map(PathBuf::from);
        AgentSigner { socket }
    }

    /// The agent listening at `socket`.
    pub fn at(socket: impl Into<PathBuf>) -> Self {
        AgentSigner { socket: Some(socket.into()) }
    }

    fn connect(&self) -> Result<Client, SignError> {
        let socket = self.socket.as_ref().ok_or(SignError::NoAgent)?;
        Client::connect(socket)
            .map_err(|e| SignError::Agent { socket: socket.display().to_string(), reason: chain(&e) })
    }
}

impl Signer for AgentSigner {
    fn keys(&self) -> Result<Vec<PublicKey>, SignError> {
        let socket = || self.socket.as_ref().map(|s| s.display().to_string()).unwrap_or_default();
        let identities = self
            .connect()?
            .list_all_identities()
            .map_err(|e| SignError::Agent { socket: socket(), reason: chain(&e) })?;
        // Certificates are not matched against allowed signers: only plain keys are listed there.
        Ok(identities
            .into_iter()
            .filter_map(|i| match i {
                ssh_agent_client_rs::Identity::PublicKey(k) => Some(k.into_owned()),
                _ => None,
            })
            .collect())
    }

    fn sign(&self, key: &PublicKey, message: &[u8]) -> Result<SshSig, SignError> {
        let failed =
            |e: &dyn std::error::Error| SignError::AgentSign { fingerprint: fingerprint(key), reason: chain(e) };
        let data = SshSig::signed_data(NAMESPACE, HASH, message).map_err(|e| SignError::Encode(e.to_string()))?;
        let signature = self.connect()?.sign(key, &data).map_err(|e| failed(&e))?;
        SshSig::new(key.key_data().clone(), NAMESPACE, HASH, signature).map_err(|e| SignError::Encode(e.to_string()))
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
