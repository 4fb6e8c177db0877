//! `signoff sim`: the simulator in the foreground, until Ctrl-C.

use std::path::PathBuf;

use crate::sim::{BlockingSimulator, Dialect, SimOptions};

use super::Globals;
use super::output;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
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

pub fn run(globals: &Globals, args: SimArgs) -> anyhow::Result<u8> {
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
