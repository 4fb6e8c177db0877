//! `signoff sim`: the simulator in the foreground.

use super::Globals;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

pub fn run(_globals: &Globals, _args: SimArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
