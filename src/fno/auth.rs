//! Entra ID client-credentials tokens (v1 and v2), cached in memory and shared by concurrent callers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use super::assertion::{ASSERTION_TYPE, ClientCertificate};
pub use super::auth_error::AuthError;
use super::auth_error::{parse_entra_error, parse_identity_error};
use super::error::FnoError;
use super::exchange::{Exchange, ExchangeLog, mask_form, mask_json_secrets};
use super::url_guard;
use crate::config::secret::Secret;
use crate::config::{Cloud, TokenEndpoint};

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// What the token provider needs; built from the config by [`super::settings`].
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Tenant GUID or domain.
    pub tenant: String,
    pub client_id: String,
    pub cloud: Cloud,
    /// Overrides the cloud's host, e.g. `http://127.0.0.1:PORT` for the simulator.
    pub authority_host: Option<String>,
    pub endpoint: TokenEndpoint,
    pub credential: Credential,
    /// The F&O environment URL: the token's resource (v1) or `<url>/.default` scope (v2). Checked as an
    /// [`crate::environment_url::EnvironmentUrl`] when the provider is built; its audience form is sent.
    pub resource: String,
}

/// How signoff proves who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    ClientSecret(Secret),
    /// Delegated set-ups: a refresh token, and the client secret when the app is confidential.
    RefreshToken {
        refresh_token: Secret,
        client_secret: Option<Secret>,
    },
    /// A client assertion signed with the app's certificate key, fresh for every token request.
    Certificate(Arc<ClientCertificate>),
    /// A token from the VM's managed identity endpoint (no secret at all); the tenant is not used.
    ManagedIdentity {
        endpoint: Url,
    },
}

/// The instance metadata service's token endpoint (Azure VMs).
pub const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// The login host for a cloud; none for Germany's closed cloud.
pub fn cloud_host(cloud: Cloud) -> Option<&'static str> {
    cloud.login_host()
}

/// Tokens for one app and one environment, fetched at most once at a time.
pub struct TokenProvider {
    http: reqwest::Client,
    /// For the managed identity endpoint: never through a proxy (it is link-local to the VM).
    direct: reqwest::Client,
    token_url: Url,
    /// The checked `settings.resource` in the form Entra compares (lowercase, no trailing slash).
    audience: String,
    settings: AuthSettings,
    log: ExchangeLog,
    state: Mutex<State>,
    retry: super::retry::RetryPolicy,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider").field("token_url", &self.token_url.as_str()).finish_non_exhaustive()
    }
}

struct State {
    cached: Option<(Secret, Instant)>,
    refresh_token: Option<Secret>,
    fetches: u32,
}

impl TokenProvider {
    /// Check the settings (tenant, authority URL, resource) before anything is sent.
    pub fn new(settings: AuthSettings, http: reqwest::Client, log: ExchangeLog) -> Result<Self, FnoError> {
        let token_url = match &settings.credential {
            Credential::ManagedIdentity { endpoint } => endpoint.clone(),
            _ => entra_token_url(&settings)?,
        };
        let direct = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| FnoError::InvalidUrl { url: token_url.to_string(), reason: e.to_string() })?;
        let audience = url_guard::environment_url(&settings.resource)?.audience();
        let refresh_token = match &settings.credential {
            Credential::ClientSecret(s) => {
                log.add_secret(s);
                None
            }
            Credential::RefreshToken { refresh_token, client_secret } => {
                log.add_secret(refresh_token);
                if let Some(s) = client_secret {
                    log.add_secret(s);
                }
                Some(refresh_token.clone())
            }
            Credential::Certificate(_) | Credential::ManagedIdentity { .. } => None,
        };
        let state = Mutex::new(State { cached: None, refresh_token, fetches: 0 });
        Ok(TokenProvider {
            http,
            direct,
            token_url,
            audience,
            settings,
            log,
            state,
            retry: super::retry::RetryPolicy::default(),
        })
    }

    /// Retry Entra's 429 and 503 within this budget (the environment's, like F&O's reads).
    pub fn with_retry(mut self, retry: super::retry::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The token endpoint this provider posts to.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// A valid access token: the cached one, or a new one when it is missing or within 5 minutes of expiry.
    /// Concurrent callers wait for one fetch and share its result.
    pub async fn token(&self) -> Result<Secret, AuthError> {
        let mut state = self.state.lock().await;
        if let Some((token, renew_at)) = &state.cached
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        // A token request changes nothing, so Entra's 429 and 503 are retried like F&O's reads.
        let mut budget = super::retry::RetryBudget::default();
        let (token, lifetime, new_refresh) = loop {
            match self.fetch(state.refresh_token.as_ref()).await {
                Err(AuthError::Busy { status, retry_after, .. }) => match budget.next_wait(&self.retry, retry_after) {
                    Some(wait) => {
                        tracing::info!(status, wait_secs = wait.as_secs(), "Entra ID asked us to wait");
                        tokio::time::sleep(wait).await;
                    }
                    None => return Err(AuthError::Busy { status, retry_after, attempts: budget.retries + 1 }),
                },
                other => break other?,
            }
        };
        state.fetches += 1;
        self.log.add_secret(&token);
        if let Some(r) = new_refresh {
            self.log.add_secret(&r);
            state.refresh_token = Some(r);
        }
        // Short-lived tokens (under 10 minutes) are renewed at half their life instead.
        let margin = if lifetime > RENEW_BEFORE * 2 { RENEW_BEFORE } else { lifetime / 2 };
        state.cached = Some((token.clone(), Instant::now() + lifetime - margin));
        Ok(token)
    }

    /// Forget `token` if it is the cached one (F&O answered 401 to it), so the next call fetches anew.
    pub async fn invalidate(&self, token: &Secret) {
        let mut state = self.state.lock().await;
        if state.cached.as_ref().is_some_and(|(t, _)| t == token) {
            state.cached = None;
        }
    }

    /// How many tokens this provider has fetched.
    pub async fn fetch_count(&self) -> u32 {
        self.state.lock().await.fetches
    }

    async fn fetch(&self, refresh: Option<&Secret>) -> Result<(Secret, Duration, Option<Secret>), AuthError> {
        let s = &self.settings;
        let resource = &self.audience;
        let (request, exchange) = match &s.credential {
            Credential::ManagedIdentity { endpoint } => self.identity_request(endpoint),
            _ => self.entra_request(refresh)?,
        };
        let url = self.token_url.clone();
        let started = Instant::now();
        tracing::debug!(url = %url, "requesting a token");
        let sent = request.send().await;
        let mut exchange = exchange;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                let reason = super::client::transport_reason(&e);
                exchange.transport_error = Some(reason.clone());
                exchange.elapsed = started.elapsed();
                self.log.push(exchange);
                return Err(match s.credential {
                    Credential::ManagedIdentity { .. } => {
                        AuthError::IdentityUnreachable { url: url.to_string(), reason }
                    }
                    _ => AuthError::Unreachable { url: url.to_string(), reason },
                });
            }
        };
        let status = response.status().as_u16();
        exchange.status = Some(status);
        let response_headers = response.headers().clone();
        exchange.response_headers = super::client::header_pairs(&response_headers);
        let body = response.text().await.unwrap_or_default();
        exchange.response_body = Some(mask_json_secrets(&body));
        exchange.elapsed = started.elapsed();
        // The token must be known to the log before the exchange is stored, so it can never be kept.
        let parsed = if status == 200 { parse_token(&body) } else { None };
        if let Some((token, _, refresh)) = &parsed {
            self.log.add_secret(token);
            if let Some(r) = refresh {
                self.log.add_secret(r);
            }
        }
        self.log.push(exchange);
        tracing::debug!(status, "the token endpoint answered");
        if status == 429 || status == 503 {
            let retry_after = super::retry::retry_after(&response_headers);
            return Err(AuthError::Busy { status, retry_after, attempts: 1 });
        }
        if status != 200 {
            return Err(match &s.credential {
                Credential::ManagedIdentity { .. } => parse_identity_error(status, &body, resource),
                Credential::Certificate(cert) => {
                    match parse_entra_error(status, &body, &s.client_id, &s.tenant, resource) {
                        AuthError::CertificateRejected { client_id, .. } => AuthError::CertificateRejected {
                            client_id,
                            thumbprint: cert.certificate().x5t_s256(),
                            file: cert.path().display().to_string(),
                        },
                        other => other,
                    }
                }
                _ => parse_entra_error(status, &body, &s.client_id, &s.tenant, resource),
            });
        }
        parsed.ok_or_else(|| AuthError::InvalidResponse {
            url: url.to_string(),
            reason: "no access_token or expires_in in the answer".into(),
        })
    }

    /// The form POST to Entra's token endpoint, and its exchange record with secrets masked.
    fn entra_request(&self, refresh: Option<&Secret>) -> Result<(reqwest::RequestBuilder, Exchange), AuthError> {
        let s = &self.settings;
        let resource = &self.audience;
        let scope = format!("{resource}/.default");
        let mut form: Vec<(&str, String)> = vec![("client_id", s.client_id.clone())];
        match (&s.credential, refresh) {
            (Credential::RefreshToken { client_secret, .. }, Some(refresh)) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", refresh.expose().to_string()));
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose().to_string()));
                }
            }
            (Credential::ClientSecret(secret), _)
            | (Credential::RefreshToken { client_secret: Some(secret), .. }, None) => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_secret", secret.expose().to_string()));
            }
            (Credential::Certificate(cert), _) => {
                let assertion = cert.assertion(&s.client_id, self.token_url.as_str());
                self.log.add_secret(&assertion);
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_assertion_type", ASSERTION_TYPE.into()));
                form.push(("client_assertion", assertion.expose().to_string()));
            }
            (Credential::RefreshToken { client_secret: None, .. }, None) => {
                return Err(AuthError::NotConfigured("no refresh token and no client secret".into()));
            }
            (Credential::ManagedIdentity { .. }, _) => unreachable!("a managed identity is asked with a GET"),
        }
        match s.endpoint {
            TokenEndpoint::V2 => form.push(("scope", scope)),
            TokenEndpoint::V1 => form.push(("resource", resource.clone())),
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let exchange = Exchange {
            method: "POST".into(),
            url: self.token_url.to_string(),
            request_headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
            request_body: Some(mask_form(&pairs)),
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            elapsed: Duration::ZERO,
            dry_run: false,
            transport_error: None,
        };
        Ok((self.http.post(self.token_url.clone()).form(&pairs), exchange))
    }

    /// The managed identity GET (IMDS: `api-version=2018-02-01`, `resource`, optional `client_id`, and the
    /// `Metadata: true` header that proves the caller is not a redirected browser request).
    fn identity_request(&self, endpoint: &Url) -> (reqwest::RequestBuilder, Exchange) {
        let s = &self.settings;
        let mut url = endpoint.clone();
        url.query_pairs_mut().append_pair("api-version", "2018-02-01").append_pair("resource", &self.audience);
        if !s.client_id.trim().is_empty() {
            url.query_pairs_mut().append_pair("client_id", &s.client_id);
        }
        let exchange = Exchange {
            method: "GET".into(),
            url: url.to_string(),
            request_headers: vec![("Metadata".into(), "true".into())],
            request_body: None,
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            elapsed: Duration::ZERO,
            dry_run: false,
            transport_error: None,
        };
        (self.direct.get(url).header("Metadata", "true"), exchange)
    }
}

/// `<login host>/<tenant>/oauth2/v2.0/token` (or v1), checked before anything is sent.
fn entra_token_url(settings: &AuthSettings) -> Result<Url, FnoError> {
    let tenant = settings.tenant.trim();
    if tenant.is_empty() {
        return Err(AuthError::NotConfigured("auth.tenant is empty".into()).into());
    }
    if ["common", "consumers", "organizations"].contains(&tenant.to_ascii_lowercase().as_str()) {
        return Err(AuthError::TenantNotSpecific { tenant: tenant.into() }.into());
    }
    if settings.client_id.trim().is_empty() {
        return Err(AuthError::NotConfigured("auth.client_id is empty".into()).into());
    }
    let host = match (&settings.authority_host, cloud_host(settings.cloud)) {
        (Some(host), _) => host.clone(),
        (None, Some(host)) => host.to_string(),
        (None, None) => return Err(AuthError::NotConfigured(crate::config::GERMANY_CLOSED.into()).into()),
    };
    let path = match settings.endpoint {
        TokenEndpoint::V2 => "oauth2/v2.0/token",
        TokenEndpoint::V1 => "oauth2/token",
    };
    url_guard::checked_url(&format!("{}/{}/{path}", host.trim_end_matches('/'), tenant))
}

/// Read a v1 or v2 token answer (v1 sends numbers as strings).
fn parse_token(body: &str) -> Option<(Secret, Duration, Option<Secret>)> {
    let value: Value = serde_json::from_str(body).ok()?;
    let token = value["access_token"].as_str().filter(|t| !t.is_empty())?;
    let expires = &value["expires_in"];
    let secs = expires.as_u64().or_else(|| expires.as_str().and_then(|s| s.trim().parse().ok()))?;
    let refresh = value["refresh_token"].as_str().filter(|t| !t.is_empty()).map(Secret::new);
    Some((Secret::new(token), Duration::from_secs(secs), refresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_string_numbers_and_v2_numbers_both_parse() {
        let v2 = parse_token(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.v2"}"#).unwrap();
        assert_eq!(v2.1, Duration::from_secs(3599));
        let v1 = parse_token(
            r#"{"token_type":"Bearer","expires_in":"3599","expires_on":"1767000000","not_before":"1766996100","resource":"https://usmf","access_token":"eyJ.v1"}"#,
        )
        .unwrap();
        assert_eq!(v1.0.expose(), "eyJ.v1");
        assert_eq!(v1.1, Duration::from_secs(3599));
    }

    fn settings(tenant: &str, host: Option<&str>) -> AuthSettings {
        AuthSettings {
            tenant: tenant.into(),
            client_id: "00000000-5150-4f0a-9c1e-000000000001".into(),
            cloud: Cloud::Usgov,
            authority_host: host.map(String::from),
            endpoint: TokenEndpoint::V2,
            credential: Credential::ClientSecret(Secret::new("very-secret-value")),
            resource: "https://usmf.sandbox.operations.dynamics.com".into(),
        }
    }

    #[test]
    fn the_cloud_chooses_the_token_host() {
        let p =
            TokenProvider::new(settings("contoso.us", None), reqwest::Client::new(), ExchangeLog::default()).unwrap();
        assert_eq!(p.token_url().as_str(), "https://login.microsoftonline.us/contoso.us/oauth2/v2.0/token");
        assert_eq!(cloud_host(Cloud::China), Some("https://login.partner.microsoftonline.cn"));
        assert_eq!(cloud_host(Cloud::Germany), None);
    }

    #[test]
    fn common_tenant_and_plain_http_authority_are_refused_before_sending() {
        let common = TokenProvider::new(settings("common", None), reqwest::Client::new(), ExchangeLog::default());
        assert!(matches!(common, Err(FnoError::Auth(AuthError::TenantNotSpecific { .. }))));
        let http = TokenProvider::new(
            settings("contoso.us", Some("http://login.example.com")),
            reqwest::Client::new(),
            ExchangeLog::default(),
        );
        assert!(matches!(http, Err(FnoError::InsecureUrl { .. })));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let p =
            TokenProvider::new(settings("contoso.us", None), reqwest::Client::new(), ExchangeLog::default()).unwrap();
        let text = format!("{p:?} {:?}", settings("contoso.us", None));
        assert!(!text.contains("very-secret-value"), "{text}");
    }
}
