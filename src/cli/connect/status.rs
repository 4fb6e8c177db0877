//! `signoff connector status`: the five activation steps with their evidence, as a table or `--json`.

use std::fmt::Write as _;

use super::super::output;
use super::super::{Context, Globals, exit};
use crate::review::activation::{Activation, StepState, StepView, activation};
use crate::text::visible;

pub fn status(globals: &Globals) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    print(&ctx)?;
    Ok(exit::OK)
}

/// The activation of the configured connection, read from the store (none yet: nothing recorded).
pub(super) fn read(ctx: &Context) -> anyhow::Result<Activation> {
    // A status never creates a store: a mistyped --store would look like a connector never set up.
    let store = if ctx.store_location()?.may_exist() { Some(ctx.open_store()?) } else { None };
    Ok(activation(store.as_ref(), &ctx.loaded.config)?)
}

pub(super) fn print(ctx: &Context) -> anyhow::Result<()> {
    let a = read(ctx)?;
    if ctx.globals.json {
        return output::json(&a);
    }
    let mut out = String::new();
    let url = a.url.as_deref().map_or_else(|| "(no environment.url)".into(), visible);
    let kind = serde_json::to_value(a.kind)?;
    writeln!(
        out,
        "connector {} ({}) {url}: {} of 5 steps done{}",
        visible(&a.environment),
        kind.as_str().unwrap_or("?"),
        a.done(),
        if a.activated { ", activated" } else { "" }
    )?;
    writeln!(out, "{:<2} {:<33} {:<8} {:<20} EVIDENCE", "#", "STEP", "STATE", "WHEN")?;
    for (i, s) in a.steps.iter().enumerate() {
        let when = s.at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
        writeln!(out, "{:<2} {:<33} {:<8} {:<20} {}", i + 1, s.title, state(s.state), when, evidence(s))?;
    }
    if let Some(next) = &a.next {
        writeln!(out, "next: {next}")?;
    }
    output::text(&out)
}

fn state(s: StepState) -> &'static str {
    match s {
        StepState::Done => "done",
        StepState::Failed => "FAILED",
        StepState::Pending => "pending",
        StepState::NotApplicable => "n/a",
    }
}

/// The evidence in one cell: audit event, run, rollback, then the detail.
fn evidence(s: &StepView) -> String {
    let mut parts = Vec::new();
    if let Some(seq) = s.seq {
        parts.push(format!("audit #{seq}"));
    }
    if let Some(run) = &s.run_id {
        parts.push(format!("run {}", visible(run.as_str())));
    }
    if let Some(r) = &s.rollback {
        parts.push(format!(
            "rolled back {} (audit #{}, {} exchange(s) recorded)",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.seq,
            r.exchanges
        ));
    }
    if let Some(d) = &s.detail {
        parts.push(visible(d).into_owned());
    }
    parts.join("; ")
}
