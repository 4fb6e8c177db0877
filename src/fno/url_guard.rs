//! The one check every URL passes before signoff sends anything: https, or plain http to loopback only.
//! The rule itself lives in [`crate::environment_url`], shared with config validation; here it becomes
//! the connector's errors.

use url::Url;

use super::error::FnoError;
use crate::environment_url::{EnvironmentUrl, UrlFault, transport_fault};

/// Parse `text` and refuse plain http unless the host is loopback (127.0.0.0/8, ::1, localhost).
pub fn checked_url(text: &str) -> Result<Url, FnoError> {
    let url = Url::parse(text).map_err(|e| FnoError::InvalidUrl { url: text.to_string(), reason: e.to_string() })?;
    check(&url)?;
    Ok(url)
}

/// Refuse `url` unless it is https, or http to a loopback host.
pub fn check(url: &Url) -> Result<(), FnoError> {
    match transport_fault(url) {
        None => Ok(()),
        Some(fault) => Err(refusal(url.to_string(), fault)),
    }
}

/// Parse `text` as the environment URL (no path, query or credentials; see [`EnvironmentUrl`]).
pub fn environment_url(text: &str) -> Result<EnvironmentUrl, FnoError> {
    EnvironmentUrl::parse(text).map_err(|fault| {
        // Shown as parsed, without any password it carries.
        let shown = match Url::parse(text) {
            Ok(mut url) => {
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => text.to_string(),
        };
        refusal(shown, fault)
    })
}

fn refusal(url: String, fault: UrlFault) -> FnoError {
    match fault {
        UrlFault::PlainHttp => FnoError::InsecureUrl { url },
        other => FnoError::InvalidUrl { url, reason: other.to_string() },
    }
}

/// True when `a` and `b` share scheme, host and port (a bearer token must never leave the environment).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://usmf.sandbox.operations.dynamics.com",
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:9000",
            "http://localhost:1234",
        ] {
            assert!(checked_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn http_to_any_other_host_is_refused() {
        for bad in ["http://fno.example.com", "http://10.0.0.5", "http://localhost.example.com", "http://[::2]"] {
            assert!(matches!(checked_url(bad), Err(FnoError::InsecureUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(matches!(checked_url("ftp://127.0.0.1"), Err(FnoError::InvalidUrl { .. })));
    }

    #[test]
    fn an_environment_url_with_a_path_or_plain_http_is_refused_without_echoing_a_password() {
        assert!(matches!(environment_url("http://fno.example.com/"), Err(FnoError::InsecureUrl { .. })));
        let err = environment_url("https://svc:hunter2@usmf.sandbox.operations.dynamics.com").unwrap_err();
        assert!(err.to_string().contains("user name or password") && !err.to_string().contains("hunter2"), "{err}");
        let err = environment_url("https://usmf.sandbox.operations.dynamics.com/data").unwrap_err();
        assert!(err.to_string().contains("remove '/data'"), "{err}");
    }

    #[test]
    fn origin_includes_the_port() {
        let a = Url::parse("http://127.0.0.1:1000/data/X").unwrap();
        let b = Url::parse("http://127.0.0.1:2000/data/X").unwrap();
        assert!(!same_origin(&a, &b));
        assert!(same_origin(&a, &Url::parse("http://127.0.0.1:1000/data/Y?$skip=5").unwrap()));
    }
}
