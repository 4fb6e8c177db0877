//! The queue: a virtualized table (only the visible window of rows is built), with columns that widen
//! on wide terminals. Amounts are exact and never truncated: the amount column takes its widest value.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{format_amount, layout, short_duration};
use crate::model::{Level, Readiness, RunStatus, RunSummary};
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

/// Status text with a marker for the states that need attention, readable without colour.
pub fn status_text(status: RunStatus) -> String {
    match status {
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
    let amount_w = amounts.iter().map(|a| a.chars().count()).max().unwrap_or(6).max(6) as u16;
    let wide = state.wide();
    let widths: [u16; 10] =
        if wide { [11, 12, 5, amount_w, 14, 8, 4, 9, 13, 8] } else { [8, 7, 4, amount_w, 8, 7, 4, 3, 2, 5] };
    let [w_status, w_action, w_co, w_amount, w_req, w_age, w_appr, w_pol, w_rb, w_lease] = widths;
    let constraints = [
        Constraint::Length(w_status),
        Constraint::Length(w_action),
        Constraint::Length(w_co),
        Constraint::Min(8),
        Constraint::Length(w_amount),
        Constraint::Length(w_req),
        Constraint::Length(w_age),
        Constraint::Length(w_appr),
        Constraint::Length(w_pol),
        Constraint::Length(w_rb),
        Constraint::Length(w_lease),
    ];
    let (pol, rb) = if wide { ("POLICY", "ROLLBACK") } else { ("POL", "RB") };
    let header = Row::new(
        ["STATUS", "ACTION", "CO", "TARGET"]
            .into_iter()
            .map(Cell::from)
            .chain([Cell::from(Line::from("AMOUNT").right_aligned())])
            .chain(["REQUESTER", "AGE/EXP", "APPR", pol, rb, "LEASE"].into_iter().map(Cell::from)),
    )
    .style(theme.style("header"));
    let rows = window.iter().zip(amounts).map(|((pos, s), amount)| {
        let selected = *pos == q.selected;
        let cells = vec![
            Cell::from(Span::styled(status_cell(s.status), theme.style(status_token(s.status)))),
            Cell::from(s.action.short()),
            Cell::from(s.company.as_deref().map(visible).unwrap_or_default()),
            Cell::from(target_text(s)),
            Cell::from(Line::from(amount).right_aligned()),
            Cell::from(visible(&s.requester).into_owned()),
            Cell::from(age_expiry(s, state)),
            Cell::from(format!("{}/{}", s.approvals, s.required_approvals)),
            judgement_cell(s.judged.map(|j| (j.policy_text(), policy_token(j.worst))), theme),
            judgement_cell(s.judged.map(|j| (j.rollback_text(), rollback_token(j.readiness))), theme),
            Cell::from(s.lease_holder.as_deref().map(visible).unwrap_or_default()),
        ];
        let row = Row::new(cells).style(theme.style("text"));
        if selected { row.style(theme.style("selection")) } else { row }
    });
    let table = Table::new(rows, constraints).header(header).column_spacing(1);
    frame.render_widget(table, area);
}

/// A policy or rollback cell: the judgement text (its symbol leads, so a narrow column still carries the
/// meaning without colour) in its meaning's colour, or a muted dash for a run that needs no decision.
fn judgement_cell<'a>(judged: Option<(String, &'static str)>, theme: &Theme) -> Cell<'a> {
    match judged {
        Some((text, token)) => Cell::from(Span::styled(text, theme.style(token))),
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
