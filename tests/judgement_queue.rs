//! The queue's batch judgement (`review::preview::assess_open_runs`) gives every open run exactly the
//! verdicts and rollback plan the per-run judgement (`review::preview::judge`, what `runs show` and the run
//! view use) gives it, on the fixture runs in a real store: approvals recorded, final runs present,
//! duplicate invoices live and dead, with and without a synced catalog.

use crate::judgement_common;

use std::collections::BTreeSet;

use serde_json::json;
use signoff::fno::metadata::{ActionDef, Catalog, EntityType, Property, catalog_to_json};
use signoff::model::{FieldValue, GovernedRun, RunId, RunStatus};
use signoff::policy::Level;
use signoff::review::preview::{assess_open_runs, assess_some_open_runs, judge};
use signoff::store::Store;

use judgement_common::{all_runs, config, run};

/// The controller previewing: nobody's requester, sponsor or creator in the fixtures.
const APPROVER: &str = "ben.miller@contoso.com";

/// A copy of `base` under a new id: same vendor, same invoice number.
fn duplicate_of(base: &GovernedRun, id: &str) -> GovernedRun {
    let mut copy = base.clone();
    copy.id = RunId(id.into());
    copy
}

/// Every fixture, plus duplicates of invoice SI-2026-4471 (US-101, usmf) in a live and a dead state, a run
/// carried to `executed` and one rejected, and approvals recorded on two runs.
fn store_of_fixtures(dir: &std::path::Path) -> Store {
    let store = Store::open(&dir.join("store.db")).unwrap();
    let mut runs: Vec<GovernedRun> = all_runs().iter().map(|name| run(name)).collect();
    let invoice = run("inv-usmf-apinv-000123");
    runs.push(duplicate_of(&invoice, "RUN-2026-DUP-EXECUTED"));
    runs.push(duplicate_of(&invoice, "RUN-2026-DUP-REJECTED"));
    runs.push(duplicate_of(&run("inv-usmf-apinv-000124"), "RUN-2026-DUP-PENDING"));
    store.import(&runs, "svc-ap-ingest").unwrap();

    let walk = |id: &str, path: &[RunStatus]| {
        let id = RunId(id.into());
        for pair in path.windows(2) {
            store.transition(&id, &[pair[0]], pair[1], "test", json!({})).unwrap();
        }
    };
    use RunStatus::{Approved, Executed, Executing, Pending, Rejected};
    walk("RUN-2026-DUP-EXECUTED", &[Pending, Approved, Executing, Executed]);
    walk("RUN-2026-DUP-REJECTED", &[Pending, Rejected]);
    let journal = run("jnl-usmf-00461").id;
    store.record_approval(&journal, "tony.krijnen@contoso.com", "balanced, checked", "d1", "p1").unwrap();
    store.record_approval(&journal, APPROVER, "second look", "d2", "p1").unwrap();
    let vendor = run("vnd-usmf-us-104").id;
    store.record_approval(&vendor, "dana.whitley@contoso.com", "bank letter on file", "d3", "p1").unwrap();
    store
}

/// A catalog naming every field the fixtures use and the invoice operations.
fn catalog() -> Catalog {
    let mut catalog = Catalog::default();
    for name in all_runs() {
        let r = run(&name);
        let ty = catalog
            .entity_types
            .entry(r.target.entity_set.clone())
            .or_insert_with(|| EntityType { name: r.target.entity_set.clone(), ..EntityType::default() });
        for (field, value) in r.before.fields.iter().chain(r.proposed.fields.iter()) {
            ty.properties.insert(field.clone(), Property::of_type(edm_type_of(value)));
        }
        catalog.entity_sets.insert(r.target.entity_set.clone(), r.target.entity_set.clone());
    }
    let bound = |name: &str| ActionDef {
        name: name.into(),
        bound_to: Some("VendorInvoiceHeaders".into()),
        collection_bound: false,
        parameters: vec![("_comment".into(), "Edm.String".into())],
        return_type: None,
    };
    catalog.actions = vec![bound("approveVendorInvoice"), bound("recallVendorInvoice")];
    catalog
}

/// The Edm type F&O would declare for a fixture value (numbers are decimals, dates are text here).
fn edm_type_of(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::Number(_) => "Edm.Decimal",
        FieldValue::Bool(_) => "Edm.Boolean",
        _ => "Edm.String",
    }
}

/// Compare the batch with `judge` run by run; returns how many runs were compared.
fn assert_batch_matches_per_run(store: &Store) -> usize {
    let config = config();
    let batch = assess_open_runs(store, &config, APPROVER, |_| None).unwrap();
    let open: BTreeSet<RunId> = store
        .summaries(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|s| !s.status.is_final())
        .map(|s| s.id)
        .collect();
    assert_eq!(batch.keys().cloned().collect::<BTreeSet<_>>(), open, "the batch judges exactly the open runs");
    for id in &open {
        let stored = store.get(id).unwrap().unwrap();
        let alone = judge(store, &stored, &config, APPROVER, None, None).unwrap();
        let together = &batch[id];
        assert_eq!(together.evaluation, alone.evaluation, "verdicts of {id}");
        assert_eq!(together.rollback, alone.rollback, "rollback plan of {id}");
    }
    // The TUI judges the rows on screen first, then the rest in batches: a few runs at a time, each
    // batch's duplicates looked up in the key index, must judge every run exactly as the whole queue does.
    let ids: Vec<RunId> = open.iter().cloned().collect();
    for few in ids.chunks(3) {
        let some = assess_some_open_runs(store, &config, APPROVER, Some(few), |_| None, |_, a| a).unwrap();
        assert_eq!(some.keys().cloned().collect::<BTreeSet<_>>(), few.iter().cloned().collect(), "{few:?}");
        for id in few {
            assert_eq!(some[id].evaluation, batch[id].evaluation, "verdicts of {id}, judged a few at a time");
            assert_eq!(some[id].rollback, batch[id].rollback, "rollback plan of {id}, judged a few at a time");
        }
    }
    open.len()
}

#[test]
fn the_queue_batch_gives_every_open_run_the_verdicts_and_rollback_plan_of_judging_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_fixtures(dir.path());
    // Never synced: every catalog rule fails closed, in both paths alike.
    assert_eq!(assert_batch_matches_per_run(&store), all_runs().len() + 1);
    store.save_catalog(&catalog_to_json(&catalog()).unwrap(), "sync-test").unwrap();
    assert_eq!(assert_batch_matches_per_run(&store), all_runs().len() + 1);
}

#[test]
fn the_queue_batch_flags_duplicates_of_live_runs_and_ignores_rejected_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_fixtures(dir.path());
    let batch = assess_open_runs(&store, &config(), APPROVER, |_| None).unwrap();
    let duplicate = |id: &str| {
        batch[&RunId(id.into())]
            .evaluation
            .verdicts
            .iter()
            .find(|v| v.rule == "invoice.duplicate")
            .map(|v| (v.level, v.message.clone()))
            .unwrap()
    };
    // SI-2026-4471 is also in an executed run: flagged. The rejected copy does not count.
    let (level, message) = duplicate(run("inv-usmf-apinv-000123").id.as_str());
    assert_eq!(level, Level::Hard);
    assert!(message.contains("RUN-2026-DUP-EXECUTED") && !message.contains("RUN-2026-DUP-REJECTED"), "{message}");
    // Two pending runs carry FE-88213: each names the other.
    let original = run("inv-usmf-apinv-000124").id;
    let (level, message) = duplicate("RUN-2026-DUP-PENDING");
    assert_eq!(level, Level::Hard);
    assert!(message.contains(original.as_str()), "{message}");
    assert_eq!(duplicate(original.as_str()).0, Level::Hard);
    // An invoice nobody else carries passes.
    assert_eq!(duplicate(run("inv-usmf-apinv-000131").id.as_str()).0, Level::Pass);
}

/// `runs list --company demf` (a narrowed list) judges only its own open runs, each on its own, and gives
/// each row exactly the judgement the whole queue gives it.
#[test]
fn a_narrowed_list_judges_its_own_rows_as_the_whole_queue_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_fixtures(dir.path());
    store.save_catalog(&catalog_to_json(&catalog()).unwrap(), "sync-test").unwrap();
    let config = config();
    let whole = signoff::review::queue::queue_rows(&store, &Default::default(), &config, APPROVER, |_| None).unwrap();
    for filter in [
        signoff::store::RunFilter { company: Some("demf".into()), ..Default::default() },
        signoff::store::RunFilter { status: Some(RunStatus::Pending), ..Default::default() },
        signoff::store::RunFilter { status: Some(RunStatus::Executed), ..Default::default() },
    ] {
        let narrowed = signoff::review::queue::queue_rows(&store, &filter, &config, APPROVER, |_| None).unwrap();
        assert!(!narrowed.is_empty() && narrowed.len() < whole.len(), "{filter:?}");
        for row in &narrowed {
            let same = whole.iter().find(|w| w.id == row.id).unwrap();
            assert_eq!((row.judged, row.required_approvals), (same.judged, same.required_approvals), "{}", row.id);
            assert_eq!(row.judged.is_some(), !row.status.is_final(), "{}: open rows are judged", row.id);
        }
    }
}
