//! `signoff demo`: the whole product on an embedded F&O sandbox, with no set-up at all.

mod runs;
mod setup;

use std::sync::Arc;

use anyhow::Context as _;

use crate::fno::metadata::catalog_to_json;
use crate::review::Reviewer;
use crate::store::Store;

use super::Globals;
use super::open::{TuiArgs, launch};

use setup::{DEMO_APPROVER, DemoEnv, Scenario};

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
    let config = Arc::new(env.config.clone());
    let reviewer = Arc::new(
        Reviewer::from_config(&env.store_path, config.clone(), DEMO_APPROVER)
            .context("cannot connect to the demo F&O")?,
    );
    // Prove the decision operations exist and let policy read the catalog, as `connector sync-metadata` does.
    let catalog = runtime.block_on(async {
        let xml = reviewer.client().metadata_xml().await?;
        anyhow::Ok(crate::fno::parse_csdl(&xml)?)
    })?;
    Store::open(&env.store_path)?.save_catalog(&catalog_to_json(&catalog)?, "signoff-demo")?;
    tracing::info!(config = %env.config_path.display(), sim = %env.sim.base_url(), "demo environment ready");
    let code = launch(&runtime, reviewer, config, &args.tui);
    runtime.block_on(env.sim.shutdown());
    code
}
