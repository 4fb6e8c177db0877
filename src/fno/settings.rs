//! The connector's own settings, built from the config so that `fno` depends on no loading code.

use std::time::Duration;

use super::auth::{AuthSettings, Credential};
use super::error::FnoError;
use super::retry::RetryPolicy;
use super::url_guard;
use crate::config::secret::Secret;
use crate::config::{AuthConfig, EnvironmentConfig};

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
}

/// Why settings could not be built from the config.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{key} is not set in the config: {hint}")]
    Missing { key: &'static str, hint: &'static str },
    /// `environment.url` is not an environment URL: the connector's own message, as sending would give it.
    #[error(transparent)]
    InvalidUrl(FnoError),
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
        let tenant = auth.tenant.clone().ok_or(SettingsError::Missing {
            key: "auth.tenant",
            hint: "set it to your Entra tenant GUID or domain (contoso.onmicrosoft.com)",
        })?;
        let client_id = auth.client_id.clone().ok_or(SettingsError::Missing {
            key: "auth.client_id",
            hint: "set it to the Application (client) ID of the Entra app registration",
        })?;
        let credential = match (refresh_token, client_secret) {
            (Some(refresh_token), client_secret) => Credential::RefreshToken { refresh_token, client_secret },
            (None, Some(secret)) => Credential::ClientSecret(secret),
            (None, None) => {
                return Err(SettingsError::Missing {
                    key: "auth.client_secret_env",
                    hint: "name an environment variable holding the client secret (or use _file / _command)",
                });
            }
        };
        let base_url = url_guard::environment_url(&base_url).map_err(SettingsError::InvalidUrl)?;
        Ok(FnoSettings {
            auth: AuthSettings {
                tenant,
                client_id,
                cloud: auth.cloud,
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
        })
    }
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
