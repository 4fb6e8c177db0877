//! `signoff approve|reject|rollback`: decisions, through the same review pipeline as the TUI.
//!
//! Who decides is proven where the config says how (`approver.allowed_signers`: signed through the
//! ssh-agent; `identity = "os-user"`: the kernel's account name); `$SIGNOFF_APPROVER` / `approver.id` then
//! only choose among the identities that proof allows. There is no `--as` flag: who decides is an
//! identity, not an option.

use std::sync::Arc;

use anyhow::Context as _;

use super::failure::{ErrorCode, Failure};
use super::output::{self, say};
use super::{Context, Globals};
use crate::config::Config;
use crate::model::filter::Filter;
use crate::model::{RunId, RunStatus};
use crate::review::sweep::Swept;
use crate::review::{
    Cancel, DecisionKind, DecisionRequest, Identity, Outcome, Progress, ProgressSink, Reviewer, no_progress,
};
use crate::text::visible;

/// `signoff approve`.
#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The run to approve (or use --all-matching).
    #[arg(required_unless_present = "all_matching")]
    pub id: Option<String>,
    /// Why you approve (mandatory; also the override reason for soft verdicts).
    #[arg(long)]
    pub reason: String,
    /// Show the exact requests that would be sent; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The environment name, typed to confirm a live decision in production.
    #[arg(long, value_name = "NAME")]
    pub confirm_environment: Option<String>,
    /// The payload digest you reviewed (`runs show` prints it); the decision is refused if the stored
    /// run is not that run. Without it, the run as stored now is decided.
    #[arg(long, value_name = "DIGEST")]
    pub reviewed: Option<String>,
    /// Approve every pending run matching FILTER, the TUI's `/` syntax (`action:journal company:usmf`;
    /// `action=journal,company=usmf` too): one action, all verdicts passing, each re-validated and
    /// audited on its own.
    #[arg(long, value_name = "FILTER", conflicts_with_all = ["id", "dry_run"])]
    pub all_matching: Option<String>,
    /// Runs decided at once in bulk.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub concurrency: u16,
}

/// `signoff reject`.
#[derive(Debug, clap::Args)]
pub struct RejectArgs {
    pub id: String,
    /// Why you reject (mandatory; sent to F&O where the action has a reject operation).
    #[arg(long)]
    pub reason: String,
    /// Show the exact requests that would be sent; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_name = "NAME")]
    pub confirm_environment: Option<String>,
    /// The payload digest you reviewed (`runs show` prints it); the decision is refused if the stored
    /// run is not that run. Without it, the run as stored now is decided.
    #[arg(long, value_name = "DIGEST")]
    pub reviewed: Option<String>,
}

/// `signoff rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    pub id: String,
    /// Why you roll back (mandatory).
    #[arg(long)]
    pub reason: String,
    /// Show the compensating requests; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_name = "NAME")]
    pub confirm_environment: Option<String>,
    /// The payload digest you reviewed (`runs show` prints it); the decision is refused if the stored
    /// run is not that run. Without it, the run as stored now is decided.
    #[arg(long, value_name = "DIGEST")]
    pub reviewed: Option<String>,
}

/// `signoff reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// Only runs whose status changed within this window: `1y`, `6m`, `90d`, `12h`, `30m`... (months
    /// are 30 days).
    #[arg(long, default_value = "1y", value_parser = parse_window)]
    pub since: std::time::Duration,
}

/// `90d` → 90 days. Units: `s`, `min`, `h`, `d`, `w`, `m` (30 days), `y` (365 days).
pub fn parse_window(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("'{text}' is not a window like 90d, 6m or 1y"))?;
    let secs = match unit {
        "s" => 1,
        "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "m" => 30 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(format!("'{text}': the unit must be one of s, min, h, d, w, m (30 days), y")),
    };
    n.checked_mul(secs)
        .filter(|&s| s > 0 && s <= 100 * 365 * 86_400)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("'{text}' must be more than zero and at most 100y"))
}

/// The approver identity. With an allowed-signers file (or `identity = "ssh"`): the principal the
/// ssh-agent proves, chosen by `$SIGNOFF_APPROVER` / `approver.id` when it proves several; with
/// `identity = "os-user"`: the account name from the kernel. Only with neither configured is it the
/// unproven `$SIGNOFF_APPROVER`, else `approver.id`, else `$USER`.
pub fn approver_id(config: &Config) -> anyhow::Result<String> {
    let from_env = std::env::var("SIGNOFF_APPROVER").ok().filter(|s| !s.trim().is_empty());
    let claim = from_env.or_else(|| config.approver.id.clone());
    let identity = Identity::from_config(config);
    if !matches!(identity, Identity::Claimed) {
        return identity.resolve(claim.as_deref()).map_err(anyhow::Error::msg);
    }
    let from_os = || std::env::var("USER").or_else(|_| std::env::var("USERNAME")).ok();
    claim
        .or_else(from_os)
        .filter(|s| !s.trim().is_empty())
        .context("no approver identity: set approver.id in the config (or SIGNOFF_APPROVER)")
}

/// The decision service for this invocation.
pub fn reviewer(ctx: &Context) -> anyhow::Result<Arc<Reviewer>> {
    let config = Arc::new(ctx.loaded.config.clone());
    // Said once per process, on standard error before any screen is drawn.
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        for warning in crate::review::identity::allowed_signers_warnings(&config) {
            output::warn(&format!("warning: {warning}"));
        }
    });
    let approver = approver_id(&config)?;
    Ok(Arc::new(Reviewer::from_config(ctx.store_location()?, config, &approver)?))
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn progress_sink(verbose: bool) -> ProgressSink {
    if !verbose {
        return no_progress();
    }
    Arc::new(|p: Progress| output::warn(&format!("{}: {:?}: {}", p.run_id, p.step, p.detail)))
}

pub fn approve(globals: &Globals, args: ApproveArgs) -> anyhow::Result<u8> {
    // The filter is checked before anything else, with the TUI's message for the same text.
    let filter = match &args.all_matching {
        Some(text) => Some(Filter::parse(text).map_err(|e| Failure::new(ErrorCode::InvalidFilter, &e))?),
        None => None,
    };
    let ctx = Context::load(globals)?;
    let reviewer = reviewer(&ctx)?;
    let rt = runtime()?;
    if let Some(filter) = &filter {
        let progress = progress_sink(globals.verbose);
        let report = rt.block_on(reviewer.approve_all(filter, &args.reason, args.concurrency.into(), &progress));
        // Each offending run of a refused bulk is a problem line of its own.
        let report =
            report.map_err(|e| Failure::new(ErrorCode::Refused, &format!("refused, nothing was decided: {e}")))?;
        if globals.json {
            output::json(&report)?;
        } else {
            for outcome in &report.outcomes {
                say!("{}", outcome.headline())?;
            }
        }
        return Ok(report.exit_code());
    }
    let id = RunId(args.id.clone().context("give a run id or --all-matching FILTER")?);
    let reviewed = reviewed_digest(&reviewer, &id, args.reviewed.clone())?;
    let request = DecisionRequest {
        run_id: id,
        kind: DecisionKind::Approve,
        reason: args.reason,
        dry_run: args.dry_run,
        confirm_environment: args.confirm_environment,
        reviewed_digest: reviewed,
    };
    decide(globals, &rt, &reviewer, &request)
}

pub fn reject(globals: &Globals, args: RejectArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let reviewer = reviewer(&ctx)?;
    let id = RunId(args.id);
    let reviewed = reviewed_digest(&reviewer, &id, args.reviewed.clone())?;
    let request = DecisionRequest {
        run_id: id,
        kind: DecisionKind::Reject,
        reason: args.reason,
        dry_run: args.dry_run,
        confirm_environment: args.confirm_environment,
        reviewed_digest: reviewed,
    };
    decide(globals, &runtime()?, &reviewer, &request)
}

pub fn rollback(globals: &Globals, args: RollbackArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let reviewer = reviewer(&ctx)?;
    let id = RunId(args.id);
    let reviewed = reviewed_digest(&reviewer, &id, args.reviewed.clone())?;
    let request = DecisionRequest {
        run_id: id,
        kind: DecisionKind::Rollback,
        reason: args.reason,
        dry_run: args.dry_run,
        confirm_environment: args.confirm_environment,
        reviewed_digest: reviewed,
    };
    decide(globals, &runtime()?, &reviewer, &request)
}

fn decide(
    globals: &Globals,
    rt: &tokio::runtime::Runtime,
    reviewer: &Reviewer,
    request: &DecisionRequest,
) -> anyhow::Result<u8> {
    let progress = progress_sink(globals.verbose);
    let outcome = rt.block_on(reviewer.decide(request, &progress, &Cancel::new()))?;
    if globals.json {
        output::json(&outcome)?;
    } else {
        output::text(&render(&outcome))?;
    }
    Ok(outcome.exit_code())
}

/// The outcome for people: the headline, then the requests of a dry run or the three-way drift.
pub fn render(outcome: &Outcome) -> String {
    let mut out = format!("{}\n", outcome.headline());
    match outcome {
        Outcome::DryRun { requests, .. } => {
            for r in requests {
                let text = |v: &serde_json::Value| visible(v.as_str().unwrap_or("")).into_owned();
                out.push_str(&format!("\n{} {}\n", text(&r["method"]), text(&r["url"])));
                for h in r["headers"].as_array().into_iter().flatten() {
                    out.push_str(&format!("{}: {}\n", text(&h[0]), text(&h[1])));
                }
                if let Some(body) = r["body"].as_str() {
                    // A `$batch` body is lines (CRLF, as the multipart format wants): shown as lines, each
                    // made visible, so the parts read as HTTP rather than one line of `^M^J`.
                    out.push('\n');
                    for line in body.trim_end().split("\r\n").flat_map(|l| l.split('\n')) {
                        out.push_str(&visible(line));
                        out.push('\n');
                    }
                }
            }
        }
        Outcome::Stale { drift, .. } if !drift.is_empty() => {
            out.push_str("field · reviewed · live · proposed\n");
            for d in &drift.drifts {
                let proposed = d.proposed.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "(unchanged)".into());
                let line = format!("  {:?} {} · {} · {} · {}", d.scope, d.field, d.reviewed, d.live, proposed);
                out.push_str(&visible(&line));
                out.push('\n');
            }
        }
        Outcome::Executed { answer, .. }
        | Outcome::HandedOver { answer, .. }
        | Outcome::RolledBack { answer, .. }
        | Outcome::Rejected { answer, .. } => {
            for m in &answer.messages {
                out.push_str(&format!("  F&O: {}\n", visible(m)));
            }
        }
        _ => {}
    }
    out
}

/// `signoff reconcile [--since 1y]`: settle every run `unknown` or left `executing`, and record the
/// posting of every `handed-over` journal F&O has posted, reporting each.
/// Exit 0 when every one is settled, 6 when any is still unknown or in flight.
pub fn reconcile(globals: &Globals, args: ReconcileArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let reviewer = reviewer(&ctx)?;
    let swept = runtime()?.block_on(reviewer.reconcile(args.since))?;
    if globals.json {
        output::json(&swept)?;
    } else if swept.is_empty() {
        say!("nothing to reconcile: no run is unknown, executing or handed-over")?;
    } else {
        for s in &swept {
            match s {
                Swept::Settled { outcome } => say!("{}", outcome.headline())?,
                Swept::InFlight { run_id, holder } => say!(
                    "{run_id}: being decided right now by {holder}; left alone (its request may still be in flight)"
                )?,
            }
        }
    }
    let open = swept.iter().any(|s| match s {
        Swept::Settled { outcome } => matches!(outcome, Outcome::Unknown { .. }),
        Swept::InFlight { .. } => true,
    });
    Ok(if open { crate::review::exit::UNKNOWN } else { crate::review::exit::DONE })
}

/// Before a deciding verb: settle runs whose decision's answer was lost, by reading F&O. Never fails the
/// command; it says what it did on standard error.
pub fn reconcile_at_start(globals: &Globals) {
    let Ok(ctx) = Context::load(globals) else { return };
    let Ok(location) = ctx.store_location() else { return };
    if !location.may_exist() {
        return;
    }
    let pending = location.open().and_then(|s| {
        let mut ids = s.runs_in_status(RunStatus::Executing)?;
        ids.extend(s.runs_in_status(RunStatus::Unknown)?);
        Ok(ids)
    });
    let Ok(ids) = pending else { return };
    if ids.is_empty() {
        return;
    }
    let result = reviewer(&ctx).and_then(|r| {
        let rt = runtime()?;
        Ok(rt.block_on(r.reconcile_lost(std::time::Duration::from_secs(365 * 86_400)))?)
    });
    match result {
        Ok(swept) => {
            for s in swept {
                match s {
                    Swept::Settled { outcome } => output::warn(&format!(
                        "reconciled a decision whose answer was lost, by reading F&O: {}",
                        outcome.headline()
                    )),
                    Swept::InFlight { run_id, holder } => {
                        output::warn(&format!("{run_id}: being decided right now by {holder}; not reconciled"))
                    }
                }
            }
        }
        Err(e) => output::warn(&format!(
            "warning: {} run(s) wait for reconciliation (their decision's answer was lost) and could not be \
             reconciled yet ({}); run `signoff reconcile` once F&O can be reached",
            ids.len(),
            visible(&format!("{e:#}"))
        )),
    }
}

/// The digest a CLI decision is bound to: the one given with `--reviewed`, else the run as stored now.
fn reviewed_digest(reviewer: &crate::review::Reviewer, id: &RunId, given: Option<String>) -> anyhow::Result<String> {
    match given {
        Some(digest) => Ok(digest.trim().to_ascii_lowercase()),
        None => Ok(reviewer.stored_digest(id)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_runs_batch_body_reads_as_lines_and_hostile_bytes_stay_visible() {
        let body = "--batch_1\r\nContent-Type: application/http\r\n\r\nPATCH /data/X HTTP/1.1\r\n\r\n{\"Name\":\"\u{1b}[31mred\"}\r\n--batch_1--\r\n";
        let outcome = Outcome::DryRun {
            run_id: RunId::from("RUN-1"),
            requests: vec![serde_json::json!({"method": "POST", "url": "/data/$batch", "headers": [], "body": body})],
        };
        let text = render(&outcome);
        assert!(text.contains("\n--batch_1\nContent-Type: application/http\n\nPATCH /data/X HTTP/1.1\n"), "{text}");
        assert!(text.contains("{\"Name\":\"^[[31mred\"}\n--batch_1--\n"), "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains("^M"), "{text}");
    }
}
