//! The HTTP side: a loopback listener whose connections can be dropped on purpose, routing, bearer
//! checks, faults, latency and the request log.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::entra::{self, Directory, Tokens};
use super::faults::{Effect, Faults};
use super::odata::{self, Ctx, Req};
use super::reply::Reply;
use super::state::{Data, text_field};
use super::{LoggedRequest, batch, log, services};

/// Everything the handlers share (no `Debug`: it holds tokens and the client secret).
pub struct Shared {
    pub data: Mutex<Data>,
    /// The data as seeded: what `POST /_sim/reset` restores.
    pub seed: Data,
    pub tokens: Mutex<Tokens>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub dir: Directory,
    pub base: String,
    pub page_size: usize,
    pub closed_periods: Vec<String>,
    pub dialect: super::Dialect,
    pub started: Instant,
    /// Requests a delaying fault holds right now (`Simulator::held`).
    pub held: Arc<AtomicUsize>,
}

/// One request counted in [`Shared::held`] while this lives: dropped when it is processed, or when hyper
/// drops its handler because the client went away.
struct Held(Arc<AtomicUsize>);

impl Held {
    fn new(count: &Arc<AtomicUsize>) -> Held {
        count.fetch_add(1, Ordering::SeqCst);
        Held(Arc::clone(count))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Lock a mutex even if a panicking thread poisoned it: the data stays usable for the test that follows.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A handle on one connection: setting `killed` makes its stream fail, so hyper drops it unanswered.
#[derive(Debug, Clone, Default)]
pub struct ConnHandle {
    killed: Arc<AtomicBool>,
}

impl ConnHandle {
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream that errors once its connection is killed.
pub struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "connection dropped by a simulator fault")
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The loopback listener handing out killable connections.
pub struct SimListener(pub TcpListener);

impl Listener for SimListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let handle = ConnHandle::default();
                    return (KillableStream { inner: stream, killed: handle.killed.clone() }, handle);
                }
                // Out of file descriptors and the like: wait and try again, as axum's own listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnHandle::default())
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Every request comes through here.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    request: Request,
) -> Response {
    let at = shared.started.elapsed();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 256 * 1024 * 1024).await.unwrap_or_default();
    let method = parts.method.as_str().to_string();
    let raw_path = parts.uri.path().to_string();
    let path = batch::percent_decode(&raw_path);
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let target =
        if raw_query.is_empty() { path.clone() } else { format!("{path}?{}", batch::percent_decode(&raw_query)) };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());

    let latency = lock(&shared.faults).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let effect = lock(&shared.faults).take(&target);
    let record = |status: u16| log_request(&shared, at, &method, &target, &headers, &body, status);
    let reply = match effect {
        Some(Effect::Reply(reply)) => reply,
        Some(Effect::DropBefore) => {
            record(0);
            conn.kill();
            return dropped();
        }
        Some(Effect::Delay(d)) => {
            let held = Held::new(&shared.held);
            tokio::time::sleep(d).await;
            drop(held);
            route(&shared, &method, &path, &raw_query, header, &body)
        }
        Some(Effect::Hang) => {
            record(0);
            let _held = Held::new(&shared.held);
            // Until hyper drops this handler (the client went away) or the simulator stops.
            return std::future::pending().await;
        }
        Some(Effect::DelayThenApply(d)) => {
            // Detached: hyper drops this handler when the client hangs up, but not the spawned task.
            let (tx, rx) = tokio::sync::oneshot::channel();
            let shared = Arc::clone(&shared);
            let held = Held::new(&shared.held);
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                drop(held);
                let header =
                    |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
                let reply = route(&shared, &method, &path, &raw_query, header, &body);
                log_request(&shared, at, &method, &target, &headers, &body, reply.status);
                let _ = tx.send(reply);
            });
            return match rx.await {
                Ok(reply) => to_response(reply),
                Err(_) => dropped(),
            };
        }
        Some(Effect::DropAfter) => {
            let _ = route(&shared, &method, &path, &raw_query, header, &body);
            record(0);
            conn.kill();
            return dropped();
        }
        None => route(&shared, &method, &path, &raw_query, header, &body),
    };
    record(reply.status);
    to_response(reply)
}

/// Append one request to the log, every secret masked.
fn log_request(
    shared: &Shared,
    at: std::time::Duration,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    status: u16,
) {
    let mut secrets = lock(&shared.tokens).secrets();
    secrets.push(shared.dir.client_secret.clone());
    let entry = log::masked(at, method, target, headers, body, &secrets, status);
    lock(&shared.log).push(entry);
}

/// A response that will never be written: the connection is already killed.
fn dropped() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

fn to_response(reply: Reply) -> Response {
    let mut r = Response::new(Body::from(reply.body));
    *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

fn route<'h>(
    shared: &Shared,
    method: &str,
    path: &str,
    raw_query: &str,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
) -> Reply {
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(4, '/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] if method == "POST" => {
            entra::token(&shared.dir, &mut lock(&shared.tokens), tenant, true, header("authorization"), body)
        }
        [tenant, "oauth2", "token"] if method == "POST" => {
            entra::token(&shared.dir, &mut lock(&shared.tokens), tenant, false, header("authorization"), body)
        }
        ["_sim", "reset"] if method == "POST" => {
            super::reset::handle(&mut lock(&shared.data), &shared.seed, header("host"), header("content-type"), body)
        }
        ["metadata", "identity", "oauth2", "token"] if method == "GET" => {
            super::imds::token(&shared.dir, &mut lock(&shared.tokens), header("metadata"), raw_query)
        }
        ["data", ..] | ["api", "services", ..] => {
            let ctx = match authorise(shared, header("authorization")) {
                Ok(ctx) => ctx,
                Err(reply) => return reply,
            };
            let mut data = lock(&shared.data);
            if let Some(rest) = path.strip_prefix("/api/services") {
                return services::handle(&mut data, &ctx, method, rest, body);
            }
            let data_path = path.strip_prefix("/data").unwrap_or("").trim_start_matches('/');
            if data_path == "$batch" && method == "POST" {
                return batch::handle(&mut data, &ctx, header("content-type"), body);
            }
            let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
            let req = Req {
                method,
                path: data_path,
                query: &query,
                if_match: header("if-match"),
                prefer_representation: header("prefer").is_some_and(|p| p.contains("return=representation")),
                body,
            };
            odata::handle(&mut data, &ctx, &req)
        }
        _ => Reply::text(404, "text/plain; charset=utf-8", format!("No endpoint at {path}.")),
    }
}

/// A valid bearer token, an app registered in SysAADClients, and an enabled user: the request's context.
fn authorise(shared: &Shared, authorization: Option<&str>) -> Result<Ctx, Reply> {
    let token = entra::check_bearer(&shared.dir, &lock(&shared.tokens), authorization)?;
    let data = lock(&shared.data);
    let user = mapped_user(&data, &token.client_id).ok_or_else(entra::unauthorized)?;
    Ok(Ctx {
        base: shared.base.clone(),
        company: text_field(&user, "Company").to_lowercase(),
        user: text_field(&user, "UserID").to_string(),
        page_size: shared.page_size,
        closed_periods: shared.closed_periods.clone(),
        dialect: shared.dialect,
    })
}

/// The enabled F&O user an Entra app acts as.
pub fn mapped_user(data: &Data, client_id: &str) -> Option<Map<String, Value>> {
    let client = data
        .table("SysAADClients")?
        .rows
        .values()
        .find(|r| text_field(&r.fields, "AADClientId").eq_ignore_ascii_case(client_id))?;
    let user_id = text_field(&client.fields, "UserId");
    let user = data
        .table("SystemUsers")?
        .rows
        .values()
        .find(|r| text_field(&r.fields, "UserID").eq_ignore_ascii_case(user_id))?;
    // `Enabled` is Edm.Boolean (FNO.md §7).
    (user.fields.get("Enabled") == Some(&Value::Bool(true))).then(|| user.fields.clone())
}
