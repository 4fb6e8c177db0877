//! The PostgreSQL backend: the same operations as the SQLite store, for teams on several hosts.
//!
//! The store's API is synchronous; PostgreSQL's client (tokio-postgres) is asynchronous. Each process
//! keeps one small runtime thread of its own that drives the connections (their sockets and TLS), and a
//! store call waits for its query's answer on the calling thread — so a call works the same from a plain
//! thread and from inside the caller's own runtime, as a SQLite call does. Connections come from a small
//! pool per server (deadpool-postgres), so opening a [`super::Store`] per decision costs no handshake.
//!
//! Writes run in transactions at READ COMMITTED; what must not race is serialised by the database
//! itself: a claim locks its run row (`SELECT … FOR UPDATE`), and every audit append takes the chain's
//! lock (`LOCK TABLE audit_head`) before reading the head, so two hosts can never fork the chain.

mod audit;
pub(crate) mod copy;
mod cursor;
pub(crate) mod import;
pub(crate) mod listen;
pub(crate) mod ops;
mod schema;
mod verify;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;
use crate::config::secret::Secret;
use crate::fno::tls::TrustSettings;

/// How many connections one process keeps to one server.
pub const POOL_SIZE: usize = 8;

/// How long a call waits for a free pooled connection or a new one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a PostgreSQL store is and how to reach it. The URL holds no password: that comes from a secret
/// source (see `config::StoreConfig`).
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// `postgres://user@host:port/database?…` (libpq-style parameters: `host=/socket/dir`, `sslmode`,
    /// `options=-c search_path=…`).
    pub url: String,
    pub password: Option<Secret>,
    /// Whom to trust over TLS: the same settings as the F&O client.
    pub trust: TrustSettings,
}

impl PgTarget {
    pub fn new(url: impl Into<String>) -> PgTarget {
        PgTarget { url: url.into(), password: None, trust: TrustSettings::default() }
    }

    /// The URL as shown to people: without a password, if one was written into it anyway.
    pub fn shown(&self) -> String {
        shown_url(&self.url)
    }
}

/// Whether `text` names a PostgreSQL store rather than a SQLite file.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// `url` with any password (`user:…@`, `?password=…`) replaced by `***`.
pub fn shown_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    if parsed.password().is_none() && !parsed.query_pairs().any(|(k, _)| k == "password") {
        return url.to_string();
    }
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(crate::config::secret::MASK));
    }
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { crate::config::secret::MASK.to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The runtime that drives every PostgreSQL connection of this process.
fn runtime() -> Result<&'static tokio::runtime::Runtime, StoreError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("signoff-postgres")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| StoreError::PgConnect { target: String::new(), detail: format!("cannot start its runtime: {e}") })
}

/// Wait on the calling thread for `work`, whose I/O the PostgreSQL runtime drives.
pub(crate) fn block_on<F: Future>(work: F) -> Result<F::Output, StoreError> {
    let _context = runtime()?.enter();
    Ok(futures_executor::block_on(work))
}

/// How to connect to `target`: its URL with the password from its secret source, TLS required over TCP
/// unless the URL turns it off, and the F&O client's trust settings. The pool and the change listener
/// ([`listen`]) both connect with it.
fn connect_config(target: &PgTarget) -> Result<(tokio_postgres::Config, MakeRustlsConnect), StoreError> {
    let failed = |detail: String| StoreError::PgConnect { target: target.shown(), detail };
    let mut config: tokio_postgres::Config = target.url.parse().map_err(|e| failed(format!("not a valid URL: {e}")))?;
    if let Some(password) = &target.password {
        config.password(password.expose());
    }
    // Over TCP, TLS is required unless the URL turns it off explicitly (a loopback or tunnelled server);
    // "prefer" would fall back to clear text with a server that does not offer it.
    let tcp = config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_)));
    if tcp && config.get_ssl_mode() == SslMode::Prefer {
        config.ssl_mode(SslMode::Require);
    }
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("signoff");
    let (tls, _source, _observer) =
        crate::fno::tls::client_config(&target.trust).map_err(|e| failed(format!("TLS set-up: {e}")))?;
    Ok((config, MakeRustlsConnect::new(tls)))
}

/// One pool per server, user and trust settings, shared by every store handle of the process.
fn pool(target: &PgTarget) -> Result<Pool, StoreError> {
    static POOLS: OnceLock<Mutex<HashMap<String, Pool>>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pools = pools.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Keyed by everything that shapes a connection but the password: the URL and whom TLS trusts.
    let key = format!("{}\n{:?}\n{:?}", target.url, target.trust.ca_file, target.trust.pins);
    if let Some(pool) = pools.get(&key) {
        return Ok(pool.clone());
    }
    let (config, tls) = connect_config(target)?;
    let manager = Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::PgConnect { target: target.shown(), detail: e.to_string() })?;
    pools.insert(key, pool.clone());
    Ok(pool)
}

/// A connection to a PostgreSQL store, taken from the pool for as long as the store handle lives.
pub(crate) struct Pg {
    client: deadpool_postgres::Object,
    shown: String,
    /// How long a statement waits for another transaction's row lock before failing (`lock_not_available`),
    /// as SQLite's busy timeout: the store's `busy_timeout_secs`.
    lock_timeout: Duration,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg").field("target", &self.shown).finish_non_exhaustive()
    }
}

impl Pg {
    /// Connect (through the pool) and bring the schema up to date.
    pub(crate) fn open(target: &PgTarget) -> Result<Pg, StoreError> {
        let pg = Pg::connect(target)?;
        schema::migrate(&pg)?;
        Ok(pg)
    }

    /// Connect (through the pool), leaving the database as it is (`store migrate` checks it is empty
    /// before it creates the schema, in its own transaction).
    pub(crate) fn connect(target: &PgTarget) -> Result<Pg, StoreError> {
        let pool = pool(target)?;
        let shown = target.shown();
        let client = block_on(pool.get())?
            .map_err(|e| StoreError::PgConnect { target: shown.clone(), detail: pool_error(&e) })?;
        Ok(Pg { client, shown, lock_timeout: crate::store::BUSY_TIMEOUT })
    }

    pub(crate) fn set_lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = timeout;
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    pub(crate) fn client(&self) -> &tokio_postgres::Client {
        &self.client
    }

    /// Start a write transaction; it rolls back unless [`Tx::commit`] is called.
    pub(crate) fn tx(&self) -> Result<Tx<'_>, StoreError> {
        let begin = format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", self.lock_timeout.as_millis().max(1));
        block_on(self.client.batch_execute(&begin))??;
        Ok(Tx { pg: self, open: true })
    }

    /// Run `sql` with `params` and return every row.
    pub(crate) fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        block_on(async {
            let stmt = self.client.prepare_cached(sql).await?;
            self.client.query(&stmt, params).await
        })?
        .map_err(StoreError::from)
    }

    /// Run `sql` with `params` and return at most one row.
    pub(crate) fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Run `sql` with `params`; the number of rows changed.
    pub(crate) fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        block_on(async {
            let stmt = self.client.prepare_cached(sql).await?;
            self.client.execute(&stmt, params).await
        })?
        .map_err(StoreError::from)
    }
}

/// A transaction on a [`Pg`] connection: statements go through the same connection, and dropping it
/// without [`Tx::commit`] rolls back.
pub(crate) struct Tx<'a> {
    pg: &'a Pg,
    open: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Pg;
    fn deref(&self) -> &Pg {
        self.pg
    }
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        block_on(self.pg.client.batch_execute("COMMIT"))??;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort: a connection whose rollback fails is broken, and the pool discards it.
            let _ = block_on(self.pg.client.batch_execute("ROLLBACK"));
        }
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => describe(e),
        other => other.to_string(),
    }
}

/// A PostgreSQL error in words: the server's message, detail and SQLSTATE, or the client's chain.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            out.push_str(&format!("; {detail}"));
        }
        return out;
    }
    // A refused certificate in the operator's words, as the F&O client gives it (the same trust settings).
    if let Some(fault) = crate::fno::tls::TlsFault::in_chain(e) {
        return format!("TLS: {fault}");
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}
