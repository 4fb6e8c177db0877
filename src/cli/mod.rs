//! The command line: the same verbs as the TUI, through the same review pipeline.

mod audit;
mod audit_bundle;
mod config_cmd;
mod connect;
mod connector;
mod context;
mod decide;
pub mod demo;
pub mod failure;
mod inbox;
pub mod open;
pub mod output;
mod propose;
mod query;
mod runs;
mod sim;
mod store_migrate;
mod troubleshoot;
pub mod tui_source;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::Context;
pub use failure::{ErrorCode, Failure};

/// Exit codes (documented in README.md); the deciding verbs add `review::exit`'s, and a closed standard
/// output ends with [`output::CLOSED_PIPE_EXIT`].
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;

    /// The shell's convention for a process ended by signal `signo`: 128 + its number (143 for SIGTERM).
    pub fn signalled(signo: i32) -> u8 {
        u8::try_from(128 + signo).unwrap_or(FAILURE)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "signoff",
    version,
    about = "Review and approve governed runs against Dynamics 365 Finance & Operations"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    /// Options for the TUI that `signoff` with no verb opens.
    #[command(flatten)]
    pub tui: open::TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every verb accepts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Globals {
    /// The run store: a SQLite file, or a postgres:// URL (no password in it; see [store] password_env);
    /// default: from the config, else <data dir>/store.db.
    #[arg(long, global = true, value_name = "PATH|URL", env = "SIGNOFF_STORE")]
    pub store: Option<PathBuf>,
    /// The config file; default: $SIGNOFF_CONFIG, else $XDG_CONFIG_HOME/signoff/config.toml,
    /// else ~/.config/signoff/config.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print data as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Also log to standard error.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on an embedded F&O sandbox with demo runs: no set-up at all.
    Demo(demo::DemoArgs),
    /// Import, list and show governed runs.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Verify the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Show where config, data and logs resolve, and check the config.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Your F&O workflow inbox: `inbox sync` reads your pending work items into the queue.
    #[command(subcommand)]
    Inbox(inbox::InboxCommand),
    /// Check the F&O connection and sync its metadata.
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
    /// Run the F&O sandbox simulator on loopback.
    Sim(sim::SimArgs),
    /// Move the store: `store migrate --to postgres://…|FILE` copies it, verified, into an empty one.
    #[command(subcommand)]
    Store(store_migrate::StoreCommand),
    /// Build a run from the live record in F&O: the before snapshot with its ETags, the proposed values
    /// checked against the allowlist and $metadata; then write it to a file or import it.
    Propose(Box<propose::ProposeArgs>),
    /// Read records from F&O (read-only): a table, or JSON.
    Query(query::QueryArgs),
    /// Approve a run (or every matching run): re-validate against F&O, then execute or record.
    Approve(decide::ApproveArgs),
    /// Reject a run, with a mandatory reason.
    Reject(decide::RejectArgs),
    /// Roll back an executed run with its compensation recipe, after the same re-validation.
    Rollback(decide::RollbackArgs),
    /// Settle decisions whose answer was lost (runs `unknown` or left `executing`) by reading F&O.
    Reconcile(decide::ReconcileArgs),
}

/// Parse the command line, run the verb, and turn any error into a message (JSON with `--json`) and an
/// exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && std::env::args_os().skip(1).any(|a| a == "--json") => {
            let text = e.render().to_string();
            let message = text.lines().next().unwrap_or_default();
            let failure = Failure::new(ErrorCode::Usage, message.strip_prefix("error: ").unwrap_or(message));
            failure.report(true);
            return ExitCode::from(failure.exit);
        }
        // clap quotes the offending argument: made visible like every other echo of the command line.
        Err(e) if e.use_stderr() => {
            output::warn(&e.render().to_string());
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
    };
    let json = cli.globals.json;
    // Every verb logs to the file; a log that cannot be opened must not stop an approver working.
    let paths = crate::config::paths::resolve(cli.globals.config.as_deref());
    let _log = crate::logging::init(&paths, cli.globals.verbose)
        .inspect_err(|e| output::warn(&format!("warning: {e}; continuing without a log file")));
    tracing::info!(args = ?std::env::args().skip(1).collect::<Vec<_>>(), "signoff started");
    match run(cli) {
        Ok(code) => {
            tracing::info!(exit = code, "signoff finished");
            ExitCode::from(code)
        }
        Err(e) if e.is::<output::StdoutClosed>() => {
            tracing::info!(exit = output::CLOSED_PIPE_EXIT, "standard output closed; stopped quietly");
            ExitCode::from(output::CLOSED_PIPE_EXIT)
        }
        Err(e) => {
            let failure = Failure::of(&e);
            tracing::error!(exit = failure.exit, "{e:#}");
            failure.report(json);
            ExitCode::from(failure.exit)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let globals = cli.globals;
    // The deciding verbs (and the TUI, which decides) first settle decisions whose answer was lost, by
    // reading F&O. Read-only verbs never write to the store, so they leave that to them and to
    // `signoff reconcile`.
    let deciding = match &cli.command {
        None => !cli.tui.read_only,
        Some(Command::Approve(_) | Command::Reject(_) | Command::Rollback(_)) => true,
        _ => false,
    };
    // The verbs that open the store to decide warn, before the TUI takes the screen, when anyone beyond
    // its owner (or its configured group) may read or change it. A broken config is the verb's to report.
    let opening = deciding || matches!(&cli.command, None | Some(Command::Reconcile(_)));
    if opening && let Ok(ctx) = Context::load(&globals) {
        ctx.warn_if_store_exposed();
    }
    if deciding {
        decide::reconcile_at_start(&globals);
    }
    match cli.command {
        None => open::run(&globals, cli.tui),
        Some(Command::Demo(args)) => demo::run(&globals, args),
        Some(Command::Runs(cmd)) => runs::run(&globals, cmd),
        Some(Command::Audit(cmd)) => audit::run(&globals, cmd),
        Some(Command::Config(cmd)) => config_cmd::run(&globals, cmd),
        Some(Command::Connector(cmd)) => connector::run(&globals, cmd),
        Some(Command::Inbox(cmd)) => inbox::run(&globals, cmd),
        Some(Command::Sim(args)) => sim::run(&globals, args),
        Some(Command::Store(cmd)) => store_migrate::run(&globals, cmd),
        Some(Command::Propose(args)) => propose::run(&globals, *args),
        Some(Command::Query(args)) => query::run(&globals, args),
        Some(Command::Approve(args)) => decide::approve(&globals, args),
        Some(Command::Reject(args)) => decide::reject(&globals, args),
        Some(Command::Rollback(args)) => decide::rollback(&globals, args),
        Some(Command::Reconcile(args)) => decide::reconcile(&globals, args),
    }
}
