//! Opening the TUI: `signoff` on the configured environment, and `signoff demo` on its own sandbox.

use std::io::Write as _;
use std::sync::Arc;

use crate::config::{ColorMode, Config, EnvironmentKind};
use crate::review::Reviewer;
use crate::tui::{self, TuiOptions};

use super::tui_source::PipelineSource;
use super::{Context, Globals, decide};

/// Options for the full-screen interface.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiArgs {
    /// Theme name (default, light, dark, high-contrast, colorblind) or a theme file.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Colour depth: auto, truecolor, 256, 16 or none (NO_COLOR is honoured under auto).
    #[arg(long, value_name = "MODE", value_parser = parse_color)]
    pub color: Option<ColorMode>,
    /// Look, never decide: approve and reject are disabled.
    #[arg(long)]
    pub read_only: bool,
}

fn parse_color(text: &str) -> Result<ColorMode, String> {
    match text {
        "auto" => Ok(ColorMode::Auto),
        "truecolor" => Ok(ColorMode::Truecolor),
        "256" => Ok(ColorMode::Ansi256),
        "16" => Ok(ColorMode::Ansi16),
        "none" => Ok(ColorMode::None),
        other => Err(format!("unknown colour mode '{other}': use auto, truecolor, 256, 16 or none")),
    }
}

/// `signoff` with no verb: the TUI on the configured environment and store.
pub fn run(globals: &Globals, args: TuiArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    if ctx.loaded.source.is_none() {
        anyhow::bail!(
            "no config at {}: write one with `signoff connector init` (see README: connecting a real F&O \
             sandbox), or try signoff on its embedded sandbox with `signoff demo`",
            ctx.paths.config_file.display()
        );
    }
    let reviewer = decide::reviewer(&ctx)?;
    let runtime = decide::runtime()?;
    launch(&runtime, reviewer, Arc::new(ctx.loaded.config.clone()), &args, true)
}

/// Run the TUI until the user quits; decisions go through `reviewer` on `runtime`. With `activation`, the
/// title shows the connector's next activation step until all five are done.
pub fn launch(
    runtime: &tokio::runtime::Runtime,
    reviewer: Arc<Reviewer>,
    config: Arc<Config>,
    args: &TuiArgs,
    activation: bool,
) -> anyhow::Result<u8> {
    let options = TuiOptions {
        ui: config.ui.clone(),
        theme: args.theme.clone(),
        color: args.color,
        read_only: args.read_only,
        environment: config.environment.name.clone(),
        production: config.environment.kind == EnvironmentKind::Production,
        approver: reviewer.approver().to_string(),
    };
    let source = PipelineSource::new(reviewer, config, runtime.handle().clone());
    let source = Arc::new(if activation { source.with_activation() } else { source });
    // The terminal is restored when `run_async` returns, so these lines land on the normal screen.
    let exit = runtime.block_on(tui::app::run_async(source, options))?;
    // Not `eprintln!`: after SIGHUP the terminal may be gone, and a failed write must not become a panic.
    let mut stderr = std::io::stderr();
    for line in &exit.concluded {
        tracing::info!("{line}");
        let _ = writeln!(stderr, "{line}");
    }
    Ok(match exit.signal {
        Some(signo) => {
            let _ = writeln!(stderr, "signoff: stopped by {}; the terminal was restored", signal_name(signo));
            super::exit::signalled(signo)
        }
        None => super::exit::OK,
    })
}

/// The name a person knows the signal by (`SIGTERM`), for the line printed on the way out.
pub(super) fn signal_name(signo: i32) -> String {
    match signo {
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGQUIT => "SIGQUIT".into(),
        other => format!("signal {other}"),
    }
}
