//! A faithful F&O + Entra simulator bound to loopback, for the demo, rehearsals and tests.
//!
//! One base URL serves both: the Entra token endpoints (`/{tenant}/oauth2/v2.0/token`,
//! `/{tenant}/oauth2/token`) and the F&O environment (`/data/…`, `/api/services/…`). What it serves, the
//! decision operations, faults and the seed format are described in docs/simulator.md.

pub mod admin;
mod assertion;
mod batch;
pub mod dialect;
mod entra;
mod faults;
mod imds;
mod keys;
mod log;
mod metadata;
mod odata;
mod ops;
pub mod posting;
mod query;
mod reply;
pub mod reset;
pub mod schema;
pub mod seed;
mod server;
mod services;
mod state;
pub mod workflow;
mod writes;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use dialect::Dialect;
pub use faults::THROTTLE_MESSAGE;
pub use log::MASK;
pub use state::etag_for;

use server::{Shared, lock};

/// How to start a simulator.
#[derive(Clone)]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The tenant the token endpoints accept (domain); `tenant_id` is accepted too.
    pub tenant: String,
    /// The tenant's GUID (the token's `tid`).
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// A seed file to use instead of the embedded `fixtures/fno/` data.
    pub seed: Option<PathBuf>,
    /// How the environment names its decision operations and pages (see `dialect.rs`).
    pub dialect: Dialect,
    /// Server page size for collections (F&O: 10,000 per the docs, 1,000 observed); the dialect's own
    /// with [`SimOptions::for_dialect`].
    pub page_size: usize,
    /// Closed fiscal periods (`YYYY-MM`): posting or reversing into them is refused.
    pub closed_periods: Vec<String>,
    /// Latency added to every request (e.g. 50 ms for a bulk benchmark).
    pub latency: Duration,
    /// A PEM certificate registered on the app as a certificate credential: client assertions signed
    /// with its key are accepted (and checked: signature, `x5t#S256`, audience, issuer, expiry).
    pub client_certificate: Option<String>,
    /// The URL clients reach the simulator at, when it is not `http://127.0.0.1:PORT` (behind a TLS
    /// terminator or a proxy in tests): the environment URL, the token audience and nextLinks use it.
    pub public_url: Option<String>,
}

impl SimOptions {
    /// The defaults for a dialect: its names and its page size.
    pub fn for_dialect(dialect: Dialect) -> Self {
        SimOptions { dialect, page_size: dialect.page_size(), ..SimOptions::default() }
    }
}

impl Default for SimOptions {
    /// The `Signoff` dialect, 1,000 per page.
    fn default() -> Self {
        SimOptions {
            dialect: Dialect::Signoff,
            port: 0,
            tenant: "contoso.onmicrosoft.com".into(),
            tenant_id: "7f3c1a2e-5d4b-4e8f-9a61-2b0c9d8e7f10".into(),
            client_id: "00000000-5150-4f0a-9c1e-000000000001".into(),
            client_secret: "sim-secret-do-not-use".into(),
            seed: None,
            page_size: 1_000,
            closed_periods: Vec::new(),
            latency: Duration::ZERO,
            client_certificate: None,
            public_url: None,
        }
    }
}

impl std::fmt::Debug for SimOptions {
    /// The client secret is never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("port", &self.port)
            .field("tenant", &self.tenant)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &MASK)
            .field("seed", &self.seed)
            .field("dialect", &self.dialect)
            .field("page_size", &self.page_size)
            .field("closed_periods", &self.closed_periods)
            .field("latency", &self.latency)
            .field("client_certificate", &self.client_certificate.is_some())
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// A fault to inject into matching requests.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After`, `times` times, for requests whose path contains `path_contains`.
    Throttle { path_contains: String, retry_after_secs: u64, times: u32 },
    /// 503 with `Retry-After`.
    Unavailable { path_contains: String, retry_after_secs: u64, times: u32 },
    /// Delay every matching response. The request is processed after the delay, while the client still
    /// waits: a client that gives up first cancels it, and nothing happens (see `SlowThenApply`).
    Slow { path_contains: String, delay: Duration, times: u32 },
    /// Process the request after `delay` whatever the client does: its effect lands even when the client
    /// timed out and disconnected (F&O finishing an approval signoff gave up on). The request appears in
    /// the log once, when processed, with the status it answered (or would have).
    SlowThenApply { path_contains: String, delay: Duration, times: u32 },
    /// Refuse the request without processing it: 500 with `message` as the business text, in the shape
    /// of the endpoint — the AIF fault (`{"Message", "ExceptionType": "XppServicesException"}`) under
    /// `/api/services/`, F&O's OData error (`innererror.message`) under `/data/`.
    Refuse { path_contains: String, message: String, times: u32 },
    /// Process the request, then drop the connection without answering.
    DropAfterProcessing { path_contains: String, times: u32 },
    /// Drop the connection without processing.
    DropBeforeProcessing { path_contains: String, times: u32 },
    /// Hold the request and never process or answer it: F&O lost it. It is logged on arrival with status
    /// 0; only the client giving up (its timeout, or its process dying) ends the connection.
    Hang { path_contains: String, times: u32 },
    /// Every token issued so far is expired (the next call gets 401).
    ExpireTokens,
    /// 403 Forbidden on requests whose path contains `path_contains`, as F&O answers a user whose roles
    /// lack the entity's privilege for Data services.
    Forbid { path_contains: String, times: u32 },
    /// The token endpoints answer with Entra's error for AADSTS `code` (e.g. 7000222, the client secret
    /// expired) instead of a token, `times` times.
    EntraError { code: u32, times: u32 },
}

/// One request as the simulator saw it, secrets masked.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Time since the simulator started, when the request arrived.
    pub at: Duration,
    pub method: String,
    /// Path and query, percent-decoded.
    pub target: String,
    /// Header name (lowercase) and value, with `authorization` and secrets masked.
    pub headers: Vec<(String, String)>,
    /// The body, with `client_secret`, `refresh_token` and `client_assertion` masked.
    pub body: String,
    /// The status answered; 0 when the connection was dropped without an answer.
    pub status: u16,
}

impl LoggedRequest {
    /// A header's value (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What can go wrong starting or driving the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}; choose another port or 0 for a free one")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot read the seed file {path}: {source}")]
    SeedFile { path: PathBuf, source: std::io::Error },
    #[error("the seed {origin} is not valid: {message}")]
    Seed { origin: String, message: String },
    #[error("cannot start the simulator's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the simulator's client_certificate is not usable: {0}")]
    Certificate(String),
    #[error("the simulator refused the change to {entity_set}: {message}")]
    Refused { entity_set: String, message: String },
}

/// A running simulator. Stops when [`Simulator::shutdown`] is awaited or when dropped.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    options: SimOptions,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Seed, bind 127.0.0.1 and serve in the background on the current tokio runtime.
    pub async fn start(options: SimOptions) -> Result<Simulator, SimError> {
        let mut data = match &options.seed {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SimError::SeedFile { path: path.clone(), source })?;
                seed::from_text(&text, &path.display().to_string())?
            }
            None => seed::embedded()?,
        };
        ensure_client_mapping(&mut data, &options.client_id);
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
            .await
            .map_err(|source| SimError::Bind { port: options.port, source })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind { port: options.port, source })?;
        let base = match &options.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };
        let certificate = match &options.client_certificate {
            None => None,
            Some(pem) => Some(
                crate::fno::certs::pem_certificates(pem.as_bytes())
                    .map_err(|e| SimError::Certificate(e.to_string()))?[0]
                    .to_vec(),
            ),
        };
        let mut faults = faults::Faults::default();
        faults.latency = options.latency;
        faults.client_id = options.client_id.clone();
        let shared = Arc::new(Shared {
            seed: data.clone(),
            data: Mutex::new(data),
            tokens: Mutex::new(entra::Tokens::default()),
            faults: Mutex::new(faults),
            log: Mutex::new(Vec::new()),
            dir: entra::Directory {
                tenant: options.tenant.clone(),
                tenant_id: options.tenant_id.clone(),
                client_id: options.client_id.clone(),
                client_secret: options.client_secret.clone(),
                resource: base.to_lowercase(),
                base: base.clone(),
                certificate,
            },
            base,
            page_size: options.page_size.max(1),
            closed_periods: options.closed_periods.clone(),
            dialect: options.dialect,
            started: Instant::now(),
            held: Default::default(),
        });
        let router = axum::Router::new().fallback(server::handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let serve = axum::serve(
            server::SimListener(listener),
            router.into_make_service_with_connect_info::<server::ConnHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            let _ = serve.await;
        });
        Ok(Simulator { shared, addr, options, stop: Some(stop), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`: the F&O environment URL and the Entra authority host.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Client settings for this simulator: F&O and Entra both at its base URL, its tenant, client and
    /// secret, a 10 s timeout and the default retry budget (tests adjust what they exercise).
    pub fn client_settings(&self) -> crate::fno::FnoSettings {
        use crate::fno::{AuthSettings, Credential, FnoSettings, RetryPolicy};
        let o = &self.options;
        FnoSettings {
            base_url: self.base_url(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy { max_retries: 3, max_total_wait: Duration::from_secs(30) },
            auth: AuthSettings {
                tenant: o.tenant.clone(),
                client_id: o.client_id.clone(),
                cloud: crate::config::Cloud::Global,
                authority_host: Some(self.base_url()),
                endpoint: crate::config::TokenEndpoint::V2,
                credential: Credential::ClientSecret(crate::config::secret::Secret::new(o.client_secret.clone())),
                resource: self.base_url(),
            },
            dry_run: false,
            network: crate::fno::NetworkSettings::default(),
        }
    }

    /// The dialect it speaks.
    pub fn dialect(&self) -> Dialect {
        self.options.dialect
    }

    /// The options it was started with (tenant, client id and secret included).
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Every request so far, in arrival order, secrets masked.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let mut log = lock(&self.shared.log).clone();
        log.sort_by_key(|r| r.at);
        log
    }

    /// How many requests a `Slow`, `SlowThenApply` or `Hang` fault is holding right now: a test acts
    /// while a write is in flight (arrived, not yet processed) by waiting for this.
    pub fn held(&self) -> usize {
        self.shared.held.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forget the request log (e.g. after a test's set-up).
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Inject a fault; `ExpireTokens` takes effect at once.
    pub fn inject(&self, fault: Fault) {
        if matches!(fault, Fault::ExpireTokens) {
            lock(&self.shared.tokens).expire_all();
        } else {
            lock(&self.shared.faults).add(fault);
        }
    }

    /// Remove every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Latency added to every request from now on.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.faults).latency = latency;
    }

    /// A refresh token for the configured client, as if a user had signed in (delegated set-ups).
    pub fn issue_refresh_token(&self) -> String {
        entra::issue_refresh(&self.shared.dir, &mut lock(&self.shared.tokens))
    }

    /// A concurrent edit by someone else: the fields change and the record gets a new ETag (returned).
    pub fn edit_record(&self, entity_set: &str, keys: &Value, fields: Value) -> Result<String, SimError> {
        let reply = self.internal(entity_set, "PATCH", Some(keys), &fields)?;
        Ok(reply.header("etag").unwrap_or_default().to_string())
    }

    /// A decision taken inside F&O by `user` (approve or reject) on a pending work item: the item is
    /// completed and its document moves on, exactly as the complete action does, without a request.
    pub fn complete_work_item(&self, id: &str, user: &str, approve: bool, comment: &str) -> Result<(), SimError> {
        let names = self.options.dialect.work_items();
        let outcome = if approve { names.approve } else { names.reject }.to_string();
        let completion =
            workflow::Completion { user: user.to_string(), approve, outcome, comment: comment.to_string() };
        workflow::complete(&mut lock(&self.shared.data), id, &completion)
            .map_err(|message| SimError::Refused { entity_set: workflow::SET.into(), message })
    }

    /// Put the seed data back: all of it, or one transaction (see [`reset`] for the key's form).
    pub fn reset(&self, transaction: Option<&str>) -> Result<reset::Restored, SimError> {
        let mut data = lock(&self.shared.data);
        match transaction {
            None => Ok(reset::reset_all(&mut data, &self.shared.seed)),
            Some(name) => reset::reset_transaction(&mut data, &self.shared.seed, name)
                .map_err(|message| SimError::Refused { entity_set: "reset".into(), message }),
        }
    }

    /// F&O's batch posting job runs once: every unposted journal flagged `PostInBatch = Yes` is posted,
    /// with final voucher numbers, as the post operation would post it (see `posting.rs`).
    pub fn run_posting_batch(&self) -> posting::BatchRun {
        posting::run_batch(&mut lock(&self.shared.data), &self.admin_ctx())
    }

    /// A person posts journal `journal` of `company` in F&O (no request); returns its final vouchers.
    pub fn post_journal(&self, company: &str, journal: &str) -> Result<Vec<String>, SimError> {
        posting::post_one(&mut lock(&self.shared.data), &self.admin_ctx(), company, journal)
            .map_err(|message| SimError::Refused { entity_set: "LedgerJournalHeaders".into(), message })
    }

    /// Someone deletes a record in F&O (a journal header takes its lines with it), without a logged request.
    pub fn delete_record(&self, entity_set: &str, keys: &Value) -> Result<(), SimError> {
        self.internal(entity_set, "DELETE", Some(keys), &Value::Null).map(|_| ())
    }

    /// Insert a record as F&O would on `POST` (numbering, defaults, validation); returns it as served.
    pub fn insert_record(&self, entity_set: &str, fields: Value) -> Result<Value, SimError> {
        let reply = self.internal(entity_set, "POST", None, &fields)?;
        Ok(serde_json::from_slice(&reply.body).unwrap_or(Value::Null))
    }

    /// Insert many records in one go (set-up for paging tests and benchmarks).
    pub fn insert_records(&self, entity_set: &str, records: Vec<Value>) -> Result<usize, SimError> {
        let count = records.len();
        writes::defer_totals(&mut lock(&self.shared.data));
        let result = records.iter().try_for_each(|r| self.internal(entity_set, "POST", None, r).map(|_| ()));
        writes::finish_deferred(&mut lock(&self.shared.data));
        result.map(|_| count)
    }

    /// A record as F&O serves it (with `@odata.etag`), in any company.
    pub fn record(&self, entity_set: &str, keys: &Value) -> Option<Value> {
        let key = keys.as_object()?;
        let data = lock(&self.shared.data);
        let r = data.table(entity_set)?.get(key)?;
        Some(Value::Object(odata::render(r, None)))
    }

    /// Every record of an entity set, in every company, in RecId order.
    pub fn records(&self, entity_set: &str) -> Vec<Value> {
        let data = lock(&self.shared.data);
        data.table(entity_set)
            .map(|t| t.rows.values().map(|r| Value::Object(odata::render(r, None))).collect())
            .unwrap_or_default()
    }

    /// What an administrator's work inside F&O runs as.
    fn admin_ctx(&self) -> odata::Ctx {
        odata::Ctx {
            base: self.shared.base.clone(),
            user: "Admin".into(),
            company: "usmf".into(),
            page_size: self.shared.page_size,
            closed_periods: self.shared.closed_periods.clone(),
            dialect: self.shared.dialect,
        }
    }

    /// Run a write through the OData layer as an administrator in every company.
    fn internal(
        &self,
        entity_set: &str,
        method: &str,
        keys: Option<&Value>,
        body: &Value,
    ) -> Result<reply::Reply, SimError> {
        let refused = |message: String| SimError::Refused { entity_set: entity_set.to_string(), message };
        let def = schema::entity(entity_set).ok_or_else(|| refused("no such entity set".into()))?;
        let path = match keys {
            Some(Value::Object(k)) => format!("{entity_set}({})", ops_key_text(def, k)),
            Some(_) => return Err(refused("keys must be a JSON object".into())),
            None => entity_set.to_string(),
        };
        let ctx = self.admin_ctx();
        let body = serde_json::to_vec(body).unwrap_or_default();
        let query = vec![("cross-company".to_string(), "true".to_string())];
        let req = odata::Req {
            method,
            path: &path,
            query: &query,
            if_match: None,
            prefer_representation: false,
            body: &body,
        };
        let reply = odata::handle(&mut lock(&self.shared.data), &ctx, &req);
        if reply.status >= 400 {
            let text = String::from_utf8_lossy(&reply.body).into_owned();
            return Err(refused(format!("{} {text}", reply.status)));
        }
        Ok(reply)
    }

    /// Stop serving and wait for the server task to finish (at most 5 s).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl std::fmt::Debug for Simulator {
    /// Only where it listens: its state holds tokens and the client secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("base_url", &self.shared.base).finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn ops_key_text(def: &schema::EntityDef, keys: &serde_json::Map<String, Value>) -> String {
    def.keys
        .iter()
        .map(|k| match keys.get(*k) {
            Some(Value::String(s)) => format!("{k}='{}'", s.replace('\'', "''")),
            Some(v) => format!("{k}={v}"),
            None => format!("{k}=null"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The simulator's own app must act as an F&O user, or every call gets 401.
fn ensure_client_mapping(data: &mut state::Data, client_id: &str) {
    if server::mapped_user(data, client_id).is_some() {
        return;
    }
    let rec_id = data.new_rec_id();
    let mut fields = serde_json::Map::new();
    fields.insert("AADClientId".into(), Value::String(client_id.to_string()));
    fields.insert("UserId".into(), Value::String("Admin".into()));
    fields.insert("Name".into(), Value::String("signoff simulator client".into()));
    if let Some(t) = data.table_mut("SysAADClients") {
        let _ = t.insert(state::Record { rec_id, rec_version: 1, fields });
    }
}

/// A simulator with its own runtime, for synchronous callers (the CLI, the TUI demo).
pub struct BlockingSimulator {
    sim: Option<Simulator>,
    runtime: tokio::runtime::Runtime,
}

impl BlockingSimulator {
    /// Start a simulator on a private multi-threaded runtime.
    pub fn start(options: SimOptions) -> Result<BlockingSimulator, SimError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(SimError::Runtime)?;
        let sim = runtime.block_on(Simulator::start(options))?;
        Ok(BlockingSimulator { sim: Some(sim), runtime })
    }

    /// The running simulator (its inspection and fault methods are synchronous).
    pub fn sim(&self) -> &Simulator {
        // Always Some until drop.
        self.sim.as_ref().unwrap_or_else(|| unreachable!("the simulator is only taken on drop"))
    }

    /// Block until Ctrl-C.
    pub fn wait_for_ctrl_c(&self) -> std::io::Result<()> {
        self.runtime.block_on(tokio::signal::ctrl_c())
    }
}

impl Drop for BlockingSimulator {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}
