//! `signoff sim`: the simulator in the foreground, until Ctrl-C; `signoff sim reset` restores a running
//! simulator's seed data.

use std::path::PathBuf;

use crate::sim::{BlockingSimulator, Dialect, SimOptions};

use super::output;
use super::{ErrorCode, Failure, Globals};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    #[command(subcommand)]
    pub command: Option<SimCommand>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A seed file (signoff.sim-seed/v1) to use instead of the embedded USMF data.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// A closed fiscal period (YYYY-MM); repeat for several.
    #[arg(long = "closed-period", value_name = "YYYY-MM")]
    pub closed_periods: Vec<String>,
    /// How the simulated F&O names its decision operations and pages: signoff or contoso
    /// (see docs/simulator.md).
    #[arg(long, value_name = "NAME", default_value = "signoff")]
    pub dialect: Dialect,
}

#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// Restore a running simulator's seed data: everything, or one transaction with its lines. Only the
    /// simulator on 127.0.0.1 is ever reset; a real sandbox is reset by a database refresh.
    Reset(ResetArgs),
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    /// The simulator's URL (http://127.0.0.1:PORT, as `signoff sim` printed it); default: environment.url
    /// from the config.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Restore only this transaction: an invoice's HeaderReference, a journal's JournalBatchNumber, a
    /// vendor account or a user ID, as [EntitySet:][company/]KEY (e.g. usmf/APINV-000123).
    #[arg(long, value_name = "KEY")]
    pub transaction: Option<String>,
}

pub fn run(globals: &Globals, args: SimArgs) -> anyhow::Result<u8> {
    if let Some(SimCommand::Reset(reset)) = args.command {
        return run_reset(globals, reset);
    }
    let options = SimOptions {
        port: args.port,
        seed: args.seed,
        closed_periods: args.closed_periods,
        ..SimOptions::for_dialect(args.dialect)
    };
    let sim = BlockingSimulator::start(options)?;
    let s = sim.sim();
    let o = s.options();
    // One line of JSON (a script reads the base URL from it), flushed at once so a script reading from a
    // pipe sees it before Ctrl-C.
    if globals.json {
        let info = serde_json::json!({
            "base_url": s.base_url(), "dialect": o.dialect.name(), "tenant": o.tenant, "tenant_id": o.tenant_id, "client_id": o.client_id,
            "client_secret_env": "SIGNOFF_SIM_SECRET", "client_secret": o.client_secret,
        });
        output::line(&crate::text::terminal_safe_json(&info.to_string()))?;
    } else {
        output::line(&banner(&s.base_url(), o))?;
    }
    sim.wait_for_ctrl_c()?;
    output::warn("signoff sim: stopped");
    Ok(super::exit::OK)
}

/// What `signoff sim` prints: where it listens and a config snippet to paste, with the dialect's
/// decision operations.
pub fn banner(base: &str, o: &SimOptions) -> String {
    format!(
        "signoff sim: F&O + Entra simulator ({dialect} dialect) listening on {base} (Ctrl-C to stop)\n\
         \n  environment URL  {base}\n  authority host   {base}\n  tenant           {tenant} ({tenant_id})\n  \
         client id        {client}\n\n\
         Export the client secret (this is a simulator-only value):\n\n  export SIGNOFF_SIM_SECRET='{secret}'\n\n\
         Config snippet:\n\n\
         [environment]\nname = \"usmf-sandbox\"\nurl = \"{base}\"\nkind = \"sandbox\"\ndefault_company = \"usmf\"\n\n\
         [auth]\ntenant = \"{tenant}\"\nclient_id = \"{client}\"\nauthority_host = \"{base}\"\n\
         client_secret_env = \"SIGNOFF_SIM_SECRET\"\n\n{operations}",
        dialect = o.dialect,
        tenant = o.tenant,
        tenant_id = o.tenant_id,
        client = o.client_id,
        secret = o.client_secret,
        operations = o.dialect.operations_toml(),
    )
}

fn run_reset(globals: &Globals, args: ResetArgs) -> anyhow::Result<u8> {
    let url = match args.url {
        Some(url) => url,
        None => super::Context::load(globals)
            .ok()
            .and_then(|ctx| ctx.loaded.config.environment.url.clone())
            .ok_or_else(|| {
                Failure::new(
                    ErrorCode::Usage,
                    "which simulator? give --url http://127.0.0.1:PORT (the address `signoff sim` printed), or set \
                     environment.url in the config",
                )
            })?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let done = runtime
        .block_on(crate::sim::admin::reset(&url, args.transaction.as_deref()))
        .map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?;
    tracing::info!(url = %url, reset = %done.reset, restored = done.restored, removed = done.removed, "simulator reset");
    if globals.json {
        output::json(&done)?;
    } else {
        let what = if done.reset == "all" { "all data".to_string() } else { done.reset.clone() };
        output::line(&format!(
            "reset {what} at {url}: {} record(s) restored from the seed, {} removed",
            done.restored, done.removed
        ))?;
    }
    Ok(super::exit::OK)
}
