//! `signoff inbox sync`: the approver's F&O workflow work items, into the queue as governed runs.

use super::output::{self, say};
use super::{Context, Globals};
use crate::text::visible;

#[derive(Debug, clap::Subcommand)]
pub enum InboxCommand {
    /// Read your pending F&O workflow work items into the queue as runs (idempotent); runs whose item
    /// was decided in F&O meanwhile become stale. Needs [intake.workflow] enabled = true.
    Sync,
}

pub fn run(globals: &Globals, cmd: InboxCommand) -> anyhow::Result<u8> {
    match cmd {
        InboxCommand::Sync => sync(globals),
    }
}

fn sync(globals: &Globals) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let reviewer = super::decide::reviewer(&ctx)?;
    let report = super::decide::runtime()?.block_on(reviewer.sync_inbox())?;
    if globals.json {
        output::json(&report)?;
        return Ok(super::exit::OK);
    }
    let user = visible(&report.user);
    say!(
        "F&O workflow inbox of {user}: {} new run(s), {} already in the queue, {} now stale, {} skipped",
        report.added.len(),
        report.unchanged.len(),
        report.stale.len(),
        report.skipped.len()
    )?;
    for id in &report.added {
        say!("  added  {id}")?;
    }
    for id in &report.stale {
        say!("  stale  {id}: its work item is no longer pending for {user} in F&O")?;
    }
    for s in &report.skipped {
        say!("  skipped work item {}: {}", s.work_item, visible(&s.reason))?;
    }
    Ok(super::exit::OK)
}
