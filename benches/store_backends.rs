//! The store's two backends side by side (issue 16): the same work through the same public API, on
//! SQLite and on PostgreSQL, so criterion prints `<work>/sqlite` next to `<work>/postgres`:
//!
//! - `import_10k`: `runs import` of 10,000 invoices into an empty store, as one all-or-nothing import
//!   (`Store::importer`, one `add` per run, `commit`);
//! - `queue_100k_first_screen`: open a store of 100,000 runs as `signoff` does and show the first judged
//!   frame (`ReviewSource::first_summaries`, the rows on screen judged: `benches/support/queue_open.rs`,
//!   shared with `tui_start`);
//! - `queue_100k_whole`: the whole queue's load that follows (`ReviewSource::summaries`, every open row
//!   judged in the TUI's batches);
//! - `decision_store_work`: one approval's store work outside F&O on that store, in the pipeline's order
//!   (open, claim, check, record the approval, move to executing, keep the exchanges, conclude executed,
//!   release); see [`decision`].
//!
//! The data is adversarial: every invoice in one company (USMF), 40 vendors sharing it, one invoice in
//! 100 repeating an executed invoice's number and vendor and one in 100 repeating an open one's. The
//! 100,000-run store holds 50,000 executed invoices (the history) and 50,000 open ones, requested over
//! the same days, so the queue's oldest-first screen shows both and judges the open ones. The executed
//! history is imported and then marked executed in one statement (as `history_cost` does): 150,000
//! audited transitions would take many minutes to build, and nothing measured here reads another run's
//! chain. Each 100,000-run store is built once per backend, when a bench first needs it, and reused;
//! PostgreSQL's is `ANALYZE`d after the build (what autovacuum does to a table that grew by 100,000 rows
//! within a minute). Every decision adds one executed invoice to it.
//!
//! PostgreSQL is the throwaway test cluster (`SIGNOFF_TEST_PG`, `SIGNOFF_TEST_PG_PASSWORD`; a fresh schema
//! per store): `bash -c '. .ci/postgres.sh; pg_start; trap pg_stop EXIT; cargo bench --bench
//! store_backends'`. Without it the PostgreSQL half is skipped with a message on stderr.

#[path = "../tests/store_common/mod.rs"]
mod common;
#[path = "support/queue_open.rs"]
mod queue_open;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::backends::{TestDb, pg_target};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use serde_json::json;
use signoff::model::{GovernedRun, RunId, RunStatus};
use signoff::review::claim::{self, Claim};
use signoff::review::facts;
use signoff::review::journal::{self, Entry, Journal};
use signoff::store::{BUSY_TIMEOUT, NewApproval, Store, StoreError, StoreLocation};

const BENCH: &str = "store_backends";
const COMPANY: &str = "USMF";
const APPROVER: &str = queue_open::APPROVER;
const IMPORTER: &str = "svc-ap-ingest";
/// Executed invoices (the history) and open ones in the large store.
const HISTORY: u32 = 50_000;
const OPEN: u32 = 50_000;

/// Invoice `n` of the adversarial shape: USMF, vendor US-101..US-140, requested `n` × 3 s after `first`
/// (a queue's oldest-first order interleaves runs requested over three and a half days), open for a week
/// from now. Even numbers are the history (`RUN-HIST-…`, marked executed in the large store), odd ones
/// the open invoices (`RUN-OPEN-…`). Invoice 100k + 1 repeats executed invoice 100k's number and vendor,
/// invoice 100k + 3 repeats open invoice 100k + 1's: the duplicate rule has something to say on both sides.
fn invoice(n: u32, first: DateTime<Utc>) -> GovernedRun {
    let prefix = if n.is_multiple_of(2) { "HIST" } else { "OPEN" };
    let mut run = common::invoice(&format!("RUN-{prefix}-{n:06}"), n, COMPANY, "1250.00");
    let twin_of = match n % 100 {
        1 => Some(n - 1),
        3 => Some(n - 2),
        _ => None,
    };
    if let Some(m) = twin_of {
        run.before.fields = common::invoice("twin", m, COMPANY, "1250.00").before.fields;
    }
    run.requested_at = first + chrono::Duration::seconds(i64::from(n % 100_000) * 3);
    run.before.captured_at = run.requested_at - chrono::Duration::hours(1);
    run.expires_at = Utc::now() + chrono::Duration::days(7);
    run
}

/// When the large store's first invoice was requested.
fn first_request() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(5)
}

/// Import invoices `range` in imports of 10,000, as `runs import` would.
fn import(store: &Store, range: std::ops::Range<u32>) {
    let first = first_request();
    for chunk in range.collect::<Vec<_>>().chunks(10_000) {
        let mut importer = store.importer(IMPORTER).unwrap_or_else(|e| panic!("import: {e}"));
        for &n in chunk {
            importer.add(&invoice(n, first)).unwrap_or_else(|e| panic!("import: {e}"));
        }
        importer.commit().unwrap_or_else(|e| panic!("import: {e}"));
    }
}

/// A store of [`HISTORY`] executed and [`OPEN`] open invoices, and a config for `signoff` on it.
struct Large {
    db: TestDb,
    location: StoreLocation,
    config: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn large(db: TestDb) -> Large {
    let started = Instant::now();
    let store = db.open();
    import(&store, 0..HISTORY + OPEN);
    assert_eq!(db.execute("UPDATE runs SET status = 'executed' WHERE id LIKE 'RUN-HIST-%'"), u64::from(HISTORY));
    if let TestDb::Postgres(_) = db {
        db.batch("ANALYZE");
    }
    eprintln!("{}: built a {}-run store in {:.1} s", db.name(), HISTORY + OPEN, started.elapsed().as_secs_f64());
    let location = store.location().clone();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let config = queue_open::write_config(dir.path(), &location);
    Large { db, location, config, _dir: dir }
}

/// A fresh, empty store on `like`'s backend (a new file, or a new schema of the same cluster), dropped
/// (the schema too) when done with.
struct Fresh(TestDb);

impl Fresh {
    fn like(like: &TestDb) -> Fresh {
        Fresh(match like {
            TestDb::Sqlite(..) => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
                TestDb::Sqlite(dir.path().join("store.db"), Some(dir))
            }
            TestDb::Postgres(_) => TestDb::Postgres(pg_target(BENCH).expect("the cluster is still there")),
        })
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let TestDb::Postgres(_) = self.0 {
            // The URL's search path names the fresh schema: it is the current one.
            self.0.batch("DO $$ BEGIN EXECUTE 'DROP SCHEMA ' || quote_ident(current_schema()) || ' CASCADE'; END $$");
        }
    }
}

fn import_10k(c: &mut Criterion) {
    let first = first_request();
    let runs: Vec<GovernedRun> = (0..10_000).map(|n| invoice(n, first)).collect();
    let mut group = c.benchmark_group("import_10k");
    // Seconds an iteration: ten of them, each once (flat sampling), not 55.
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(20));
    for backend in TestDb::all(BENCH) {
        group.bench_function(backend.name(), |b| {
            b.iter_batched(
                || {
                    let fresh = Fresh::like(&backend);
                    let store = fresh.0.open();
                    (fresh, store)
                },
                |(fresh, store)| {
                    let mut importer = store.importer(IMPORTER).unwrap_or_else(|e| panic!("import: {e}"));
                    for run in &runs {
                        importer.add(run).unwrap_or_else(|e| panic!("import: {e}"));
                    }
                    let report = importer.commit().unwrap_or_else(|e| panic!("import: {e}"));
                    assert_eq!(report.imported.len(), runs.len());
                    (store, fresh)
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// One approval's store work, everything `review::pipeline::decide` asks of the store for an approval
/// that completes the quorum and executes, in its order, with F&O's requests and the CPU-only judgement
/// (policy, digest, compensation plan) left out. Unsigned decisions: no checkpoint is read or written.
fn decision(location: &StoreLocation, id: &RunId) {
    // `review::Db::open`: the store, its busy timeout, and any journal of kept-aside evidence folded in.
    let mut store = location.open().unwrap_or_else(ok("open"));
    store.set_busy_timeout(BUSY_TIMEOUT).unwrap_or_else(ok("busy timeout"));
    journal::fold(&store).unwrap_or_else(ok("fold"));
    let journal = Journal::for_store(location);
    // The reviewed digest is the stored one; the claim; the run's state against its chain; its status.
    let digest = store.get(id).unwrap_or_else(ok("get")).expect("the run").digest;
    let claim = Claim::take(&store, id, &claim::holder(APPROVER), Duration::from_secs(300)).unwrap_or_else(ok("claim"));
    store.verify_run(id).unwrap_or_else(ok("verify"));
    assert_eq!(store.status(id).unwrap_or_else(ok("status")), Some(RunStatus::Pending));
    // `decide_claimed`: the run, the synced catalog's facts, and (after F&O's reads) the duplicates.
    let stored = store.get(id).unwrap_or_else(ok("get")).expect("the run");
    let _known = facts::load(&store).unwrap_or_else(ok("facts"));
    let others = facts::other_invoices(&store, &stored.run).unwrap_or_else(ok("other invoices"));
    assert!(others.is_empty(), "{others:?}");
    // `judge`: the re-validation's evidence, the approval, the approvals re-read, approved.
    store
        .append_audit(APPROVER, Some(id), "decision.revalidated", json!({ "decision": "approve", "digest": digest }))
        .unwrap_or_else(ok("revalidated"));
    let approval = NewApproval {
        approver: APPROVER,
        reason: "coding checked",
        digest: &digest,
        policy_version: "bench",
        at: Utc::now(),
        signature: None,
    };
    store.record_signed_approval(id, &approval).unwrap_or_else(ok("approval"));
    assert_eq!(store.approvals(id).unwrap_or_else(ok("approvals")).len(), 1);
    store
        .transition(id, &[RunStatus::Pending], RunStatus::Approved, APPROVER, json!({ "digest": digest }))
        .unwrap_or_else(ok("approved"));
    // `send`: into executing; the lease renewed before each of F&O's two writes; then every exchange
    // kept (two reads, two writes) and the outcome recorded, both through the evidence journal.
    store
        .transition(id, &[RunStatus::Approved], RunStatus::Executing, APPROVER, json!({ "decision": "approve" }))
        .unwrap_or_else(ok("executing"));
    for _ in 0..2 {
        claim.renew(&store).unwrap_or_else(ok("renew"));
    }
    for step in ["GET VendorInvoiceHeaders", "GET VendorInvoiceLines", "PATCH VendorInvoiceLines", "POST approve"] {
        let json = json!({ "request": step, "status": 200 }).to_string();
        let entry = Entry::Exchange { run_id: id.clone(), actor: APPROVER.into(), json };
        journal.write(&store, entry).unwrap_or_else(ok("exchange"));
    }
    let concluded = Entry::Transition {
        run_id: id.clone(),
        from: vec![RunStatus::Executing, RunStatus::Unknown, RunStatus::HandedOver],
        to: RunStatus::Executed,
        actor: APPROVER.into(),
        detail: json!({ "decision": "approve", "answer": { "status": 204 } }),
    };
    journal.write(&store, concluded).unwrap_or_else(ok("executed"));
    claim.release(&store).unwrap_or_else(ok("release"));
    assert!(!journal.used(), "the store took every write");
}

/// For `unwrap_or_else`: panic naming what failed.
fn ok<T>(what: &'static str) -> impl FnOnce(StoreError) -> T {
    move |e| panic!("{what}: {e}")
}

/// A [`Large`] store on one backend, built when a bench first needs it (a filtered run builds none it
/// does not measure).
struct Lazy {
    name: &'static str,
    db: std::cell::Cell<Option<TestDb>>,
    built: std::cell::OnceCell<Large>,
}

impl Lazy {
    fn get(&self, runtime: &tokio::runtime::Runtime) -> &Large {
        self.built.get_or_init(|| {
            let s = large(self.db.take().expect("built once"));
            // The first start and queue load after the build, stage by stage (the store is warm, as on a
            // working host).
            eprintln!("{}: one start: {:?}", self.name, queue_open::start(&s.config, &s.location, runtime).0);
            let (config, source) = queue_open::source(&s.config, &s.location, runtime);
            eprintln!("{}: one queue load: {:?}", self.name, queue_open::whole_queue(&config, &source).0);
            s
        })
    }
}

fn on_large_stores(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let stores: Vec<Lazy> = TestDb::all(BENCH)
        .into_iter()
        .map(|db| Lazy { name: db.name(), db: std::cell::Cell::new(Some(db)), built: std::cell::OnceCell::new() })
        .collect();

    let mut group = c.benchmark_group("queue_100k_first_screen");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for s in &stores {
        group.bench_function(s.name, |b| {
            let s = s.get(&runtime);
            // One start at a time, dropped outside the measurement: what a start holds includes its store
            // watcher, and a batch of them kept alive would empty PostgreSQL's pool of eight.
            b.iter_batched(|| (), |()| queue_open::start(&s.config, &s.location, &runtime), BatchSize::PerIteration)
        });
    }
    group.finish();

    let mut group = c.benchmark_group("queue_100k_whole");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(30));
    for s in &stores {
        group.bench_function(s.name, |b| {
            let s = s.get(&runtime);
            let (config, source) = queue_open::source(&s.config, &s.location, &runtime);
            b.iter_with_large_drop(|| {
                let (_, judged, state) = queue_open::whole_queue(&config, &source);
                assert_eq!(judged, OPEN as usize);
                state
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decision_store_work");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    let next = AtomicU32::new(0);
    for s in &stores {
        group.bench_function(s.name, |b| {
            let s = s.get(&runtime);
            b.iter_batched(
                || {
                    // A fresh open invoice to decide (a number no other invoice has, no twin), imported
                    // outside the measurement.
                    let n = 10_000_000 + next.fetch_add(1, Ordering::Relaxed) * 100 + 51;
                    let run = invoice(n, first_request());
                    s.db.open().import(std::slice::from_ref(&run), IMPORTER).unwrap_or_else(|e| panic!("import: {e}"));
                    run.id
                },
                |id| decision(&s.location, &id),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, import_10k, on_large_stores);
criterion_main!(benches);
