//! What can go wrong talking to F&O and Entra, each with the likely cause and what to do.
//!
//! No variant ever holds a secret or a bearer token: bodies pass through [`crate::fno::exchange`]'s redaction
//! before they are kept.

use std::time::Duration;

use serde_json::Value;

/// An error from the F&O connector.
#[derive(Debug, thiserror::Error)]
pub enum FnoError {
    #[error(
        "refused to send to {url}: plain http is allowed only for loopback (127.0.0.0/8, ::1, localhost); \
         use https:// for F&O and Entra"
    )]
    InsecureUrl { url: String },
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(transparent)]
    Auth(#[from] super::auth::AuthError),
    #[error(
        "401 Unauthorized from F&O for {url} even with a fresh token: the Entra app is probably not registered in F&O. \
         In F&O open System administration > Setup > Microsoft Entra ID applications, add the client id and map it \
         to an enabled F&O user; also check that the environment URL in the config is exactly the F&O base URL \
         (the token audience must equal it)"
    )]
    Unauthorized { url: String },
    #[error(
        "403 Forbidden from F&O on {entity}: the F&O user mapped to the Entra app lacks the privilege for it. \
         Grant a security role with access to {entity} to that user (System administration > Users){}",
        infolog_suffix(.infolog)
    )]
    Forbidden { entity: String, infolog: Option<String> },
    #[error(
        "404 Not Found from F&O: {what} does not exist (check the entity set name, which is case-sensitive, and the key values)"
    )]
    NotFound { what: String },
    #[error(
        "412 Precondition Failed on {what}: the record was changed by someone else since it was read \
         (its ETag no longer matches); re-read it and review again"
    )]
    PreconditionFailed { what: String },
    #[error(
        "F&O throttled us: {status} on {url} after {attempts} attempt(s) and {waited:?} of waiting. \
         The service protection limits are reached; try again later or lower the concurrency{}",
        infolog_suffix(.message)
    )]
    Throttled {
        url: String,
        status: u16,
        attempts: u32,
        waited: Duration,
        /// The last `Retry-After` F&O asked for.
        retry_after: Duration,
        message: Option<String>,
    },
    #[error("F&O answered {status} on {method} {url}: {}", .infolog.as_deref().or(.message.as_deref()).unwrap_or("no error message"))]
    Service { method: String, url: String, status: u16, message: Option<String>, infolog: Option<String> },
    #[error(
        "the $batch changeset failed: {status} on operation {}; nothing in it was committed: {}",
        .content_id.as_deref().unwrap_or("?"),
        .infolog.as_deref().or(.message.as_deref()).unwrap_or("no error message")
    )]
    ChangesetFailed { status: u16, content_id: Option<String>, message: Option<String>, infolog: Option<String> },
    #[error("cannot reach {url}: {reason}. Check the environment URL, the network and any proxy; nothing was sent")]
    Unreachable { url: String, reason: String },
    #[error("{method} {url} timed out or the connection dropped ({reason}); nothing was changed by a read, try again")]
    ReadFailed { method: String, url: String, reason: String },
    #[error(
        "the outcome of {method} {url} is unknown: the request may have reached F&O but no answer came back ({reason}). \
         It was not retried; read the record in F&O to find out whether it took effect before doing anything else"
    )]
    OutcomeUnknown { method: String, url: String, reason: String },
    #[error(
        "not sent: {0}. Nothing was written; correct the value in the run (the synced $metadata declares the type)"
    )]
    Encode(#[from] super::encode::EncodeError),
    #[error("F&O sent a response signoff cannot read ({context}): {reason}")]
    InvalidResponse { context: String, reason: String },
}

fn infolog_suffix(text: &Option<String>) -> String {
    text.as_ref().map(|t| format!(". F&O said: {t}")).unwrap_or_default()
}

impl FnoError {
    /// The Infolog text F&O attached, when there is one (shown to approvers as evidence).
    pub fn infolog(&self) -> Option<&str> {
        match self {
            FnoError::Service { infolog, .. } | FnoError::ChangesetFailed { infolog, .. } => infolog.as_deref(),
            FnoError::Forbidden { infolog, .. } => infolog.as_deref(),
            _ => None,
        }
    }

    /// True when F&O may have applied the request: the caller must reconcile by reading.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, FnoError::OutcomeUnknown { .. })
    }
}

/// F&O's error body, in either shape it answers with:
/// - OData (`/data/…`): `{"error":{"code":"","message":"…","innererror":{"message":"<Infolog>","type":"…"}}}`;
/// - a JSON custom service (`/api/services/…`, the AIF fault, FNO.md §6):
///   `{"Message":"…","ExceptionType":"XppServicesException","ExceptionMessage":"…","StackTrace":"…"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceErrorBody {
    pub message: Option<String>,
    /// The Infolog text users need: `innererror.message`, or a service fault's `ExceptionMessage` /
    /// `InfologMessages` when they add to its `Message`.
    pub infolog: Option<String>,
    /// `innererror.type`, or a service fault's `ExceptionType`.
    pub error_type: Option<String>,
}

/// Parse an F&O error body; anything unreadable gives an empty body (the status still speaks).
pub fn parse_service_error(body: &str) -> ServiceErrorBody {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        let trimmed = body.trim();
        let message = (!trimmed.is_empty()).then(|| trimmed.chars().take(500).collect());
        return ServiceErrorBody { message, ..Default::default() };
    };
    let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let error = &value["error"];
    if error.is_object() {
        return ServiceErrorBody {
            message: text(&error["message"]),
            infolog: text(&error["innererror"]["message"]),
            error_type: text(&error["innererror"]["type"]),
        };
    }
    // The custom-service fault. Its field names are inferred from public client code (FNO.md §6,
    // unverified), so every one is optional and looked up case-insensitively.
    let field = |name: &str| {
        value.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))).and_then(|(_, v)| text(v))
    };
    let message = field("Message");
    let infolog_lines: Option<String> = value
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("InfologMessages")))
        .and_then(|(_, v)| v.as_array())
        .map(|items| items.iter().filter_map(|i| text(i).or_else(|| text(&i["Message"]))).collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty());
    let infolog =
        infolog_lines.or_else(|| field("ExceptionMessage")).filter(|extra| message.as_deref() != Some(extra.as_str()));
    ServiceErrorBody { message, infolog, error_type: field("ExceptionType") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infolog_text_is_taken_from_innererror() {
        let body = r#"{"error":{"code":"","message":"An error has occurred.","innererror":{
            "message":"Write failed for table row of type 'CustCustomerGroupEntity'. Infolog: Info: The record already exists..",
            "type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":"   at X"}}}"#;
        let parsed = parse_service_error(body);
        assert_eq!(parsed.message.as_deref(), Some("An error has occurred."));
        assert!(parsed.infolog.as_deref().is_some_and(|m| m.contains("The record already exists")));
        assert!(parsed.error_type.as_deref().is_some_and(|t| t.ends_with("AxODataWriteException")));
    }

    #[test]
    fn a_custom_service_fault_gives_its_message_and_type() {
        let body = r#"{"Message":"An exception occured when invoking the operation - Period 2026-11 is closed for usmf.",
            "ExceptionType":"XppServicesException","ActivityId":"5d0c…"}"#;
        let parsed = parse_service_error(body);
        assert_eq!(
            parsed.message.as_deref(),
            Some("An exception occured when invoking the operation - Period 2026-11 is closed for usmf.")
        );
        assert_eq!(parsed.error_type.as_deref(), Some("XppServicesException"));
        assert_eq!(parsed.infolog, None);
        let err = FnoError::Service {
            method: "POST".into(),
            url: "https://usmf.sandbox.operations.dynamics.com/api/services/SignoffServices/SignoffJournalService/post"
                .into(),
            status: 500,
            message: parsed.message,
            infolog: parsed.infolog,
        };
        assert!(err.to_string().contains("Period 2026-11 is closed for usmf."), "{err}");
        assert!(!err.to_string().contains("no error message"));
    }

    #[test]
    fn a_custom_service_fault_keeps_a_distinct_exception_message_as_infolog() {
        let body = r#"{"Message":"An error has occurred.","ExceptionType":"XppServicesException",
            "ExceptionMessage":"Journal 00461 is out of balance.","StackTrace":"at X"}"#;
        let parsed = parse_service_error(body);
        assert_eq!(parsed.message.as_deref(), Some("An error has occurred."));
        assert_eq!(parsed.infolog.as_deref(), Some("Journal 00461 is out of balance."));
    }

    #[test]
    fn a_non_json_error_body_becomes_the_message() {
        let parsed = parse_service_error("Service Unavailable");
        assert_eq!(parsed.message.as_deref(), Some("Service Unavailable"));
        assert_eq!(parsed.infolog, None);
    }

    #[test]
    fn service_error_shows_infolog_before_generic_message() {
        let err = FnoError::Service {
            method: "POST".into(),
            url: "https://usmf.sandbox.operations.dynamics.com/data/LedgerJournalHeaders".into(),
            status: 500,
            message: Some("An error has occurred.".into()),
            infolog: Some("Journal 00461 is out of balance.".into()),
        };
        assert!(err.to_string().contains("Journal 00461 is out of balance."));
    }
}
