//! The F&O environment URL, checked and spelled once: https (plain http only to loopback), a host and
//! nothing else, no trailing slash. Config validation and the connector both ask this module, so what the
//! config accepts is exactly what the connector sends to.
//!
//! It sits below both `config` and `fno` because `fno` builds its settings from the config: a type the
//! config validates with cannot live in `fno` without the two depending on each other.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

/// Why a text is not a usable base URL. [`EnvironmentUrl::faults`] lists them in the order a reader fixes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlFault {
    /// Not a URL at all (the parser's reason).
    #[error("{reason}")]
    Unparsable { reason: String },
    /// A scheme other than https (or http).
    #[error("the scheme {scheme}:// is not supported; use https://")]
    UnsupportedScheme { scheme: String },
    /// Plain http to a host that is not loopback.
    #[error("plain http is allowed only for loopback (127.0.0.0/8, ::1, localhost); use https://")]
    PlainHttp,
    /// No host to send to.
    #[error("it has no host")]
    NoHost,
    /// A user name or password in the URL.
    #[error("it must not contain a user name or password")]
    Credentials,
    /// A `?query` or `#fragment`.
    #[error("it must not have a query or fragment")]
    QueryOrFragment,
    /// A path such as `/data`: the environment URL is also the token audience, which has none.
    #[error("it must be the environment's base URL without a path (remove '{path}')")]
    Path { path: String },
}

/// True for 127.0.0.0/8, ::1 and `localhost`: the only hosts plain `http://` may reach.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The transport rule every URL signoff sends to meets: https, or plain http to loopback.
pub fn transport_fault(url: &Url) -> Option<UrlFault> {
    match url.scheme() {
        "https" => None,
        "http" if is_loopback(url) => None,
        "http" => Some(UrlFault::PlainHttp),
        other => Some(UrlFault::UnsupportedScheme { scheme: other.to_string() }),
    }
}

/// A checked F&O environment URL (`https://usmf.sandbox.operations.dynamics.com`), also the token resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentUrl(Url);

impl EnvironmentUrl {
    /// Parse and check `text`; trailing slashes are dropped, the first fault is the error.
    pub fn parse(text: &str) -> Result<Self, UrlFault> {
        let (url, faults) = inspect(text);
        match (url, faults.into_iter().next()) {
            (Some(mut url), None) => {
                url.set_path("");
                Ok(EnvironmentUrl(url))
            }
            (_, Some(fault)) => Err(fault),
            (None, None) => unreachable!("an unparsable URL always has a fault"),
        }
    }

    /// Every reason `text` is not an environment URL, in the order a reader fixes them; empty when it is one.
    pub fn faults(text: &str) -> Vec<UrlFault> {
        inspect(text).1
    }

    /// The URL without a trailing slash: requests are `<this>/data/…`.
    pub fn as_str(&self) -> &str {
        let text = self.0.as_str();
        text.strip_suffix('/').unwrap_or(text)
    }

    /// The parsed URL (its path is `/`).
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The token's resource and audience: FNO.md §1, "aud equals the environment URL (lowercase, no
    /// trailing slash)". The v2 scope is this plus `/.default`.
    pub fn audience(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

impl fmt::Display for EnvironmentUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnvironmentUrl {
    type Err = UrlFault;

    fn from_str(text: &str) -> Result<Self, UrlFault> {
        EnvironmentUrl::parse(text)
    }
}

/// The parsed URL (when it parses) and every fault, the path fault last.
fn inspect(text: &str) -> (Option<Url>, Vec<UrlFault>) {
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(e) => return (None, vec![UrlFault::Unparsable { reason: e.to_string() }]),
    };
    let mut faults: Vec<UrlFault> = transport_fault(&url).into_iter().collect();
    if url.host().is_none() {
        faults.push(UrlFault::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        faults.push(UrlFault::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        faults.push(UrlFault::QueryOrFragment);
    }
    // Trailing slashes are spelling, not a path: `https://host/` and `https://host//` are the environment.
    let path = url.path().trim_end_matches('/');
    if !path.is_empty() {
        faults.push(UrlFault::Path { path: path.to_string() });
    }
    (Some(url), faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_dropped_and_the_audience_is_lowercase() {
        let url = EnvironmentUrl::parse("https://USMF.Sandbox.operations.dynamics.com//").unwrap();
        assert_eq!(url.as_str(), "https://usmf.sandbox.operations.dynamics.com");
        assert_eq!(url.audience(), "https://usmf.sandbox.operations.dynamics.com");
        assert_eq!(url.to_string(), url.as_str());
        assert_eq!(EnvironmentUrl::parse("http://127.0.0.1:8080/").unwrap().as_str(), "http://127.0.0.1:8080");
    }

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://usmf.sandbox.operations.dynamics.com",
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:9000",
            "http://LOCALHOST:1",
        ] {
            assert_eq!(EnvironmentUrl::faults(ok), vec![], "{ok}");
        }
    }

    #[test]
    fn plain_http_elsewhere_and_other_schemes_are_refused() {
        for bad in ["http://fno.example.com", "http://10.0.0.5", "http://127.0.0.1.nip.io", "http://[::2]"] {
            assert_eq!(EnvironmentUrl::parse(bad), Err(UrlFault::PlainHttp), "{bad}");
        }
        assert_eq!(EnvironmentUrl::parse("ftp://127.0.0.1"), Err(UrlFault::UnsupportedScheme { scheme: "ftp".into() }));
    }

    #[test]
    fn a_path_query_or_credentials_are_refused_and_every_fault_is_listed() {
        assert_eq!(
            EnvironmentUrl::parse("https://contoso-test.sandbox.operations.dynamics.com/data/"),
            Err(UrlFault::Path { path: "/data".into() })
        );
        assert_eq!(
            EnvironmentUrl::faults("http://svc:pw@fno.example.com/data?cross-company=true"),
            vec![
                UrlFault::PlainHttp,
                UrlFault::Credentials,
                UrlFault::QueryOrFragment,
                UrlFault::Path { path: "/data".into() }
            ]
        );
        assert!(matches!(EnvironmentUrl::parse("https://"), Err(UrlFault::Unparsable { .. })));
    }
}
