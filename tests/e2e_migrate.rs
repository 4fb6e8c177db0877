//! `signoff store migrate` through the real binary: a 10,000-run store copied SQLite → PostgreSQL → a new
//! SQLite file with every row exact and the chain verified on all three, a signed decision on the copy
//! against the simulator, and every refusal leaving nothing behind. The PostgreSQL parts are skipped
//! loudly without `SIGNOFF_TEST_PG`, and fail under `CI=true` (see `common::backends`).

use crate::common;
use crate::review_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use chrono::Utc;
use serde_json::Value;
use signoff::model::{RunId, RunStatus};
use signoff::store::pg::PgTarget;
use signoff::store::{NewApproval, Store};

use common::CliHome;
use common::backends::{TestDb, pg_target, pg_text};
use review_support::agent::{Agent, write_allowed_signers};
use review_support::{APPROVER, Harness, REQUESTER, propose_journal_00123, propose_vendor_us104};

const SECRET_VAR: &str = "SIGNOFF_E2E_MIGRATE_SECRET";
const PASSWORD_VAR: &str = "SIGNOFF_E2E_MIGRATE_PG_PASSWORD";

/// The binary as one approver's account runs it: one config (its store password from [`PASSWORD_VAR`],
/// no `[store] url`: every call names its store with `--store`), one state directory (where the newest
/// signed checkpoint is remembered), decisions signed through the test's ssh-agent.
struct Account {
    config: PathBuf,
    home: PathBuf,
    password: String,
    client_secret: String,
    agent: Option<PathBuf>,
}

impl Account {
    fn run(&self, store: &str, args: &[&str]) -> Output {
        let out = self.command(store, args).output().unwrap();
        let text = text(&out);
        assert!(self.password.is_empty() || !text.contains(&self.password), "the store password leaked: {text}");
        out
    }

    /// The binary as this account runs it, not started.
    fn command(&self, store: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.args(["--store", store, "--config", self.config.to_str().unwrap()])
            .args(args)
            .env(SECRET_VAR, &self.client_secret)
            .env(PASSWORD_VAR, &self.password)
            .env("SIGNOFF_APPROVER", APPROVER)
            .env("XDG_STATE_HOME", self.home.join("state"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env_remove("SIGNOFF_CONFIG")
            .env_remove("SIGNOFF_STORE");
        if let Some(socket) = &self.agent {
            cmd.env("SSH_AUTH_SOCK", socket);
        }
        cmd
    }

    /// Standard output of a call that must succeed.
    fn ok(&self, store: &str, args: &[&str]) -> String {
        let out = self.run(store, args);
        assert!(out.status.success(), "signoff --store {store} {args:?} failed: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, store: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(store, &all)).unwrap()
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The test cluster's fresh schema, made on a thread and runtime of its own (off a test's runtime).
fn pg_schema(test: &'static str) -> Option<PgTarget> {
    std::thread::spawn(move || pg_target(test)).join().unwrap()
}

/// Every row of every table of a SQLite store, as stored, in key order: two stores with equal dumps
/// hold the same bytes in every column.
fn dump(path: &Path) -> Vec<(String, Vec<Vec<rusqlite::types::Value>>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2")).unwrap();
            let width = stmt.column_count();
            let rows = stmt
                .query_map([], |row| (0..width).map(|i| row.get::<_, rusqlite::types::Value>(i)).collect())
                .unwrap()
                .collect::<Result<Vec<Vec<_>>, _>>()
                .unwrap();
            (table, rows)
        })
        .collect()
}

/// Give the 10,000 imported runs a life: rejections, approvals with their signature text, executions
/// with recorded exchanges, expiries, leases that have ended — through the store's own operations, so
/// the chain and the state agree as they would after months of use.
fn history(store: &Store) {
    let signature =
        "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg\n-----END SSH SIGNATURE-----\n";
    for n in 1..=1400u32 {
        let id = RunId(format!("RUN-MIG-{n:06}"));
        match n % 7 {
            0 => {
                store
                    .transition(
                        &id,
                        &[RunStatus::Pending],
                        RunStatus::Rejected,
                        APPROVER,
                        serde_json::json!({"reason": "duplicate of an earlier invoice"}),
                    )
                    .unwrap();
            }
            1 => {
                let approval = NewApproval {
                    approver: APPROVER,
                    reason: "Coding checked against the PO — «ok»",
                    digest: &format!("{:064x}", n),
                    policy_version: "policy/v7",
                    at: Utc::now(),
                    signature: Some(signature),
                };
                store.record_signed_approval(&id, &approval).unwrap();
            }
            2 => {
                store.transition(&id, &[RunStatus::Pending], RunStatus::Executing, APPROVER, Value::Null).unwrap();
                let exchange = format!(
                    r#"{{"request":"PATCH /data/VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-{n}')","response":{{"status":204,"etag":"W/\"JzEsNjg3\"","note":"Fabrikam Électronique — \"quoted\"\n"}}}}"#
                );
                store.record_exchange(&id, &exchange, APPROVER).unwrap();
                store.transition(&id, &[RunStatus::Executing], RunStatus::Executed, APPROVER, Value::Null).unwrap();
            }
            3 => {
                store.transition(&id, &[RunStatus::Pending], RunStatus::Expired, "signoff", Value::Null).unwrap();
            }
            4 => {
                // A lease that has already ended: copied as a row, no claim on the copy.
                store.acquire_lease(&id, "claim-ended", std::time::Duration::from_millis(1)).unwrap();
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10000_run_store_round_trips_through_postgres_exactly_and_the_copy_decides() {
    let Some(pg) = pg_schema("e2e_migrate round trip") else { return };
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let allowed = agent.dir.path().join("allowed_signers");
    let path = allowed.clone();
    let h = Harness::start_with(signoff::sim::SimOptions::default(), move |c| {
        c.approver.allowed_signers = Some(path);
        c.store.password_env = Some(PASSWORD_VAR.into());
    })
    .await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
    let me = Account {
        config: h.write_config(SECRET_VAR),
        home: h.dir.path().to_path_buf(),
        password: pg.password.as_ref().unwrap().expose().to_string(),
        client_secret: h.sim.options().client_secret.clone(),
        agent: Some(agent.socket.clone()),
    };

    // The source: 10,000 runs with a life behind them, the synced catalog, and one decision signed
    // through the binary (a real SSH signature, checkpoints, and this account's memory of them).
    let source = h.store_path.to_str().unwrap().to_string();
    {
        let store = h.store();
        let mut importer = store.importer(REQUESTER).unwrap();
        for run in common::mixed_runs("MIG", 10_000) {
            importer.add(&run).unwrap();
        }
        importer.commit().unwrap();
        history(&store);
    }
    propose_vendor_us104(&h, "RUN-MIG-SIGNED", 1);
    let keys = propose_journal_00123(&h, "RUN-MIG-JOURNAL");
    let signed = me.json(&source, &["approve", "RUN-MIG-SIGNED", "--reason", "Letter verified"]);
    assert_eq!(signed["outcome"], "executed", "{signed}");
    let source_verified = me.ok(&source, &["audit", "verify"]);
    assert!(source_verified.contains("signed checkpoints verified"), "{source_verified}");
    let head = h.store().audit_head().unwrap().unwrap();
    let before = dump(&h.store_path);

    // SQLite → PostgreSQL.
    let started = Instant::now();
    let there = me.json(&source, &["store", "migrate", "--to", &pg.url]);
    eprintln!(
        "store migrate of 10,002 runs SQLite → PostgreSQL: {:.1} s (debug build)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(there["runs"], 10_002, "{there}");
    assert_eq!(there["events"], head.0, "{there}");
    assert_eq!(there["head"]["seq"], head.0);
    assert_eq!(there["head"]["hash"], head.1);
    let checkpoint = h.store().newest_store_event("checkpoint.signed").unwrap().unwrap();
    assert_eq!(there["checkpoint_carried"]["seq"], checkpoint.payload["seq"], "this account's memory goes along");

    // PostgreSQL → a new SQLite file.
    let back_path = h.dir.path().join("back/store.db");
    let back = back_path.to_str().unwrap().to_string();
    let started = Instant::now();
    let again = me.json(&pg.url, &["store", "migrate", "--to", &back]);
    eprintln!(
        "store migrate of 10,002 runs PostgreSQL → SQLite: {:.1} s (debug build)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(again["head"], there["head"]);
    assert_eq!(again["checkpoint_carried"], there["checkpoint_carried"], "the memory carried to the PostgreSQL copy");

    // Every row of every table came back byte for byte: ids, seqs, hashes, payload text, signatures.
    assert_eq!(dump(&back_path), before, "the round trip changed a row");
    assert_eq!(dump(&h.store_path), before, "the source was changed");

    // The three stores verify alike and answer alike.
    for store in [&source, &pg.url, &back] {
        let verified = me.ok(store, &["audit", "verify"]);
        assert!(verified.contains(&format!("audit chain verified: {} events", head.0)), "{store}: {verified}");
        assert!(verified.contains("signed checkpoints verified"), "{store}: {verified}");
    }
    let listed = me.json(&source, &["runs", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 10_002);
    for store in [&pg.url, &back] {
        assert!(me.json(store, &["runs", "list"]) == listed, "runs list differs on {store}");
        for id in ["RUN-MIG-SIGNED", "RUN-MIG-000007", "RUN-MIG-000008", "RUN-MIG-000009", "RUN-MIG-009999"] {
            assert_eq!(
                me.json(store, &["runs", "show", id]),
                me.json(&source, &["runs", "show", id]),
                "{id} on {store}"
            );
        }
    }

    // A decision on the PostgreSQL copy: signed, sent to the simulator once, recorded after the copied
    // history (the identity sequences were moved past the copied ids), and the chain still verifies.
    h.sim.clear_requests();
    let decided = me.json(&pg.url, &["approve", "RUN-MIG-JOURNAL", "--reason", "Accrual agreed with the controller"]);
    assert_eq!(decided["outcome"], "executed", "{decided}");
    assert_eq!(h.sim.record("LedgerJournalHeaders", &keys).unwrap()["IsPosted"], "Yes");
    let posts = h.sim.requests().iter().filter(|r| r.target.contains("signoffPost")).count();
    assert_eq!(posts, 1, "one post in the simulator's log");
    let copy = Store::open_postgres(&pg).unwrap();
    let history = copy.get(&RunId::from("RUN-MIG-JOURNAL")).unwrap().unwrap().history;
    assert_eq!(history.last().unwrap().to, RunStatus::Executed);
    assert!(copy.audit_head().unwrap().unwrap().0 > head.0);
    let verified = me.ok(&pg.url, &["audit", "verify"]);
    assert!(verified.contains("signed checkpoints verified"), "{verified}");
    // The source never saw it.
    assert_eq!(h.status("RUN-MIG-JOURNAL"), "pending");

    // The checkpoint memory carried to each copy guards it as it guarded the source: the file copy cut
    // short below the checkpoint this account saw is named, though its shortened chain is consistent.
    let carried = again["checkpoint_carried"]["seq"].as_i64().unwrap();
    let conn = rusqlite::Connection::open(&back_path).unwrap();
    conn.execute("DELETE FROM audit_events WHERE seq >= ?1", [carried]).unwrap();
    conn.execute(
        "UPDATE audit_head SET seq = e.seq, hash = e.hash FROM (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) e",
        [],
    )
    .unwrap();
    drop(conn);
    let out = me.run(&back, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("CUT SHORT"), "{}", text(&out));
}

/// A home with a small store of `runs` runs and a config naming the store password's variable.
fn small_home(runs: u32) -> (CliHome, Account) {
    let home = CliHome::new("april.meyer");
    std::fs::write(home.config(), format!("[store]\npassword_env = \"{PASSWORD_VAR}\"\n")).unwrap();
    let dir = home.path("runs");
    common::write_runs(&dir, &common::mixed_runs("SMALL", runs));
    home.ok(&["runs", "import", dir.to_str().unwrap()]);
    let account = Account {
        config: home.config(),
        home: home.dir.path().to_path_buf(),
        password: String::new(),
        client_secret: String::new(),
        agent: None,
    };
    (home, account)
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn refusals_name_the_cause_and_leave_nothing_behind() {
    let (home, me) = small_home(40);
    let source = home.store().to_str().unwrap().to_string();
    let out_dir = home.path("copies");
    std::fs::create_dir_all(&out_dir).unwrap();
    let refused = |store: &str, to: &str| {
        let out = me.run(store, &["store", "migrate", "--to", to]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        text(&out)
    };

    // An existing file is never overwritten, whatever it holds.
    let existing = out_dir.join("existing.db");
    std::fs::write(&existing, "quarterly notes").unwrap();
    let shown = refused(&source, existing.to_str().unwrap());
    assert!(shown.contains("is not empty") && shown.contains("never merges"), "{shown}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "quarterly notes");

    // The source itself, by another spelling.
    let same = home.path("data/../data/store.db");
    let shown = refused(&source, same.to_str().unwrap());
    assert!(shown.contains("the source store itself"), "{shown}");

    // A password in the target's URL: refused as `--store` refuses it, never shown, nothing contacted.
    let out =
        me.run(&source, &["--json", "store", "migrate", "--to", "postgres://signoff:hunter2@127.0.0.1:9/signoff"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("contains a password") && shown.contains("password_env"), "{shown}");
    assert!(!shown.contains("hunter2"), "the password was shown: {shown}");

    // A decision in flight (a run executing, a live lease): refused naming each.
    {
        let store = Store::open(&home.store()).unwrap();
        store
            .transition(&"RUN-SMALL-000003".into(), &[RunStatus::Pending], RunStatus::Executing, APPROVER, Value::Null)
            .unwrap();
        store.acquire_lease(&"RUN-SMALL-000005".into(), "julia@jump-01", std::time::Duration::from_secs(3600)).unwrap();
    }
    let target = out_dir.join("busy.db");
    let out = me.run(&source, &["--json", "store", "migrate", "--to", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["code"], "refused");
    let problems = error["error"]["problems"].to_string();
    assert!(problems.contains("RUN-SMALL-000003 is executing"), "{problems}");
    assert!(problems.contains("RUN-SMALL-000005 is claimed by julia@jump-01"), "{problems}");
    {
        let store = Store::open(&home.store()).unwrap();
        store
            .transition(&"RUN-SMALL-000003".into(), &[RunStatus::Executing], RunStatus::Failed, APPROVER, Value::Null)
            .unwrap();
        store.release_lease(&"RUN-SMALL-000005".into(), "julia@jump-01").unwrap();
    }

    // A chain altered through the database: refused naming the event.
    let conn = rusqlite::Connection::open(home.store()).unwrap();
    let actor: String = conn.query_row("SELECT actor FROM audit_events WHERE seq = 7", [], |r| r.get(0)).unwrap();
    assert_eq!(conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7", []).unwrap(), 1);
    let shown = refused(&source, target.to_str().unwrap());
    assert!(shown.contains("does not verify") && shown.contains("#7"), "{shown}");

    // Not a file, not a temporary one, was left by any refusal.
    assert_eq!(listing(&out_dir), ["existing.db"]);

    // Put back, the same command copies.
    conn.execute("UPDATE audit_events SET actor = ?1 WHERE seq = 7", [actor]).unwrap();
    drop(conn);
    let done = me.json(&source, &["store", "migrate", "--to", target.to_str().unwrap()]);
    assert_eq!(done["runs"], 40, "{done}");
    assert_eq!(listing(&out_dir), ["busy.db", "existing.db"]);
}

#[test]
fn a_postgres_target_is_refused_unless_empty_and_a_refused_copy_leaves_no_table() {
    let Some(pg) = pg_schema("e2e_migrate postgres refusals") else { return };
    let (home, mut me) = small_home(25);
    me.password = pg.password.as_ref().unwrap().expose().to_string();
    let source = home.store().to_str().unwrap().to_string();
    let db = TestDb::Postgres(pg.clone());

    // A refusal that comes after the target's transaction began (a lease taken meanwhile): rolled back,
    // the schema as empty as before.
    let store = Store::open(&home.store()).unwrap();
    store.acquire_lease(&"RUN-SMALL-000002".into(), "julia@jump-02", std::time::Duration::from_secs(3600)).unwrap();
    let out = me.run(&source, &["store", "migrate", "--to", &pg.url]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("RUN-SMALL-000002 is claimed by julia@jump-02"), "{}", text(&out));
    assert_eq!(db_tables(&pg), 0, "the refused copy left tables behind");
    store.release_lease(&"RUN-SMALL-000002".into(), "julia@jump-02").unwrap();

    // Into the empty schema; then a second copy into it is refused, and the first copy stays as it was.
    me.json(&source, &["store", "migrate", "--to", &pg.url]);
    let copied = Store::open_postgres(&pg).unwrap().audit_head().unwrap();
    let out = me.run(&source, &["store", "migrate", "--to", &pg.url]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("holds a signoff store (25 runs"), "{}", text(&out));
    assert_eq!(Store::open_postgres(&pg).unwrap().audit_head().unwrap(), copied);

    // The copy as the source, into itself: refused.
    let out = me.run(&pg.url, &["store", "migrate", "--to", &pg.url]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("the source store itself"), "{}", text(&out));

    // PostgreSQL → PostgreSQL (another schema of the same server) falls out of the same copy.
    // Its schema made by a signoff that opened it and wrote nothing: an empty store, accepted.
    let Some(third) = pg_schema("e2e_migrate postgres refusals") else { return };
    drop(Store::open_postgres(&third).unwrap());
    let moved = me.json(&pg.url, &["store", "migrate", "--to", &third.url]);
    assert_eq!(moved["runs"], 25, "{moved}");
    assert_eq!(Store::open_postgres(&third).unwrap().audit_head().unwrap(), copied);
    assert!(me.ok(&third.url, &["audit", "verify"]).contains("audit chain verified"));

    // Its chain altered through the database: refused naming the event, no file written.
    assert_eq!(db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"), 1);
    let back = home.path("copies/back.db");
    let out = me.run(&pg.url, &["store", "migrate", "--to", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("does not verify") && text(&out).contains("#3"), "{}", text(&out));
    assert!(!home.path("copies").exists() || listing(&home.path("copies")).is_empty());

    // Tables of signoff's names that are not a signoff store.
    let Some(other) = pg_schema("e2e_migrate postgres refusals") else { return };
    TestDb::Postgres(other.clone()).batch("CREATE TABLE runs (id TEXT PRIMARY KEY, note TEXT)");
    let out = me.run(&source, &["store", "migrate", "--to", &other.url]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not a signoff store"), "{}", text(&out));
    assert_eq!(db_tables(&other), 1);
}

/// How many tables the target's schema holds, asked on a connection of its own.
fn db_tables(target: &PgTarget) -> u64 {
    let sql = "SELECT COUNT(*)::text FROM information_schema.tables WHERE table_schema = current_schema()";
    pg_text(target, sql).parse().unwrap()
}

/// Ctrl-C in the middle of a copy stops it: exit 130, said so, nothing at the target (not even the
/// temporary file), the source as it was; the migration run again completes.
#[test]
fn a_signal_mid_copy_stops_it_and_keeps_nothing() {
    let (home, me) = small_home(5_000);
    let source = home.store().to_str().unwrap().to_string();
    let out_dir = home.path("copies");
    std::fs::create_dir_all(&out_dir).unwrap();
    let target = out_dir.join("copy.db");
    let before = dump(home.store().as_path());

    let mut child = me
        .command(&source, &["store", "migrate", "--to", target.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Under way: its temporary file exists beside the target.
    let started = Instant::now();
    while !listing(&out_dir).iter().any(|name| name.contains(".migrate-")) {
        assert!(child.try_wait().unwrap().is_none(), "the copy ended before it could be interrupted");
        assert!(started.elapsed().as_secs() < 60, "no copy under way after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(text(&out).contains("stopped by SIGINT") && text(&out).contains("nothing was written"), "{}", text(&out));
    assert!(listing(&out_dir).is_empty(), "nothing left at the target: {:?}", listing(&out_dir));
    assert_eq!(dump(home.store().as_path()), before, "the source is as it was");
    me.ok(&source, &["store", "migrate", "--to", target.to_str().unwrap()]);
    assert!(me.ok(target.to_str().unwrap(), &["audit", "verify"]).contains("audit chain verified"));
}
