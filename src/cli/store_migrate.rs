//! `signoff store migrate --to URL|FILE`: copy the current store into an empty one (`store::copy`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

use clap::Subcommand;
use serde_json::json;

use super::failure::{ErrorCode, Failure};
use super::output::{self, say};
use super::{Context, Globals, exit};
use crate::review::checkpoint::Memory;
use crate::store::{CopyError, CopyReport, StoreError};

/// At most this many busy runs are named in a refusal; the rest are counted.
const NAMED_BUSY: usize = 20;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy the whole store (runs, approvals, history, leases, the audit chain, the catalog, exchanges)
    /// into a new SQLite file or an empty PostgreSQL database, verified on both sides. The source is
    /// left as it is; it is refused while a decision is in flight.
    Migrate {
        /// The new store: a postgres:// URL (no password in it: it comes from [store] password_env,
        /// password_file or password_command) or a file that does not exist yet.
        #[arg(long, value_name = "URL|FILE")]
        to: PathBuf,
    },
}

pub fn run(globals: &Globals, cmd: StoreCommand) -> anyhow::Result<u8> {
    let StoreCommand::Migrate { to } = cmd;
    // Ctrl-C, SIGTERM or a dropped SSH session stops the copy and keeps nothing; a second one leaves at once.
    let signalled = stop_on_signal()?;
    let ctx = Context::load(globals)?;
    // Read-only on the source: a path without a store is reported, never created and copied empty.
    let source = ctx.open_existing_store()?;
    let config = &ctx.loaded.config;
    // The target is resolved as `--store` is: a URL with a password in it is refused the same way.
    let target = config
        .store_location(Some(&to), ctx.paths.default_store())
        .map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()))?;
    // A store cut short or forked against the signed checkpoint this account remembers is not copied:
    // the copy would start with no memory of what the chain held.
    let memory = Memory::in_state_dir(&ctx.paths.state_dir);
    if let Err(why) = memory.check(&source) {
        let text = format!("the source store {} is not copied: {why}", source.location().shown());
        return Err(Failure::new(ErrorCode::Refused, &text).into());
    }
    let started = Instant::now();
    let report = match source.copy_to(&target, &config.store.access()) {
        Err(CopyError::Store(StoreError::Stopped)) => {
            let signo = signalled.load(Ordering::SeqCst);
            let text = format!(
                "stopped by {} before the copy was complete: nothing was written to {}, and the source is \
                 as it was; run the migration again",
                super::open::signal_name(signo),
                target.shown()
            );
            let mut stopped = Failure::new(ErrorCode::Failed, &text);
            stopped.exit = exit::signalled(signo);
            return Err(stopped.into());
        }
        copied => copied.map_err(failure)?,
    };
    let seconds = started.elapsed().as_secs_f64();
    // The newest checkpoint this account saw of the source holds for the copy too: carried, so a later
    // rewrite of the copy's chain below it is found as it would have been on the source.
    let remembered = memory.recalled(&source);
    if let Some(point) = &remembered {
        memory.remember(&target.open_with(&config.store.access())?, point);
    }
    let (from, to) = (source.location().shown(), target.shown());
    if ctx.globals.json {
        let head = report.head.as_ref().map(|(seq, hash)| json!({ "seq": seq, "hash": hash }));
        output::json(&json!({
            "migrated": true,
            "source": from,
            "target": to,
            "runs": report.runs,
            "events": report.events,
            "head": head,
            "tables": report.tables,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "checkpoint_carried": remembered,
        }))?;
    } else {
        say!("migrated {from} to {to}: {}, verified on both sides in {seconds:.1} s", summary(&report))?;
        if let Some(point) = &remembered {
            say!(
                "the newest signed checkpoint this account saw (event #{}) is remembered for the copy too",
                point.seq
            )?;
        }
        say!(
            "next: point signoff at the copy ([store] url or path in the config), then retire the source so \
             nobody decides on it any more"
        )?;
    }
    Ok(exit::OK)
}

/// `10000 runs, 10431 audit events, head #10431 3f9a1c2b4e5d`.
fn summary(report: &CopyReport) -> String {
    let head = match &report.head {
        Some((seq, hash)) => format!("head #{seq} {}", hash.get(..12).unwrap_or(hash)),
        None => "no events".to_string(),
    };
    format!("{} runs, {} audit events, {head}", report.runs, report.events)
}

/// A refusal (nothing was written; exit 4) or a failure (exit 1), with the busy runs as problems.
fn failure(e: CopyError) -> anyhow::Error {
    let code = if e.is_refusal() { ErrorCode::Refused } else { ErrorCode::Failed };
    let busy = e.busy();
    let mut problems: Vec<String> = busy.iter().take(NAMED_BUSY).cloned().collect();
    if busy.len() > NAMED_BUSY {
        problems.push(format!("… and {} more", busy.len() - NAMED_BUSY));
    }
    Failure::new(code, &e.to_string()).with_problems(problems).into()
}

/// Listen for SIGINT, SIGTERM and SIGHUP on a thread of its own (installed before this returns): the
/// first asks the copy to stop (it keeps nothing) and is remembered for the exit code; a second one ends
/// the process at once.
fn stop_on_signal() -> anyhow::Result<Arc<AtomicI32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let got = Arc::new(AtomicI32::new(0));
    let seen = Arc::clone(&got);
    let (ready, installed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => return drop(ready.send(Err(e.to_string()))),
        };
        runtime.block_on(async move {
            let kinds = [SignalKind::interrupt(), SignalKind::terminate(), SignalKind::hangup()];
            let mut streams = Vec::new();
            for kind in kinds {
                match signal(kind) {
                    Ok(stream) => streams.push(stream),
                    Err(e) => return drop(ready.send(Err(e.to_string()))),
                }
            }
            let _ = ready.send(Ok(()));
            let [int, term, hup] = &mut streams[..] else { return };
            let mut next = async || -> i32 {
                tokio::select! {
                    _ = int.recv() => libc::SIGINT,
                    _ = term.recv() => libc::SIGTERM,
                    _ = hup.recv() => libc::SIGHUP,
                }
            };
            let first = next().await;
            seen.store(first, Ordering::SeqCst);
            crate::store::stop_copy();
            next().await;
            std::process::exit(i32::from(exit::signalled(first)));
        });
    });
    match installed.recv() {
        Ok(Ok(())) => Ok(got),
        Ok(Err(e)) => Err(anyhow::anyhow!("cannot listen for signals: {e}")),
        Err(_) => Err(anyhow::anyhow!("cannot listen for signals")),
    }
}
