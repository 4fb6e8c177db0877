//! Live updates on PostgreSQL: a connection of the watcher's own that `LISTEN`s on `signoff_changes`,
//! where every committed change notifies (statement triggers, migration 6; one notification per
//! transaction, naming the store's schema since migration 7: only this store's count). The connection is driven on the store's runtime and counts what it hears, so "has
//! anything changed?" is an atomic load, not a round trip. The notification only says that something
//! changed: the screen re-reads as it would on SQLite.
//!
//! A lost connection counts as a change (whatever was committed until it listens again goes unheard, so
//! the screen must re-read) and is made again, and once more as a change when it is back. While
//! connecting again fails, the watcher says why instead of reporting "nothing changed".

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{PgTarget, block_on, connect_config, describe, runtime};
use crate::store::StoreError;

/// The channel every committed change notifies.
pub(crate) const CHANNEL: &str = "signoff_changes";

/// The wait before connecting again after a loss, doubled after each failed attempt up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(15);

/// TCP keepalives on the listening connection (over TCP; a Unix socket has none): a server that vanished
/// without closing it, behind a network partition, is noticed within about half a minute, not hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;

/// One listening connection, counting the changes it hears; it stops when dropped.
pub(crate) struct Listener {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
    shown: String,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("target", &self.shown).field("events", &self.events()).finish()
    }
}

#[derive(Default)]
struct Shared {
    /// Notifications heard, plus one for each loss of the connection and one for each return.
    events: AtomicU64,
    /// Why connecting again fails, while it does.
    failing: Mutex<Option<String>>,
}

impl Shared {
    fn failing(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failing.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Listener {
    /// Connect to `target` and listen; returns once the server has confirmed `LISTEN`, so every change
    /// committed from then on is heard.
    pub(crate) fn start(target: &PgTarget) -> Result<Listener, StoreError> {
        let (mut config, tls) = connect_config(target)?;
        config
            .application_name("signoff-watch")
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(KEEPALIVE_INTERVAL)
            .keepalives_retries(KEEPALIVE_RETRIES);
        let shown = target.shown();
        let shared = Arc::new(Shared::default());
        let (ready, listening) = oneshot::channel();
        let task = runtime()?.spawn(listen(config, tls, Arc::clone(&shared), ready));
        let failed = |detail: String| StoreError::PgConnect { target: shown.clone(), detail };
        match block_on(listening)? {
            Ok(Ok(())) => Ok(Listener { shared, task, shown }),
            Ok(Err(detail)) => Err(failed(format!("cannot listen for changes: {detail}"))),
            Err(_) => Err(failed("the change listener stopped before it listened".into())),
        }
    }

    /// How many changes (and losses of the connection) have been heard so far.
    pub(crate) fn events(&self) -> u64 {
        self.shared.events.load(Ordering::SeqCst)
    }

    /// Nothing new heard, but not listening either: why connecting again fails.
    pub(crate) fn failing(&self) -> Option<StoreError> {
        let detail = self.shared.failing().clone()?;
        Some(StoreError::PgConnect {
            target: self.shown.clone(),
            detail: format!("live updates are off, connecting again: {detail}"),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Dropping the task's future closes its connection.
        self.task.abort();
    }
}

/// Listen until dropped: connect, `LISTEN`, count notifications; after a loss, connect again.
async fn listen(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    shared: Arc<Shared>,
    ready: oneshot::Sender<Result<(), String>>,
) {
    let mut ready = Some(ready);
    let mut wait = RETRY_FIRST;
    loop {
        let listened = AtomicBool::new(false);
        let ended = session(&config, &tls, &shared, &mut ready, &listened).await;
        if let Some(ready) = ready.take() {
            // Never listened: the caller hears why, and there is no one to reconnect for.
            let _ = ready.send(Err(ended));
            return;
        }
        if listened.load(Ordering::SeqCst) {
            shared.events.fetch_add(1, Ordering::SeqCst);
            tracing::warn!("the store's change listener lost its connection ({ended}); connecting again");
            wait = RETRY_FIRST;
        } else {
            let mut failing = shared.failing();
            // Said when it starts and when it changes, not at every attempt.
            if failing.as_ref() != Some(&ended) {
                tracing::warn!("the store's change listener cannot connect again: {ended}");
            }
            *failing = Some(ended);
            drop(failing);
            wait = (wait * 2).min(RETRY_MAX);
        }
        tokio::time::sleep(wait).await;
    }
}

/// One connection's life: why it ended. `listened` is set once `LISTEN` is confirmed.
async fn session(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    shared: &Shared,
    ready: &mut Option<oneshot::Sender<Result<(), String>>>,
    listened: &AtomicBool,
) -> String {
    let (client, mut connection) = match config.connect(tls.clone()).await {
        Ok(connected) => connected,
        Err(e) => return describe(&e),
    };
    // The schema this store lives in (the URL's search_path): a notification names the schema that
    // changed, and another store's change in the same database is not ours. Until it is known, all count.
    let schema = std::sync::OnceLock::<String>::new();
    // The connection's messages: this store's notifications are counted, the rest ignored.
    let heard = async {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if schema.get().is_none_or(|ours| n.payload() == ours) {
                        shared.events.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return describe(&e),
                None => return "the server closed the connection".to_string(),
            }
        }
    };
    let listening = async {
        match client.query_one("SELECT current_schema()", &[]).await {
            Ok(row) => {
                if let Ok(Some(name)) = row.try_get::<_, Option<String>>(0) {
                    let _ = schema.set(name);
                }
            }
            Err(e) => return describe(&e),
        }
        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
            return describe(&e);
        }
        listened.store(true, Ordering::SeqCst);
        match ready.take() {
            Some(ready) => {
                let _ = ready.send(Ok(()));
            }
            None => {
                // Back: what was committed while it was away went unheard, so that counts as a change.
                shared.failing().take();
                shared.events.fetch_add(1, Ordering::SeqCst);
                tracing::info!("the store's change listener is connected again");
            }
        }
        std::future::pending::<String>().await
    };
    tokio::select! {
        ended = heard => ended,
        ended = listening => ended,
    }
}
