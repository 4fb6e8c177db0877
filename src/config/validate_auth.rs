//! Checks on URLs and Entra credentials: where plain http is allowed, which tenants work, one secret source.

use super::AuthConfig;
use super::load::Problem;
use crate::environment_url::{EnvironmentUrl, UrlFault};

/// Tenants Entra refuses client credentials on (AADSTS9001023 for common/consumers).
const SHARED_TENANTS: &[&str] = &["common", "consumers", "organizations"];

/// A base URL: https (http only to loopback), a host, no credentials, and (for F&O, `bare`) no path.
/// The rule is [`EnvironmentUrl::faults`]; only the wording, which names the key, is config's.
pub(crate) fn check_url(key: &str, value: &str, bare: bool, out: &mut Vec<Problem>) {
    // The value is never echoed: a URL may carry credentials.
    for fault in EnvironmentUrl::faults(value) {
        let message = match fault {
            UrlFault::Unparsable { reason } => {
                format!("{key} is not a valid URL ({reason}); write it like https://host")
            }
            UrlFault::PlainHttp => format!(
                "{key} uses http:// to a host that is not loopback; use https:// (http is allowed only for \
                     localhost, 127.0.0.0/8 and ::1)"
            ),
            UrlFault::UnsupportedScheme { scheme } => {
                format!("{key} must start with https:// (found scheme '{scheme}')")
            }
            UrlFault::NoHost => format!("{key} has no host"),
            UrlFault::Credentials => format!("{key} must not contain a user name or password"),
            UrlFault::QueryOrFragment => format!("{key} must not have a query or fragment"),
            // The Entra authority host may carry a path; the environment URL is also the token resource.
            UrlFault::Path { .. } if !bare => continue,
            UrlFault::Path { path } => format!(
                "{key} must be the environment's base URL without a path (remove '{path}'); it is also the token \
                     resource"
            ),
        };
        out.push(Problem::at(key, message));
    }
}

pub(crate) fn check_auth(auth: &AuthConfig, has_url: bool, out: &mut Vec<Problem>) {
    let secrets = [
        ("client_secret_env", auth.client_secret_env.is_some()),
        ("client_secret_file", auth.client_secret_file.is_some()),
        ("client_secret_command", auth.client_secret_command.is_some()),
        ("client_secret", auth.client_secret.is_some()),
    ];
    let refresh = [
        ("refresh_token_env", auth.refresh_token_env.is_some()),
        ("refresh_token_file", auth.refresh_token_file.is_some()),
        ("refresh_token_command", auth.refresh_token_command.is_some()),
    ];
    for group in [&secrets[..], &refresh[..]] {
        let set: Vec<&str> = group.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect();
        if set.len() > 1 {
            out.push(Problem::at(
                format!("auth.{}", set[1]),
                format!("auth sets {} sources ({}): keep exactly one", set.len(), set.join(", ")),
            ));
        }
    }
    let empty_str =
        |k: &'static str, v: &Option<String>| v.as_deref().is_some_and(|s| s.trim().is_empty()).then_some(k);
    let empties = [
        empty_str("client_secret_env", &auth.client_secret_env),
        empty_str("client_secret_command", &auth.client_secret_command),
        empty_str("client_secret", &auth.client_secret),
        empty_str("refresh_token_env", &auth.refresh_token_env),
        empty_str("refresh_token_command", &auth.refresh_token_command),
    ];
    for key in empties.into_iter().flatten() {
        out.push(Problem::at(format!("auth.{key}"), format!("auth.{key} is empty")));
    }
    for (key, name) in [("client_secret_env", &auth.client_secret_env), ("refresh_token_env", &auth.refresh_token_env)]
    {
        if let Some(n) = name
            && (n.contains('=') || n.contains('\0'))
        {
            out.push(Problem::at(
                format!("auth.{key}"),
                format!(
                    "auth.{key} must be the NAME of an environment variable (e.g. \"SIGNOFF_CLIENT_SECRET\"), not \
                         an assignment"
                ),
            ));
        }
    }
    if let Some(tenant) = &auth.tenant {
        if SHARED_TENANTS.iter().any(|t| t.eq_ignore_ascii_case(tenant.trim())) {
            out.push(Problem::at(
                "auth.tenant",
                format!(
                    "auth.tenant '{tenant}' cannot be used: Entra refuses client credentials on the shared \
                         endpoints (AADSTS9001023); use your tenant's GUID or domain, e.g. contoso.onmicrosoft.com"
                ),
            ));
        } else if tenant.is_empty() || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            out.push(Problem::at("auth.tenant", "auth.tenant must be a tenant GUID or a domain name"));
        }
    }
    if let Some(id) = &auth.client_id
        && !is_guid(id)
    {
        out.push(Problem::at(
            "auth.client_id",
            "auth.client_id must be the app registration's Application (client) ID, a GUID like \
             8f2d1c3e-5150-4f0a-9c1e-7a1b2c3d4e5f (not the secret or its Secret ID)",
        ));
    }
    if let Some(host) = &auth.authority_host {
        check_url("auth.authority_host", host, false, out);
    }
    if let Some(endpoint) = &auth.managed_identity_endpoint {
        check_identity_endpoint(endpoint, out);
    }
    if !(1..=600).contains(&auth.secret_command_timeout_secs) {
        out.push(Problem::at(
            "auth.secret_command_timeout_secs",
            "auth.secret_command_timeout_secs must be between 1 and 600 (default 30)",
        ));
    }
    if auth.client_certificate_file.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
        out.push(Problem::at("auth.client_certificate_file", "auth.client_certificate_file is empty"));
    }
    let has_secret = secrets.iter().any(|(_, on)| *on);
    let has_refresh = refresh.iter().any(|(_, on)| *on);
    // What proves who signoff is: one of these (a refresh token may come with a client secret).
    let credentials: Vec<&str> = [
        ("a client secret", has_secret || has_refresh),
        ("client_certificate_file", auth.client_certificate_file.is_some()),
        ("managed_identity", auth.managed_identity),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if credentials.len() > 1 {
        let key = if auth.managed_identity { "auth.managed_identity" } else { "auth.client_certificate_file" };
        out.push(Problem::at(
            key,
            format!("[auth] sets {} credentials ({}): keep exactly one", credentials.len(), credentials.join(", ")),
        ));
    }
    let configured = !credentials.is_empty() || auth.tenant.is_some() || auth.client_id.is_some();
    if configured {
        // A managed identity needs no tenant, and no client id for the VM's system-assigned identity.
        let needed: &[&str] = if auth.managed_identity { &[] } else { &["tenant", "client_id"] };
        for key in needed {
            let missing = if *key == "tenant" { auth.tenant.is_none() } else { auth.client_id.is_none() };
            if missing {
                out.push(Problem::at("auth", format!("[auth] is partly set up but auth.{key} is missing")));
            }
        }
        if credentials.is_empty() {
            out.push(Problem::at(
                "auth",
                "[auth] has no credential: set client_secret_env (or client_secret_file / client_secret_command), \
                 client_certificate_file, or managed_identity = true",
            ));
        }
        if !has_url {
            out.push(Problem::at(
                "auth",
                "[auth] is set up but environment.url is missing (it is the F&O base URL and the token resource)",
            ));
        }
    }
}

/// The managed identity endpoint: https, or plain http to the instance metadata address or loopback.
fn check_identity_endpoint(endpoint: &str, out: &mut Vec<Problem>) {
    let key = "auth.managed_identity_endpoint";
    match url::Url::parse(endpoint) {
        Err(e) => out.push(Problem::at(key, format!("{key} is not a valid URL ({e})"))),
        Ok(url) if crate::environment_url::transport_fault(&url).is_none() || is_metadata_address(&url) => {}
        Ok(_) => out.push(Problem::at(
            key,
            format!("{key} must be https://, or http:// to the instance metadata address 169.254.169.254 or loopback"),
        )),
    }
}

/// The Azure instance metadata service's link-local address, reachable only from the VM itself.
pub(crate) fn is_metadata_address(url: &url::Url) -> bool {
    url.scheme() == "http" && url.host_str() == Some("169.254.169.254")
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}
