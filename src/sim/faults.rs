//! Injected faults: which request a fault applies to, and how many times.

use std::time::Duration;

use super::Fault;
use super::reply::Reply;
use super::schema::{NAMESPACE, entity};
use super::services;

/// The 429 text F&O sends under resource-based throttling (FNO.md §3).
pub const THROTTLE_MESSAGE: &str =
    "This request could not be processed at this time due to system experiencing high resource utilization.";

/// Faults waiting for matching requests, and the latency added to every request.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<(Fault, u32)>,
    pub latency: Duration,
    /// The app the token endpoints know (Entra names it in some errors).
    pub client_id: String,
}

/// What a fault makes the simulator do with one request.
#[derive(Debug)]
pub enum Effect {
    /// Answer with this instead of processing.
    Reply(Reply),
    Delay(Duration),
    /// Process after the delay in a task of its own, so a client hanging up cannot cancel it.
    DelayThenApply(Duration),
    DropBefore,
    DropAfter,
    /// Never process nor answer.
    Hang,
}

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        let times = match &fault {
            Fault::Throttle { times, .. }
            | Fault::Unavailable { times, .. }
            | Fault::Slow { times, .. }
            | Fault::SlowThenApply { times, .. }
            | Fault::Refuse { times, .. }
            | Fault::DropAfterProcessing { times, .. }
            | Fault::DropBeforeProcessing { times, .. }
            | Fault::Hang { times, .. }
            | Fault::Forbid { times, .. }
            | Fault::EntraError { times, .. } => *times,
            Fault::ExpireTokens => return,
        };
        if times > 0 {
            self.pending.push((fault, times));
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The effect of the first pending fault whose path filter matches `target`, used up by one.
    pub fn take(&mut self, target: &str) -> Option<Effect> {
        let i = self.pending.iter().position(|(f, _)| target.contains(filter(f)))?;
        let (fault, left) = &mut self.pending[i];
        let effect = match fault {
            Fault::Throttle { retry_after_secs, .. } => Effect::Reply(throttled(*retry_after_secs)),
            Fault::Unavailable { retry_after_secs, .. } => Effect::Reply(
                Reply::text(503, "text/html; charset=utf-8", "<h2>Service Unavailable</h2>")
                    .with_header("retry-after", retry_after_secs.to_string()),
            ),
            Fault::Slow { delay, .. } => Effect::Delay(*delay),
            Fault::SlowThenApply { delay, .. } => Effect::DelayThenApply(*delay),
            Fault::Refuse { message, .. } => Effect::Reply(refused(target, message)),
            Fault::DropAfterProcessing { .. } => Effect::DropAfter,
            Fault::DropBeforeProcessing { .. } => Effect::DropBefore,
            Fault::Hang { .. } => Effect::Hang,
            Fault::Forbid { .. } => Effect::Reply(forbidden(target)),
            Fault::EntraError { code, .. } => Effect::Reply(entra_error(*code, &self.client_id)),
            Fault::ExpireTokens => return None,
        };
        *left -= 1;
        if *left == 0 {
            self.pending.remove(i);
        }
        Some(effect)
    }
}

fn filter(fault: &Fault) -> &str {
    match fault {
        Fault::Throttle { path_contains, .. }
        | Fault::Unavailable { path_contains, .. }
        | Fault::Slow { path_contains, .. }
        | Fault::SlowThenApply { path_contains, .. }
        | Fault::Refuse { path_contains, .. }
        | Fault::DropAfterProcessing { path_contains, .. }
        | Fault::DropBeforeProcessing { path_contains, .. }
        | Fault::Hang { path_contains, .. }
        | Fault::Forbid { path_contains, .. } => path_contains,
        Fault::EntraError { .. } => "/oauth2/",
        Fault::ExpireTokens => "\u{0}",
    }
}

/// A business refusal of `target`, as the endpoint would word it: the AIF fault for a custom service,
/// the failed-action error for a bound action, an Infolog error for any other OData request.
fn refused(target: &str, message: &str) -> Reply {
    let path = target.split('?').next().unwrap_or(target);
    if path.starts_with("/api/services/") {
        return services::failure(message);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if let Some(action) = last.strip_prefix(&format!("{NAMESPACE}.")) {
        let set = path.trim_start_matches("/data/").split(['(', '/']).next().unwrap_or("");
        let type_name = entity(set).map_or(set, |e| e.type_name);
        return Reply::action_failed(action, type_name, message);
    }
    Reply::fno_error(500, message, "System.InvalidOperationException")
}

/// F&O's 403 for an entity the caller's roles do not reach. The body is F&O's OData error shape; its
/// words are not documented (FNO.md §3 says only "401 or 403"), so they are kept plain.
fn forbidden(target: &str) -> Reply {
    let path = target.split('?').next().unwrap_or(target);
    let set = path.trim_start_matches("/data/").split(['(', '/']).next().unwrap_or("");
    let message = format!("Access denied: the current user has no permission to access '{set}'.");
    Reply::fno_error(403, &message, "System.UnauthorizedAccessException")
}

/// Entra's answer for AADSTS `code`, with the status and `error` it is seen with (FNO.md §1).
fn entra_error(code: u32, client_id: &str) -> Reply {
    let (status, error, text) = match code {
        7_000_222 => (
            401,
            "invalid_client",
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create \
                 new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for \
                 added security: https://aka.ms/certCreds."
            ),
        ),
        7_000_215 => (401, "invalid_client", "Invalid client secret provided.".to_string()),
        700_027 => (401, "invalid_client", "Client assertion failed signature validation.".to_string()),
        700_016 => (400, "unauthorized_client", format!("Application with identifier '{client_id}' was not found.")),
        90_002 => (400, "invalid_tenant", "Tenant not found.".to_string()),
        500_011 => (400, "invalid_resource", "The resource principal was not found in the tenant.".to_string()),
        _ => (400, "invalid_request", "The request was refused (a simulated Entra ID error).".to_string()),
    };
    super::entra::error(status, error, code, &text)
}

/// F&O's 429: `Retry-After` in seconds and the service-protection message.
pub fn throttled(retry_after_secs: u64) -> Reply {
    Reply::json(
        429,
        &serde_json::json!({"error": {"code": "", "message": THROTTLE_MESSAGE,
            "innererror": {"message": THROTTLE_MESSAGE, "type": "", "stacktrace": ""}}}),
    )
    .with_header("retry-after", retry_after_secs.to_string())
}
