//! Known connection problems, classified from the errors a check actually met.
//!
//! `connector validate` and `connector sync-metadata` turn every failure they see into a [`Problem`]; the
//! CLI words each kind as a troubleshooting row (symptom → likely cause → fix, `cli/troubleshoot.rs`).
//! Nothing here knows the UI: a problem carries the facts (the entity, the AADSTS code, the proxy), not
//! the words.

use std::time::Duration;

use url::Url;

use super::auth::AuthError;
use super::client::Connection;
use super::error::FnoError;
use super::tls::TlsFault;
use super::verify::Mismatch;

/// The kinds of problem the troubleshooting table knows, one row each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Config,
    SecretWrong,
    SecretExpired,
    AppNotInTenant,
    TenantNotFound,
    ResourceNotFound,
    CertificateRejected,
    EntraRefused,
    EntraBusy,
    EntraUnreachable,
    ManagedIdentity,
    AppNotMapped,
    Forbidden,
    EmptyReads,
    MissingEntity,
    MissingOperation,
    TlsUntrusted,
    TlsPinMismatch,
    TlsExpired,
    TlsRefused,
    ProxyAuth,
    ProxyUnreachable,
    Throttled,
    Unreachable,
    FnoFailed,
}

impl Kind {
    /// Every kind, in the order the table lists them.
    pub const ALL: &'static [Kind] = &[
        Kind::Config,
        Kind::SecretWrong,
        Kind::SecretExpired,
        Kind::AppNotInTenant,
        Kind::TenantNotFound,
        Kind::ResourceNotFound,
        Kind::CertificateRejected,
        Kind::EntraRefused,
        Kind::EntraBusy,
        Kind::EntraUnreachable,
        Kind::ManagedIdentity,
        Kind::AppNotMapped,
        Kind::Forbidden,
        Kind::EmptyReads,
        Kind::MissingEntity,
        Kind::MissingOperation,
        Kind::TlsUntrusted,
        Kind::TlsPinMismatch,
        Kind::TlsExpired,
        Kind::TlsRefused,
        Kind::ProxyAuth,
        Kind::ProxyUnreachable,
        Kind::Throttled,
        Kind::Unreachable,
        Kind::FnoFailed,
    ];

    /// The stable name scripts match on (`--json`'s `problem`).
    pub fn id(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::SecretWrong => "secret-wrong",
            Kind::SecretExpired => "secret-expired",
            Kind::AppNotInTenant => "app-not-in-tenant",
            Kind::TenantNotFound => "tenant-not-found",
            Kind::ResourceNotFound => "resource-not-found",
            Kind::CertificateRejected => "certificate-rejected",
            Kind::EntraRefused => "entra-refused",
            Kind::EntraBusy => "entra-busy",
            Kind::EntraUnreachable => "entra-unreachable",
            Kind::ManagedIdentity => "managed-identity",
            Kind::AppNotMapped => "app-not-mapped",
            Kind::Forbidden => "forbidden",
            Kind::EmptyReads => "empty-reads",
            Kind::MissingEntity => "missing-entity",
            Kind::MissingOperation => "missing-operation",
            Kind::TlsUntrusted => "tls-untrusted",
            Kind::TlsPinMismatch => "tls-pin-mismatch",
            Kind::TlsExpired => "tls-expired",
            Kind::TlsRefused => "tls-refused",
            Kind::ProxyAuth => "proxy-auth",
            Kind::ProxyUnreachable => "proxy-unreachable",
            Kind::Throttled => "throttled",
            Kind::Unreachable => "unreachable",
            Kind::FnoFailed => "fno-failed",
        }
    }
}

/// One problem a check met, with the facts its row needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The config (or a secret it names) cannot be used.
    Config { message: String },
    /// Entra ID refused the token request; `code` is the AADSTS number when it sent one.
    Entra { kind: Kind, code: Option<u64>, message: String },
    /// The token endpoint (or the managed identity endpoint) could not be reached.
    TokenEndpoint { kind: Kind, url: String, reason: String },
    /// 401 from F&O with a fresh token.
    AppNotMapped { url: String, client_id: Option<String> },
    /// 403 from F&O on an entity (or an operation on one).
    Forbidden { entity: String, user: Option<String>, infolog: Option<String> },
    /// Reads in the default company came back empty while other companies hold rows.
    EmptyReads { user: Option<String>, company: String, entity_sets: Vec<String>, found_in: Vec<String> },
    /// A managed entity set or field is not in `$metadata`.
    MissingEntity { mismatch: String },
    /// A configured decision operation (bound action, custom service, parameter) F&O does not have.
    MissingOperation { operation: String, mismatch: String },
    /// A TLS handshake was refused.
    Tls { host: String, fault: TlsFault },
    /// The proxy refused or could not be reached.
    Proxy { kind: Kind, proxy: String, reason: String },
    /// 429 (or 503) after every retry the budget allowed.
    Throttled { url: String, status: u16, attempts: u32, waited: Duration, retry_after: Duration },
    /// F&O could not be reached directly.
    Unreachable { url: String, reason: String },
    /// Any other F&O failure (a 404, a 500, an answer signoff cannot read).
    FnoFailed { message: String },
}

impl Problem {
    pub fn kind(&self) -> Kind {
        match self {
            Problem::Config { .. } => Kind::Config,
            Problem::Entra { kind, .. } | Problem::TokenEndpoint { kind, .. } | Problem::Proxy { kind, .. } => *kind,
            Problem::AppNotMapped { .. } => Kind::AppNotMapped,
            Problem::Forbidden { .. } => Kind::Forbidden,
            Problem::EmptyReads { .. } => Kind::EmptyReads,
            Problem::MissingEntity { .. } => Kind::MissingEntity,
            Problem::MissingOperation { .. } => Kind::MissingOperation,
            Problem::Tls { fault, .. } => match fault {
                TlsFault::UnknownIssuer => Kind::TlsUntrusted,
                TlsFault::PinMismatch { .. } => Kind::TlsPinMismatch,
                TlsFault::Expired => Kind::TlsExpired,
                TlsFault::WrongHost | TlsFault::Other(_) => Kind::TlsRefused,
            },
            Problem::Throttled { .. } => Kind::Throttled,
            Problem::Unreachable { .. } => Kind::Unreachable,
            Problem::FnoFailed { .. } => Kind::FnoFailed,
        }
    }
}

/// What the classification needs to know beyond the error: how the client connects, and who it is.
pub struct Scene<'a> {
    pub connection: &'a Connection,
    pub client_id: Option<&'a str>,
    /// The F&O user the app acts as, once the identity check found it.
    pub user: Option<&'a str>,
}

impl Scene<'_> {
    /// A refused TLS handshake with the host of `url`, if there was one: it is the real cause of a
    /// transport failure to that host.
    fn tls_fault(&self, url: &str) -> Option<Problem> {
        let host = Url::parse(url).ok()?.host_str()?.to_string();
        let handshake = self.connection.tls.handshakes().remove(&host)?;
        Some(Problem::Tls { host, fault: handshake.refused? })
    }

    /// A transport failure to `url`: the refused TLS handshake, the proxy in the way, or the host itself.
    fn transport(&self, url: &str, reason: &str, direct: impl FnOnce() -> Problem) -> Problem {
        if let Some(tls) = self.tls_fault(url) {
            return tls;
        }
        let proxy = Url::parse(url).ok().and_then(|u| self.connection.proxy.for_target(&u).cloned());
        match proxy {
            Some(proxy) => {
                let kind =
                    if super::proxy::refused_credentials(reason) { Kind::ProxyAuth } else { Kind::ProxyUnreachable };
                Problem::Proxy { kind, proxy: proxy.as_str().trim_end_matches('/').to_string(), reason: reason.into() }
            }
            None => direct(),
        }
    }
}

/// The problem behind one error of the F&O client.
pub fn diagnose(error: &FnoError, scene: &Scene<'_>) -> Problem {
    match error {
        FnoError::Auth(auth) => diagnose_auth(auth, scene),
        FnoError::Unauthorized { url } => {
            Problem::AppNotMapped { url: url.clone(), client_id: scene.client_id.map(str::to_string) }
        }
        FnoError::Forbidden { entity, infolog } => Problem::Forbidden {
            entity: entity.clone(),
            user: scene.user.map(str::to_string),
            infolog: infolog.clone(),
        },
        FnoError::Throttled { url, status, attempts, waited, retry_after, .. } => Problem::Throttled {
            url: url.clone(),
            status: *status,
            attempts: *attempts,
            waited: *waited,
            retry_after: *retry_after,
        },
        FnoError::Unreachable { url, reason } | FnoError::ReadFailed { url, reason, .. } => {
            scene.transport(url, reason, || Problem::Unreachable { url: url.clone(), reason: reason.clone() })
        }
        FnoError::InsecureUrl { .. } | FnoError::InvalidUrl { .. } => Problem::Config { message: error.to_string() },
        other => Problem::FnoFailed { message: other.to_string() },
    }
}

fn diagnose_auth(error: &AuthError, scene: &Scene<'_>) -> Problem {
    let entra = |kind, code: u64| Problem::Entra { kind, code: Some(code), message: error.to_string() };
    match error {
        AuthError::WrongSecret => entra(Kind::SecretWrong, 7_000_215),
        AuthError::SecretExpired => entra(Kind::SecretExpired, 7_000_222),
        AuthError::AppNotInTenant { .. } => entra(Kind::AppNotInTenant, 700_016),
        AuthError::TenantNotFound { .. } => entra(Kind::TenantNotFound, 90_002),
        AuthError::WrongEnvironmentUrl { .. } => entra(Kind::ResourceNotFound, 500_011),
        AuthError::CertificateRejected { .. } => entra(Kind::CertificateRejected, 700_027),
        AuthError::MissingSecret => entra(Kind::EntraRefused, 7_000_218),
        AuthError::TenantNotSpecific { .. } => entra(Kind::EntraRefused, 9_001_023),
        AuthError::AssertionTime => entra(Kind::EntraRefused, 700_024),
        AuthError::AssertionAudience => entra(Kind::EntraRefused, 700_023),
        AuthError::AssertionClient => entra(Kind::EntraRefused, 700_021),
        AuthError::Rejected { code, .. } => {
            Problem::Entra { kind: Kind::EntraRefused, code: *code, message: error.to_string() }
        }
        AuthError::Busy { .. } => Problem::Entra { kind: Kind::EntraBusy, code: None, message: error.to_string() },
        AuthError::InvalidResponse { .. } => {
            Problem::Entra { kind: Kind::EntraRefused, code: None, message: error.to_string() }
        }
        AuthError::Unreachable { url, reason } => scene.transport(url, reason, || Problem::TokenEndpoint {
            kind: Kind::EntraUnreachable,
            url: url.clone(),
            reason: reason.clone(),
        }),
        AuthError::IdentityUnreachable { url, reason } => {
            Problem::TokenEndpoint { kind: Kind::ManagedIdentity, url: url.clone(), reason: reason.clone() }
        }
        AuthError::IdentityRefused { .. } => {
            Problem::Entra { kind: Kind::ManagedIdentity, code: None, message: error.to_string() }
        }
        AuthError::NotConfigured(_) => Problem::Config { message: error.to_string() },
    }
}

/// The problem behind one disagreement between the config and `$metadata`.
pub fn of_mismatch(mismatch: &Mismatch) -> Problem {
    match mismatch {
        Mismatch::MissingEntitySet { .. } | Mismatch::MissingField { .. } => {
            Problem::MissingEntity { mismatch: mismatch.to_string() }
        }
        Mismatch::BadOperation { operation, .. }
        | Mismatch::MissingAction { operation, .. }
        | Mismatch::MissingParameter { operation, .. }
        | Mismatch::MissingService { operation, .. } => {
            Problem::MissingOperation { operation: operation.clone(), mismatch: mismatch.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_id() {
        let mut ids: Vec<&str> = Kind::ALL.iter().map(|k| k.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Kind::ALL.len());
    }

    #[test]
    fn a_missing_action_is_a_missing_operation_and_a_typo_in_a_field_a_missing_entity() {
        let action = Mismatch::MissingAction {
            operation: "invoice_recall".into(),
            entity_set: "VendorInvoiceHeaders".into(),
            action: "recallInvoice".into(),
            suggestions: vec![],
        };
        assert_eq!(of_mismatch(&action).kind(), Kind::MissingOperation);
        let field = Mismatch::MissingField {
            object: "vendor_invoice".into(),
            entity_set: "VendorInvoiceHeaders".into(),
            field: "InvoiceDescripton".into(),
            suggestions: vec!["InvoiceDescription".into()],
        };
        assert_eq!(of_mismatch(&field).kind(), Kind::MissingEntity);
    }
}
