//! The one check every URL passes before signoff sends anything: https, or plain http to loopback only.

use std::net::IpAddr;

use url::{Host, Url};

use super::error::FnoError;

/// Parse `text` and refuse plain http unless the host is loopback (127.0.0.0/8, ::1, localhost).
pub fn checked_url(text: &str) -> Result<Url, FnoError> {
    let url = Url::parse(text).map_err(|e| FnoError::InvalidUrl { url: text.to_string(), reason: e.to_string() })?;
    check(&url)?;
    Ok(url)
}

/// Refuse `url` unless it is https, or http to a loopback host.
pub fn check(url: &Url) -> Result<(), FnoError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(FnoError::InsecureUrl { url: url.to_string() }),
        other => Err(FnoError::InvalidUrl {
            url: url.to_string(),
            reason: format!("the scheme {other}:// is not supported; use https://"),
        }),
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
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
    fn origin_includes_the_port() {
        let a = Url::parse("http://127.0.0.1:1000/data/X").unwrap();
        let b = Url::parse("http://127.0.0.1:2000/data/X").unwrap();
        assert!(!same_origin(&a, &b));
        assert!(same_origin(&a, &Url::parse("http://127.0.0.1:1000/data/Y?$skip=5").unwrap()));
    }
}
