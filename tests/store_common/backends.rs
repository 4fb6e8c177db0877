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

    /// Every backend available, PostgreSQL in a database of its own ([`PgDatabase`]): for tests that
    /// must hear only their own store's change notifications.
    pub fn each_alone(test: &str) -> Vec<TestDb> {
        let mut out = vec![TestDb::Sqlite(tempfile::tempdir().unwrap())];
        out.extend(PgDatabase::new(test).map(|db| TestDb::Postgres(db.target)));
        out
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
        let (url, password, sql) = (self.admin.url.clone(), self.admin.password.clone(), sql.to_string());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut config: tokio_postgres::Config = url.parse().unwrap();
                config.password(password.unwrap().expose());
                let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                let driver = tokio::spawn(connection);
                let rows = client.simple_query(&sql).await.unwrap();
                drop(client);
                let _ = driver.await;
                rows.into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => {
                            Some((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            })
        })
        .join()
        .unwrap()
    }
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
