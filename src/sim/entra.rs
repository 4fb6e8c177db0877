//! Microsoft Entra ID token endpoints (v1 and v2) with real AADSTS error bodies, and bearer checks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::reply::Reply;

/// Lifetime of an access token, as Entra reports it.
pub const EXPIRES_IN: u64 = 3599;

/// Who may get tokens, and for which resource (no `Debug`: it holds the client secret).
#[derive(Clone)]
pub struct Directory {
    pub tenant: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// The F&O environment URL (lowercase, no trailing slash): the only resource in this tenant.
    pub resource: String,
    /// The base URL clients reach the token endpoints at (a client assertion's audience starts with it).
    pub base: String,
    /// The DER certificate registered on the app as a certificate credential, if any.
    pub certificate: Option<Vec<u8>>,
}

/// What an issued access token stands for.
#[derive(Clone)]
pub struct TokenInfo {
    pub aud: String,
    pub tid: String,
    pub client_id: String,
    pub expires: Instant,
}

/// Issued access and refresh tokens (no `Debug`: they are secrets).
#[derive(Default)]
pub struct Tokens {
    pub access: HashMap<String, TokenInfo>,
    /// Refresh token → client id.
    pub refresh: HashMap<String, String>,
}

impl Tokens {
    /// Every token issued so far is expired from now on.
    pub fn expire_all(&mut self) {
        let past = Instant::now().checked_sub(Duration::from_secs(1)).unwrap_or_else(Instant::now);
        for t in self.access.values_mut() {
            t.expires = past;
        }
    }

    /// Every secret value a log must not show.
    pub fn secrets(&self) -> Vec<String> {
        self.access.keys().chain(self.refresh.keys()).cloned().collect()
    }
}

/// A random opaque token.
pub fn random_token() -> String {
    let mut bytes = Vec::with_capacity(48);
    for _ in 0..3 {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An Entra error body: `error`, a multi-line `error_description`, codes, ids and the error URI.
pub fn error(status: u16, error: &str, code: u32, text: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let description = format!(
        "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {}",
        now.format("%Y-%m-%d %H:%M:%S%.3fZ")
    );
    let body = json!({
        "error": error, "error_description": description, "error_codes": [code],
        "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(), "trace_id": trace,
        "correlation_id": correlation, "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    Reply::text(status, "application/json; charset=utf-8", serde_json::to_vec(&body).unwrap_or_default())
}

fn normalise_resource(r: &str) -> String {
    r.trim().trim_end_matches('/').to_lowercase()
}

/// `POST /{tenant}/oauth2/v2.0/token` (`v2`) or `/{tenant}/oauth2/token`.
pub fn token(dir: &Directory, tokens: &mut Tokens, tenant: &str, v2: bool, basic: Option<&str>, body: &[u8]) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (mut client_id, mut secret) =
        (field("client_id").map(str::to_string), field("client_secret").map(str::to_string));
    if let Some((id, s)) = basic.and_then(decode_basic) {
        client_id = client_id.or(Some(id));
        secret = secret.or(Some(s));
    }
    let grant = field("grant_type").unwrap_or("");
    if ["common", "consumers", "organizations"].contains(&tenant.to_lowercase().as_str()) {
        return error(
            400,
            "invalid_request",
            9001023,
            &format!(
                "The grant type '{grant}' is not supported over the /common or /consumers endpoints. Please use the \
             /organizations or tenant-specific endpoint."
            ),
        );
    }
    if !tenant.eq_ignore_ascii_case(&dir.tenant) && !tenant.eq_ignore_ascii_case(&dir.tenant_id) {
        return error(
            400,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into \
             the correct cloud. Check with your subscription administrator, this may happen if there are no active \
             subscriptions for the tenant."
            ),
        );
    }
    if grant.is_empty() {
        return error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    if grant != "client_credentials" && grant != "refresh_token" {
        return error(
            400,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = client_id else {
        return error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if !client_id.eq_ignore_ascii_case(&dir.client_id) {
        return error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the \
             application has not been installed by the administrator of the tenant or consented to by any user in \
             the tenant. You may have sent your authentication request to the wrong tenant.",
                dir.tenant
            ),
        );
    }
    if let Some(assertion) = field("client_assertion") {
        if field("client_assertion_type") != Some(super::assertion::TYPE) {
            return error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_assertion_type'.",
            );
        }
        let path = if v2 { "oauth2/v2.0/token" } else { "oauth2/token" };
        let audience = format!("{}/{tenant}/{path}", dir.base);
        let expected = super::assertion::Expected {
            client_id: &client_id,
            audience: &audience,
            certificate: dir.certificate.as_deref(),
        };
        if let Err(reply) = super::assertion::check(assertion, &expected) {
            return reply;
        }
    }
    match (grant, secret) {
        ("client_credentials", None) if field("client_assertion").is_none() => {
            return error(
                400,
                "invalid_request",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
        (_, Some(s)) if s != dir.client_secret => {
            return error(
                401,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret \
                 value, not the client secret ID, for a secret added to app '{}'.",
                    dir.client_id
                ),
            );
        }
        _ => {}
    }
    let resource = if v2 {
        match field("scope") {
            None if grant == "refresh_token" => Some(format!("{}/.default", dir.resource)),
            None => {
                return error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'scope'.",
                );
            }
            Some(scope) => Some(scope.to_string()),
        }
        .and_then(|s| {
            let first =
                s.split_whitespace().find(|x| !["openid", "profile", "offline_access"].contains(x))?.to_string();
            Some(first)
        })
        .map(|s| match s.strip_suffix("/.default") {
            Some(r) => Ok(r.to_string()),
            None => Err(s),
        })
    } else {
        field("resource").map(|r| Ok(r.to_string()))
    };
    let resource = match resource {
        Some(Ok(r)) => r,
        Some(Err(scope)) => {
            return error(
                400,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value \
             with /.default suffixed to the resource identifier (application ID URI)."
                ),
            );
        }
        None => {
            return error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'resource'.",
            );
        }
    };
    if normalise_resource(&resource) != dir.resource {
        return error(
            400,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the \
             application has not been installed by the administrator of the tenant or consented to by any user in \
             the tenant. You might have sent your authentication request to the wrong tenant.",
                dir.tenant
            ),
        );
    }
    let refresh_in = if grant == "refresh_token" {
        match field("refresh_token") {
            Some(rt) if tokens.refresh.get(rt).is_some_and(|c| c.eq_ignore_ascii_case(&client_id)) => true,
            Some(_) => return error(400, "invalid_grant", 70000, "Provided grant is invalid or malformed."),
            None => {
                return error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'refresh_token'.",
                );
            }
        }
    } else {
        false
    };
    let access = random_token();
    tokens.access.insert(
        access.clone(),
        TokenInfo {
            aud: dir.resource.clone(),
            tid: dir.tenant_id.clone(),
            client_id: dir.client_id.clone(),
            expires: Instant::now() + Duration::from_secs(EXPIRES_IN),
        },
    );
    let now = chrono::Utc::now().timestamp();
    let mut body = if v2 {
        json!({"token_type": "Bearer", "expires_in": EXPIRES_IN, "ext_expires_in": EXPIRES_IN, "access_token": access})
    } else {
        json!({"token_type": "Bearer", "expires_in": EXPIRES_IN.to_string(), "ext_expires_in": EXPIRES_IN.to_string(),
            "expires_on": (now + EXPIRES_IN as i64).to_string(), "not_before": now.to_string(),
            "resource": resource, "access_token": access})
    };
    if refresh_in {
        let rt = random_token();
        tokens.refresh.insert(rt.clone(), dir.client_id.clone());
        if let Value::Object(m) = &mut body {
            m.insert("refresh_token".into(), Value::String(rt));
            m.insert("scope".into(), Value::String(format!("{}/user_impersonation", dir.resource)));
            m.insert("id_token".into(), Value::String(id_token(dir)));
        }
    }
    Reply::text(200, "application/json; charset=utf-8", serde_json::to_vec(&body).unwrap_or_default())
}

/// An unsigned id token (the client never validates it here).
fn id_token(dir: &Directory) -> String {
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        enc(json!({"typ": "JWT", "alg": "none"})),
        enc(json!({"aud": dir.client_id, "tid": dir.tenant_id, "name": "Delegated user"}))
    )
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((decode(id)?, decode(secret)?))
}

/// The 401 F&O sends for a missing, unknown, expired or wrong-audience token.
pub fn unauthorized() -> Reply {
    Reply::text(401, "text/plain; charset=utf-8", Vec::new())
        .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
}

/// Check `Authorization: Bearer …` against issued tokens and the environment's audience and tenant.
pub fn check_bearer(dir: &Directory, tokens: &Tokens, header: Option<&str>) -> Result<TokenInfo, Reply> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .ok_or_else(unauthorized)?;
    let info = tokens.access.get(token.trim()).ok_or_else(unauthorized)?;
    if info.expires <= Instant::now() || info.aud != dir.resource || info.tid != dir.tenant_id {
        return Err(unauthorized());
    }
    Ok(info.clone())
}

/// Issue a refresh token as if a user had signed in interactively (for delegated set-ups).
pub fn issue_refresh(dir: &Directory, tokens: &mut Tokens) -> String {
    let rt = random_token();
    tokens.refresh.insert(rt.clone(), dir.client_id.clone());
    rt
}
