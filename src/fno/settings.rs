//! The connector's own settings, built from the config so that `fno` depends on no loading code.

use std::time::Duration;

use std::sync::Arc;

use super::assertion::{CertificateFileError, ClientCertificate};
use super::auth::{AuthSettings, Credential, IMDS_TOKEN_URL};
use super::error::FnoError;
use super::retry::RetryPolicy;
use super::tls::TrustSettings;
use super::url_guard;
use crate::config::secret::{self, Secret, SecretSource};
use crate::config::{AuthConfig, Config, EnvironmentConfig};

/// How the connection is made: trust roots, a pin, a proxy.
#[derive(Debug, Clone, Default)]
pub struct NetworkSettings {
    pub trust: TrustSettings,
    /// `[environment] proxy`; `None`: `HTTPS_PROXY` from the environment, if set.
    pub proxy: Option<String>,
    /// The proxy's `user:password`.
    pub proxy_credentials: Option<Secret>,
}

/// Everything [`super::FnoClient`] needs.
#[derive(Debug, Clone)]
pub struct FnoSettings {
    /// F&O base URL (`https://x.sandbox.operations.dynamics.com`, or the simulator's loopback URL); from the
    /// config it is already an [`super::EnvironmentUrl`]'s spelling, and [`super::FnoClient::new`] checks it again.
    pub base_url: String,
    /// Per-request timeout.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub auth: AuthSettings,
    /// Record writes instead of sending them.
    pub dry_run: bool,
    pub network: NetworkSettings,
}

/// Why settings could not be built from the config.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{key} is not set in the config: {hint}")]
    Missing { key: &'static str, hint: &'static str },
    /// `environment.url` is not an environment URL: the connector's own message, as sending would give it.
    #[error(transparent)]
    InvalidUrl(FnoError),
    #[error(transparent)]
    Certificate(#[from] CertificateFileError),
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    /// A secret source could not be read (the key and why).
    #[error("{key}: {source}")]
    Secret { key: &'static str, source: secret::SecretError },
}

impl FnoSettings {
    /// Build from the config sections plus the resolved secret (and refresh token, for delegated set-ups).
    pub fn from_config(
        env: &EnvironmentConfig,
        auth: &AuthConfig,
        client_secret: Option<Secret>,
        refresh_token: Option<Secret>,
    ) -> Result<Self, SettingsError> {
        let base_url = env.url.clone().ok_or(SettingsError::Missing {
            key: "environment.url",
            hint: "set it to the F&O base URL, e.g. https://contoso-test.sandbox.operations.dynamics.com",
        })?;
        // A managed identity needs no tenant; its client id only picks a user-assigned identity.
        let tenant = match (&auth.tenant, auth.managed_identity) {
            (Some(t), _) => t.clone(),
            (None, true) => String::new(),
            (None, false) => {
                return Err(SettingsError::Missing {
                    key: "auth.tenant",
                    hint: "set it to your Entra tenant GUID or domain (contoso.onmicrosoft.com)",
                });
            }
        };
        let client_id = match (&auth.client_id, auth.managed_identity) {
            (Some(c), _) => c.clone(),
            (None, true) => String::new(),
            (None, false) => {
                return Err(SettingsError::Missing {
                    key: "auth.client_id",
                    hint: "set it to the Application (client) ID of the Entra app registration",
                });
            }
        };
        let credential = if auth.managed_identity {
            Credential::ManagedIdentity { endpoint: identity_endpoint(auth)? }
        } else if let Some(path) = &auth.client_certificate_file {
            Credential::Certificate(Arc::new(ClientCertificate::load(path)?))
        } else {
            match (refresh_token, client_secret) {
                (Some(refresh_token), client_secret) => Credential::RefreshToken { refresh_token, client_secret },
                (None, Some(secret)) => Credential::ClientSecret(secret),
                (None, None) => {
                    return Err(SettingsError::Missing {
                        key: "auth.client_secret_env",
                        hint: "name an environment variable holding the client secret (or use _file / _command), \
                               or set client_certificate_file or managed_identity = true",
                    });
                }
            }
        };
        let cloud = env.cloud.or(auth.cloud).unwrap_or_default();
        if cloud.login_host().is_none() && auth.authority_host.is_none() {
            return Err(SettingsError::Invalid {
                key: "environment.cloud",
                message: crate::config::GERMANY_CLOSED.into(),
            });
        }
        let mut pins = Vec::new();
        for pin in &env.pinned_sha256 {
            pins.push(crate::net_spelling::parse_pin(pin).ok_or_else(|| SettingsError::Invalid {
                key: "environment.pinned_sha256",
                message: "a pin is not a base64 or hex SHA-256 digest".into(),
            })?);
        }
        let network = NetworkSettings {
            trust: TrustSettings { ca_file: env.ca_file.clone(), pins },
            proxy: env.proxy.clone(),
            proxy_credentials: None,
        };
        let base_url = url_guard::environment_url(&base_url).map_err(SettingsError::InvalidUrl)?;
        Ok(FnoSettings {
            auth: AuthSettings {
                tenant,
                client_id,
                cloud,
                authority_host: auth.authority_host.clone(),
                endpoint: auth.endpoint,
                credential,
                resource: base_url.audience(),
            },
            base_url: base_url.to_string(),
            timeout: Duration::from_secs(env.timeout_secs.max(1)),
            retry: RetryPolicy {
                max_retries: env.max_retries,
                max_total_wait: Duration::from_secs(env.max_retry_wait_secs),
            },
            dry_run: false,
            network,
        })
    }

    /// Build from the whole config, reading every secret source it names (client secret, refresh token,
    /// proxy credentials). The CLI and the reviewer both come here, so they connect the same way.
    pub fn resolve(config: &Config) -> Result<Self, SettingsError> {
        let read = |key: &'static str, source: Option<SecretSource>| {
            source.map(|s| secret::resolve(&s).map_err(|source| SettingsError::Secret { key, source })).transpose()
        };
        let auth = &config.auth;
        let client_secret = read(client_secret_key(auth), auth.client_secret_source())?;
        let refresh_token = read("auth.refresh_token", auth.refresh_token_source())?;
        let mut settings = FnoSettings::from_config(&config.environment, auth, client_secret, refresh_token)?;
        let env = &config.environment;
        let proxy_source = SecretSource::first_of(
            &env.proxy_credentials_env,
            &env.proxy_credentials_file,
            &env.proxy_credentials_command,
            auth.command_timeout(),
        );
        settings.network.proxy_credentials = read("environment.proxy_credentials", proxy_source)?;
        Ok(settings)
    }
}

/// The config key naming the client secret's source, for messages.
pub fn client_secret_key(auth: &AuthConfig) -> &'static str {
    match auth.client_secret_source() {
        Some(SecretSource::Env(_)) => "auth.client_secret_env",
        Some(SecretSource::File(_)) => "auth.client_secret_file",
        Some(SecretSource::Command { .. }) => "auth.client_secret_command",
        _ => "auth.client_secret",
    }
}

/// The managed identity endpoint: configured, or the instance metadata service's.
fn identity_endpoint(auth: &AuthConfig) -> Result<url::Url, SettingsError> {
    let text = auth.managed_identity_endpoint.as_deref().unwrap_or(IMDS_TOKEN_URL);
    let invalid = |message: String| SettingsError::Invalid { key: "auth.managed_identity_endpoint", message };
    let url = url::Url::parse(text).map_err(|e| invalid(e.to_string()))?;
    if crate::config::is_metadata_address(&url) {
        return Ok(url);
    }
    url_guard::check(&url).map_err(|e| invalid(e.to_string()))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_sections_become_settings_with_defaults() {
        let env = EnvironmentConfig {
            url: Some("https://usmf.sandbox.operations.dynamics.com/".into()),
            ..Default::default()
        };
        let auth = AuthConfig {
            tenant: Some("contoso.onmicrosoft.com".into()),
            client_id: Some("app".into()),
            ..Default::default()
        };
        let s = FnoSettings::from_config(&env, &auth, Some(Secret::new("x")), None).unwrap();
        assert_eq!(s.base_url, "https://usmf.sandbox.operations.dynamics.com");
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert_eq!(s.retry.max_retries, 3);
    }

    #[test]
    fn a_missing_secret_names_the_key_to_set() {
        let env = EnvironmentConfig { url: Some("https://usmf".into()), ..Default::default() };
        let auth = AuthConfig { tenant: Some("t".into()), client_id: Some("c".into()), ..Default::default() };
        let err = FnoSettings::from_config(&env, &auth, None, None).unwrap_err();
        assert!(err.to_string().contains("auth.client_secret_env"));
    }
}
