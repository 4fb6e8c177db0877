//! The request log: every request with its timing and status, secrets masked.

use std::time::Duration;

use super::LoggedRequest;

/// What replaces a secret in the log.
pub const MASK: &str = "***";

/// Form fields whose values are secrets.
const SECRET_FIELDS: &[&str] = &["client_secret", "client_assertion", "refresh_token", "access_token", "assertion"];

/// Mask a request for the log: `authorization` keeps only its scheme, secret form fields are masked,
/// and any known secret (client secret, issued tokens) is masked wherever it appears.
pub fn masked(
    at: Duration,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    secrets: &[String],
    status: u16,
) -> LoggedRequest {
    let scrub = |text: &str| {
        let mut out = text.to_string();
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), MASK);
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            out = out.replace(&encoded, MASK);
        }
        out
    };
    let headers = headers
        .iter()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie") {
                match v.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {MASK}"),
                    None => MASK.to_string(),
                }
            } else {
                scrub(v)
            };
            (k.to_ascii_lowercase(), v)
        })
        .collect();
    let text = String::from_utf8_lossy(body);
    let body = scrub(&mask_form_fields(&text));
    LoggedRequest { at, method: method.to_string(), target: scrub(target), headers, body, status }
}

/// In a form-encoded body, `client_secret=…` and the like become `client_secret=***`.
fn mask_form_fields(text: &str) -> String {
    if text.trim_start().starts_with(['{', '-', '[']) || !text.contains('=') {
        return text.to_string();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_FIELDS.contains(&k) => format!("{k}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_headers_forms_and_anywhere_else() {
        let headers = vec![("Authorization".to_string(), "Bearer abc.def.ghi".to_string())];
        let body = b"grant_type=client_credentials&client_id=app&client_secret=s%3Dcret&scope=x";
        let entry = masked(
            Duration::ZERO,
            "POST",
            "/t/oauth2/v2.0/token?k=abc.def.ghi",
            &headers,
            body,
            &["abc.def.ghi".into()],
            200,
        );
        assert_eq!(entry.headers[0], ("authorization".to_string(), "Bearer ***".to_string()));
        assert_eq!(entry.body, "grant_type=client_credentials&client_id=app&client_secret=***&scope=x");
        assert_eq!(entry.target, "/t/oauth2/v2.0/token?k=***");
    }
}
