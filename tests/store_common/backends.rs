//! The store's tests run against both backends: SQLite in a temporary directory, and PostgreSQL in a
//! fresh schema of the throwaway cluster `.ci/run` starts (`SIGNOFF_TEST_PG`, with the password in
//! `SIGNOFF_TEST_PG_PASSWORD`). Without that cluster the PostgreSQL half is skipped with a loud message
//! locally, and fails under CI=true: CI must never pass by skipping it.

use signoff::config::secret::Secret;
use signoff::store::Store;
use signoff::store::pg::PgTarget;

/// One store to test against.
pub enum TestDb {
    /// A SQLite file, and the temporary directory that holds it when the test made one for it.
    Sqlite(std::path::PathBuf, Option<tempfile::TempDir>),
    Postgres(PgTarget),
}

impl TestDb {
    /// Every backend available: SQLite always, PostgreSQL when the test cluster is there.
    pub fn all(test: &str) -> Vec<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let mut out = vec![TestDb::Sqlite(dir.path().join("store.db"), Some(dir))];
        out.extend(pg_target(test).map(TestDb::Postgres));
        out
    }

    /// Where signoff finds this store.
    pub fn location(&self) -> signoff::store::StoreLocation {
        match self {
            TestDb::Sqlite(file, _) => signoff::store::StoreLocation::File(file.clone()),
            TestDb::Postgres(target) => signoff::store::StoreLocation::Postgres(target.clone()),
        }
    }

    /// A new handle on this store (as another process would open it).
    pub fn open(&self) -> Store {
        match self {
            TestDb::Sqlite(file, _) => Store::open(file).unwrap(),
            TestDb::Postgres(target) => Store::open_postgres(target).unwrap(),
        }
    }

    /// A handle as process number `process` would open it: on PostgreSQL with a pool of its own (a
    /// process's pool is per URL), so eight "processes" in one test do not queue on one pool of four.
    pub fn open_as(&self, process: usize) -> Store {
        match self {
            TestDb::Sqlite(..) => self.open(),
            TestDb::Postgres(target) => {
                let url = format!("{}&application_name=signoff-test-{process}", target.url);
                Store::open_postgres(&PgTarget { url, ..target.clone() }).unwrap()
            }
        }
    }

    /// Run `sql` on the database itself, past signoff (a tamperer with write access): the rows it changed.
    pub fn execute(&self, sql: &str) -> u64 {
        match self {
            TestDb::Sqlite(file, _) => {
                let conn = rusqlite::Connection::open(file).unwrap();
                conn.execute(sql, []).unwrap() as u64
            }
            TestDb::Postgres(target) => pg_client(target, sql, false),
        }
    }

    /// Run several `;`-separated statements, as [`TestDb::execute`] does one.
    pub fn batch(&self, sql: &str) {
        match self {
            TestDb::Sqlite(file, _) => rusqlite::Connection::open(file).unwrap().execute_batch(sql).unwrap(),
            TestDb::Postgres(target) => {
                pg_client(target, sql, true);
            }
        }
    }

    /// Every backend available, PostgreSQL in a database of its own ([`PgDatabase`]): for tests that
    /// must hear only their own store's change notifications.
    pub fn each_alone(test: &str) -> Vec<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let mut out = vec![TestDb::Sqlite(dir.path().join("store.db"), Some(dir))];
        out.extend(PgDatabase::new(test).map(|db| TestDb::Postgres(db.target)));
        out
    }

    /// Edit the database as an attacker would, plain SQL past signoff; the edit must change something.
    pub fn edit(&self, sql: &str) {
        let changed = self.execute(sql);
        assert!(changed >= 1, "{}: the edit changed nothing: {sql}", self.name());
    }

    /// Rewrite one run's stored payload through `change`, keeping `runs.digest` in step with it (a careful
    /// attacker's edit).
    pub fn rewrite_payload(&self, run: &str, change: impl Fn(&str) -> String) {
        use sha2::Digest as _;
        let payload = self.text(&format!("SELECT payload FROM run_payloads WHERE run_id = '{run}'"));
        let edited = change(&payload);
        assert_ne!(edited, payload, "the rewrite changed the payload");
        let digest = hex::encode(sha2::Sha256::digest(edited.as_bytes()));
        self.edit(&format!(
            "UPDATE run_payloads SET payload = '{}' WHERE run_id = '{run}'",
            edited.replace('\'', "''")
        ));
        self.edit(&format!("UPDATE runs SET digest = '{digest}' WHERE id = '{run}'"));
    }

    /// The first column of the first row of `sql`, as text, read past signoff.
    pub fn text(&self, sql: &str) -> String {
        match self {
            TestDb::Sqlite(file, _) => {
                let conn = rusqlite::Connection::open(file).unwrap();
                conn.query_row(sql, [], |row| row.get(0)).unwrap()
            }
            TestDb::Postgres(target) => {
                let wrapped = format!("SELECT ({sql})::text");
                pg_text(target, &wrapped)
            }
        }
    }

    /// Point a config's `[store]` at this store as an operator would: `path` for SQLite; `url` with the
    /// password read from the environment variable `password_env` for PostgreSQL. Returns that password
    /// (for the caller to set on the process), `None` for SQLite.
    pub fn configure(&self, store: &mut signoff::config::StoreConfig, password_env: &str) -> Option<String> {
        match self {
            TestDb::Sqlite(file, _) => {
                store.path = Some(file.clone());
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
            TestDb::Sqlite(file, _) => {
                let path = file.clone();
                std::thread::spawn(move || {
                    let conn = rusqlite::Connection::open(path).unwrap();
                    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                    held_tx.send(()).unwrap();
                    let _ = released.recv();
                    conn.execute_batch("COMMIT").unwrap();
                })
            }
            TestDb::Postgres(target) => {
                let (target, id) = (target.clone(), id.to_string());
                std::thread::spawn(move || {
                    on_pg(&target, move |client| {
                        Box::pin(async move {
                            client.batch_execute("BEGIN").await?;
                            let locked = client.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", &[&id]).await?;
                            assert_eq!(locked, 1, "no run {id} to lock");
                            held_tx.send(()).unwrap();
                            let _ = tokio::task::spawn_blocking(move || released.recv()).await;
                            client.batch_execute("COMMIT").await
                        })
                    })
                    .unwrap();
                })
            }
        };
        held_rx.recv().expect("the lock was taken");
        HeldLock { release: Some(release), thread: Some(thread) }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TestDb::Sqlite(..) => "sqlite",
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
    let server = PgTarget { url: url.clone(), password: Some(password.clone()), trust: Default::default() };
    pg_try(&server, &format!("CREATE SCHEMA {schema}"), true).unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    Some(PgTarget { url, password: Some(password), trust: Default::default() })
}

/// A database of its own on the test cluster, owned by a login role of its own: for tests that must hear
/// only their own store (PostgreSQL notifies per database, and the other tests' schemas share one) or
/// that change what the role may do.
pub struct PgDatabase {
    /// The store, reached as [`PgDatabase::role`] with its password.
    pub target: PgTarget,
    /// The role's (and the database's) name.
    pub role: String,
    /// The cluster's superuser, connected to this database.
    admin: PgTarget,
}

impl PgDatabase {
    /// A new role and database, or `None` (see [`pg_server`]).
    pub fn new(test: &str) -> Option<PgDatabase> {
        let (url, password) = pg_server(test)?;
        let role = format!("t_{}", uuid::Uuid::new_v4().simple());
        let role_password = Secret::new(uuid::Uuid::new_v4().simple().to_string());
        let server = PgTarget { url: url.clone(), password: Some(password.clone()), trust: Default::default() };
        pg_client(&server, &format!("CREATE ROLE {role} LOGIN PASSWORD '{}'", role_password.expose()), true);
        pg_client(&server, &format!("CREATE DATABASE {role} OWNER {role}"), true);
        let mut parsed = url::Url::parse(&url).unwrap();
        parsed.set_path(&format!("/{role}"));
        let admin = PgTarget { url: parsed.to_string(), password: Some(password), trust: Default::default() };
        parsed.set_username(&role).unwrap();
        let target = PgTarget { url: parsed.to_string(), password: Some(role_password), trust: Default::default() };
        Some(PgDatabase { target, role, admin })
    }

    /// Run `sql` (one or more statements) as the cluster's superuser, in this database.
    pub fn admin(&self, sql: &str) {
        pg_client(&self.admin, sql, true);
    }

    /// The rows `sql` returns, run as the cluster's superuser in this database, each value as text.
    pub fn admin_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = sql.to_string();
        let rows = on_pg(&self.admin, move |client| Box::pin(async move { client.simple_query(&sql).await }));
        rows.unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect()
    }
}

/// The first column of the first row of `sql` (as text), read past signoff on a connection of its own.
pub fn pg_text(target: &PgTarget, sql: &str) -> String {
    let sql = sql.to_string();
    on_pg(target, move |client| Box::pin(async move { client.query_one(sql.as_str(), &[]).await.map(|r| r.get(0)) }))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Run `sql` on a connection of its own, on a thread and runtime of its own (so a caller inside a runtime
/// can use it): the rows changed, or 0 for a batch.
fn pg_client(target: &PgTarget, sql: &str, batch: bool) -> u64 {
    pg_try(target, sql, batch).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// [`pg_client`], with the database's refusal returned (its message) instead of a panic.
pub fn pg_try(target: &PgTarget, sql: &str, batch: bool) -> Result<u64, String> {
    let sql = sql.to_string();
    on_pg(target, move |client| {
        Box::pin(async move {
            if batch { client.batch_execute(&sql).await.map(|()| 0) } else { client.execute(sql.as_str(), &[]).await }
        })
    })
}

type Work<T> = Box<
    dyn for<'c> FnOnce(
            &'c tokio_postgres::Client,
        ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + 'c>>
        + Send,
>;

/// Connect to `target` past signoff (no TLS: the test cluster's Unix socket), on a thread and runtime of
/// its own, and run `work`: its result, or the database's message.
fn on_pg<T: Send + 'static>(
    target: &PgTarget,
    work: impl for<'c> FnOnce(
        &'c tokio_postgres::Client,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + 'c>>
    + Send
    + 'static,
) -> Result<T, String> {
    let work: Work<T> = Box::new(work);
    let (url, password) = (target.url.clone(), target.password.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut config: tokio_postgres::Config = url.parse().unwrap();
            if let Some(password) = &password {
                config.password(password.expose());
            }
            let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
            let driver = tokio::spawn(connection);
            let result = work(&client).await;
            drop(client);
            let _ = driver.await;
            result.map_err(|e| e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()))
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
