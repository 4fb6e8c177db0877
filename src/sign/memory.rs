//! Keys held in memory: the demo's throwaway key, and tests that need no agent.

use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, PrivateKey, SshSig};

use super::{HASH, NAMESPACE, PublicKey, SignError, Signer, fingerprint};

/// Private keys in this process's memory, gone when it ends.
#[derive(Debug, Clone)]
pub struct KeySigner {
    keys: Vec<PrivateKey>,
}

impl KeySigner {
    /// One fresh Ed25519 key.
    pub fn generate() -> Self {
        // The OS random source failing is not something a caller can act on.
        let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).expect("the OS random source is available");
        KeySigner { keys: vec![key] }
    }

    /// Sign with these keys.
    pub fn new(keys: Vec<PrivateKey>) -> Self {
        KeySigner { keys }
    }

    /// The private keys (tests make deliberately wrong signatures with them).
    pub fn private_keys(&self) -> &[PrivateKey] {
        &self.keys
    }
}

impl Signer for KeySigner {
    fn keys(&self) -> Result<Vec<PublicKey>, SignError> {
        Ok(self.keys.iter().map(|k| k.public_key().clone()).collect())
    }

    fn sign(&self, key: &PublicKey, message: &[u8]) -> Result<SshSig, SignError> {
        let private = self
            .keys
            .iter()
            .find(|k| k.public_key().key_data() == key.key_data())
            .ok_or_else(|| SignError::NoSuchKey { fingerprint: fingerprint(key) })?;
        private.sign(NAMESPACE, HASH, message).map_err(|e| SignError::Encode(e.to_string()))
    }
}
