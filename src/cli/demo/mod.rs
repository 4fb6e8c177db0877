//! `signoff demo`: the whole product on an embedded F&O sandbox, with no set-up at all.

mod runs;
pub mod setup;

use std::sync::Arc;

use super::Globals;
use super::open::{TuiArgs, launch};

pub use setup::{DEMO_APPROVER, DemoEnv, Scenario};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Rehearse a hard case: drift, throttling or closed-period.
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,
    #[command(flatten)]
    pub tui: TuiArgs,
}

pub fn run(_globals: &Globals, args: DemoArgs) -> anyhow::Result<u8> {
    let runtime = super::decide::runtime()?;
    let env = runtime.block_on(DemoEnv::start(args.scenario))?;
    let reviewer = runtime.block_on(env.reviewer())?;
    let config = Arc::new(env.config.clone());
    tracing::info!(config = %env.config_path.display(), sim = %env.sim.base_url(), "demo environment ready");
    let code = launch(&runtime, reviewer, config, &args.tui, false);
    runtime.block_on(env.sim.shutdown());
    code
}
