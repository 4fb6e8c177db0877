//! The exchange log: every request and response, secrets removed, kept as evidence for approvers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::secret::Secret;

/// Shown instead of any secret.
pub const MASK: &str = "***";

/// One request and its response (or none: dry run, or no answer), with every secret masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    /// Header name and value; `Authorization` shows only its scheme.
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    /// None when nothing came back (dry run, timeout, dropped connection).
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    /// Wall time from sending to the end of the response body.
    #[serde(with = "millis")]
    pub elapsed: Duration,
    /// True when the request was only recorded, never sent.
    pub dry_run: bool,
    /// What went wrong on the wire, when something did (timeout, connection dropped).
    pub transport_error: Option<String>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A shared, append-only log of exchanges that also knows every secret it must mask.
#[derive(Clone, Default)]
pub struct ExchangeLog {
    inner: Arc<Mutex<LogInner>>,
}

#[derive(Default)]
struct LogInner {
    exchanges: Vec<Exchange>,
    secrets: Vec<Secret>,
}

impl std::fmt::Debug for ExchangeLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExchangeLog")
    }
}

impl ExchangeLog {
    /// Remember a secret so that it is masked wherever it would appear (bodies, URLs, error text).
    pub fn add_secret(&self, secret: &Secret) {
        if secret.expose().len() < 4 {
            return; // Masking a tiny string would mangle unrelated text; such a secret is refused elsewhere.
        }
        if let Ok(mut inner) = self.inner.lock()
            && !inner.secrets.contains(secret)
        {
            inner.secrets.push(secret.clone());
        }
    }

    /// Replace every known secret in `text` with `***`.
    pub fn redact(&self, text: &str) -> String {
        let Ok(inner) = self.inner.lock() else { return MASK.to_string() };
        let mut out = text.to_string();
        for secret in &inner.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), MASK);
            }
        }
        out
    }

    /// Append an exchange, redacting it once more on the way in.
    pub fn push(&self, mut exchange: Exchange) {
        exchange.url = self.redact(&exchange.url);
        exchange.request_body = exchange.request_body.map(|b| self.redact(&b));
        exchange.response_body = exchange.response_body.map(|b| self.redact(&b));
        for (_, v) in exchange.request_headers.iter_mut().chain(exchange.response_headers.iter_mut()) {
            *v = self.redact(v);
        }
        if let Ok(mut inner) = self.inner.lock() {
            inner.exchanges.push(exchange);
        }
    }

    /// Take every exchange recorded so far.
    pub fn take(&self) -> Vec<Exchange> {
        self.inner.lock().map(|mut inner| std::mem::take(&mut inner.exchanges)).unwrap_or_default()
    }

    /// A copy of every exchange recorded so far.
    pub fn snapshot(&self) -> Vec<Exchange> {
        self.inner.lock().map(|inner| inner.exchanges.clone()).unwrap_or_default()
    }
}

/// Headers as recorded: `Authorization` keeps only its scheme (`Bearer ***`).
pub fn masked_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let shown = if name.eq_ignore_ascii_case("authorization") {
                match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {MASK}"),
                    None => MASK.to_string(),
                }
            } else {
                value.to_string()
            };
            (name.to_string(), shown)
        })
        .collect()
}

/// Form fields whose values are secrets on the token endpoint.
const SECRET_FORM_FIELDS: [&str; 3] = ["client_secret", "refresh_token", "client_assertion"];
/// JSON fields whose values are secrets in token responses.
const SECRET_JSON_FIELDS: [&str; 4] = ["access_token", "refresh_token", "id_token", "client_secret"];

/// A form body with secret fields masked.
pub fn mask_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let shown = if SECRET_FORM_FIELDS.contains(k) { MASK.to_string() } else { (*v).to_string() };
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON body with secret fields masked at any depth; other text is kept as is.
pub fn mask_json_secrets(body: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else { return body.to_string() };
    fn walk(v: &mut serde_json::Value) -> bool {
        let mut changed = false;
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if SECRET_JSON_FIELDS.contains(&k.as_str()) {
                        *child = serde_json::Value::String(MASK.into());
                        changed = true;
                    } else {
                        changed |= walk(child);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for child in items {
                    changed |= walk(child);
                }
            }
            _ => {}
        }
        changed
    }
    if walk(&mut value) { serde_json::to_string(&value).unwrap_or_else(|_| MASK.into()) } else { body.to_string() }
}

// Added by the review branch (decision pipeline): see `FnoClient::fork`.
impl ExchangeLog {
    /// An empty log that masks the same secrets as this one.
    pub fn fork(&self) -> ExchangeLog {
        let secrets = self.inner.lock().map(|inner| inner.secrets.clone()).unwrap_or_default();
        ExchangeLog { inner: Arc::new(Mutex::new(LogInner { exchanges: Vec::new(), secrets })) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_keeps_only_its_scheme() {
        let h = masked_headers([("Authorization", "Bearer eyJ0eXAi.secret"), ("OData-Version", "4.0")]);
        assert_eq!(h[0].1, "Bearer ***");
        assert_eq!(h[1].1, "4.0");
    }

    #[test]
    fn token_response_fields_are_masked() {
        let masked = mask_json_secrets(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJabc"}"#);
        assert!(!masked.contains("eyJabc"));
        assert!(masked.contains("3599"));
    }

    #[test]
    fn known_secrets_are_masked_everywhere_in_an_exchange() {
        let log = ExchangeLog::default();
        log.add_secret(&Secret::new("s3cr3t-value"));
        assert_eq!(log.redact("x=s3cr3t-value&y=1"), "x=***&y=1");
    }
}
