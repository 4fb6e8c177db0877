use clap::Subcommand;

use super::Globals;

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Validate the connection.
    Todo,
}

pub fn run(_globals: &Globals, _cmd: ConnectorCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
