//! Which proxy a request to F&O or Entra goes through.
//!
//! `[environment] proxy` wins; otherwise `HTTPS_PROXY` (or `https_proxy`). `NO_PROXY` lists hosts that go
//! direct. Only https goes through a proxy: plain http is allowed to loopback alone (the simulator), and
//! loopback is never proxied. Proxy credentials are a secret (`proxy_credentials_env|_file|_command`, or
//! inside `HTTPS_PROXY`): they go to the proxy as `Proxy-Authorization` and are never shown.

use url::Url;

use crate::config::secret::Secret;

/// Where the proxy setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyOrigin {
    /// `[environment] proxy`.
    Config,
    /// An environment variable (its name).
    Env(String),
}

/// The proxy to use, if any, and the hosts that bypass it.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// The proxy URL without credentials.
    pub url: Option<(Url, ProxyOrigin)>,
    /// `user:password` for the proxy (a secret).
    pub credentials: Option<Secret>,
    /// `NO_PROXY` entries: `*`, a host, or a domain suffix (`.contoso.com` or `contoso.com`).
    pub no_proxy: Vec<String>,
}

/// Why a proxy setting is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("{origin} is not a proxy URL ({reason}); write it like http://proxy.contoso.com:3128")]
    Invalid { origin: String, reason: String },
}

impl ProxySettings {
    /// From `[environment] proxy` (already checked to hold no credentials) and the process environment.
    pub fn new(configured: Option<&str>, credentials: Option<Secret>) -> Result<ProxySettings, ProxyError> {
        Self::with_env(configured, credentials, |name| std::env::var(name).ok())
    }

    /// As [`ProxySettings::new`], reading variables through `var` (tests).
    pub fn with_env(
        configured: Option<&str>,
        mut credentials: Option<Secret>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<ProxySettings, ProxyError> {
        let first = |names: &[&str]| {
            names.iter().find_map(|n| var(n).filter(|v| !v.trim().is_empty()).map(|v| (n.to_string(), v)))
        };
        let chosen = match configured {
            Some(text) => Some((ProxyOrigin::Config, text.to_string())),
            None => first(&["HTTPS_PROXY", "https_proxy"]).map(|(name, v)| (ProxyOrigin::Env(name), v)),
        };
        let url = match chosen {
            None => None,
            Some((origin, text)) => {
                let label = match &origin {
                    ProxyOrigin::Config => "environment.proxy".to_string(),
                    ProxyOrigin::Env(name) => format!("environment variable {name}"),
                };
                let mut url = crate::net_spelling::parse_proxy(&text)
                    .map_err(|reason| ProxyError::Invalid { origin: label.clone(), reason })?;
                if !url.username().is_empty() {
                    let user = percent_decode(url.username());
                    let password = url.password().map(percent_decode).unwrap_or_default();
                    credentials = credentials.or(Some(Secret::new(format!("{user}:{password}"))));
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                }
                Some((url, origin))
            }
        };
        let no_proxy = first(&["NO_PROXY", "no_proxy"])
            .map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        Ok(ProxySettings { url, credentials, no_proxy })
    }

    /// The proxy a request to `target` goes through; `None`: direct.
    pub fn for_target(&self, target: &Url) -> Option<&Url> {
        let (proxy, _) = self.url.as_ref()?;
        if target.scheme() != "https" || crate::environment_url::is_loopback(target) && self.no_proxy_loopback() {
            return None;
        }
        let host = target.host_str()?.trim_matches(['[', ']']).to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            let entry = entry.split(':').next().unwrap_or(entry); // `host:port` entries match the host
            entry == "*"
                || host == entry.trim_start_matches('.')
                || host.ends_with(&format!(".{}", entry.trim_start_matches('.')))
        });
        (!bypass).then_some(proxy)
    }

    /// Loopback is proxied only when the operator asked for it in the config (a test, or a local proxy
    /// that must see everything); from `HTTPS_PROXY` it goes direct, as curl does with `NO_PROXY=localhost`.
    fn no_proxy_loopback(&self) -> bool {
        !matches!(self.url, Some((_, ProxyOrigin::Config)))
    }

    /// `proxy http://proxy.contoso.com:3128 (environment.proxy, with credentials)` or `no proxy`, never
    /// showing the credentials.
    pub fn describe(&self, target: &Url) -> String {
        match (self.for_target(target), &self.url) {
            (Some(url), Some((_, origin))) => {
                let origin = match origin {
                    ProxyOrigin::Config => "environment.proxy".to_string(),
                    ProxyOrigin::Env(name) => name.clone(),
                };
                let auth = if self.credentials.is_some() { ", with credentials (not shown)" } else { "" };
                format!("proxy {} (from {origin}{auth})", url.as_str().trim_end_matches('/'))
            }
            (None, Some(_)) if target.scheme() != "https" => "direct (plain http to loopback is never proxied)".into(),
            (None, Some(_)) => "direct (NO_PROXY or loopback)".into(),
            (_, None) => "direct (no proxy configured; HTTPS_PROXY is not set)".into(),
        }
    }

    /// The proxy for reqwest: chosen per request by [`ProxySettings::for_target`].
    pub fn to_reqwest(&self) -> Option<reqwest::Proxy> {
        self.url.as_ref()?;
        let me = self.clone();
        let mut proxy = reqwest::Proxy::custom(move |target| me.for_target(target).cloned());
        if let Some(creds) = &self.credentials {
            let (user, password) = creds.expose().split_once(':').unwrap_or((creds.expose(), ""));
            proxy = proxy.basic_auth(user, password);
        }
        Some(proxy)
    }
}

/// True when a transport failure's reason says the proxy refused the tunnel for want of credentials
/// (407 to CONNECT). hyper-util words it `proxy authorization required`; its error type is not public.
pub fn refused_credentials(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("proxy authorization required") || reason.contains("proxy authentication required")
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_config_wins_over_https_proxy_and_no_proxy_bypasses_by_domain() {
        let vars =
            env(&[("HTTPS_PROXY", "http://env-proxy:8080"), ("NO_PROXY", "login.microsoftonline.com,.internal")]);
        let p = ProxySettings::with_env(Some("http://proxy.contoso.com:3128"), None, vars).unwrap();
        let fno = url("https://usmf.sandbox.operations.dynamics.com/data/X");
        assert_eq!(p.for_target(&fno).map(Url::as_str), Some("http://proxy.contoso.com:3128/"));
        assert_eq!(p.for_target(&url("https://login.microsoftonline.com/t/oauth2/v2.0/token")), None);
        assert_eq!(p.for_target(&url("https://fno.internal/")), None);
        assert!(p.describe(&fno).contains("(from environment.proxy)"), "{}", p.describe(&fno));
    }

    #[test]
    fn credentials_in_https_proxy_are_taken_out_of_the_url_and_never_shown() {
        let vars = env(&[("HTTPS_PROXY", "http://svc-signoff:S3cr%40t@proxy.contoso.com:3128")]);
        let p = ProxySettings::with_env(None, None, vars).unwrap();
        assert_eq!(p.credentials.as_ref().map(Secret::expose), Some("svc-signoff:S3cr@t"));
        let shown = p.describe(&url("https://usmf.operations.dynamics.com/"));
        assert!(shown.contains("proxy http://proxy.contoso.com:3128 (from HTTPS_PROXY, with credentials"), "{shown}");
        assert!(!shown.contains("S3cr") && !shown.contains("svc-signoff"), "{shown}");
    }

    #[test]
    fn plain_http_and_loopback_from_the_environment_go_direct() {
        let p = ProxySettings::with_env(None, None, env(&[("https_proxy", "proxy:3128")])).unwrap();
        assert_eq!(p.for_target(&url("http://127.0.0.1:8080/data")), None);
        assert_eq!(p.for_target(&url("https://localhost:8443/data")), None);
        assert!(p.for_target(&url("https://usmf.operations.dynamics.com/")).is_some());
        let none = ProxySettings::with_env(None, None, env(&[])).unwrap();
        assert!(none.describe(&url("https://x/")).contains("HTTPS_PROXY is not set"));
    }

    #[test]
    fn a_proxy_that_is_not_a_url_is_named() {
        let err = ProxySettings::with_env(Some("ftp://proxy"), None, env(&[])).unwrap_err();
        assert!(err.to_string().starts_with("environment.proxy is not a proxy URL"), "{err}");
    }
}
