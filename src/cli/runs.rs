//! `signoff runs import|list|show`.

pub(super) mod judgement;
pub(super) mod show;
pub(super) mod table;

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::failure::{ErrorCode, Failure};
use super::output::{self, say};
use super::{Context, Globals, exit};
use crate::model::filter::Filter;
use crate::model::{Action, RunId, RunStatus};
use crate::run_file::read_run_file;
use crate::store::{Importer, RunFilter, Store, StoreError};

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Import run files, all or nothing: a DIR means its *.json files. Re-importing an identical run is a no-op.
    Import {
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },
    /// List the runs in the store, oldest request first.
    List(ListArgs),
    /// Show one run and its judgement: header, diff, policy verdicts, approvals needed, rollback readiness.
    Show {
        /// The run id, e.g. RUN-2026-000123.
        id: String,
    },
    /// Propose a stale or expired run again against the live record, as a new run that supersedes it.
    Recapture(super::propose::RecaptureArgs),
}

/// Filters for `runs list`.
#[derive(Debug, Default, clap::Args)]
pub struct ListArgs {
    /// Only runs in this status (pending, approved, executing, executed, failed, rejected, expired, stale, rolled-back).
    #[arg(long, value_name = "S")]
    pub status: Option<RunStatus>,
    /// Only runs of this action (wire name or short label: invoice, journal, vendor, enable-user, disable-user).
    #[arg(long, value_name = "A")]
    pub action: Option<Action>,
    /// Only runs in this legal entity (dataAreaId, any case).
    #[arg(long, value_name = "C")]
    pub company: Option<String>,
    /// Only runs matching FILTER, the TUI's `/` syntax: words and terms like
    /// `company:usmf amount>10000 status:pending requester:april` (README: Filters).
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,
}

pub fn run(globals: &Globals, cmd: RunsCommand) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    match cmd {
        RunsCommand::Import { paths } => import(&ctx, &paths),
        RunsCommand::List(args) => list(&ctx, &args),
        RunsCommand::Show { id } => show(&ctx, &RunId(id)),
        RunsCommand::Recapture(args) => super::propose::recapture(&ctx, args),
    }
}

fn store_failure(err: StoreError) -> Failure {
    let code = if matches!(err, StoreError::UnknownRun { .. }) { ErrorCode::NotFound } else { ErrorCode::Failed };
    Failure::new(code, &err.to_string())
}

/// The files an argument stands for: itself, or a directory's `*.json` files in name order.
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: cannot read directory: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read directory: {e}", path.display()))?;
        let file = entry.path();
        if file.extension().is_some_and(|ext| ext == "json") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Validate and write the run files in one pass and one transaction, holding one parsed run at a time.
/// All or nothing: after the first problem nothing more is written, every remaining file is still
/// validated so that every problem is listed, and the transaction is rolled back. The store is opened at
/// the first valid file, so an import of invalid files alone leaves no store behind.
fn import(ctx: &Context, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let mut errors: Vec<String> = Vec::new();
    let mut files = 0usize;
    let mut bad_files = 0usize;
    // Set once, then only borrowed: the importer borrows the store for the whole loop.
    let store: std::cell::OnceCell<Store> = std::cell::OnceCell::new();
    let mut importer: Option<Importer<'_>> = None;
    let mut refused: Option<StoreError> = None;
    for path in paths {
        let expanded = match expand(path) {
            Ok(files) => files,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for file in expanded {
            files += 1;
            let origin = file.display().to_string();
            let run = match read_run_file(&file, &origin, ctx.loaded.config.runs.max_file_bytes) {
                Ok(run) => run,
                Err(e) => {
                    bad_files += 1;
                    errors.push(e.to_string());
                    continue;
                }
            };
            if !errors.is_empty() || refused.is_some() {
                continue;
            }
            if importer.is_none() {
                if store.get().is_none() {
                    let _ = store.set(ctx.open_store().map_err(store_failure)?);
                }
                let opened = store.get().expect("set just above");
                importer = Some(opened.importer(&ctx.actor()).map_err(nothing_imported)?);
            }
            if let Some(writing) = importer.as_mut()
                && let Err(e) = writing.add(&run)
            {
                refused = Some(e);
            }
        }
    }
    if !errors.is_empty() {
        // One problem a line, each made visible on its own by the output.
        let message =
            format!("nothing imported: {bad_files} of {files} file(s) have problems; fix them and import again");
        return Err(Failure::new(ErrorCode::InvalidRun, &message).with_problems(&errors).into());
    }
    if let Some(e) = refused {
        return Err(nothing_imported(e).into());
    }
    let Some(importer) = importer else {
        let message = "nothing imported: no run files found (a directory is searched for *.json files)";
        return Err(Failure::new(ErrorCode::InvalidRun, message).into());
    };
    let report = importer.commit().map_err(nothing_imported)?;
    if ctx.globals.json {
        output::json(&report)?;
    } else {
        say!("imported {} run(s), {} unchanged", report.imported.len(), report.unchanged.len())?;
    }
    Ok(exit::OK)
}

fn nothing_imported(err: StoreError) -> Failure {
    Failure::new(ErrorCode::Failed, &format!("nothing imported: {err}"))
}

/// `runs list`: read-only, so a run past its expiry is shown `expired` here (and matches `status:expired`)
/// without recording the transition; a deciding verb or the TUI records it.
fn list(ctx: &Context, args: &ListArgs) -> anyhow::Result<u8> {
    let filter = match &args.filter {
        Some(text) => Filter::parse(text).map_err(|e| Failure::new(ErrorCode::InvalidFilter, &e))?,
        None => Filter::default(),
    };
    let store = ctx.open_existing_store()?;
    // A status the clock cannot give is asked of the store, so only those runs are read and judged (every
    // status but expired, which overdue pending and approved runs show as).
    let status = args.status.or(filter.status()).filter(|s| *s != RunStatus::Expired);
    let stored = RunFilter { status, action: args.action, company: args.company.clone() };
    // Judged offline, as `runs show` judges: the same one count of approvals the TUI shows.
    let judged = crate::review::queue::queue_rows(&store, &stored, &ctx.loaded.config, &ctx.actor(), |_| None);
    let mut summaries = judged.map_err(store_failure)?;
    let now = chrono::Utc::now();
    for summary in &mut summaries {
        summary.status = summary.status_at(now);
    }
    summaries.retain(|s| args.status.is_none_or(|status| s.status == status) && filter.matches(s));
    if ctx.globals.json {
        output::json(&summaries)?;
    } else if summaries.is_empty() {
        say!("no runs match")?;
    } else {
        output::text(&table::render_summaries(&summaries))?;
    }
    Ok(exit::OK)
}

fn show(ctx: &Context, id: &RunId) -> anyhow::Result<u8> {
    let store = ctx.open_existing_store()?;
    let stored = store
        .get(id)
        .map_err(store_failure)?
        .ok_or_else(|| store_failure(StoreError::UnknownRun { id: id.clone() }))?;
    let config = &ctx.loaded.config;
    // The identity the decision pipeline will judge (SoD, prior approvals), so the preview matches it.
    let approver = ctx.actor();
    let judgement =
        judgement::judge_for_viewer(&store, &stored, config, &approver, None, None).map_err(store_failure)?;
    if ctx.globals.json {
        output::json(&judgement::ShowEnvelope::new(&stored, &judgement))?;
    } else {
        output::text(&show::render_run(&stored, &judgement, output_width()))?;
    }
    Ok(exit::OK)
}

/// The terminal's columns when stdout is a terminal, else 100 (pipes and files get a stable layout).
fn output_width() -> usize {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal()
        && let Ok((columns, _)) = crossterm::terminal::size()
        && columns > 0
    {
        return usize::from(columns);
    }
    100
}
