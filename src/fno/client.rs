//! `FnoClient`: sends one OData request with the right headers, token, retries and evidence.
//!
//! The typed calls (entities, queries, operations, `$batch`) live in `odata.rs` and `operations.rs`; they
//! all go through [`FnoClient::execute`], so headers, retries and the exchange log are in one place.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

use super::auth::TokenProvider;
use super::encode::Encoder;
use super::error::{FnoError, parse_service_error};
use super::exchange::{Exchange, ExchangeLog, masked_headers};
use super::metadata::Catalog;
use super::proxy::ProxySettings;
use super::retry::{
    AfterBusy, AfterTransportError, Idempotency, RetryBudget, RetryPolicy, after_busy, after_transport_error,
    retry_after,
};
use super::settings::FnoSettings;
use super::tls::{self, TlsFault, TlsObserver, TrustSource};
use super::url_guard;
use crate::config::secret::Secret;
use crate::environment_url::EnvironmentUrl;
use crate::model::ETag;

/// The media type F&O speaks (FNO.md §2).
pub const JSON_MINIMAL: &str = "application/json;odata.metadata=minimal";

/// A write or operation that was sent, or only recorded because the client is in dry-run mode.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent<T> {
    Done(T),
    /// Recorded in the exchange log, not sent.
    DryRun,
}

/// An async client for one F&O environment.
pub struct FnoClient {
    http: reqwest::Client,
    base: EnvironmentUrl,
    auth: Arc<TokenProvider>,
    retry: RetryPolicy,
    log: ExchangeLog,
    dry_run: bool,
    /// The synced `$metadata`: when present, every write body is encoded by its property types.
    catalog: Option<Arc<Catalog>>,
    /// How connections are made (proxy, trust), and what each TLS handshake showed.
    connection: Arc<Connection>,
}

/// The proxy and trust a client uses, and the handshakes it made: what `connector validate` reports.
#[derive(Debug)]
pub struct Connection {
    pub proxy: ProxySettings,
    pub trust: TrustSource,
    pub tls: TlsObserver,
}

impl std::fmt::Debug for FnoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnoClient").field("base", &self.base.url().as_str()).field("dry_run", &self.dry_run).finish()
    }
}

/// One request as the typed calls describe it.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub body: Option<(String, String)>,
    pub if_match: Option<ETag>,
    pub accept: &'static str,
    pub idempotency: Idempotency,
    /// What the request is about, for error messages (`VendorInvoiceHeaders(dataAreaId='usmf',…)`).
    pub what: String,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl FnoClient {
    /// Check every URL (plain http only to loopback) and build the client; nothing is sent yet.
    pub fn new(settings: &FnoSettings) -> Result<Self, FnoError> {
        let base = url_guard::environment_url(&settings.base_url)?;
        let network = &settings.network;
        let not_usable = |reason: String| FnoError::InvalidUrl { url: base.url().to_string(), reason };
        let (tls_config, trust, observer) =
            tls::client_config(&network.trust).map_err(|e| not_usable(e.to_string()))?;
        let proxy = ProxySettings::new(network.proxy.as_deref(), network.proxy_credentials.clone())
            .map_err(|e| not_usable(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .no_proxy();
        if let Some(p) = proxy.to_reqwest() {
            builder = builder.proxy(p);
        }
        let http = builder.build().map_err(|e| not_usable(transport_reason(&e)))?;
        let connection = Arc::new(Connection { proxy, trust, tls: observer });
        let log = ExchangeLog::default();
        if let Some(creds) = &network.proxy_credentials {
            log.add_secret(creds);
        }
        let auth =
            Arc::new(TokenProvider::new(settings.auth.clone(), http.clone(), log.clone())?.with_retry(settings.retry));
        Ok(FnoClient {
            http,
            base,
            auth,
            retry: settings.retry,
            log,
            dry_run: settings.dry_run,
            catalog: None,
            connection,
        })
    }

    /// The proxy, trust roots and TLS handshakes of this client's connections.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The token endpoint this client's tokens come from.
    pub fn token_url(&self) -> &Url {
        self.auth.token_url()
    }

    /// Switch dry-run mode: writes and operations are recorded, not sent. Reads still go out.
    pub fn set_dry_run(&mut self, on: bool) {
        self.dry_run = on;
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Encode every write (PATCH, POST, `$batch` parts) by the synced catalog's property types and
    /// facets (FNO.md §2); `None` sends field values as they are. Kept by [`FnoClient::fork`].
    pub fn with_catalog(mut self, catalog: Option<Arc<Catalog>>) -> Self {
        self.catalog = catalog;
        self
    }

    /// The catalog writes are encoded with, if any.
    pub fn catalog(&self) -> Option<&Arc<Catalog>> {
        self.catalog.as_ref()
    }

    /// The encoder for write bodies: by the catalog when there is one.
    pub fn encoder(&self) -> Encoder<'_> {
        Encoder::new(self.catalog.as_deref())
    }

    /// The environment's base URL.
    pub fn base_url(&self) -> &Url {
        self.base.url()
    }

    /// Take every exchange recorded so far (token requests included), secrets masked.
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.log.take()
    }

    /// A copy of every exchange recorded so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.snapshot()
    }

    /// Fetch (or reuse) a token now: `connector validate` checks auth on its own.
    pub async fn token_check(&self) -> Result<(), FnoError> {
        self.auth.token().await.map(|_| ()).map_err(FnoError::from)
    }

    /// How many tokens this client has fetched.
    pub async fn token_fetches(&self) -> u32 {
        self.auth.fetch_count().await
    }

    /// `<base>/<path_and_query>`, checked: the path is already percent-encoded.
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Url, FnoError> {
        let text = format!("{}/{}", self.base.as_str(), path_and_query.trim_start_matches('/'));
        let url = Url::parse(&text).map_err(|e| FnoError::InvalidUrl { url: text.clone(), reason: e.to_string() })?;
        self.same_environment(&url)?;
        Ok(url)
    }

    /// Refuse any URL outside the environment (a nextLink elsewhere must never get our token).
    pub(crate) fn same_environment(&self, url: &Url) -> Result<(), FnoError> {
        url_guard::check(url)?;
        if !url_guard::same_origin(self.base.url(), url) {
            return Err(FnoError::InvalidUrl {
                url: url.to_string(),
                reason: format!(
                    "it is outside the configured environment {}; refusing to send the token there",
                    self.base.url()
                ),
            });
        }
        Ok(())
    }

    /// Send `req` with retries as its idempotency allows. `None` means dry run: recorded, not sent.
    pub(crate) async fn execute(&self, req: Req) -> Result<Option<Reply>, FnoError> {
        if self.dry_run && req.idempotency != Idempotency::Safe {
            self.record_dry_run(&req);
            return Ok(None);
        }
        let mut budget = RetryBudget::default();
        let mut refreshed = false;
        loop {
            let token = self.auth.token().await?;
            let reply = match self.send_once(&req, &token).await {
                Ok(reply) => reply,
                Err(e) => {
                    let reason = transport_reason(&e);
                    match after_transport_error(req.idempotency, e.is_connect(), e.is_timeout()) {
                        AfterTransportError::RetryRead if budget.next_wait(&self.retry, Duration::ZERO).is_some() => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                        AfterTransportError::Unreachable => {
                            return Err(FnoError::Unreachable { url: req.url.to_string(), reason });
                        }
                        AfterTransportError::OutcomeUnknown => {
                            return Err(FnoError::OutcomeUnknown {
                                method: req.method.to_string(),
                                url: req.url.to_string(),
                                reason,
                            });
                        }
                        AfterTransportError::RetryRead | AfterTransportError::ReadFailed => {
                            return Err(FnoError::ReadFailed {
                                method: req.method.to_string(),
                                url: req.url.to_string(),
                                reason,
                            });
                        }
                    }
                }
            };
            match reply.status {
                200..=299 => return Ok(Some(reply)),
                401 if !refreshed => {
                    tracing::info!(url = %req.url, "401 from F&O; fetching a fresh token and retrying once");
                    self.auth.invalidate(&token).await;
                    refreshed = true;
                }
                503 if after_busy(req.idempotency, 503) == AfterBusy::OutcomeUnknown => {
                    return Err(FnoError::OutcomeUnknown {
                        method: req.method.to_string(),
                        url: req.url.to_string(),
                        reason: "F&O answered 503 Service Unavailable, which does not prove the write was not \
                                 processed"
                            .into(),
                    });
                }
                429 | 503 => {
                    let asked = retry_after(&reply.headers);
                    match budget.next_wait(&self.retry, asked) {
                        Some(wait) => {
                            tracing::info!(status = reply.status, wait_secs = wait.as_secs(), url = %req.url, "F&O asked us to wait");
                            tokio::time::sleep(wait).await;
                        }
                        None => {
                            let body = parse_service_error(&self.log.redact(&reply.body));
                            return Err(FnoError::Throttled {
                                url: req.url.to_string(),
                                status: reply.status,
                                attempts: budget.retries + 1,
                                waited: budget.waited,
                                retry_after: asked,
                                message: body.infolog.or(body.message),
                            });
                        }
                    }
                }
                _ => return Err(self.status_error(&req, reply)),
            }
        }
    }

    fn status_error(&self, req: &Req, reply: Reply) -> FnoError {
        let body = parse_service_error(&self.log.redact(&reply.body));
        match reply.status {
            401 => FnoError::Unauthorized { url: req.url.to_string() },
            403 => FnoError::Forbidden { entity: req.what.clone(), infolog: body.infolog.or(body.message) },
            404 => FnoError::NotFound { what: req.what.clone() },
            412 => FnoError::PreconditionFailed { what: req.what.clone() },
            status => FnoError::Service {
                method: req.method.to_string(),
                url: req.url.to_string(),
                status,
                message: body.message,
                infolog: body.infolog,
            },
        }
    }

    fn headers_for(&self, req: &Req) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("OData-Version", "4.0".to_string()),
            ("OData-MaxVersion", "4.0".to_string()),
            ("Accept", req.accept.to_string()),
        ];
        if let Some((content_type, _)) = &req.body {
            headers.push(("Content-Type", content_type.clone()));
        }
        if let Some(etag) = &req.if_match {
            headers.push(("If-Match", etag.as_str().to_string()));
        }
        headers
    }

    async fn send_once(&self, req: &Req, token: &Secret) -> Result<Reply, reqwest::Error> {
        let headers = self.headers_for(req);
        let mut builder = self.http.request(req.method.clone(), req.url.clone()).bearer_auth(token.expose());
        for (name, value) in &headers {
            builder = builder.header(*name, value);
        }
        if let Some((_, body)) = &req.body {
            builder = builder.body(body.clone());
        }
        let mut exchange = self.exchange_for(req, &headers, false);
        let started = Instant::now();
        let result = async {
            let response = builder.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.text().await?;
            Ok::<Reply, reqwest::Error>(Reply { status, headers, body })
        }
        .await;
        exchange.elapsed = started.elapsed();
        match &result {
            Ok(reply) => {
                exchange.status = Some(reply.status);
                exchange.response_headers = header_pairs(&reply.headers);
                exchange.response_body = Some(reply.body.clone());
                tracing::debug!(method = %req.method, url = %req.url, status = reply.status,
                    elapsed_ms = exchange.elapsed.as_millis() as u64, "F&O answered");
            }
            Err(e) => {
                exchange.transport_error = Some(transport_reason(e));
                tracing::warn!(method = %req.method, url = %req.url, error = %transport_reason(e), "no answer from F&O");
            }
        }
        self.log.push(exchange);
        result
    }

    fn exchange_for(&self, req: &Req, headers: &[(&'static str, String)], dry_run: bool) -> Exchange {
        let mut all: Vec<(&str, &str)> = vec![("Authorization", "Bearer ***")];
        all.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
        Exchange {
            method: req.method.to_string(),
            url: req.url.to_string(),
            request_headers: masked_headers(all),
            request_body: req.body.as_ref().map(|(_, b)| b.clone()),
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            elapsed: Duration::ZERO,
            dry_run,
            transport_error: None,
        }
    }

    fn record_dry_run(&self, req: &Req) {
        let headers = self.headers_for(req);
        tracing::info!(method = %req.method, url = %req.url, "dry run: request recorded, not sent");
        self.log.push(self.exchange_for(req, &headers, true));
    }
}

/// Response headers as name/value pairs (values that are not text are shown as `?`).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("?").to_string())).collect()
}

/// A transport error in words, without the URL's query (reqwest adds the URL; we add it ourselves). A
/// refused certificate is explained with its fix ([`TlsFault`]).
pub(crate) fn transport_reason(e: &reqwest::Error) -> String {
    if let Some(fault) = TlsFault::in_chain(e) {
        return format!("TLS failed: {fault}");
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the connection dropped"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}

// Added by the review branch (decision pipeline): concurrent decisions need their own evidence.
impl FnoClient {
    /// A client sharing this one's connection pool and token (no second token fetch) but with its own
    /// exchange log and dry-run flag, so each decision's requests are its own evidence even when several
    /// decisions run at once.
    pub fn fork(&self, dry_run: bool) -> FnoClient {
        FnoClient {
            http: self.http.clone(),
            base: self.base.clone(),
            auth: Arc::clone(&self.auth),
            retry: self.retry,
            log: self.log.fork(),
            dry_run,
            catalog: self.catalog.clone(),
            connection: Arc::clone(&self.connection),
        }
    }
}
