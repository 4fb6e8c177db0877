//! What a user waits for that grows with history, measured on real SQLite stores of the adversarial
//! shape (every invoice in one company, 40 vendors):
//!
//! - a decision's store and judgement work, everything `review` does outside F&O round trips (open the
//!   store, claim, check the run against its audit chain, load it and its facts, evaluate policy, record
//!   the approval, the transitions and the exchanges, release), with 0 and with 100,000 executed invoice
//!   runs of the same company in the store. Target: ≤ 10 ms, and alike within 2×;
//! - `runs show` of one invoice (open, load, judge for the viewer) at 0 and 100,000 runs. Target ≤ 20 ms;
//! - the queue's judgement (`review::queue::queue_rows`) of 10,000 and 100,000 open invoices.
//!
//! Run with `cargo bench --bench history_cost -- --quick` for a first reading in a few minutes.

#[path = "../tests/store_common/mod.rs"]
mod common;
#[path = "../tests/judgement_common/mod.rs"]
mod judgement_common;

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::json;
use signoff::config::Config;
use signoff::model::{ActorId, GovernedRun, RunId, RunStatus};
use signoff::policy::{self, Facts, Level};
use signoff::review::{facts, preview, queue};
use signoff::store::{RunFilter, Store};

const APPROVER: &str = "ben.miller@contoso.com";
const COMPANY: &str = "USMF";

/// An invoice of the adversarial shape: USMF, vendor US-101..US-140, invoice number unique per `n`.
fn invoice(prefix: &str, n: u32) -> GovernedRun {
    common::invoice(&format!("RUN-{prefix}-{n:06}"), n, COMPANY, "1250.00")
}

/// Import `count` invoices (numbers from `first`) in chunks of 10,000, as `runs import` would.
fn import(store: &Store, prefix: &str, first: u32, count: u32) {
    let started = Instant::now();
    for chunk in (first..first + count).collect::<Vec<_>>().chunks(10_000) {
        let runs: Vec<GovernedRun> = chunk.iter().map(|&n| invoice(prefix, n)).collect();
        store.import(&runs, "svc-ap-ingest").unwrap_or_else(|e| panic!("import: {e}"));
    }
    eprintln!("imported {count} invoices in {:.1} s", started.elapsed().as_secs_f64());
}

/// A store whose `history` invoices are all executed. Their status is set in one statement: 300,000
/// audited transitions would take many minutes to build, and a decision never reads another run's chain
/// (it verifies the decided run only), so the store it meets is the same as far as its work goes.
fn executed_history(path: &Path, history: u32) -> Store {
    let store = Store::open(path).unwrap_or_else(|e| panic!("open: {e}"));
    import(&store, "HIST", 0, history);
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute("UPDATE runs SET status = 'executed'", []).unwrap_or_else(|e| panic!("history: {e}"));
    store
}

/// A decision's work outside F&O, the live record being the reviewed one (no drift).
fn decide(path: &Path, id: &RunId, config: &Config) {
    let store = Store::open(path).unwrap();
    store.acquire_lease(id, APPROVER, Duration::from_secs(300)).unwrap();
    store.verify_run(id).unwrap();
    let stored = store.get(id).unwrap().unwrap();
    let known = facts::load(&store).unwrap();
    let others = facts::other_invoices(&store, &stored.run).unwrap();
    let mut f = Facts::new(Utc::now(), ActorId(APPROVER.into()));
    f.approver_groups = config.approver.groups.clone();
    f.prior_approvers = stored.approvals.iter().map(|a| ActorId(a.approver.clone())).collect();
    f.live = Some(&stored.run.before);
    f.known_operations = known.operations.as_ref();
    f.known_entity_fields = known.entity_fields.as_ref();
    f.catalog = known.catalog.as_deref();
    f.other_runs = &others;
    let evaluation = policy::evaluate(&stored.run, &f, config);
    assert!(evaluation.verdicts.iter().any(|v| v.rule == "invoice.duplicate" && v.level == Level::Pass));
    store.record_approval(id, APPROVER, "coding checked", &stored.digest, &evaluation.policy_version).unwrap();
    use RunStatus::{Approved, Executed, Executing, Pending};
    store.transition(id, &[Pending], Approved, APPROVER, json!({})).unwrap();
    store.transition(id, &[Approved], Executing, APPROVER, json!({})).unwrap();
    for step in ["PATCH VendorInvoiceHeaders", "POST approveVendorInvoice"] {
        store.record_exchange(id, &json!({ "request": step, "status": 204 }).to_string(), APPROVER).unwrap();
    }
    store.transition(id, &[Executing], Executed, APPROVER, json!({})).unwrap();
    store.release_lease(id, APPROVER).unwrap();
}

fn decision(c: &mut Criterion) {
    let config = judgement_common::config();
    let mut group = c.benchmark_group("judgement");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for history in [0, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(executed_history(&path, history));
        let next = AtomicU32::new(1_000_000);
        group.bench_function(format!("decision_store_and_judgement_{history}_executed"), |b| {
            b.iter_batched(
                || {
                    // A fresh pending invoice to decide, imported outside the measurement.
                    let run = invoice("DECIDE", next.fetch_add(1, Ordering::Relaxed));
                    Store::open(&path).unwrap().import(std::slice::from_ref(&run), "svc-ap-ingest").unwrap();
                    run.id
                },
                |id| decide(&path, &id, &config),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn runs_show(c: &mut Criterion) {
    let config = judgement_common::config();
    let mut group = c.benchmark_group("judgement");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    for history in [0, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = executed_history(&path, history);
        // The run shown duplicates an executed invoice when there is one: the verdict must still be found.
        let shown = invoice("SHOW", 7);
        store.import(std::slice::from_ref(&shown), "svc-ap-ingest").unwrap();
        drop(store);
        let expected = if history > 0 { Level::Hard } else { Level::Pass };
        group.bench_function(format!("runs_show_{history}_executed"), |b| {
            b.iter(|| {
                let store = Store::open(&path).unwrap();
                let stored = store.get(&shown.id).unwrap().unwrap();
                let judgement = preview::judge_for_viewer(&store, &stored, &config, APPROVER, None, None).unwrap();
                let dup = judgement.evaluation.verdicts.iter().find(|v| v.rule == "invoice.duplicate").unwrap();
                assert_eq!(dup.level, expected, "{}", dup.message);
                black_box(judgement)
            });
        });
    }
    group.finish();
}

fn queue_judgement(c: &mut Criterion) {
    let config = judgement_common::config();
    let mut group = c.benchmark_group("judgement");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for open in [10_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = Store::open(&path).unwrap();
        import(&store, "OPEN", 0, open);
        // One duplicate pair among them, found by the queue's one pass.
        let mut twin = invoice("OPEN", 3);
        twin.id = RunId("RUN-OPEN-TWIN".into());
        store.import(&[twin], "svc-ap-ingest").unwrap();
        group.bench_function(format!("queue_rows_{open}_open_invoices"), |b| {
            b.iter(|| {
                let rows = queue::queue_rows(&store, &RunFilter::default(), &config, APPROVER, |_| None).unwrap();
                assert_eq!(rows.len(), open as usize + 1);
                black_box(rows)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decision, runs_show, queue_judgement);
criterion_main!(benches);
