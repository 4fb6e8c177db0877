//! TUI speed and bandwidth: a keystroke to its frame with 100,000 runs queued, filtering 100,000 runs,
//! and the bytes a navigation keystroke writes at 120×40 through the TUI's real crossterm backend.

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;
use signoff::config::ColorMode;
use signoff::model::filter::Filter;
use signoff::model::{Action as RunAction, Level, QueueJudgement, Readiness, RunId, RunStatus, RunSummary};
use signoff::tui::action::Action;
use signoff::tui::reducer::{set_filter, update};
use signoff::tui::state::State;
use signoff::tui::theme::Theme;
use signoff::tui::{TuiOptions, app, initial_state, views};

fn summaries(n: usize) -> Vec<RunSummary> {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).single().unwrap_or_default();
    let requesters =
        ["april.meyer@contoso.com", "tony.krijnen@contoso.com", "julia.funderburk@contoso.com", "svc-ap-ingest"];
    (0..n)
        .map(|i| {
            let action = RunAction::ALL[i % 5];
            let company = if i % 7 == 0 { "demf" } else { "usmf" };
            RunSummary {
                id: RunId(format!("run-{}-{i:06}", action.short())),
                action,
                status: if i % 13 == 0 { RunStatus::Stale } else { RunStatus::Pending },
                company: Some(company.into()),
                target: format!("{company} / APINV-{i:06}"),
                amount: action.lines().map(|_| Decimal::new((i as i64 * 7919) % 5_000_000 + 1_000, 2)),
                currency: Some("USD".into()),
                requester: requesters[i % 4].into(),
                requested_at: start + Duration::minutes(i as i64),
                expires_at: start + Duration::days(7),
                approvals: 0,
                required_approvals: 1 + (i % 2) as u32,
                lease_holder: (i % 11 == 0).then(|| "dana.whitley@contoso.com".into()),
                judged: Some(QueueJudgement {
                    worst: if i % 9 == 0 { Level::Soft } else { Level::Pass },
                    count: u32::from(i % 9 == 0),
                    readiness: Readiness::Ready,
                }),
            }
        })
        .collect()
}

fn state(n: usize, w: u16, h: u16) -> (State, Theme) {
    let opts =
        TuiOptions { color: Some(ColorMode::Ansi16), environment: "usmf-sandbox".into(), ..TuiOptions::default() };
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).single().unwrap_or_default();
    let (mut state, theme) = initial_state(&opts, w, h, now).unwrap_or_else(|e| panic!("{e}"));
    update(&mut state, Action::SummariesLoaded(Ok(summaries(n))));
    (state, theme)
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// A writer that only counts bytes.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn keystroke_to_frame(c: &mut Criterion) {
    let (mut state, theme) = state(100_000, 120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
    let mut down = true;
    c.bench_function("keystroke_to_frame_100k_runs_120x40", |b| {
        b.iter(|| {
            // Alternate j/k so the selection stays in range for any iteration count.
            update(&mut state, key(if down { 'j' } else { 'k' }));
            down = !down;
            terminal.draw(|f| views::draw(f, black_box(&state), &theme)).unwrap_or_else(|e| panic!("{e}"));
        })
    });
}

fn filtering(c: &mut Criterion) {
    let all = summaries(100_000);
    let filter = Filter::parse("action:invoice amount>10000 company:usmf status:pending requester:april")
        .unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("filter_100k_runs_fields", |b| b.iter(|| black_box(filter.apply(black_box(&all)))));
    let text = Filter::parse("apinv-0999").unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("filter_100k_runs_plain_text", |b| b.iter(|| black_box(text.apply(black_box(&all)))));
    let (mut state, _) = state(100_000, 120, 40);
    let mut flip = false;
    c.bench_function("filter_and_sort_100k_runs_in_state", |b| {
        b.iter(|| {
            flip = !flip;
            set_filter(&mut state, if flip { "action:invoice amount>10000" } else { "company:usmf status:pending" });
        })
    });
}

fn bytes_per_keystroke(c: &mut Criterion) {
    let (mut state, theme) = state(100_000, 120, 40);
    let counter = Counting::default();
    let backend = signoff::tui::sgr16::backend(counter.clone(), theme.depth);
    let mut terminal = Terminal::with_options(
        backend,
        ratatui::TerminalOptions { viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 120, 40)) },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    app::draw_frame(&mut terminal, &state, &theme).unwrap_or_else(|e| panic!("{e}"));
    let first = counter.0.swap(0, Ordering::Relaxed);
    update(&mut state, key('j'));
    app::draw_frame(&mut terminal, &state, &theme).unwrap_or_else(|e| panic!("{e}"));
    let nav = counter.0.swap(0, Ordering::Relaxed);
    eprintln!("bytes: first frame at 120x40 = {first}, navigation keystroke (j) = {nav}");
    let mut down = false;
    c.bench_function("navigation_keystroke_crossterm_120x40", |b| {
        b.iter(|| {
            update(&mut state, key(if down { 'j' } else { 'k' }));
            down = !down;
            app::draw_frame(&mut terminal, &state, &theme).unwrap_or_else(|e| panic!("{e}"));
        })
    });
}

criterion_group!(benches, keystroke_to_frame, filtering, bytes_per_keystroke);
criterion_main!(benches);
