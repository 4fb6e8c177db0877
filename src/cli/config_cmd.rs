use clap::Subcommand;

use super::Globals;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show where config, data and logs resolve.
    Todo,
}

pub fn run(_globals: &Globals, _cmd: ConfigCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
