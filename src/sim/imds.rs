//! A stand-in for an Azure VM's instance metadata token endpoint (`GET /metadata/identity/oauth2/token`),
//! issuing tokens for the simulator's app as its managed identity. Errors are shaped like IMDS's
//! (`{"error", "error_description"}`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::entra::{Directory, EXPIRES_IN, TokenInfo, Tokens, random_token};
use super::reply::Reply;

fn refuse(status: u16, error: &str, description: &str) -> Reply {
    let body = json!({"error": error, "error_description": description});
    Reply::text(status, "application/json; charset=utf-8", serde_json::to_vec(&body).unwrap_or_default())
}

/// Answer one token request.
pub fn token(dir: &Directory, tokens: &mut Tokens, metadata_header: Option<&str>, raw_query: &str) -> Reply {
    if metadata_header != Some("true") {
        return refuse(400, "invalid_request", "Required metadata header not specified");
    }
    let query: HashMap<String, String> = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    if query.get("api-version").is_none_or(String::is_empty) {
        return refuse(400, "invalid_request", "Required query variable 'api-version' is missing");
    }
    if query.get("client_id").is_some_and(|c| !c.eq_ignore_ascii_case(&dir.client_id)) {
        return refuse(400, "invalid_request", "Identity not found");
    }
    let Some(resource) = query.get("resource").filter(|r| !r.is_empty()) else {
        return refuse(400, "invalid_request", "Required query variable 'resource' is missing");
    };
    if resource.trim_end_matches('/').to_lowercase() != dir.resource {
        return refuse(
            400,
            "invalid_resource",
            &format!("AADSTS500011: The resource principal named {resource} was not found in the tenant."),
        );
    }
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
    // IMDS sends its numbers as strings, like Entra's v1 endpoint.
    let body = json!({
        "access_token": access, "client_id": dir.client_id, "expires_in": EXPIRES_IN.to_string(),
        "expires_on": (now + EXPIRES_IN as i64).to_string(), "ext_expires_in": EXPIRES_IN.to_string(),
        "not_before": now.to_string(), "resource": resource, "token_type": "Bearer",
    });
    Reply::text(200, "application/json; charset=utf-8", serde_json::to_vec(&body).unwrap_or_default())
}
