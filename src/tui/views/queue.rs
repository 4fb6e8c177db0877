//! The queue: a virtualized table (only the visible window of rows is built), with columns sized to
//! their content and the terminal's width. Amounts are exact, grouped and never truncated: the amount
//! column takes its widest value. A cut requester, target or lease ends in `…`.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::columns::{Column, fit as fit_columns};
use super::wrap::{fit, width};
use super::{format_amount, layout, short_duration};
use crate::model::{Action, Level, Readiness, RunStatus, RunSummary};
use crate::text::visible;
use crate::tui::state::State;
use crate::tui::theme::Theme;

/// The theme token for a status.
pub fn status_token(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Pending => "status.pending",
        RunStatus::Approved => "status.approved",
        RunStatus::Executing => "status.executing",
        RunStatus::Executed => "status.executed",
        RunStatus::HandedOver => "status.handed_over",
        RunStatus::Unknown => "status.unknown",
        RunStatus::PartlyExecuted => "status.partly_executed",
        RunStatus::RollbackPartial => "status.rollback_partial",
        RunStatus::Failed => "status.failed",
        RunStatus::Rejected => "status.rejected",
        RunStatus::Expired => "status.expired",
        RunStatus::Stale => "status.stale",
        RunStatus::RolledBack => "status.rolled_back",
    }
}

/// Status text with a marker for the states that need attention (`[!]`) or wait on F&O (`[>]`, handed
/// over to F&O's posting), readable without colour.
pub fn status_text(status: RunStatus) -> String {
    match status {
        RunStatus::HandedOver => format!("[>]{status}"),
        RunStatus::Stale
        | RunStatus::Failed
        | RunStatus::Unknown
        | RunStatus::PartlyExecuted
        | RunStatus::RollbackPartial => format!("[!]{status}"),
        _ => status.to_string(),
    }
}

/// The status as the queue's narrow column shows it. Cut to 8 or 11 columns, `[!]rollback-partial` would
/// read `[!]rollback`, as if the rollback were done; `rb-` (as in the RB column) keeps "partial" in view.
fn status_cell(status: RunStatus) -> String {
    match status {
        RunStatus::RollbackPartial => "[!]rb-partial".to_string(),
        // `[>]handed-over` cut to 11 columns would read `[>]handed-o`.
        RunStatus::HandedOver => "[>]handover".to_string(),
        other => status_text(other),
    }
}

fn age_expiry(s: &RunSummary, state: &State) -> String {
    let age = short_duration(state.now - s.requested_at);
    if state.now >= s.expires_at {
        format!("{age}/exp")
    } else {
        format!("{age}/{}", short_duration(s.expires_at - state.now))
    }
}

/// The target without the company prefix (the company has its own column).
fn target_text(s: &RunSummary) -> String {
    let label = visible(&s.target);
    match &s.company {
        Some(c) => label.strip_prefix(&format!("{c} / ")).map(str::to_string).unwrap_or_else(|| label.into_owned()),
        None => label.into_owned(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let q = &state.queue;
    if state.loading || q.view.is_empty() {
        let text = if state.loading {
            "loading…".to_string()
        } else if let Some(e) = &state.load_error {
            format!("[!] could not load runs: {}", visible(e))
        } else if q.all.is_empty() {
            "no runs in the store; import some with `signoff runs import FILE`".to_string()
        } else {
            "no runs match the filter (Esc clears it)".to_string()
        };
        let token = if state.load_error.is_some() { "flash.error" } else { "muted" };
        frame.render_widget(Paragraph::new(Text::styled(format!("\n  {text}"), theme.style(token))), area);
        return;
    }
    let rows_visible = layout::queue_rows(state.height);
    let window: Vec<(usize, &RunSummary)> = q
        .view
        .iter()
        .enumerate()
        .skip(q.offset)
        .take(rows_visible)
        .filter_map(|(pos, i)| q.all.get(*i as usize).map(|s| (pos, s)))
        .collect();
    let amounts: Vec<String> = window.iter().map(|(_, s)| format_amount(s)).collect();
    let wide = state.wide();
    let widths = column_widths(&window, &amounts, area.width, wide);
    let [w_status, w_action, w_co, w_target, _, w_req, _, _, _, _, w_lease] = widths;
    let compact = w_action < natural(&window, "ACTION", |s| s.action.short().into());
    let constraints = widths.map(Constraint::Length);
    let (pol, rb) = if wide { ("POLICY", "ROLLBACK") } else { ("POL", "RB") };
    let titles = ["STATUS", "ACTION", "CO", "TARGET", "AMOUNT", "REQUESTER", "AGE/EXP", "APPR", pol, rb, "LEASE"];
    let header = Row::new(titles.iter().zip(widths).map(|(title, w)| {
        let shown = fit(title, w as usize);
        if *title == "AMOUNT" { Cell::from(Line::from(shown).right_aligned()) } else { Cell::from(shown) }
    }))
    .style(theme.style("header"));
    // An open run without its judgement yet, while the queue is being judged.
    let judging = |s: &RunSummary| q.judging.is_some() && s.judged.is_none() && !s.status.is_final();
    let rows = window.iter().zip(amounts).map(|((pos, s), amount)| {
        let selected = *pos == q.selected;
        let cells = vec![
            Cell::from(Span::styled(
                fit(&status_cell(s.status), w_status as usize),
                theme.style(status_token(s.status)),
            )),
            Cell::from(action_label(s.action, compact)),
            Cell::from(fit(&s.company.as_deref().map(visible).unwrap_or_default(), w_co as usize)),
            Cell::from(fit(&target_text(s), w_target as usize)),
            Cell::from(Line::from(amount).right_aligned()),
            Cell::from(fit(&visible(&s.requester), w_req as usize)),
            Cell::from(age_expiry(s, state)),
            Cell::from(approvals_text(s)),
            judgement_cell(s.judged.map(|j| (j.policy_text(), policy_token(j.worst))), judging(s), theme),
            judgement_cell(s.judged.map(|j| (j.rollback_text(), rollback_token(j.readiness))), judging(s), theme),
            Cell::from(fit(&s.lease_holder.as_deref().map(visible).unwrap_or_default(), w_lease as usize)),
        ];
        let row = Row::new(cells).style(theme.style("text"));
        if selected { row.style(theme.style("selection")) } else { row }
    });
    let table = Table::new(rows, constraints).header(header).column_spacing(1);
    frame.render_widget(table, area);
}

/// The queue's columns, in order: STATUS ACTION CO TARGET AMOUNT REQUESTER AGE/EXP APPR POLICY ROLLBACK
/// LEASE.
const COLUMNS: usize = 11;

/// The approvals given of required (`1/2`): the one count every view shows.
fn approvals_text(s: &RunSummary) -> String {
    format!("{}/{}", s.approvals, s.required_approvals)
}

/// Each column at the width of its widest value in the window (header included); when that is wider
/// than the terminal, action (to its short labels), lease, requester and target give up room, in that
/// order.
/// The amount never shrinks.
fn column_widths(window: &[(usize, &RunSummary)], amounts: &[String], total: u16, wide: bool) -> [u16; COLUMNS] {
    let status = natural(window, "STATUS", |s| status_cell(s.status).into());
    let action = natural(window, "ACTION", |s| s.action.short().into());
    let compact_action = natural(window, "ACTION", |s| action_label(s.action, true).into());
    let company = natural(window, "CO", |s| s.company.as_deref().map(visible).unwrap_or_default());
    let target = natural(window, "TARGET", |s| target_text(s).into());
    let amount = amounts.iter().map(|a| width(a) as u16).max().unwrap_or(0).max(6);
    let requester = natural(window, "REQUESTER", |s| visible(&s.requester));
    let age = 7;
    let approvals = natural(window, "APPR", |s| approvals_text(s).into());
    let lease = natural(window, "LEASE", |s| s.lease_holder.as_deref().map(visible).unwrap_or_default());
    // The judgement columns keep their fixed widths: their symbol leads, so a narrow column keeps it.
    let (pol, rb) = if wide { (9, 13) } else { (3, 2) };
    let col = |natural: u16, floor: u16| Column { natural, floor: floor.min(natural) };
    let columns = [
        col(status, 8),
        col(action, compact_action),
        col(company, 2),
        col(target, 8),
        col(amount, amount),
        col(requester, 8),
        col(age, age),
        col(approvals, 3),
        col(pol, pol),
        col(rb, rb),
        col(lease, 4),
    ];
    // The action first gives up its `-user`; the target names the record, so it keeps up to 12 columns
    // until requester and lease are narrow.
    const SHRINK: [(usize, u16); 11] =
        [(1, 0), (10, 8), (5, 16), (3, 12), (5, 10), (10, 4), (0, 10), (5, 8), (3, 8), (0, 8), (2, 2)];
    let widths = fit_columns(&columns, &SHRINK, total, 1);
    std::array::from_fn(|i| widths[i])
}

/// The widest of `header` and `text` over the window's rows, in display columns.
fn natural<'a>(window: &[(usize, &'a RunSummary)], header: &str, text: impl Fn(&'a RunSummary) -> Cow<'a, str>) -> u16 {
    window.iter().map(|(_, s)| width(&text(s))).chain([width(header)]).max().unwrap_or(0) as u16
}

/// The action as the ACTION column shows it: the short name, or where that does not fit, a label that
/// still says which way a user changes (`enable`, `disable`) rather than a cut `enable-`.
fn action_label(action: Action, compact: bool) -> &'static str {
    match (action, compact) {
        (Action::EnableUser, true) => "enable",
        (Action::DisableUser, true) => "disable",
        (a, _) => a.short(),
    }
}

/// A policy or rollback cell: the judgement text (its symbol leads, so a narrow column still carries the
/// meaning without colour) in its meaning's colour; a muted `…` while an open run is still being judged;
/// a muted dash for a run that needs no decision.
fn judgement_cell<'a>(judged: Option<(String, &'static str)>, pending: bool, theme: &Theme) -> Cell<'a> {
    match judged {
        Some((text, token)) => Cell::from(Span::styled(text, theme.style(token))),
        None if pending => Cell::from(Span::styled("…", theme.style("muted"))),
        None => Cell::from(Span::styled("—", theme.style("muted"))),
    }
}

pub fn policy_token(level: Level) -> &'static str {
    match level {
        Level::Hard => "policy.hard",
        Level::Soft => "policy.soft",
        Level::Advisory => "policy.advisory",
        Level::Pass => "policy.pass",
    }
}

fn rollback_token(readiness: Readiness) -> &'static str {
    match readiness {
        Readiness::NotReady => "rollback.not_ready",
        Readiness::Conditional => "rollback.conditional",
        Readiness::Ready => "rollback.ready",
    }
}
