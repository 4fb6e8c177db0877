//! X.509 certificates as signoff needs them: read from PEM, named by their subject, and fingerprinted
//! (the SHA-256 of the whole certificate for `x5t#S256`, of its public key for a pin).

use base64::Engine as _;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

/// A certificate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    #[error("a certificate in it is not valid PEM: {0}")]
    Pem(String),
    #[error("a certificate in it is not a valid X.509 certificate: {0}")]
    Der(String),
}

/// One parsed certificate, with what signoff shows and compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject as RFC 4514 text (`CN=login.contoso.com,O=Contoso`).
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo: what `pinned_sha256` compares.
    pub spki_sha256: [u8; 32],
    /// SHA-256 of the whole DER certificate: Entra's `x5t#S256` thumbprint.
    pub thumbprint_sha256: [u8; 32],
    /// Seconds since the epoch of `notAfter`.
    pub not_after: i64,
}

impl CertInfo {
    /// Parse a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, CertError> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
        let tbs = &cert.tbs_certificate;
        let spki = tbs.subject_public_key_info.to_der().map_err(|e| CertError::Der(e.to_string()))?;
        Ok(CertInfo {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            spki_sha256: Sha256::digest(&spki).into(),
            thumbprint_sha256: Sha256::digest(der).into(),
            not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        })
    }

    /// The pin in the form the docs show (base64, as `openssl … | base64` prints it).
    pub fn spki_pin(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.spki_sha256)
    }

    /// `x5t#S256`: the certificate's SHA-256 thumbprint, base64url without padding.
    pub fn x5t_s256(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.thumbprint_sha256)
    }
}

/// Every certificate in a PEM text, in order; none is an error.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    for c in &certs {
        CertInfo::from_der(c.as_ref())?;
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_is_refused() {
        assert_eq!(pem_certificates(b"hello"), Err(CertError::NoCertificate));
    }
}
