//! The store's tests run against both backends: SQLite in a temporary directory, and PostgreSQL in a
//! fresh schema of the throwaway cluster `.ci/run` starts (`SIGNOFF_TEST_PG`, with the password in
//! `SIGNOFF_TEST_PG_PASSWORD`). Without that cluster the PostgreSQL half is skipped with a loud message
//! locally, and fails under CI=true: CI must never pass by skipping it.

use signoff::config::secret::Secret;
use signoff::store::Store;
use signoff::store::pg::PgTarget;

/// One store to test against.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres(PgTarget),
}

impl TestDb {
    /// Every backend available: SQLite always, PostgreSQL when the test cluster is there.
    pub fn all(test: &str) -> Vec<TestDb> {
        let mut out = vec![TestDb::Sqlite(tempfile::tempdir().unwrap())];
        out.extend(pg_target(test).map(TestDb::Postgres));
        out
    }

    /// A new handle on this store (as another process would open it).
    pub fn open(&self) -> Store {
        match self {
            TestDb::Sqlite(dir) => Store::open(&dir.path().join("store.db")).unwrap(),
            TestDb::Postgres(target) => Store::open_postgres(target).unwrap(),
        }
    }

    /// A handle as process number `process` would open it: on PostgreSQL with a pool of its own (a
    /// process's pool is per URL), so eight "processes" in one test do not queue on one pool of four.
    pub fn open_as(&self, process: usize) -> Store {
        match self {
            TestDb::Sqlite(_) => self.open(),
            TestDb::Postgres(target) => {
                let url = format!("{}&application_name=signoff-test-{process}", target.url);
                Store::open_postgres(&PgTarget { url, ..target.clone() }).unwrap()
            }
        }
    }

    /// Run `sql` on the database itself, past signoff (a tamperer with write access): the rows it changed.
    pub fn execute(&self, sql: &str) -> u64 {
        match self {
            TestDb::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("store.db")).unwrap();
                conn.execute(sql, []).unwrap() as u64
            }
            TestDb::Postgres(target) => pg_client(target, sql, false),
        }
    }

    /// Run several `;`-separated statements, as [`TestDb::execute`] does one.
    pub fn batch(&self, sql: &str) {
        match self {
            TestDb::Sqlite(dir) => {
                rusqlite::Connection::open(dir.path().join("store.db")).unwrap().execute_batch(sql).unwrap()
            }
            TestDb::Postgres(target) => {
                pg_client(target, sql, true);
            }
        }
    }

    /// Point a config's `[store]` at this store as an operator would: `path` for SQLite; `url` with the
    /// password read from the environment variable `password_env` for PostgreSQL. Returns that password
    /// (for the caller to set on the process), `None` for SQLite.
    pub fn configure(&self, store: &mut signoff::config::StoreConfig, password_env: &str) -> Option<String> {
        match self {
            TestDb::Sqlite(dir) => {
                store.path = Some(dir.path().join("store.db"));
                None
            }
            TestDb::Postgres(target) => {
                store.path = None;
                store.url = Some(target.url.clone());
                store.password_env = Some(password_env.into());
                target.password.as_ref().map(|p| p.expose().to_string())
            }
        }
    }

    /// Hold what a write to run `id` must wait for, from another connection, until the guard is dropped:
    /// SQLite's write lock (`BEGIN IMMEDIATE`), PostgreSQL's row lock on the run (`SELECT … FOR UPDATE`).
    /// Returns once the lock is held.
    pub fn hold_write_lock(&self, id: &str) -> HeldLock {
        let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let thread = match self {
            TestDb::Sqlite(dir) => {
                let path = dir.path().join("store.db");
                std::thread::spawn(move || {
                    let conn = rusqlite::Connection::open(path).unwrap();
                    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                    held_tx.send(()).unwrap();
                    let _ = released.recv();
                    conn.execute_batch("COMMIT").unwrap();
                })
            }
            TestDb::Postgres(target) => {
                let (url, password, id) = (target.url.clone(), target.password.clone(), id.to_string());
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    runtime.block_on(async {
                        let mut config: tokio_postgres::Config = url.parse().unwrap();
                        if let Some(password) = &password {
                            config.password(password.expose());
                        }
                        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                        let driver = tokio::spawn(connection);
                        client.batch_execute("BEGIN").await.unwrap();
                        let locked =
                            client.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", &[&id]).await.unwrap();
                        assert_eq!(locked, 1, "no run {id} to lock");
                        held_tx.send(()).unwrap();
                        let _ = tokio::task::spawn_blocking(move || released.recv()).await;
                        client.batch_execute("COMMIT").await.unwrap();
                        drop(client);
                        let _ = driver.await;
                    })
                })
            }
        };
        held_rx.recv().expect("the lock was taken");
        HeldLock { release: Some(release), thread: Some(thread) }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TestDb::Sqlite(_) => "sqlite",
            TestDb::Postgres(_) => "postgres",
        }
    }
}

/// The test cluster's URL and password, or `None` (skipped loudly; a panic under CI=true).
pub fn pg_server(test: &str) -> Option<(String, Secret)> {
    match (std::env::var("SIGNOFF_TEST_PG"), std::env::var("SIGNOFF_TEST_PG_PASSWORD")) {
        (Ok(url), Ok(password)) if !url.is_empty() => Some((url, Secret::new(password))),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: SIGNOFF_TEST_PG is not set under CI=true; .ci/run must start the PostgreSQL cluster")
        }
        _ => {
            // Straight to the process's stderr, past the test harness's capture: a skip must be seen.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED the PostgreSQL half of {test}: SIGNOFF_TEST_PG is not set. Run the tests through \
                 `bash .ci/run`, or start a cluster with `. .ci/postgres.sh; pg_install; pg_start` first. ***\n"
            );
            None
        }
    }
}

/// A fresh, empty schema on the test cluster for one store, or `None` (see [`pg_server`]).
pub fn pg_target(test: &str) -> Option<PgTarget> {
    let (url, password) = pg_server(test)?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut config: tokio_postgres::Config = url.parse().unwrap();
        config.password(password.expose());
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
        drop(client);
        let _ = driver.await;
    });
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    Some(PgTarget { url, password: Some(password), trust: Default::default() })
}

/// Run `sql` on a connection of its own, on a thread and runtime of its own (so a caller inside a runtime
/// can use it): the rows changed, or 0 for a batch.
fn pg_client(target: &PgTarget, sql: &str, batch: bool) -> u64 {
    let (url, password, sql) = (target.url.clone(), target.password.clone(), sql.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut config: tokio_postgres::Config = url.parse().unwrap();
            if let Some(password) = &password {
                config.password(password.expose());
            }
            let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
            let driver = tokio::spawn(connection);
            let changed = if batch {
                client.batch_execute(&sql).await.unwrap();
                0
            } else {
                client.execute(sql.as_str(), &[]).await.unwrap()
            };
            drop(client);
            let _ = driver.await;
            changed
        })
    })
    .join()
    .unwrap()
}

/// A lock held by [`TestDb::hold_write_lock`]; dropping it commits and waits for the connection to end.
pub struct HeldLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
