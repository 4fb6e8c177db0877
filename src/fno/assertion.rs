//! Certificate credentials: a client assertion (a JWT signed PS256 with the app's certificate key) sent
//! instead of a client secret (FNO.md §1, "With a certificate").

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::certs::{CertInfo, pem_certificates};
use crate::config::secret::{self, Secret, SecretError};

/// The `client_assertion_type` Entra expects with a certificate.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion is valid this long (Entra accepts up to a few minutes of skew; MSAL uses 10 minutes).
const LIFETIME_SECS: i64 = 600;

/// The app's certificate and its private key, read from `[auth] client_certificate_file`.
pub struct ClientCertificate {
    key: RsaPrivateKey,
    cert: CertInfo,
    path: PathBuf,
}

impl std::fmt::Debug for ClientCertificate {
    /// The key is never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("subject", &self.cert.subject)
            .field("x5t#S256", &self.cert.x5t_s256())
            .finish_non_exhaustive()
    }
}

/// Why the certificate file is unusable. No variant holds key material.
#[derive(Debug, thiserror::Error)]
pub enum CertificateFileError {
    #[error("auth.client_certificate_file: {0}")]
    Read(#[from] SecretError),
    #[error(
        "auth.client_certificate_file {path}: {reason}; it must hold the app's certificate and its RSA private key \
         (PEM: -----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----)"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "auth.client_certificate_file {path}: the private key does not belong to the certificate ({subject}); put \
         the key and the certificate of the same credential in the file"
    )]
    KeyMismatch { path: PathBuf, subject: String },
}

impl ClientCertificate {
    /// Read the file (owner-only, like every secret file) and check the key belongs to the certificate.
    pub fn load(path: &Path) -> Result<ClientCertificate, CertificateFileError> {
        let text = secret::read_owner_only_file(path)?;
        let invalid = |reason: String| CertificateFileError::Invalid { path: path.to_path_buf(), reason };
        let pem = text.expose().as_bytes();
        let cert = pem_certificates(pem).map_err(|e| invalid(e.to_string()))?;
        let cert = CertInfo::from_der(cert[0].as_ref()).map_err(|e| invalid(e.to_string()))?;
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => {
                RsaPrivateKey::from_pkcs8_der(der.secret_pkcs8_der()).map_err(|e| e.to_string())
            }
            Ok(PrivateKeyDer::Pkcs1(der)) => {
                RsaPrivateKey::from_pkcs1_der(der.secret_pkcs1_der()).map_err(|e| e.to_string())
            }
            Ok(_) => Err("the private key is not an RSA key (Entra certificate credentials are RSA)".into()),
            Err(_) => Err("it holds no private key".into()),
        }
        .map_err(invalid)?;
        let public = key.to_public_key().to_public_key_der().map_err(|e| invalid(e.to_string()))?;
        if <[u8; 32]>::from(Sha256::digest(public.as_bytes())) != cert.spki_sha256 {
            return Err(CertificateFileError::KeyMismatch { path: path.to_path_buf(), subject: cert.subject });
        }
        Ok(ClientCertificate { key, cert, path: path.to_path_buf() })
    }

    /// The certificate (subject, thumbprints).
    pub fn certificate(&self) -> &CertInfo {
        &self.cert
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh client assertion for `client_id` at `token_endpoint` (the `aud`), valid for 10 minutes.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str) -> Secret {
        let now = chrono::Utc::now().timestamp();
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.cert.x5t_s256()});
        let claims = json!({
            "aud": token_endpoint, "iss": client_id, "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + LIFETIME_SECS,
        });
        let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let signed = format!("{}.{}", b64(&header), b64(&claims));
        let signer = rsa::pss::BlindedSigningKey::<Sha256>::new(self.key.clone());
        let signature = signer.sign_with_rng(&mut rsa::rand_core::OsRng, signed.as_bytes()).to_bytes();
        Secret::new(format!("{signed}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)))
    }
}
