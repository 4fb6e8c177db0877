//! The TUI's source backed by the real pipeline: a demo environment (simulator on 127.0.0.1, a real SQLite
//! store), decisions taken through `ReviewSource::decide` exactly as the TUI takes them.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::common;

use signoff::cli::demo::DemoEnv;
use signoff::cli::tui_source::PipelineSource;
use signoff::model::Level;
use signoff::model::{RunId, RunStatus};
use signoff::tui::action::{Action, Effect};
use signoff::tui::source::{DecisionKind, DecisionRequest, OutcomeKind, Progress, ReviewSource};
use signoff::tui::state::Tab;
use signoff::tui::views::layout;

struct World {
    runtime: tokio::runtime::Runtime,
    env: DemoEnv,
    source: PipelineSource,
}

fn world() -> World {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let env = runtime.block_on(DemoEnv::start(None)).unwrap();
    let reviewer = runtime.block_on(env.reviewer()).unwrap();
    let source = PipelineSource::new(reviewer, Arc::new(env.config.clone()), runtime.handle().clone());
    World { runtime, env, source }
}

/// The digest of run `id` as the run view shows it: what the approver reviewed.
fn shown(w: &World, id: &str) -> String {
    w.source.detail(&RunId::from(id)).unwrap().run.payload_digest()
}

fn approve(w: &World, id: &str, reason: &str) -> DecisionRequest {
    DecisionRequest {
        run_id: RunId::from(id),
        kind: DecisionKind::Approve,
        reason: Some(reason.into()),
        reviewed_digest: shown(w, id),
        confirm_environment: None,
    }
}

fn writes(env: &DemoEnv) -> usize {
    env.sim.requests().iter().filter(|r| r.method != "GET" && !r.target.contains("/oauth2/")).count()
}

#[test]
fn the_queue_carries_policy_and_rollback_for_every_open_run_and_expired_runs_show_as_expired() {
    let w = world();
    // The rows come at once, unjudged; their judgement follows in batches, as the TUI asks for it.
    let unjudged = w.source.summaries().unwrap();
    assert!(unjudged.iter().all(|s| s.judged.is_none()));
    let tui = common::Harness::over(120, 40, common::options(signoff::config::ColorMode::None), &w.source);
    assert_eq!(tui.state.queue.judging, None, "every batch arrived");
    let summaries = tui.state.queue.all.clone();
    assert_eq!(summaries.len(), 23);
    for s in summaries.iter().filter(|s| !s.status.is_final()) {
        assert!(s.judged.is_some(), "{} has no judgement columns", s.id);
    }
    let expired = summaries.iter().find(|s| s.id.as_str() == "run-inv-usmf-apinv-000098").unwrap();
    assert_eq!(expired.status, RunStatus::Expired);
    let bank_change = summaries.iter().find(|s| s.id.as_str() == "run-vnd-usmf-us-104").unwrap();
    assert_eq!(bank_change.judged.map(|j| j.worst), Some(Level::Soft), "{bank_change:?}");
    // Journals' main accounts are read live for the queue too, so a clean journal is not shown as blocked.
    let journal = summaries.iter().find(|s| s.id.as_str() == "run-jnl-usmf-00461").unwrap();
    assert!(journal.judged.is_some_and(|j| j.worst < Level::Hard), "{journal:?}");
    drop(w.runtime);
}

#[test]
fn an_approval_reports_each_step_and_executes_in_fno() {
    let w = world();
    let steps = Arc::new(Mutex::new(Vec::<signoff::tui::source::DecisionStep>::new()));
    let sink = Arc::clone(&steps);
    let progress: Progress = Arc::new(move |s| sink.lock().unwrap().push(s));
    let outcome = w
        .source
        .decide(
            approve(&w, "run-inv-usmf-apinv-000123", "matched to receipt"),
            progress,
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Executed, "{}", outcome.message);
    let reported = steps.lock().unwrap().clone();
    // Esc can stop the decision until the write is on its way, and the steps say exactly when that is.
    let first_send = reported.iter().position(|s| s.sending).expect("a step marked as sending");
    assert!(reported[first_send].text.contains("sending"), "{reported:?}");
    assert!(reported[..first_send].iter().all(|s| !s.text.contains("sending")), "{reported:?}");
    let steps: Vec<String> = reported.into_iter().map(|s| s.text).collect();
    let order = ["re-reading", "comparing", "re-evaluating", "sending", "recording"];
    let positions: Vec<usize> = order
        .iter()
        .map(|w| steps.iter().position(|s| s.contains(w)).unwrap_or_else(|| panic!("{w}: {steps:?}")))
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "steps out of order: {steps:?}");
    let invoice = w
        .env
        .sim
        .record("VendorInvoiceHeaders", &serde_json::json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"}))
        .unwrap();
    assert_eq!(invoice["IsApproved"], "Yes", "{invoice}");
}

#[test]
fn a_cancelled_decision_sends_nothing_and_leaves_the_run_pending() {
    let w = world();
    let before = writes(&w.env);
    let outcome = w
        .source
        .decide(
            approve(&w, "run-inv-usmf-apinv-000124", "matched to receipt"),
            Arc::new(|_| {}),
            Arc::new(AtomicBool::new(true)),
        )
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Pending, "{}", outcome.message);
    assert!(outcome.message.contains("cancel"), "{}", outcome.message);
    assert_eq!(writes(&w.env), before, "nothing was sent to F&O");
}

#[test]
fn opening_a_journal_checks_its_main_accounts_live_as_the_decision_will() {
    let w = world();
    let detail = w.source.detail(&RunId::from("run-jnl-usmf-00461")).unwrap();
    let policy: Vec<String> =
        detail.policy.lines.iter().map(|l| l.iter().map(|(_, t)| t.as_str()).collect::<String>()).collect();
    let account = policy.iter().find(|l| l.contains("journal.account")).expect("a journal.account verdict");
    assert!(account.contains("pass"), "{policy:#?}");
    assert!(
        w.env.sim.requests().iter().any(|r| r.method == "GET" && r.target.contains("MainAccounts")),
        "the accounts were read from F&O"
    );
}

#[test]
fn a_dry_run_shows_the_exact_requests_in_both_diff_layouts_and_writes_nothing() {
    let w = world();
    let before = writes(&w.env);
    let request = DecisionRequest {
        run_id: RunId::from("run-vnd-usmf-us-104"),
        kind: DecisionKind::DryRun,
        reason: None,
        reviewed_digest: shown(&w, "run-vnd-usmf-us-104"),
        confirm_environment: None,
    };
    let outcome = w.source.decide(request, Arc::new(|_| {}), Arc::new(AtomicBool::new(false))).unwrap();
    assert_eq!(writes(&w.env), before, "a dry run sends no write");
    let detail = outcome.detail.expect("the dry run's detail");
    for section in [&detail.diff, &detail.diff_unified] {
        let text: Vec<String> = section.lines.iter().map(|l| l.iter().map(|(_, t)| t.as_str()).collect()).collect();
        assert!(text[0].starts_with("Dry run: nothing was written"), "{text:#?}");
        assert!(text.iter().any(|l| l.starts_with("PATCH ") && l.contains("/data/VendorsV2(")), "{text:#?}");
        assert!(text.iter().any(|l| l.contains("If-Match: W/")), "{text:#?}");
        assert!(text.iter().any(|l| l.contains("Authorization: Bearer ***")), "the token is masked: {text:#?}");
        assert!(text.iter().any(|l| l.contains(r#"{"BankAccountId":"WF-CHK-441"}"#)), "{text:#?}");
    }
}

#[test]
fn a_rollback_goes_through_the_pipeline_and_a_refused_one_is_not_reported_as_done() {
    let w = world();
    let quiet = || -> Progress { Arc::new(|_| {}) };
    let id = "run-inv-usmf-apinv-000123";
    let approved =
        w.source.decide(approve(&w, id, "matched to receipt"), quiet(), Arc::new(AtomicBool::new(false))).unwrap();
    assert_eq!((approved.status, approved.kind), (RunStatus::Executed, OutcomeKind::Done), "{}", approved.message);
    let plan = &approved.detail.as_ref().expect("the detail comes back").rollback_plan;
    assert!(plan.recipe.iter().any(|r| r.path.contains("signoffRecall")), "{plan:?}");
    let digest = shown(&w, id);
    let rollback = |reason: &str| DecisionRequest {
        run_id: RunId::from(id),
        kind: DecisionKind::Rollback,
        reason: Some(reason.into()),
        reviewed_digest: digest.clone(),
        confirm_environment: None,
    };
    let back =
        w.source.decide(rollback("approved against the wrong receipt"), quiet(), Arc::new(AtomicBool::new(false)));
    let back = back.unwrap();
    assert_eq!((back.status, back.kind), (RunStatus::RolledBack, OutcomeKind::Done), "{}", back.message);
    assert!(back.message.contains("rolled back"), "{}", back.message);
    let again = w.source.decide(rollback("once more"), quiet(), Arc::new(AtomicBool::new(false))).unwrap();
    assert_eq!((again.status, again.kind), (RunStatus::RolledBack, OutcomeKind::NothingWritten), "{}", again.message);
    drop(w.runtime);
}

#[test]
fn a_demo_approval_is_signed_by_the_demo_approvers_throwaway_key() {
    let w = world();
    let id = "run-inv-usmf-apinv-000123";
    let outcome = w
        .source
        .decide(approve(&w, id, "matched to receipt"), Arc::new(|_| {}), Arc::new(AtomicBool::new(false)))
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Executed, "{}", outcome.message);
    let store = signoff::store::Store::open(&w.env.store_path).unwrap();
    let approval = store.approvals(&RunId::from(id)).unwrap().remove(0);
    assert_eq!(approval.approver, signoff::cli::demo::DEMO_APPROVER);
    let signature = approval.signature.as_deref().expect("the demo signs its approvals");
    let allowed_path = w.env.config.approver.allowed_signers.clone().expect("the demo writes an allowed-signers file");
    let allowed = signoff::sign::AllowedSigners::load(&allowed_path).unwrap();
    let message = signoff::sign::DecisionMessage::new(
        id,
        "approve",
        &approval.approver,
        &approval.reason,
        &approval.digest,
        approval.approved_at,
    );
    let verified = signoff::sign::verify(&allowed, &message.to_bytes(), signature, approval.approved_at).unwrap();
    assert!(verified.proves(signoff::cli::demo::DEMO_APPROVER), "{verified:?}");
    let recorded =
        store.audit_events(&RunId::from(id)).unwrap().into_iter().find(|e| e.kind == "approval.recorded").unwrap();
    assert_eq!(recorded.payload["signature"], signature);
    // The run view's audit tab shows the signed identity and its key.
    let detail = outcome.detail.expect("the outcome carries the run's detail");
    let lines: Vec<String> = signoff::tui::sections::audit_lines(&detail.history)
        .iter()
        .map(|l| l.iter().map(|(_, t)| t.as_str()).collect::<String>())
        .collect();
    let shown = lines.iter().find(|l| l.contains("approval.recorded")).expect("the approval event is listed");
    assert!(shown.contains(signoff::cli::demo::DEMO_APPROVER), "{shown}");
    assert!(shown.contains(&format!("signed {}", verified.fingerprint)), "{shown}");
    // What was sent stays visible: every exchange the store recorded is opened under its event, with the
    // method, the URL and F&O's status; the status changes say from → to.
    let exchanges = store.exchanges(&RunId::from(id)).unwrap();
    assert!(!exchanges.is_empty());
    for x in &exchanges {
        let recorded: serde_json::Value = serde_json::from_str(&x.json).unwrap();
        let request = format!("{} {}", recorded["method"].as_str().unwrap(), recorded["url"].as_str().unwrap());
        let line = lines.iter().find(|l| l.contains(&request)).unwrap_or_else(|| panic!("{request}: {lines:#?}"));
        assert!(line.contains(&format!("→ {}", recorded["status"])), "{line}");
    }
    assert!(lines.iter().any(|l| l.contains("run.status") && l.contains("executing → executed")), "{lines:#?}");
    drop(w.runtime);
}

/// `signoff --json ARGS` on the demo's store and config, as another terminal on the jump host would run it.
fn cli_json(env: &DemoEnv, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .arg("--json")
        .args(["--config", env.config_path.to_str().unwrap(), "--store", env.store_path.to_str().unwrap()])
        .args(args)
        .env("SIGNOFF_APPROVER", signoff::cli::demo::DEMO_APPROVER)
        .env_remove("SIGNOFF_STORE")
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "signoff {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// "given of required" as every view of the run shows it: the queue row, the run view's header, the
/// approve dialog, `runs list --json` and `runs show --json`.
fn counts_everywhere(w: &World, id: &str) -> Vec<(&'static str, String)> {
    let mut tui = common::Harness::over(120, 40, common::options(signoff::config::ColorMode::None), &w.source);
    tui.select(id);
    let row = tui.state.queue.current().unwrap().clone();
    tui.press("a");
    let header = tui.screen().lines().find(|l| l.contains("approvals ")).unwrap_or_default().to_string();
    let header = header.split("approvals ").nth(1).unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>();
    let Some(signoff::tui::state::Overlay::Dialog(dialog)) = &tui.state.overlay else {
        panic!("no approve dialog on {id}: {:?}", tui.state.flash)
    };
    let line = dialog.summary.iter().find(|l| l.label == "Approvals").unwrap();
    let listed = cli_json(&w.env, &["runs", "list"]);
    let listed = listed.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    let shown = cli_json(&w.env, &["runs", "show", id]);
    vec![
        ("queue", format!("{} of {}", row.approvals, row.required_approvals)),
        ("header", header.join(" ")),
        ("dialog", line.value.split(" given").next().unwrap().to_string()),
        ("runs list --json", format!("{} of {}", listed["approvals"], listed["required_approvals"])),
        (
            "runs show --json",
            format!("{} of {}", shown["approvals"].as_array().unwrap().len(), shown["required_approvals"]),
        ),
    ]
}

#[test]
fn the_bank_change_a_soft_user_run_and_a_10000_journal_show_one_count_everywhere_before_and_after_an_approval() {
    let w = world();
    // The bank-account change (high risk), enabling a user (soft), a 10,000.00 journal (amount quorum).
    for id in ["run-vnd-usmf-us-104", "run-usr-enable-akumar", "run-jnl-usmf-00482"] {
        let before = counts_everywhere(&w, id);
        assert!(before.iter().all(|(_, c)| c == "0 of 2"), "{id}: {before:#?}");
        let digest = shown(&w, id);
        let first = DecisionRequest {
            run_id: RunId::from(id),
            kind: DecisionKind::Approve,
            reason: Some("checked against the request".into()),
            reviewed_digest: digest,
            confirm_environment: None,
        };
        let outcome = w.source.decide(first, Arc::new(|_| {}), Arc::new(AtomicBool::new(false))).unwrap();
        assert_eq!(outcome.status, RunStatus::Pending, "{id}: {}", outcome.message);
        let after = counts_everywhere(&w, id);
        assert!(after.iter().all(|(_, c)| c == "1 of 2"), "{id}: {after:#?}");
        // The approver's own approval reads as counted, never as "not among" the approvers.
        let detail = w.source.detail(&RunId::from(id)).unwrap();
        let text: String = detail.policy.lines.iter().flat_map(|l| l.spans.iter()).map(|(_, t)| t.as_str()).collect();
        assert!(text.contains("already approved"), "{id}: {text}");
        assert!(!text.contains("is not among"), "{id}: {text}");
    }
    drop(w.runtime);
}

#[test]
fn a_run_f_and_o_refused_says_why_at_the_top_of_every_tab_when_reopened() {
    let w = world();
    let id = "run-inv-usmf-apinv-000123";
    let message = "Invoice APINV-000123 is on hold for a price variance.";
    w.env.sim.inject(signoff::sim::Fault::Refuse {
        path_contains: "signoffApprove".into(),
        message: message.into(),
        times: 1,
    });
    let outcome =
        w.source.decide(approve(&w, id, "matched to receipt"), Arc::new(|_| {}), Arc::new(AtomicBool::new(false)));
    let outcome = outcome.unwrap();
    assert_eq!((outcome.status, outcome.kind), (RunStatus::Failed, OutcomeKind::Failed), "{}", outcome.message);
    // Reopened later, as another approver would: the reason leads every tab.
    let detail = w.source.detail(&RunId::from(id)).unwrap();
    let why = detail.why.clone().expect("a failed run says why");
    assert!(why.starts_with("failed since") && why.contains(message), "{why}");
    for tab in [Tab::Diff, Tab::Lines, Tab::Policy, Tab::Rollback, Tab::Audit] {
        let content = layout::tab_content(&detail, tab, false, false);
        let first: String = content[0].iter().map(|(_, t)| t.as_str()).collect();
        assert!(first.contains(message), "{tab:?}: {first}");
    }
    drop(w.runtime);
}

/// Opening the queue: the first rows come first, in the queue's order, judged on screen before the rest
/// loads; no count is shown until every row is in; the whole queue then replaces them with their
/// judgement kept, so the policy column never blanks.
#[test]
fn the_first_screen_of_the_queue_shows_judged_before_the_rest_loads_and_the_whole_queue_keeps_it() {
    let w = world();
    let rows = layout::queue_rows(24);
    let all = w.source.summaries().unwrap();
    assert!(all.len() > rows, "the queue is longer than a screen, so the first rows are a strict part of it");
    let first = w.source.first_summaries(rows).unwrap();
    let ids = |s: &[signoff::model::RunSummary]| s.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&all[..rows]), "the first rows are the queue's first rows, in its order");

    let mut h = common::Harness::opening(120, 24, common::options(signoff::config::ColorMode::None), &w.source);
    h.dispatch(Action::FirstSummariesLoaded(first));
    assert!(h.state.partial && !h.state.loading);
    let screen = h.screen();
    assert!(screen.contains("loading the rest…") && !screen.contains(" pending "), "no counts yet:\n{screen}");
    // Every open row on screen was judged in that same dispatch (the harness runs the judging effect).
    let open_shown: Vec<_> = h.state.queue.all.iter().filter(|s| !s.status.is_final()).collect();
    assert!(!open_shown.is_empty());
    assert!(open_shown.iter().all(|s| s.judged.is_some()), "{open_shown:#?}");

    // The whole queue, unjudged as the source gives it: the first rows keep their judgement meanwhile.
    let kept: Vec<_> = open_shown.iter().map(|s| (s.id.clone(), s.judged)).collect();
    let fx = signoff::tui::reducer::update(&mut h.state, Action::SummariesLoaded(w.source.summaries()));
    assert!(!h.state.partial && h.state.queue.all.len() == all.len());
    for (id, judged) in &kept {
        assert_eq!(h.state.queue.all.iter().find(|s| &s.id == id).unwrap().judged, *judged, "{id}");
    }
    assert!(fx.iter().any(|e| matches!(e, Effect::JudgeRows { .. })), "the rest is judged: {fx:?}");
    assert!(h.screen().contains(&format!("/{} shown", all.len())), "{}", h.screen());
}

#[test]
fn the_first_rows_are_not_shown_in_another_order_and_a_failed_full_load_is_not_hidden_behind_them() {
    let w = world();
    let first = w.source.first_summaries(5).unwrap();
    // A sort chosen before the first rows arrived: five rows could not be the first of that order.
    let mut h = common::Harness::opening(120, 24, common::options(signoff::config::ColorMode::None), &w.source);
    h.press("s");
    h.dispatch(Action::FirstSummariesLoaded(first.clone()));
    assert!(h.state.loading && h.state.queue.all.is_empty(), "the first rows were not shown in another order");

    let mut h = common::Harness::opening(120, 24, common::options(signoff::config::ColorMode::None), &w.source);
    h.dispatch(Action::FirstSummariesLoaded(first));
    h.dispatch(Action::SummariesLoaded(Err("database is locked".into())));
    let screen = h.screen();
    assert!(h.state.queue.all.is_empty() && !h.state.partial);
    assert!(screen.contains("could not load runs: database is locked"), "{screen}");
}

#[test]
fn reset_in_the_demo_tui_restores_the_invoice_an_approval_changed_through_the_source() {
    let w = world();
    let keys = serde_json::json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
    let seeded = w.env.sim.record("VendorInvoiceHeaders", &keys).unwrap();
    let request = approve(&w, "run-inv-usmf-apinv-000123", "matched to receipt");
    let outcome = w.source.decide(request, Arc::new(|_| {}), Arc::new(AtomicBool::new(false))).unwrap();
    assert_eq!(outcome.status, RunStatus::Executed, "{}", outcome.message);
    assert_ne!(w.env.sim.record("VendorInvoiceHeaders", &keys).unwrap(), seeded, "the approval changed F&O");

    let mut tui = common::Harness::over(120, 40, common::options(signoff::config::ColorMode::None), &w.source);
    tui.press(":");
    tui.type_text("reset usmf/APINV-000123");
    tui.press("enter");

    assert_eq!(w.env.sim.record("VendorInvoiceHeaders", &keys).unwrap(), seeded, "the seed's record, ETag included");
    let asked: Vec<_> = w.env.sim.requests().into_iter().filter(|r| r.target == "/_sim/reset").collect();
    assert_eq!(asked.len(), 1, "the TUI went through the source to the simulator's endpoint");
    assert!(asked[0].body.contains("usmf/APINV-000123"), "{}", asked[0].body);
    let screen = tui.screen();
    assert!(screen.contains("sandbox reset: VendorInvoiceHeaders:usmf/APINV-000123"), "{screen}");
}

#[test]
fn reset_refuses_an_environment_that_is_not_the_simulator() {
    let w = world();
    let mut config = w.env.config.clone();
    config.environment.url = Some("https://contoso-test.sandbox.operations.dynamics.com".into());
    let reviewer = w.runtime.block_on(w.env.reviewer()).unwrap();
    let source = PipelineSource::new(reviewer, Arc::new(config), w.runtime.handle().clone());
    w.env.sim.clear_requests();
    let refused = source.reset_sandbox(None).unwrap_err();
    assert!(refused.contains("refusing to reset") && refused.contains("database refresh"), "{refused}");
    assert!(w.env.sim.requests().is_empty());
}
