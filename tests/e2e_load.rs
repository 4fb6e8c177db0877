//! Mixed load through the real binary, on each backend: eight processes at a time for 30 s, each
//! importing new runs, listing, and approving or rejecting runs others imported too, against one
//! simulator. Afterwards nothing a process reported is missing from the audit chain, every executed run
//! wrote to F&O exactly once and no other run wrote at all, no run is left executing, and the chain
//! verifies.

use crate::e2e_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e_support::{Site, backends, text};
use serde_json::{Value, json};
use signoff::model::{RunId, RunStatus};

const PROCESSES: usize = 8;
const LOAD: Duration = Duration::from_secs(30);
/// Imports prepared per process, two run files each: more than a process gets to in 30 s on two cores.
const BATCHES: usize = 40;

/// What one process reported, as its output said.
enum Reported {
    Imported {
        ids: Vec<String>,
    },
    Listed {
        missing: Vec<String>,
    },
    Decided {
        approver: String,
        id: String,
        kind: &'static str,
        outcome: Value,
    },
    /// No outcome: the command and what it printed.
    Error(String),
}

fn approver(process: usize) -> String {
    format!("approver{}@contoso.com", process + 1)
}

/// The vendor account run `n` of process `p` changes: its own record, so F&O's log tells its writes apart.
fn account(p: usize, n: usize) -> String {
    format!("LD{p}-{n:03}")
}

/// Vendors in the simulator and run files on disk for every process: `BATCHES` directories of two runs
/// each (quorum 1 and quorum 2), one directory per `runs import`.
fn prepare(site: &Site) -> (Vec<Vec<PathBuf>>, BTreeMap<String, String>) {
    let mut vendors = Vec::new();
    for p in 0..PROCESSES {
        for n in 0..BATCHES * 2 {
            vendors.push(json!({
                "dataAreaId": "usmf", "VendorAccountNumber": account(p, n),
                "VendorOrganizationName": format!("Load Test Supplier {}", account(p, n)),
                "VendorGroupId": "10", "CurrencyCode": "USD", "DefaultPaymentTermsName": "Net45",
                "OnHoldStatus": "No", "SalesTaxGroupCode": "CA", "BankAccountId": "BOA-0001",
            }));
        }
    }
    site.h.sim.insert_records("VendorsV2", vendors).unwrap();
    let mut vendor_of = BTreeMap::new();
    let batches = (0..PROCESSES)
        .map(|p| {
            (0..BATCHES)
                .map(|b| {
                    let runs: Vec<_> = (0..2)
                        .map(|i| {
                            let n = b * 2 + i;
                            let id = format!("RUN-LOAD-{p}-{n:03}");
                            let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": account(p, n)});
                            vendor_of.insert(id.clone(), account(p, n));
                            e2e_support::terms_run(&site.h, &id, &keys, 1 + i as u32)
                        })
                        .collect();
                    let dir = site.h.dir.path().join(format!("load/{p}/{b:03}"));
                    crate::common::write_runs(&dir, &runs);
                    dir
                })
                .collect()
        })
        .collect();
    (batches, vendor_of)
}

/// One process's loop: import, list, decide, in turn, until the load's time is up.
fn work(site: &Site, p: usize, batches: &[PathBuf], pool: &Mutex<Vec<String>>, until: Instant) -> Vec<Reported> {
    let me = approver(p);
    let mut reports = Vec::new();
    let mut batches = batches.iter();
    let mut seed = 0x9e37_79b9_u64.wrapping_mul(p as u64 + 1);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut step = p; // the processes start at different steps of the loop
    while Instant::now() < until {
        step += 1;
        let run = |args: &[&str]| {
            let out = site.command(&me, args).output().unwrap();
            (out.status.code(), serde_json::from_slice::<Value>(&out.stdout), text(&out))
        };
        let error = |args: &[&str], output: String| Reported::Error(format!("signoff {args:?}: {output}"));
        match step % 3 {
            0 => {
                let Some(dir) = batches.next() else { continue };
                let args = ["--json", "runs", "import", dir.to_str().unwrap()];
                match run(&args) {
                    (Some(0), Ok(report), _) => {
                        let ids: Vec<String> = report["imported"]
                            .as_array()
                            .unwrap_or(&vec![])
                            .iter()
                            .map(|v| v.as_str().or(v["id"].as_str()).unwrap_or_default().to_string())
                            .collect();
                        pool.lock().unwrap().extend(ids.iter().cloned());
                        reports.push(Reported::Imported { ids });
                    }
                    (_, _, output) => reports.push(error(&args, output)),
                }
            }
            1 => {
                // Every import reported done before the list started must be in it.
                let known: Vec<String> = pool.lock().unwrap().clone();
                let args = ["--json", "runs", "list"];
                match run(&args) {
                    (Some(0), Ok(Value::Array(rows)), _) => {
                        let listed: BTreeSet<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
                        let missing = known.into_iter().filter(|id| !listed.contains(id.as_str())).collect();
                        reports.push(Reported::Listed { missing });
                    }
                    (_, _, output) => reports.push(error(&args, output)),
                }
            }
            _ => {
                // One of the ten newest runs: the processes meet on the same runs.
                let id = {
                    let pool = pool.lock().unwrap();
                    if pool.is_empty() {
                        continue;
                    }
                    let newest = &pool[pool.len().saturating_sub(10)..];
                    newest[next() as usize % newest.len()].clone()
                };
                let kind = if next() % 4 == 0 { "reject" } else { "approve" };
                let args = ["--json", kind, id.as_str(), "--reason", "Supplier terms checked against the contract"];
                match run(&args) {
                    (Some(0 | 4), Ok(outcome), _) if outcome.get("outcome").is_some() => {
                        reports.push(Reported::Decided { approver: me.clone(), id, kind, outcome })
                    }
                    (_, _, output) => reports.push(error(&args, output)),
                }
            }
        }
    }
    reports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_importing_listing_and_deciding_for_30_s_lose_nothing_and_write_each_run_once() {
    for db in backends(
        "e2e_load::eight_processes_importing_listing_and_deciding_for_30_s_lose_nothing_and_write_each_run_once",
    ) {
        // A request answered slowly under load is still answered: no decision is lost to a timeout here.
        let site = Site::start(db, |c| c.environment.timeout_secs = 30).await;
        let backend = site.name();
        let (batches, vendor_of) = prepare(&site);
        site.h.sim.clear_requests();
        let pool = Mutex::new(Vec::<String>::new());

        let started = Instant::now();
        let until = started + LOAD;
        let reports: Vec<Reported> = tokio::task::block_in_place(|| {
            std::thread::scope(|s| {
                let workers: Vec<_> = batches
                    .iter()
                    .enumerate()
                    .map(|(p, mine)| {
                        let (site, pool) = (&site, &pool);
                        s.spawn(move || work(site, p, mine, pool, until))
                    })
                    .collect();
                workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
            })
        });
        let elapsed = started.elapsed();

        let errors: Vec<&str> = reports
            .iter()
            .filter_map(|r| match r {
                Reported::Error(e) => Some(e.as_str()),
                _ => None,
            })
            .collect();
        assert!(errors.is_empty(), "{backend}: every process ended with its outcome: {errors:#?}");
        let store = site.store();
        let mut imported = 0;
        let mut decided: BTreeMap<&str, usize> = BTreeMap::new();
        let mut lists = 0;
        for report in &reports {
            match report {
                Reported::Imported { ids } => {
                    assert_eq!(ids.len(), 2, "{backend}: an import of two new runs imported {ids:?}");
                    for id in ids {
                        let events = store.audit_events(&RunId::from(id.as_str())).unwrap();
                        let count = events.iter().filter(|e| e.kind == "run.imported").count();
                        assert_eq!(count, 1, "{backend}: {id} reported imported has its one import event");
                        imported += 1;
                    }
                }
                Reported::Listed { missing, .. } => {
                    assert!(missing.is_empty(), "{backend}: imported before the list began, not listed: {missing:?}");
                    lists += 1;
                }
                Reported::Decided { approver, id, kind, outcome } => {
                    let name = outcome["outcome"].as_str().unwrap_or_default();
                    *decided.entry(name).or_default() += 1;
                    let events = store.audit_events(&RunId::from(id.as_str())).unwrap();
                    let by_them = |kind: &str| events.iter().filter(|e| e.kind == kind && &e.actor == approver).count();
                    let moved_to = |to: &str| {
                        let moved = |e: &&signoff::store::AuditEvent| e.kind == "run.status" && e.payload["to"] == to;
                        events.iter().filter(moved).filter(|e| &e.actor == approver).count()
                    };
                    let recorded = match name {
                        "executed" => moved_to("executing") == 1 && moved_to("executed") == 1,
                        "approval-recorded" => by_them("approval.recorded") == 1,
                        "rejected" => moved_to("rejected") == 1,
                        "refused" => by_them("decision.refused") >= 1,
                        other => panic!("{backend}: {approver} {kind} {id}: unexpected outcome {other}: {outcome}"),
                    };
                    assert!(recorded, "{backend}: {approver}'s {kind} of {id} ({name}) is in the audit chain");
                }
                Reported::Error(_) => unreachable!(),
            }
        }

        // F&O's log and the store agree run by run: one write for each executed run, none for any other.
        let writes = site.h.writes();
        let mut executed = 0;
        for summary in store.summaries(&Default::default()).unwrap() {
            let id = summary.id.as_str();
            let status = store.status(&summary.id).unwrap().unwrap();
            assert!(
                matches!(status, RunStatus::Pending | RunStatus::Approved | RunStatus::Executed | RunStatus::Rejected),
                "{backend}: {id} is left {status}"
            );
            let vendor = &vendor_of[id];
            let needle = format!("VendorAccountNumber='{vendor}'");
            let written: Vec<_> = writes.iter().filter(|r| r.target.contains(&needle)).collect();
            let live = site.h.sim.record("VendorsV2", &json!({"dataAreaId": "usmf", "VendorAccountNumber": vendor}));
            let terms = live.unwrap()["DefaultPaymentTermsName"].clone();
            if status == RunStatus::Executed {
                executed += 1;
                assert_eq!(written.len(), 1, "{backend}: {id} executed with one write: {written:#?}");
                assert_eq!(terms, "Net30", "{backend}: {id}");
            } else {
                assert!(written.is_empty(), "{backend}: {id} is {status} and wrote nothing: {written:#?}");
                assert_eq!(terms, "Net45", "{backend}: {id}");
            }
        }
        assert_eq!(writes.len(), executed, "{backend}: no write belongs to no run");
        assert_eq!(store.count_runs().unwrap() as usize, imported, "{backend}: every run in the store was reported");
        assert!(executed > 0 && decided.contains_key("rejected"), "{backend}: the load decided: {decided:?}");
        site.assert_chain_verified().await;
        eprintln!(
            "{backend}: {} processes in {elapsed:.1?}: {imported} runs imported, {lists} lists, decisions {decided:?}, \
             {executed} executed",
            reports.len()
        );
    }
}
