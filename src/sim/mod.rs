//! A faithful F&O + Entra simulator bound to loopback, for the demo, rehearsals and tests.
//!
//! (Stub API: the connector issue implements it. The shape below is the contract other code uses.)

use std::time::Duration;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The tenant the token endpoints accept (GUID or domain).
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// A seed file to use instead of the embedded `fixtures/fno/` data.
    pub seed: Option<std::path::PathBuf>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            port: 0,
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "00000000-5150-4f0a-9c1e-000000000001".into(),
            client_secret: "sim-secret-do-not-use".into(),
            seed: None,
        }
    }
}

/// A fault to inject into matching requests.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After`, `times` times, for requests whose path contains `path_contains`.
    Throttle { path_contains: String, retry_after_secs: u64, times: u32 },
    /// 503 with `Retry-After`.
    Unavailable { path_contains: String, retry_after_secs: u64, times: u32 },
    /// Delay every matching response.
    Slow { path_contains: String, delay: Duration, times: u32 },
    /// Process the request, then drop the connection without answering.
    DropAfterProcessing { path_contains: String, times: u32 },
    /// Drop the connection without processing.
    DropBeforeProcessing { path_contains: String, times: u32 },
    /// Every token issued so far is expired (the next call gets 401).
    ExpireTokens,
}

/// One request as the simulator saw it, secrets masked.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Time since the simulator started.
    pub at: Duration,
    pub method: String,
    /// Path and query, percent-decoded.
    pub target: String,
    /// Header name (lowercase) and value, with `authorization` and secrets masked.
    pub headers: Vec<(String, String)>,
    /// The body, with `client_secret`, `refresh_token` and `client_assertion` masked.
    pub body: String,
    pub status: u16,
}
