//! `signoff runs import|list|show`.

use clap::Subcommand;

use super::Globals;

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs.
    List,
}

impl RunsCommand {
    /// What `signoff` with no verb runs until the TUI lands.
    pub fn default_list() -> Self {
        RunsCommand::List
    }
}

pub fn run(_globals: &Globals, _cmd: RunsCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
