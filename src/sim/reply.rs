//! Responses in F&O's shapes: OData JSON with its headers, and F&O's error body.

use serde_json::{Value, json};

/// The content type F&O answers OData JSON with.
pub const ODATA_JSON: &str = "application/json; odata.metadata=minimal; charset=utf-8";

/// A response before it becomes HTTP (also used for the parts of a `$batch`).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A stack trace in the shape F&O's OData layer prints.
const STACK: &str = "   at Microsoft.Dynamics.Platform.Integration.Services.OData.Update.UpdateProcessor.Execute()\r\n   at Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataDelegatingHandler.SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)";

impl Reply {
    /// An OData JSON body with F&O's response headers.
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), ODATA_JSON.into()), ("odata-version".into(), "4.0".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// No body (204 and friends), still with `OData-Version`.
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: vec![("odata-version".into(), "4.0".into())], body: Vec::new() }
    }

    /// A plain body with its own content type.
    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// F&O's error body around X++ Infolog text: `code` empty, a generic `message`, the detail in
    /// `innererror`.
    pub fn fno_error(status: u16, infolog: &str, kind: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": "", "message": "An error has occurred.",
                "innererror": {"message": infolog, "type": kind, "stacktrace": STACK}}}),
        )
    }

    /// An error raised by the OData layer itself (bad URL, bad query, unknown property): the message is
    /// the detail.
    pub fn odata_error(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": "", "message": message,
                "innererror": {"message": message, "type": "Microsoft.OData.ODataException", "stacktrace": ""}}}),
        )
    }

    /// 404 for a segment that names no entity set or no record.
    pub fn not_found(segment: &str) -> Reply {
        Reply::odata_error(404, &format!("Resource not found for the segment '{segment}'."))
    }

    /// The failed-write Infolog F&O wraps validation messages in.
    pub fn write_failed(aot_name: &str, detail: &str) -> Reply {
        Reply::fno_error(
            500,
            &format!("Write failed for table row of type '{aot_name}'. Infolog: Error: {detail}."),
            "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
        )
    }

    /// A failed bound action, in the words F&O uses.
    pub fn action_failed(action: &str, type_name: &str, detail: &str) -> Reply {
        Reply::fno_error(
            500,
            &format!("Exception occurred while executing action {action} on Entity {type_name}: {detail}"),
            "System.InvalidOperationException",
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}
