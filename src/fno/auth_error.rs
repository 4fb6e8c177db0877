//! Entra ID (AADSTS) errors turned into what the operator should do about them.

use serde_json::Value;

/// A token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "Entra ID rejected the client secret (AADSTS7000215): it is wrong, or you used the secret's ID instead of \
         its value. Create a new secret under the app registration's Certificates & secrets and configure its value"
    )]
    WrongSecret,
    #[error(
        "the client secret has expired (AADSTS7000222): create a new secret under the app registration's \
         Certificates & secrets and configure it"
    )]
    SecretExpired,
    #[error("no client secret was sent (AADSTS7000218): configure auth.client_secret_env, _file or _command")]
    MissingSecret,
    #[error(
        "the app {client_id} was not found in tenant {tenant} (AADSTS700016): check auth.client_id and auth.tenant, \
         and that the app is registered (or consented) in that tenant"
    )]
    AppNotInTenant { client_id: String, tenant: String },
    #[error(
        "tenant {tenant} was not found (AADSTS90002): check auth.tenant (a GUID or a domain like contoso.onmicrosoft.com)"
    )]
    TenantNotFound { tenant: String },
    #[error(
        "Entra ID does not know the resource {resource} (AADSTS500011): environment.url is probably wrong. It must be \
         the F&O base URL exactly, e.g. https://contoso-test.sandbox.operations.dynamics.com, without /data or a \
         trailing slash"
    )]
    WrongEnvironmentUrl { resource: String },
    #[error(
        "the tenant `{tenant}` cannot be used with client credentials (AADSTS9001023): set auth.tenant to your \
         tenant's GUID or domain, not common, consumers or organizations"
    )]
    TenantNotSpecific { tenant: String },
    #[error("Entra ID refused the token request: {status} {error} {}: {description}", code_text(.code))]
    Rejected { status: u16, error: String, code: Option<u64>, description: String },
    #[error(
        "Entra ID is busy or unavailable ({status}) and still was after {attempts} attempt(s); nothing was sent to \
         F&O. Try again in a few minutes"
    )]
    Busy { status: u16, retry_after: std::time::Duration, attempts: u32 },
    #[error(
        "cannot reach the Entra ID token endpoint {url}: {reason}. Check auth.cloud / auth.authority_host and the network"
    )]
    Unreachable { url: String, reason: String },
    #[error("the token endpoint {url} sent an answer signoff cannot read: {reason}")]
    InvalidResponse { url: String, reason: String },
    #[error("auth is not configured: {0}")]
    NotConfigured(String),
    #[error(
        "Entra ID did not accept the certificate credential (AADSTS700027): the certificate in {file} \
         (x5t#S256 {thumbprint}) is not registered on app {client_id}, or the key in the file is not its key. Upload \
         that certificate (its public part, .cer/.pem) under the app registration's Certificates & secrets > \
         Certificates, or point auth.client_certificate_file at the certificate that is registered"
    )]
    CertificateRejected { client_id: String, thumbprint: String, file: String },
    #[error(
        "the client assertion is not within its valid time (AADSTS700024): this machine's clock is probably off; \
         sync it (NTP) and try again"
    )]
    AssertionTime,
    #[error(
        "the client assertion's audience is not this tenant's token endpoint (AADSTS700023): check auth.tenant, \
         environment.cloud and auth.authority_host"
    )]
    AssertionAudience,
    #[error(
        "the client assertion names another app than auth.client_id (AADSTS700021): check auth.client_id is the \
         app the certificate is registered on"
    )]
    AssertionClient,
    #[error(
        "cannot reach the managed identity endpoint {url}: {reason}. auth.managed_identity works only on an Azure \
         VM (or a host with an identity endpoint) that has a managed identity; elsewhere use a client certificate \
         or secret"
    )]
    IdentityUnreachable { url: String, reason: String },
    #[error(
        "the managed identity endpoint refused the token request ({status}): {description}. Check the VM has a \
         managed identity (system-assigned, or user-assigned with its client ID in auth.client_id) and that \
         environment.url is the F&O base URL"
    )]
    IdentityRefused { status: u16, description: String },
}

/// A managed identity endpoint's error (IMDS: `{"error":…,"error_description":…}`), first line only.
pub fn parse_identity_error(status: u16, body: &str, _resource: &str) -> AuthError {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let description = value["error_description"]
        .as_str()
        .or(value["error"].as_str())
        .unwrap_or("no description")
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    AuthError::IdentityRefused { status, description }
}

fn code_text(code: &Option<u64>) -> String {
    code.map(|c| format!("(AADSTS{c})")).unwrap_or_default()
}

/// Turn an Entra error body into a typed error. `description` keeps only its first line (no trace ids).
pub fn parse_entra_error(status: u16, body: &str, client_id: &str, tenant: &str, resource: &str) -> AuthError {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = value["error"].as_str().unwrap_or("unknown_error").to_string();
    let description = value["error_description"].as_str().unwrap_or("").lines().next().unwrap_or("").trim().to_string();
    let code = value["error_codes"]
        .as_array()
        .and_then(|codes| codes.first())
        .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
        .or_else(|| aadsts_in(&description));
    match code {
        Some(7000215) => AuthError::WrongSecret,
        Some(7000222) => AuthError::SecretExpired,
        Some(7000218) => AuthError::MissingSecret,
        Some(700016) => AuthError::AppNotInTenant { client_id: client_id.into(), tenant: tenant.into() },
        Some(90002) => AuthError::TenantNotFound { tenant: tenant.into() },
        Some(500011) => AuthError::WrongEnvironmentUrl { resource: resource.into() },
        Some(9001023) => AuthError::TenantNotSpecific { tenant: tenant.into() },
        Some(700027) => AuthError::CertificateRejected {
            client_id: client_id.into(),
            thumbprint: String::new(),
            file: String::new(),
        },
        Some(700024) => AuthError::AssertionTime,
        Some(700023) => AuthError::AssertionAudience,
        Some(700021) => AuthError::AssertionClient,
        _ => AuthError::Rejected { status, error, code, description },
    }
}

/// `AADSTS70011: …` → 70011.
fn aadsts_in(text: &str) -> Option<u64> {
    let rest = &text[text.find("AADSTS")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: u64, error: &str) -> String {
        format!(
            r#"{{"error":"{error}","error_description":"AADSTS{code}: Something.\r\nTrace ID: 0a1b\r\nCorrelation ID: 2c3d\r\nTimestamp: 2026-03-02 10:00:00Z","error_codes":[{code}],"timestamp":"2026-03-02 10:00:00Z","trace_id":"0a1b","correlation_id":"2c3d"}}"#
        )
    }

    #[test]
    fn each_known_aadsts_code_maps_to_its_advice() {
        let p =
            |code, err| parse_entra_error(400, &body(code, err), "app-1", "contoso.onmicrosoft.com", "https://usmf");
        assert!(matches!(p(7000215, "invalid_client"), AuthError::WrongSecret));
        assert!(matches!(p(7000222, "invalid_client"), AuthError::SecretExpired));
        assert!(matches!(p(7000218, "invalid_request"), AuthError::MissingSecret));
        assert!(matches!(p(700016, "unauthorized_client"), AuthError::AppNotInTenant { .. }));
        assert!(matches!(p(90002, "invalid_tenant"), AuthError::TenantNotFound { .. }));
        assert!(matches!(p(500011, "invalid_resource"), AuthError::WrongEnvironmentUrl { .. }));
        assert!(matches!(p(9001023, "invalid_request"), AuthError::TenantNotSpecific { .. }));
    }

    #[test]
    fn unknown_codes_keep_only_the_first_description_line() {
        let err = parse_entra_error(400, &body(70011, "invalid_scope"), "a", "t", "r");
        let text = err.to_string();
        assert!(text.contains("AADSTS70011") && text.contains("invalid_scope"), "{text}");
        assert!(!text.contains("Trace ID"), "{text}");
    }

    #[test]
    fn code_is_read_from_the_description_when_error_codes_is_missing() {
        let err = parse_entra_error(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
            "a",
            "t",
            "r",
        );
        assert!(matches!(err, AuthError::WrongSecret));
    }
}
