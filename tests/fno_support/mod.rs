//! A small fake of F&O and Entra on 127.0.0.1 for the connector tests, until the simulator is merged.
//! It logs every request it receives (with its arrival time) so tests can count and time them.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use signoff::config::secret::Secret;
use signoff::config::{Cloud, TokenEndpoint};
use signoff::fno::{AuthSettings, Credential, FnoSettings, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "00000000-5150-4f0a-9c1e-000000000001";
pub const SECRET: &str = "Zx8Q~usmf-sandbox-client-secret-4711";
pub const CSDL: &str = include_str!("../../fixtures/csdl/sample.xml");

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub method: String,
    /// Path and query, percent-decoded.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the fake does; tests change it between calls.
#[derive(Debug)]
pub struct FakeState {
    pub base: String,
    /// Every token issued, in order.
    pub issued: Vec<String>,
    /// Tokens issued before this index get 401 (they "expired").
    pub valid_from: usize,
    /// Every data call gets 401 (the app is not registered in F&O).
    pub always_401: bool,
    /// The app appears in SysAADClients.
    pub mapped: bool,
    /// (remaining, Retry-After secs, status): throttle data calls.
    pub throttle: (u32, u64, u16),
    pub journal_lines: usize,
    pub page_size: usize,
    pub invoice_etag: String,
    pub batch_fails: bool,
    /// A nextLink pointing outside the environment.
    pub foreign_next_link: bool,
    /// Delay before answering POSTs.
    pub slow_posts: Option<Duration>,
}

/// A running fake; it stops when the test's runtime ends.
pub struct FakeFno {
    pub base: String,
    pub state: Arc<Mutex<FakeState>>,
    pub log: Arc<Mutex<Vec<Logged>>>,
}

#[derive(Clone)]
struct App {
    state: Arc<Mutex<FakeState>>,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl FakeFno {
    pub async fn start() -> FakeFno {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(FakeState {
            base: base.clone(),
            issued: Vec::new(),
            valid_from: 0,
            always_401: false,
            mapped: true,
            throttle: (0, 0, 429),
            journal_lines: 2_500,
            page_size: 1_000,
            invoice_etag: "W/\"JzEsNjg3MTk1MTIyNjEn\"".into(),
            batch_fails: false,
            foreign_next_link: false,
            slow_posts: None,
        }));
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = App { state: state.clone(), log: log.clone() };
        let router = axum::Router::new().fallback(handle).with_state(app);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeFno { base, state, log }
    }

    /// Settings for this fake: Entra and F&O both at its base URL.
    pub fn settings(&self) -> FnoSettings {
        settings_for(&self.base, &self.base, SECRET)
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    pub fn token_requests(&self) -> usize {
        self.requests().iter().filter(|r| r.target.contains("/oauth2/")).count()
    }

    pub fn data_requests(&self) -> Vec<Logged> {
        self.requests().into_iter().filter(|r| !r.target.contains("/oauth2/")).collect()
    }

    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }
}

pub fn settings_for(env_url: &str, authority: &str, secret: &str) -> FnoSettings {
    FnoSettings {
        base_url: env_url.to_string(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { max_retries: 3, max_total_wait: Duration::from_secs(30) },
        auth: AuthSettings {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            cloud: Cloud::Global,
            authority_host: Some(authority.to_string()),
            endpoint: TokenEndpoint::V2,
            credential: Credential::ClientSecret(Secret::new(secret)),
            resource: env_url.to_string(),
        },
        dry_run: false,
        network: Default::default(),
    }
}

fn reply(status: u16, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("Content-Type", content_type)
        .header("OData-Version", "4.0")
        .body(Body::from(body))
        .unwrap()
}

fn json(status: u16, body: serde_json::Value) -> Response {
    reply(status, "application/json; odata.metadata=minimal; charset=utf-8", body.to_string())
}

fn fno_error(status: u16, infolog: &str) -> Response {
    json(
        status,
        serde_json::json!({"error":{"code":"","message":"An error has occurred.","innererror":{
            "message": infolog, "type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
            "stacktrace":"   at Microsoft.Dynamics.Platform.Integration.Services.OData.Update.UpdateProcessor"}}}),
    )
}

fn entra_error(status: u16, error: &str, code: u64, text: &str) -> Response {
    json(
        status,
        serde_json::json!({"error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 5b1f0c1e-0000-4a4a-9f00-7d3c2a1b0c00\r\nCorrelation ID: 1c2d3e4f-0000-4000-8000-000000000000\r\nTimestamp: 2026-03-02 10:00:00Z"),
            "error_codes":[code], "timestamp":"2026-03-02 10:00:00Z",
            "trace_id":"5b1f0c1e-0000-4a4a-9f00-7d3c2a1b0c00","correlation_id":"1c2d3e4f-0000-4000-8000-000000000000",
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}")}),
    )
}

async fn handle(State(app): State<App>, req: Request) -> Response {
    let method = req.method().clone();
    let raw_target = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let target = percent_decode(&raw_target);
    let headers: HeaderMap = req.headers().clone();
    let body =
        to_bytes(req.into_body(), 10 << 20).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    app.log.lock().unwrap().push(Logged {
        at: Instant::now(),
        method: method.to_string(),
        target: target.clone(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string())).collect(),
        body: body.clone(),
    });
    if target.contains("/oauth2/") {
        return token(&app, &target, &body);
    }
    let slow = app.state.lock().unwrap().slow_posts;
    if let (true, Some(delay)) = (method == Method::POST, slow) {
        tokio::time::sleep(delay).await;
    }
    let mut state = app.state.lock().unwrap();
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer.is_some_and(|t| state.issued.iter().skip(state.valid_from).any(|i| i == t));
    if !valid || state.always_401 {
        return reply(401, "text/plain", String::new());
    }
    if state.throttle.0 > 0 {
        state.throttle.0 -= 1;
        let mut r = json(
            state.throttle.2,
            serde_json::json!({"error":{"code":"","message":
            "This request could not be processed at this time due to system experiencing high resource utilization."}}),
        );
        r.headers_mut().insert("Retry-After", state.throttle.1.to_string().parse().unwrap());
        return r;
    }
    let if_match = headers.get("if-match").and_then(|v| v.to_str().ok());
    route(&mut state, &method, &target, &body, if_match)
}

fn token(app: &App, target: &str, body: &str) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let tenant = target.trim_start_matches('/').split('/').next().unwrap_or("");
    let v1 = target.ends_with("/oauth2/token");
    let mut state = app.state.lock().unwrap();
    if tenant != TENANT {
        return entra_error(400, "invalid_tenant", 90002, &format!("Tenant '{tenant}' not found."));
    }
    if field("client_id") != CLIENT_ID {
        return entra_error(400, "unauthorized_client", 700016, "Application was not found in the directory.");
    }
    if field("client_secret") != SECRET {
        return entra_error(401, "invalid_client", 7000215, "Invalid client secret provided.");
    }
    let resource = if v1 { field("resource") } else { field("scope").trim_end_matches("/.default").to_string() };
    if resource != state.base {
        return entra_error(400, "invalid_resource", 500011, "The resource principal was not found in the tenant.");
    }
    let token =
        format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-{}-{}.c2lnbmF0dXJl", state.issued.len(), std::process::id());
    state.issued.push(token.clone());
    if v1 {
        json(
            200,
            serde_json::json!({"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599",
            "expires_on":"1767003599","not_before":"1767000000","resource":resource,"access_token":token}),
        )
    } else {
        json(
            200,
            serde_json::json!({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":token}),
        )
    }
}

fn route(state: &mut FakeState, method: &Method, target: &str, body: &str, if_match: Option<&str>) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let invoice = "/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-000123')";
    match (method.as_str(), path) {
        ("GET", "/data/$metadata") => reply(200, "application/xml", CSDL.to_string()),
        ("GET", "/data/SystemUsers") => json(200, serde_json::json!({"value":[{"UserID":"Admin"}]})),
        ("GET", "/data/SysAADClients") => {
            let rows = if state.mapped {
                serde_json::json!([{"AADClientId":CLIENT_ID,"UserId":"signoff-svc","Name":"signoff"}])
            } else {
                serde_json::json!([])
            };
            json(200, serde_json::json!({ "value": rows }))
        }
        ("GET", "/data/VendorsV2") => {
            fno_error(403, "Access denied: the user has no privilege for VendorsV2 (VendVendorV2Entity).")
        }
        ("GET", "/data/LedgerJournalLines") => journal_page(state, query),
        ("GET", p) if p == invoice => json(
            200,
            serde_json::json!({
            "@odata.context": format!("{}/data/$metadata#VendorInvoiceHeaders/$entity", state.base),
            "@odata.etag": state.invoice_etag, "dataAreaId":"usmf","HeaderReference":"APINV-000123",
            "InvoiceNumber":"INV-88412","VendorAccount":"US-104","ImportedAmount":serde_json::from_str::<serde_json::Value>("98765432109876543.21").unwrap(),
            "DueDate":"2026-03-31T12:00:00Z","IsApproved":"No"}),
        ),
        ("PATCH", p) if p == invoice => {
            if body.contains("\"unknownField\"") {
                return fno_error(
                    400,
                    "The property 'unknownField' does not exist on type 'Microsoft.Dynamics.DataEntities.VendorInvoiceHeader'.",
                );
            }
            if if_match.is_some_and(|m| m != state.invoice_etag) {
                return fno_error(412, "The record has been changed by another user.");
            }
            state.invoice_etag = "W/\"JzIsNjg3MTk1MTIyNjEn\"".into();
            reply(204, "text/plain", String::new())
        }
        ("POST", p) if p == format!("{invoice}/Microsoft.Dynamics.DataEntities.approveInvoice") => {
            json(200, serde_json::json!({"@odata.context":"x","value":"Success"}))
        }
        ("POST", "/data/$batch") => batch(state, body),
        ("GET", "/api/services/SignoffServices/LedgerJournalService/post") => {
            describe(&["_journalBatchNumber", "_dataAreaId"])
        }
        ("GET", "/api/services/SignoffServices/LedgerJournalService/reject") => {
            describe(&["_journalBatchNumber", "_dataAreaId", "_comment"])
        }
        ("GET", "/api/services/SignoffServices/LedgerJournalService/reverse") => {
            describe(&["_voucher", "_dataAreaId", "_reversalDate", "_comment"])
        }
        ("POST", "/api/services/SignoffServices/LedgerJournalService/post") => {
            json(200, serde_json::json!({"Voucher":"GNJL000123","Posted":true}))
        }
        _ => reply(404, "text/plain", String::new()),
    }
}

fn describe(params: &[&str]) -> Response {
    let ps: Vec<serde_json::Value> = params.iter().map(|p| serde_json::json!({"Name":p,"Type":"String"})).collect();
    json(200, serde_json::json!({"Parameters": ps, "Return": {"Name":"return","Type":"String"}}))
}

fn journal_page(state: &FakeState, query: &str) -> Response {
    let skip: usize = query.split('&').find_map(|p| p.strip_prefix("$skip=")).and_then(|s| s.parse().ok()).unwrap_or(0);
    let end = (skip + state.page_size).min(state.journal_lines);
    let mut out = String::with_capacity(300 * (end - skip) + 200);
    out.push_str(&format!("{{\"@odata.context\":\"{}/data/$metadata#LedgerJournalLines\"", state.base));
    if query.contains("$count=true") {
        out.push_str(&format!(",\"@odata.count\":{}", state.journal_lines));
    }
    out.push_str(",\"value\":[");
    for i in skip..end {
        if i > skip {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"@odata.etag\":\"W/\\\"JzEsNjg3MTk1{i:05}Jw==\\\"\",\"dataAreaId\":\"usmf\",\"JournalBatchNumber\":\"00461\",\"LineNumber\":{},\"AccountType\":\"Ledger\",\"AccountDisplayValue\":\"605140-001-02\",\"OffsetAccountDisplayValue\":\"110180-001-02\",\"DebitAmount\":{}.{:02},\"CreditAmount\":0,\"CurrencyCode\":\"USD\",\"TransDate\":\"2026-02-27T12:00:00Z\",\"Voucher\":\"GNJL{:06}\",\"Text\":\"Office supplies Feb\"}}",
            i + 1, 100 + i, i % 100, i / 10
        ));
    }
    out.push(']');
    if end < state.journal_lines {
        let host = if state.foreign_next_link { "http://127.0.0.2:9".to_string() } else { state.base.clone() };
        out.push_str(&format!(",\"@odata.nextLink\":\"{host}/data/LedgerJournalLines?$skip={end}\""));
    }
    out.push('}');
    reply(200, "application/json; odata.metadata=minimal; charset=utf-8", out)
}

fn batch(state: &FakeState, body: &str) -> Response {
    let ops = body.matches("Content-ID:").count();
    let mut out =
        String::from("--batchresponse_a1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_c1\r\n\r\n");
    if state.batch_fails {
        out.push_str("--changesetresponse_c1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n{\"error\":{\"code\":\"\",\"message\":\"An error has occurred.\",\"innererror\":{\"message\":\"Write failed for table row of type 'LedgerJournalLineEntity'. Infolog: Error: Voucher GNJL000001 is out of balance.\",\"type\":\"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException\"}}}\r\n");
    } else {
        for i in 1..=ops {
            out.push_str(&format!("--changesetresponse_c1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {i}\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/\"JzIsNjg3MTk1MTIy{i:03}Jw==\"\r\n\r\n\r\n"));
        }
    }
    out.push_str("--changesetresponse_c1--\r\n--batchresponse_a1--\r\n");
    reply(200, "multipart/mixed; boundary=batchresponse_a1", out)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A server that reads each request completely, then drops the connection without answering.
/// Returns its base URL and a counter of requests received.
pub async fn start_dropper() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + len {
                            seen.lock().unwrap().push(text.lines().next().unwrap_or("").to_string());
                            let _ = socket.shutdown().await;
                            return; // processed, then dropped without an answer
                        }
                    }
                }
            });
        }
    });
    (base, seen)
}
