//! A journal handed over to F&O's posting (`[operations.journal_post] mode = "leave-for-batch"`), as the
//! TUI shows it: the `handed-over` status with its `[>]` marker and its own theme colour, in the queue and
//! the run view, and a rollback plan that is not ready until F&O has posted it. Decided through the real
//! pipeline against the demo's simulator.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::common;

use ratatui::style::{Color, Modifier};
use signoff::cli::demo::DemoEnv;
use signoff::cli::tui_source::PipelineSource;
use signoff::config::{ColorMode, PostingMode};
use signoff::model::{RunId, RunStatus};
use signoff::tui::source::{DecisionKind, DecisionRequest, ReviewSource};
use signoff::tui::state::Tab;

const RUN: &str = "run-jnl-usmf-00461";

#[test]
fn a_handed_over_journal_shows_its_status_marked_and_coloured_and_its_rollback_not_ready() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut env = runtime.block_on(DemoEnv::start(None)).unwrap();
    let post = env.config.operations.get_mut("journal_post").unwrap();
    post.mode = Some(PostingMode::LeaveForBatch);
    post.handover_fields = Some([("PostInBatch".to_string(), toml::Value::String("Yes".into()))].into());
    let reviewer = runtime.block_on(env.reviewer()).unwrap();
    let source = PipelineSource::new(reviewer, Arc::new(env.config.clone()), runtime.handle().clone());
    let digest = source.detail(&RunId::from(RUN)).unwrap().run.payload_digest();
    let request = DecisionRequest {
        run_id: RunId::from(RUN),
        kind: DecisionKind::Approve,
        reason: Some("accrual matches the cleaning contract".into()),
        reviewed_digest: digest,
        confirm_environment: None,
    };
    let outcome = source.decide(request, Arc::new(|_| {}), Arc::new(AtomicBool::new(false))).unwrap();
    assert_eq!(outcome.status, RunStatus::HandedOver, "{}", outcome.message);
    assert!(outcome.message.contains("handed over (leave-for-batch)"), "{}", outcome.message);
    let journal = serde_json::json!({"dataAreaId": "usmf", "JournalBatchNumber": "00461"});
    assert_eq!(env.sim.record("LedgerJournalHeaders", &journal).unwrap()["IsPosted"], "No");

    let mut tui = common::Harness::over(120, 40, common::options(ColorMode::Ansi16), &source);
    tui.press("/");
    tui.type_text("status:handed-over");
    tui.press("enter");

    let screen = tui.screen();
    let row = screen.lines().find(|l| l.contains("00461")).unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("[>]handover") || row.contains("[>]handed-over"), "{row}");
    let terminal = tui.render();
    let buf = terminal.backend().buffer();
    let y = screen.lines().position(|l| l.contains("00461")).unwrap() as u16;
    let x = row.find("[>]").map(|b| row[..b].chars().count()).unwrap() as u16;
    let cell = &buf[(x, y)];
    assert_eq!(cell.fg, Color::Green, "the default theme's status.handed_over");
    assert!(cell.modifier.contains(Modifier::ITALIC), "italic tells it from executed, which is plain green");

    tui.press("enter");
    let run_view = tui.screen();
    assert!(run_view.contains("[>]handed-over"), "{run_view}");
    while tui.state.run_view().is_some_and(|v| v.tab != Tab::Rollback) {
        tui.press("tab");
    }
    let rollback = tui.screen();
    assert!(rollback.contains("not ready"), "{rollback}");
    assert!(rollback.contains("F&O has not posted the journal yet"), "{rollback}");
    drop(tui);
    drop(source);
    drop(env);
    drop(runtime);
}
