//! Injected faults: which request a fault applies to, and how many times.

use std::time::Duration;

use super::Fault;
use super::reply::Reply;

/// The 429 text F&O sends under resource-based throttling (FNO.md §3).
pub const THROTTLE_MESSAGE: &str =
    "This request could not be processed at this time due to system experiencing high resource utilization.";

/// Faults waiting for matching requests, and the latency added to every request.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<(Fault, u32)>,
    pub latency: Duration,
}

/// What a fault makes the simulator do with one request.
#[derive(Debug)]
pub enum Effect {
    /// Answer with this instead of processing.
    Reply(Reply),
    Delay(Duration),
    DropBefore,
    DropAfter,
}

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        let times = match &fault {
            Fault::Throttle { times, .. }
            | Fault::Unavailable { times, .. }
            | Fault::Slow { times, .. }
            | Fault::DropAfterProcessing { times, .. }
            | Fault::DropBeforeProcessing { times, .. } => *times,
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
            Fault::DropAfterProcessing { .. } => Effect::DropAfter,
            Fault::DropBeforeProcessing { .. } => Effect::DropBefore,
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
        | Fault::DropAfterProcessing { path_contains, .. }
        | Fault::DropBeforeProcessing { path_contains, .. } => path_contains,
        Fault::ExpireTokens => "\u{0}",
    }
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
