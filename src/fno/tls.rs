//! Whom signoff trusts over TLS, and what each handshake showed.
//!
//! Roots: the operating system's store (where a company's TLS-inspection CA is installed), the compiled-in
//! web roots when the OS store is empty or unreadable, plus `[environment] ca_file`. An optional pin
//! (`pinned_sha256`) must match the server certificate's public key as well. There is no switch that
//! accepts any certificate. The verifier records each handshake (TLS version, chain subjects) so
//! `connector validate` can say what was used, and a failure is explained in words ([`TlsFault`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::certs::{CertInfo, pem_certificates};

/// What the operator configured about trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    /// A PEM bundle added to the roots (`[environment] ca_file`).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 digests of accepted server public keys (`[environment] pinned_sha256`); empty: no pin.
    pub pins: Vec<[u8; 32]>,
}

/// Where the roots came from, for `connector validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustSource {
    /// Roots read from the OS store (0 when it was empty or unreadable).
    pub os_roots: usize,
    /// The compiled-in web roots were used because the OS store gave none.
    pub compiled_in: bool,
    /// `ca_file` and how many certificates it added.
    pub ca_file: Option<(PathBuf, usize)>,
    /// How many public keys are pinned.
    pub pins: usize,
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.compiled_in {
            write!(f, "compiled-in web roots (the OS trust store had none)")?;
        } else {
            write!(f, "OS trust store ({} roots)", self.os_roots)?;
        }
        if let Some((path, n)) = &self.ca_file {
            write!(f, " + ca_file {} ({n} certificate(s))", crate::text::visible(&path.to_string_lossy()))?;
        }
        if self.pins > 0 {
            write!(f, "; server key pinned ({} pin(s))", self.pins)?;
        }
        Ok(())
    }
}

/// Why the TLS set-up could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("environment.ca_file {path}: cannot read it: {source}")]
    CaFileRead { path: PathBuf, source: std::io::Error },
    #[error("environment.ca_file {path}: {reason}")]
    CaFileInvalid { path: PathBuf, reason: String },
    #[error("the TLS set-up failed: {0}")]
    Rustls(String),
}

/// One handshake as the verifier saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `TLS 1.3` or `TLS 1.2`; empty until the server proved its key.
    pub version: String,
    /// Subjects from the server certificate up its chain as sent (`CN=…` first), then the issuer of the
    /// last one sent (the root the chain ends at).
    pub chain: Vec<String>,
    /// The server key's pin, base64 (what `pinned_sha256` takes).
    pub spki_pin: String,
    /// Why the certificate was refused, if it was.
    pub refused: Option<TlsFault>,
}

/// Handshakes by server name, shared by every connection of one client.
#[derive(Debug, Clone, Default)]
pub struct TlsObserver(Arc<Mutex<BTreeMap<String, Handshake>>>);

impl TlsObserver {
    /// The last handshake with each server, by name.
    pub fn handshakes(&self) -> BTreeMap<String, Handshake> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn update(&self, host: &str, f: impl FnOnce(&mut Handshake)) {
        if let Ok(mut map) = self.0.lock() {
            let entry = map.entry(host.to_string()).or_insert_with(|| Handshake {
                version: String::new(),
                chain: Vec::new(),
                spki_pin: String::new(),
                refused: None,
            });
            f(entry);
        }
    }
}

/// A TLS failure in the operator's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsFault {
    #[error(
        "the server's certificate was issued by a CA signoff does not trust (unknown issuer); behind a TLS-inspecting \
         proxy, add your company CA with [environment] ca_file = \"/path/to/company-ca.pem\" (or install it in the OS \
         trust store)"
    )]
    UnknownIssuer,
    #[error(
        "the server's public key does not match [environment] pinned_sha256 (it presented {presented}): the \
         certificate was replaced, or something intercepts the connection; update the pin only after checking with \
         whoever runs the server"
    )]
    PinMismatch { presented: String },
    #[error("the server's certificate has expired (or is not valid yet): check the machine's clock, then the server")]
    Expired,
    #[error(
        "the server's certificate is not valid for this host name: check environment.url (or auth.authority_host) \
         for a typo, or a proxy presenting its own certificate"
    )]
    WrongHost,
    #[error("the server's certificate was refused: {0}")]
    Other(String),
}

/// The pin refusal carried inside rustls's error, so the reason survives to the caller.
#[derive(Debug)]
struct PinMismatch(String);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "public key pin mismatch (presented {})", self.0)
    }
}

impl std::error::Error for PinMismatch {}

impl TlsFault {
    fn of(error: &rustls::Error) -> Option<TlsFault> {
        let rustls::Error::InvalidCertificate(cert) = error else { return None };
        Some(match cert {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => TlsFault::UnknownIssuer,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFault::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => TlsFault::WrongHost,
            CertificateError::Other(other) => match other.0.downcast_ref::<PinMismatch>() {
                Some(PinMismatch(presented)) => TlsFault::PinMismatch { presented: presented.clone() },
                None => TlsFault::Other(other.to_string()),
            },
            other => TlsFault::Other(format!("{other:?}")),
        })
    }

    /// The TLS fault somewhere in an error's chain (a transport error from reqwest), if any.
    pub fn in_chain(error: &(dyn std::error::Error + 'static)) -> Option<TlsFault> {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(r) = e.downcast_ref::<rustls::Error>() {
                return TlsFault::of(r);
            }
            // io::Error hides its inner error from `source()`; look inside.
            if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
                && let Some(r) = inner.downcast_ref::<rustls::Error>()
            {
                return TlsFault::of(r);
            }
            next = e.source();
        }
        None
    }
}

/// Build the rustls configuration for these settings.
pub fn client_config(trust: &TrustSettings) -> Result<(rustls::ClientConfig, TrustSource, TlsObserver), TrustError> {
    let (roots, source) = roots(trust)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TrustError::Rustls(e.to_string()))?;
    let observer = TlsObserver::default();
    let verifier = Arc::new(Verifier { inner, pins: trust.pins.clone(), observer: observer.clone() });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Rustls(e.to_string()))?
        .dangerous() // the custom verifier wraps webpki's: it only adds a pin and records the chain
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((config, source, observer))
}

fn roots(trust: &TrustSettings) -> Result<(RootCertStore, TrustSource), TrustError> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "could not read part of the OS trust store");
    }
    let (os_roots, _) = store.add_parsable_certificates(native.certs);
    let compiled_in = os_roots == 0;
    if compiled_in {
        tracing::info!("the OS trust store gave no roots; using the compiled-in web roots");
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let ca_file = match &trust.ca_file {
        None => None,
        Some(path) => Some((path.clone(), add_ca_file(&mut store, path)?)),
    };
    Ok((store, TrustSource { os_roots, compiled_in, ca_file, pins: trust.pins.len() }))
}

fn add_ca_file(store: &mut RootCertStore, path: &Path) -> Result<usize, TrustError> {
    let pem = std::fs::read(path).map_err(|source| TrustError::CaFileRead { path: path.to_path_buf(), source })?;
    let invalid = |reason: String| TrustError::CaFileInvalid { path: path.to_path_buf(), reason };
    let certs = pem_certificates(&pem).map_err(|e| invalid(e.to_string()))?;
    let count = certs.len();
    for cert in certs {
        store.add(cert).map_err(|e| invalid(format!("a certificate cannot be a trust root: {e}")))?;
    }
    Ok(count)
}

/// webpki's verifier, plus the pin, plus a record of what each server showed.
#[derive(Debug)]
struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<[u8; 32]>,
    observer: TlsObserver,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = server_name.to_str();
        let leaf = CertInfo::from_der(end_entity.as_ref()).ok();
        let sent: Vec<Option<CertInfo>> =
            std::iter::once(end_entity).chain(intermediates).map(|c| CertInfo::from_der(c.as_ref()).ok()).collect();
        let mut chain: Vec<String> = sent
            .iter()
            .map(|c| c.as_ref().map(|i| i.subject.clone()).unwrap_or_else(|| "(unreadable)".into()))
            .collect();
        if let Some(Some(last)) = sent.last()
            && last.issuer != last.subject
        {
            chain.push(last.issuer.clone());
        }
        let spki_pin = leaf.as_ref().map(CertInfo::spki_pin).unwrap_or_default();
        let result = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .and_then(|verified| {
                let matches = leaf.as_ref().is_some_and(|l| self.pins.contains(&l.spki_sha256));
                if self.pins.is_empty() || matches {
                    Ok(verified)
                } else {
                    Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
                        PinMismatch(spki_pin.clone()),
                    )))))
                }
            });
        let refused = result.as_ref().err().and_then(TlsFault::of);
        self.observer.update(&host, |h| {
            h.chain = chain;
            h.spki_pin = spki_pin;
            h.version.clear();
            h.refused = refused;
        });
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let result = self.inner.verify_tls12_signature(message, cert, dss);
        self.record_version(cert, "TLS 1.2", result.is_ok());
        result
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let result = self.inner.verify_tls13_signature(message, cert, dss);
        self.record_version(cert, "TLS 1.3", result.is_ok());
        result
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

impl Verifier {
    /// The handshake signature names the version; it is matched to the server by the certificate it used.
    fn record_version(&self, cert: &CertificateDer<'_>, version: &str, ok: bool) {
        let Some(pin) = CertInfo::from_der(cert.as_ref()).ok().map(|c| c.spki_pin()) else { return };
        if let Ok(mut map) = self.observer.0.lock() {
            for h in map.values_mut().filter(|h| h.spki_pin == pin && h.refused.is_none()) {
                h.version = if ok { version.to_string() } else { String::new() };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_certificate_error_is_explained_with_its_fix() {
        let fault = |e| TlsFault::of(&rustls::Error::InvalidCertificate(e)).unwrap().to_string();
        assert!(fault(CertificateError::UnknownIssuer).contains("add your company CA with [environment] ca_file"));
        assert!(fault(CertificateError::Expired).contains("expired"));
        assert!(fault(CertificateError::NotValidForName).contains("not valid for this host name"));
        let pin = rustls::OtherError(Arc::new(PinMismatch("abc=".into())));
        assert!(fault(CertificateError::Other(pin)).contains("does not match [environment] pinned_sha256"));
    }

    #[test]
    fn a_fault_is_found_inside_an_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(TlsFault::in_chain(&io), Some(TlsFault::UnknownIssuer));
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let trust = TrustSettings { ca_file: Some(dir.path().join("nope.pem")), pins: Vec::new() };
        assert!(client_config(&trust).unwrap_err().to_string().starts_with("environment.ca_file"));
        std::fs::write(dir.path().join("empty.pem"), "").unwrap();
        let trust = TrustSettings { ca_file: Some(dir.path().join("empty.pem")), pins: Vec::new() };
        assert!(client_config(&trust).unwrap_err().to_string().contains("no PEM certificate"));
    }
}
