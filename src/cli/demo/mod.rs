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

pub fn run(globals: &Globals, args: DemoArgs) -> anyhow::Result<u8> {
    // The demo brings its own sandbox, config and store, so that it can never write demo runs into a
    // real store; a store or config named for it would be silently ignored, so it is refused instead.
    if globals.store.is_some() || globals.config.is_some() {
        return Err(super::failure::Failure::new(
            super::failure::ErrorCode::Usage,
            "signoff demo runs on an embedded sandbox with a store and config of its own in a temporary \
             directory, and never touches yours: run it without --store (unset SIGNOFF_STORE) and without \
             --config",
        )
        .into());
    }
    let runtime = super::decide::runtime()?;
    let env = runtime.block_on(DemoEnv::start(args.scenario))?;
    let reviewer = runtime.block_on(env.reviewer())?;
    let config = Arc::new(env.config.clone());
    tracing::info!(config = %env.config_path.display(), sim = %env.sim.base_url(), "demo environment ready");
    let code = launch(&runtime, reviewer, config, &args.tui, false);
    runtime.block_on(env.sim.shutdown());
    code
}
