//! Checks on how signoff reaches F&O: the cloud and its domains, trust roots, pins and the proxy.

use super::load::Problem;
use super::{Cloud, Config, GERMANY_CLOSED};
use crate::environment_url::EnvironmentUrl;

pub(crate) fn check_network(config: &Config, out: &mut Vec<Problem>) {
    check_cloud(config, out);
    let env = &config.environment;
    if env.ca_file.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
        out.push(Problem::at("environment.ca_file", "environment.ca_file is empty: name a PEM file, or remove it"));
    }
    for pin in &env.pinned_sha256 {
        if crate::net_spelling::parse_pin(pin).is_none() {
            out.push(Problem::at(
                "environment.pinned_sha256",
                format!(
                    "environment.pinned_sha256 '{pin}' is not a SHA-256 digest: give the base64 (44 characters) or \
                     hex (64 characters) SHA-256 of the server's public key; `signoff connector validate` shows it"
                ),
            ));
        }
    }
    if let Some(proxy) = &env.proxy {
        // The value is never echoed: it might carry a password.
        match crate::net_spelling::parse_proxy(proxy) {
            Err(reason) => out.push(Problem::at(
                "environment.proxy",
                format!("environment.proxy is not a proxy URL ({reason}); write it like http://proxy.contoso.com:3128"),
            )),
            Ok(u) if !u.username().is_empty() || u.password().is_some() => out.push(Problem::at(
                "environment.proxy",
                "environment.proxy must not contain a user name or password: give them as user:password \
                     through proxy_credentials_env, proxy_credentials_file or proxy_credentials_command",
            )),
            Ok(_) => {}
        }
    }
    let sources = [
        ("proxy_credentials_env", env.proxy_credentials_env.is_some()),
        ("proxy_credentials_file", env.proxy_credentials_file.is_some()),
        ("proxy_credentials_command", env.proxy_credentials_command.is_some()),
    ];
    let set: Vec<&str> = sources.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect();
    if set.len() > 1 {
        out.push(Problem::at(
            format!("environment.{}", set[1]),
            format!("environment sets {} proxy credential sources ({}): keep exactly one", set.len(), set.join(", ")),
        ));
    }
}

/// `germany` is refused with the reason; `environment.cloud` and the older `auth.cloud` must agree; the
/// environment URL must be in the cloud's F&O domain (loopback, the simulator, is always allowed).
fn check_cloud(config: &Config, out: &mut Vec<Problem>) {
    let key = if config.environment.cloud.is_some() { "environment.cloud" } else { "auth.cloud" };
    if let (Some(env), Some(auth)) = (config.environment.cloud, config.auth.cloud)
        && env != auth
    {
        out.push(Problem::at(
            "auth.cloud",
            format!(
                "auth.cloud = \"{}\" disagrees with environment.cloud = \"{}\": remove auth.cloud (environment.cloud \
                 is where the cloud is set now)",
                auth.as_str(),
                env.as_str()
            ),
        ));
    }
    let cloud = config.cloud();
    if cloud == Cloud::Germany {
        out.push(Problem::at(key, format!("{key} = \"germany\" cannot be used: {GERMANY_CLOSED}")));
        return;
    }
    let Some(Ok(url)) = config.environment.url.as_deref().map(EnvironmentUrl::parse) else { return };
    if crate::environment_url::is_loopback(url.url()) {
        return;
    }
    let host = url.url().host_str().unwrap_or_default().to_ascii_lowercase();
    let domains = cloud.fno_domains();
    if !domains.iter().any(|d| host.ends_with(d)) {
        let other = [Cloud::Global, Cloud::Usgov, Cloud::China]
            .into_iter()
            .find(|c| *c != cloud && c.fno_domains().iter().any(|d| host.ends_with(d)));
        let hint = match other {
            Some(c) => format!("; it looks like the {} cloud: set environment.cloud = \"{}\"", c.as_str(), c.as_str()),
            None => String::new(),
        };
        out.push(Problem::at(
            "environment.url",
            format!(
                "environment.url {host} is not an F&O host of the {} cloud (expected *{}){hint}",
                cloud.as_str(),
                domains.join(" or *")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(cloud: Option<Cloud>, url: &str) -> Vec<String> {
        let mut c = Config::default();
        c.environment.cloud = cloud;
        c.environment.url = Some(url.into());
        let mut out = Vec::new();
        check_network(&c, &mut out);
        out.into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn each_cloud_accepts_its_own_domain_and_loopback() {
        assert!(problems(None, "https://usmf.sandbox.operations.dynamics.com").is_empty());
        assert!(problems(Some(Cloud::China), "https://contoso.operations.dynamics.cn").is_empty());
        assert!(problems(Some(Cloud::Usgov), "https://fabrikam-uat.sandbox.operations.dynamics.us").is_empty());
        assert!(problems(Some(Cloud::China), "http://127.0.0.1:8080").is_empty());
    }

    #[test]
    fn a_url_in_another_clouds_domain_names_that_cloud() {
        let p = problems(None, "https://contoso.operations.dynamics.cn");
        assert!(p[0].contains("not an F&O host of the global cloud") && p[0].contains("cloud = \"china\""), "{p:?}");
        let p = problems(Some(Cloud::China), "https://usmf.operations.dynamics.com");
        assert!(p[0].contains("expected *.operations.dynamics.cn"), "{p:?}");
    }

    #[test]
    fn germany_is_refused_with_the_closing_date() {
        let p = problems(Some(Cloud::Germany), "https://usmf.operations.dynamics.com");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("2021-10-29") && p[0].contains("cloud = \"global\""), "{p:?}");
    }
}
