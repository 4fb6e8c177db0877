use clap::Subcommand;

use super::Globals;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit chain.
    Todo,
}

pub fn run(_globals: &Globals, _cmd: AuditCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
