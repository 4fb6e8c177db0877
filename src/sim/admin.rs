//! The client side of the simulator's admin endpoint (`POST /_sim/reset`): what `signoff sim reset` and
//! the demo's `:reset` use. It refuses every address but the simulator's plain-http loopback one, so it
//! can never be pointed at a real F&O environment.

use std::time::Duration;

use url::Url;

use super::reset::{PATH, Restored};

/// Why a reset was not done.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(
        "refusing to reset {url}: signoff resets only its own simulator, on this machine's loopback address \
         (http://127.0.0.1:PORT). A real F&O sandbox is reset by a database refresh (LCS or the Power Platform \
         admin center), never by signoff"
    )]
    NotSimulator { url: String },
    #[error("{url} is not a URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("no simulator answers at {url}: {reason}. Start one with `signoff sim` (or `signoff demo`)")]
    Unreachable { url: String, reason: String },
    #[error(
        "{url} answered {status} to {PATH}: it is not the signoff simulator, so nothing was reset (signoff never \
         resets a real environment)"
    )]
    NoEndpoint { url: String, status: u16 },
    #[error("the simulator refused the reset: {0}")]
    Refused(String),
}

/// The simulator's base URL, if `url` is one: plain http to a loopback address.
pub fn simulator_url(url: &str) -> Result<Url, ResetError> {
    let parsed =
        Url::parse(url.trim()).map_err(|e| ResetError::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
    if parsed.scheme() != "http" || !crate::environment_url::is_loopback(&parsed) {
        return Err(ResetError::NotSimulator { url: url.to_string() });
    }
    Ok(parsed)
}

/// Ask the simulator at `url` to restore its seed data (all, or one transaction).
pub async fn reset(url: &str, transaction: Option<&str>) -> Result<Restored, ResetError> {
    let base = simulator_url(url)?;
    let endpoint =
        base.join(PATH).map_err(|e| ResetError::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ResetError::Unreachable { url: url.to_string(), reason: e.to_string() })?;
    let body = match transaction {
        Some(t) => serde_json::json!({ "transaction": t }),
        None => serde_json::json!({}),
    };
    let unreachable = |e: reqwest::Error| ResetError::Unreachable { url: url.to_string(), reason: innermost(&e) };
    let response = client
        .post(endpoint)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(unreachable)?;
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match status {
        200 => serde_json::from_value(answer).map_err(|_| ResetError::NoEndpoint { url: url.to_string(), status }),
        _ => match answer["error"].as_str() {
            Some(message) => Err(ResetError::Refused(message.to_string())),
            None => Err(ResetError::NoEndpoint { url: url.to_string(), status }),
        },
    }
}

/// The innermost cause of a transport error (`Connection refused (os error 111)`).
fn innermost(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}
