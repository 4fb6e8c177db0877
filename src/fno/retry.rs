//! When a request may be sent again, and how long to wait first.
//!
//! A 429 means F&O's service protection refused the request before running it, so any request may be
//! retried within the budget. A 503, a timeout or a dropped connection after sending is different: a read
//! may be repeated, but a write may have taken effect, so it is never repeated blindly (see
//! [`after_busy`] and [`after_transport_error`]); the caller reconciles by reading.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How far to go retrying throttled (429) and unavailable (503) requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The most time spent waiting across one request's retries.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, max_total_wait: Duration::from_secs(60) }
    }
}

/// Whether sending a request twice could do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads: repeat freely.
    Safe,
    /// Writes guarded by `If-Match` (PATCH, DELETE): repeat only when F&O refused them (429).
    Conditional,
    /// POST, actions, custom services, `$batch`: repeat only when F&O refused them (429).
    NonIdempotent,
}

/// What to do after a transport failure (no HTTP answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTransportError {
    /// Nothing reached the server: report it unreachable.
    Unreachable,
    /// A read failed: try again if the budget allows.
    RetryRead,
    /// A read timed out: report it (a second 30 s wait rarely helps).
    ReadFailed,
    /// A write may have reached F&O: the caller must reconcile by reading.
    OutcomeUnknown,
}

/// Decide after a transport failure.
pub fn after_transport_error(idempotency: Idempotency, connect_failed: bool, timed_out: bool) -> AfterTransportError {
    match (connect_failed, idempotency) {
        (true, _) => AfterTransportError::Unreachable,
        (false, Idempotency::Safe) if timed_out => AfterTransportError::ReadFailed,
        (false, Idempotency::Safe) => AfterTransportError::RetryRead,
        (false, _) => AfterTransportError::OutcomeUnknown,
    }
}

/// What to do with an HTTP answer that asks us to come back later (429 or 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterBusy {
    /// Wait and send again: F&O proved it did not process the request.
    Retry,
    /// A write may have been processed: the caller must re-read before anything is sent again.
    OutcomeUnknown,
}

/// Decide after a 429 or 503. F&O's 429 is service protection refusing the request before it runs, so
/// any request may be repeated. A 503 may come from a gateway after the AOS processed the request, so only
/// reads are repeated; a write is reconciled by reading.
pub fn after_busy(idempotency: Idempotency, status: u16) -> AfterBusy {
    match (status, idempotency) {
        (429, _) | (_, Idempotency::Safe) => AfterBusy::Retry,
        _ => AfterBusy::OutcomeUnknown,
    }
}

/// The wait F&O asked for: `Retry-After` in seconds; 1 s when absent or unreadable.
pub fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

/// What one request has used of its retry budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryBudget {
    pub retries: u32,
    pub waited: Duration,
}

impl RetryBudget {
    /// The wait before the next retry, or None when the budget (count or total wait) is spent.
    pub fn next_wait(&mut self, policy: &RetryPolicy, asked: Duration) -> Option<Duration> {
        if self.retries >= policy.max_retries || self.waited + asked > policy.max_total_wait {
            return None;
        }
        self.retries += 1;
        self.waited += asked;
        Some(asked)
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_seconds_are_honoured_and_missing_means_one_second() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Duration::from_secs(2));
    }

    #[test]
    fn the_budget_stops_at_the_retry_count() {
        let policy = RetryPolicy { max_retries: 2, max_total_wait: Duration::from_secs(60) };
        let mut b = RetryBudget::default();
        assert!(b.next_wait(&policy, Duration::from_secs(1)).is_some());
        assert!(b.next_wait(&policy, Duration::from_secs(1)).is_some());
        assert!(b.next_wait(&policy, Duration::from_secs(1)).is_none());
    }

    #[test]
    fn the_budget_stops_at_the_total_wait() {
        let policy = RetryPolicy { max_retries: 10, max_total_wait: Duration::from_secs(5) };
        let mut b = RetryBudget::default();
        assert!(b.next_wait(&policy, Duration::from_secs(3)).is_some());
        assert!(b.next_wait(&policy, Duration::from_secs(3)).is_none());
    }

    #[test]
    fn only_a_429_lets_a_write_be_sent_again() {
        assert_eq!(after_busy(Idempotency::NonIdempotent, 429), AfterBusy::Retry);
        assert_eq!(after_busy(Idempotency::Conditional, 429), AfterBusy::Retry);
        assert_eq!(after_busy(Idempotency::NonIdempotent, 503), AfterBusy::OutcomeUnknown);
        assert_eq!(after_busy(Idempotency::Conditional, 503), AfterBusy::OutcomeUnknown);
        assert_eq!(after_busy(Idempotency::Safe, 503), AfterBusy::Retry);
    }

    #[test]
    fn writes_are_never_repeated_after_a_dropped_connection() {
        for kind in [Idempotency::Conditional, Idempotency::NonIdempotent] {
            assert_eq!(after_transport_error(kind, false, false), AfterTransportError::OutcomeUnknown);
            assert_eq!(after_transport_error(kind, false, true), AfterTransportError::OutcomeUnknown);
            assert_eq!(after_transport_error(kind, true, false), AfterTransportError::Unreachable);
        }
        assert_eq!(after_transport_error(Idempotency::Safe, false, false), AfterTransportError::RetryRead);
    }
}
