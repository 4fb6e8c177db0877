//! The TUI's [`ReviewSource`], backed by the store and the review pipeline. This is the composition root
//! between the two: the TUI itself never touches SQLite or F&O, and every decision it takes goes through
//! `review::Reviewer::decide`, exactly like `signoff approve`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::diff::{self, ChangeKind, RunDiff};
use crate::model::{RunId, Snapshot};
use crate::policy::{self, Level};
use crate::review::preview::{Assessment, Judgement, assess_open_runs, judge};
use crate::review::{self, Cancel, DriftScope, Outcome, Reviewer, no_progress};
use crate::rollback;
use crate::store::{RunFilter, Store, StoredRun};
use crate::text::visible;
use crate::tui::source::{
    ApprovalView, DecisionKind, DecisionOutcome, DecisionRequest, Readiness, ReviewSource, RunDetail, Section, Tone,
};

/// The store and pipeline as the TUI sees them.
pub struct PipelineSource {
    reviewer: Arc<Reviewer>,
    store_path: PathBuf,
    config: Arc<Config>,
    runtime: tokio::runtime::Handle,
}

impl PipelineSource {
    /// `runtime` runs decisions (the TUI calls the source from its blocking pool).
    pub fn new(reviewer: Arc<Reviewer>, config: Arc<Config>, runtime: tokio::runtime::Handle) -> Self {
        PipelineSource { store_path: reviewer.store_path().to_path_buf(), reviewer, config, runtime }
    }

    fn store(&self) -> Result<Store, String> {
        Store::open(&self.store_path).map_err(|e| e.to_string())
    }

    /// The judgement both `runs show` and the TUI show (`review::preview`). A run that needs no more
    /// decisions is judged as if this approver had not yet approved it, so the pane explains the run instead
    /// of flagging the approval that executed it.
    fn judge(&self, store: &Store, stored: &StoredRun, live: Option<&Snapshot>) -> Result<Judgement, String> {
        let mut stored = stored.clone();
        if stored.status.is_final() {
            stored.approvals.retain(|a| a.approver != self.reviewer.approver());
        }
        judge(store, &stored, &self.config, self.reviewer.approver(), live).map_err(|e| e.to_string())
    }

    fn detail_of(&self, stored: &StoredRun, live: Option<&Snapshot>) -> Result<RunDetail, String> {
        let store = self.store()?;
        let run = &stored.run;
        let Judgement { diff, evaluation, rollback: plan } = self.judge(&store, stored, live)?;
        let audit = store.audit_events(&run.id).map_err(|e| e.to_string())?;
        Ok(RunDetail {
            run: run.clone(),
            status: stored.status,
            approvals: stored
                .approvals
                .iter()
                .map(|a| ApprovalView {
                    approver: a.approver.clone(),
                    at: a.approved_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    note: Some(a.reason.clone()),
                })
                .collect(),
            verdict_summary: Some(evaluation.summary()),
            rollback: Some(readiness(&plan.readiness)),
            diff: header_section(&diff),
            lines: lines_section(&diff),
            policy: policy_section(&evaluation),
            rollback_section: Section {
                lines: plan
                    .render_text()
                    .lines()
                    .map(|l| vec![(tone_of_readiness(&plan.readiness, l), l.to_string())])
                    .collect(),
            },
            audit: Section {
                lines: audit
                    .iter()
                    .map(|e| {
                        vec![
                            (Tone::Muted, format!("#{:<5} {} ", e.seq, e.at.format("%Y-%m-%d %H:%M:%S"))),
                            (Tone::Text, format!("{:<22} ", e.kind)),
                            (Tone::Muted, visible(&e.actor).into_owned()),
                        ]
                    })
                    .collect(),
            },
        })
    }

    /// The three-way state after a stale outcome: the reviewed snapshot with the live values put in.
    fn live_from_drift(stored: &StoredRun, drift: &review::DriftReport) -> Snapshot {
        let mut live = stored.run.before.clone();
        for d in &drift.drifts {
            match &d.scope {
                DriftScope::Header => {
                    live.fields.insert(d.field.clone(), d.live.clone());
                }
                DriftScope::Line { key } => {
                    if let Some(line) = live.lines.iter_mut().find(|l| review::digest::line_key_text(&l.keys) == *key) {
                        line.fields.insert(d.field.clone(), d.live.clone());
                    }
                }
                DriftScope::LineRemoved { key } => {
                    live.lines.retain(|l| review::digest::line_key_text(&l.keys) != *key);
                }
                DriftScope::LineAdded { .. } => {}
            }
        }
        live
    }
}

impl ReviewSource for PipelineSource {
    fn summaries(&self) -> Result<Vec<crate::model::RunSummary>, String> {
        let store = self.store()?;
        let mut summaries = store.summaries(&RunFilter::default()).map_err(|e| e.to_string())?;
        // Only runs still open are judged, so `Self::judge`'s adjustment for final runs never applies here.
        let mut judged = assess_open_runs(&store, &self.config, self.reviewer.approver()).map_err(|e| e.to_string())?;
        for summary in summaries.iter_mut().filter(|s| !s.status.is_final()) {
            let Some(Assessment { evaluation, rollback: plan }) = judged.remove(&summary.id) else { continue };
            summary.policy = Some(queue_policy(&evaluation));
            summary.rollback = Some(format!("{} {}", plan.readiness.symbol(), plan.readiness.label()));
        }
        Ok(summaries)
    }

    fn detail(&self, id: &RunId) -> Result<RunDetail, String> {
        let stored =
            self.store()?.get(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("run {id} is not in the store"))?;
        // A stale run shows its three-way view (reviewed · live · proposed) from when it went stale.
        let live = stored
            .history
            .iter()
            .rev()
            .find(|h| h.to == crate::model::RunStatus::Stale)
            .and_then(|h| serde_json::from_value::<review::DriftReport>(h.detail.get("drift")?.clone()).ok())
            .filter(|_| stored.status == crate::model::RunStatus::Stale)
            .map(|drift| Self::live_from_drift(&stored, &drift));
        self.detail_of(&stored, live.as_ref())
    }

    fn decide(&self, request: DecisionRequest) -> Result<DecisionOutcome, String> {
        let (kind, dry_run) = match request.kind {
            DecisionKind::Approve => (review::DecisionKind::Approve, false),
            DecisionKind::Reject => (review::DecisionKind::Reject, false),
            DecisionKind::DryRun => (review::DecisionKind::Approve, true),
        };
        if let Some(digest) = &request.reviewed_digest {
            let stored = self.store()?.get(&request.run_id).map_err(|e| e.to_string())?;
            if stored.is_some_and(|s| s.run.payload_digest() != *digest) {
                return Err(format!("run {} changed since you opened it; reopen it and review again", request.run_id));
            }
        }
        let reason = request.reason.clone().unwrap_or_else(|| match request.kind {
            DecisionKind::DryRun => "dry run from the TUI".to_string(),
            _ => String::new(),
        });
        let decision = review::DecisionRequest {
            run_id: request.run_id.clone(),
            kind,
            reason,
            dry_run,
            // The TUI's dialog only confirms in production once the approver typed the environment name.
            confirm_environment: Some(self.config.environment.name.clone()),
        };
        let outcome = self
            .runtime
            .block_on(self.reviewer.decide(&decision, &no_progress(), &Cancel::new()))
            .map_err(|e| e.to_string())?;
        let stored = self.store()?.get(&request.run_id).map_err(|e| e.to_string())?.ok_or("the run vanished")?;
        let live = match &outcome {
            Outcome::Stale { drift, .. } => Some(Self::live_from_drift(&stored, drift)),
            _ => None,
        };
        let mut detail = self.detail_of(&stored, live.as_ref())?;
        if let Outcome::DryRun { requests, .. } = &outcome {
            detail.rollback_section.lines.insert(0, vec![(Tone::Title, "Dry run: the exact requests".into())]);
            let mut lines: Vec<Vec<(Tone, String)>> = Vec::new();
            for r in requests {
                let text = serde_json::to_string_pretty(r).unwrap_or_default();
                lines.extend(text.lines().map(|l| vec![(Tone::Text, visible(l).into_owned())]));
            }
            detail.diff.lines.splice(
                0..0,
                std::iter::once(vec![(
                    Tone::Title,
                    "Dry run: nothing was written. Requests that would be sent:".into(),
                )])
                .chain(lines)
                .chain(std::iter::once(vec![(Tone::Muted, String::new())])),
            );
        }
        Ok(DecisionOutcome {
            run_id: request.run_id,
            status: stored.status,
            message: outcome.headline(),
            detail: Some(Box::new(detail)),
        })
    }
}

/// The most severe verdict level and its count, short enough for a queue column (`✗ 2 hard`).
fn queue_policy(evaluation: &policy::Evaluation) -> String {
    for level in [Level::Hard, Level::Soft, Level::Advisory] {
        let n = evaluation.at(level).count();
        if n > 0 {
            return format!("{} {n} {}", level.symbol(), level.as_str());
        }
    }
    format!("{} clear", Level::Pass.symbol())
}

fn readiness(r: &rollback::Readiness) -> Readiness {
    match r {
        rollback::Readiness::Ready => Readiness::Ready,
        rollback::Readiness::Conditional(_) => Readiness::Conditional,
        rollback::Readiness::NotReady(_) => Readiness::NotReady,
    }
}

fn tone_of_readiness(r: &rollback::Readiness, line: &str) -> Tone {
    if !line.to_ascii_lowercase().contains("rollback") && !line.contains("ready") {
        return Tone::Text;
    }
    match r {
        rollback::Readiness::Ready => Tone::RollbackReady,
        rollback::Readiness::Conditional(_) => Tone::RollbackConditional,
        rollback::Readiness::NotReady(_) => Tone::RollbackNotReady,
    }
}

fn policy_section(evaluation: &policy::Evaluation) -> Section {
    let mut lines = vec![vec![(
        Tone::Title,
        format!("{} · needs {} distinct approver(s)", evaluation.summary(), evaluation.required_approvals),
    )]];
    for v in &evaluation.verdicts {
        let tone = match v.level {
            Level::Pass => Tone::PolicyPass,
            Level::Advisory => Tone::PolicyAdvisory,
            Level::Soft => Tone::PolicySoft,
            Level::Hard => Tone::PolicyHard,
        };
        lines.push(vec![
            (tone, format!("{} {:<8} ", v.level.symbol(), v.level.as_str())),
            (Tone::Muted, format!("{} v{}  ", v.rule, v.version)),
            (Tone::Text, v.message.clone()),
        ]);
    }
    Section { lines }
}

/// Side-by-side field rows: `marker field │ before │ proposed [│ live]`; unchanged rows fold into a count.
fn header_section(diff: &RunDiff) -> Section {
    let mut lines = Vec::new();
    if diff.drift {
        lines.push(vec![(
            Tone::PolicyHard,
            "! STALE: the live record changed since review (rows marked !). Nothing was written.".to_string(),
        )]);
    }
    let mut head = vec![(Tone::Title, format!("  {:<26} │ {:<30} │ {:<30}", "field", "before (reviewed)", "proposed"))];
    if diff.three_way {
        head.push((Tone::Title, format!(" │ {:<30}", "live")));
    }
    lines.push(head);
    // With nothing proposed (an approval as is), every field is what the approver judges: fold nothing.
    let unfold = diff.header.changed == 0;
    lines.extend(rows_lines(&diff.header.rows, diff.three_way, unfold));
    if diff.header.folded > 0 && !unfold {
        lines.push(vec![(Tone::Muted, format!("  … {} unchanged field(s) folded", diff.header.folded))]);
    }
    Section { lines }
}

fn rows_lines(rows: &[diff::Row], three_way: bool, unfold: bool) -> Vec<Vec<(Tone, String)>> {
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| unfold || !r.folds()) {
        let tone = match row.kind {
            ChangeKind::Unchanged => Tone::Text,
            ChangeKind::Changed => Tone::DiffChanged,
            ChangeKind::Added => Tone::DiffAdded,
            ChangeKind::Removed => Tone::DiffRemoved,
        };
        let cell = |c: &Option<diff::Cell>| c.as_ref().map(|c| c.text.clone()).unwrap_or_else(|| "(absent)".into());
        let before = wrap(&cell(&row.before), 30);
        let proposed = wrap(&cell(&row.proposed), 30);
        let live = if three_way { wrap(&cell(&row.live), 30) } else { Vec::new() };
        let height = before.len().max(proposed.len()).max(live.len()).min(6);
        for i in 0..height {
            let marker = if i > 0 {
                "  ".to_string()
            } else if row.drift {
                "! ".to_string()
            } else {
                format!("{} ", row.kind.marker())
            };
            let field = if i == 0 { row.field.clone() } else { String::new() };
            let mut line = vec![
                (if row.drift { Tone::PolicyHard } else { tone }, marker),
                (Tone::Text, format!("{field:<26.26} │ ")),
                (
                    if row.kind == ChangeKind::Unchanged { Tone::Text } else { Tone::DiffRemoved },
                    format!("{:<30} │ ", before.get(i).map(String::as_str).unwrap_or("")),
                ),
                (
                    if row.kind == ChangeKind::Unchanged { Tone::Text } else { Tone::DiffAdded },
                    format!("{:<30}", proposed.get(i).map(String::as_str).unwrap_or("")),
                ),
            ];
            if three_way {
                line.push((
                    if row.drift { Tone::PolicyHard } else { Tone::Text },
                    format!(" │ {}", live.get(i).map(String::as_str).unwrap_or("")),
                ));
            }
            out.push(line);
        }
    }
    out
}

fn lines_section(diff: &RunDiff) -> Section {
    let Some(lines_diff) = &diff.lines else {
        return Section::plain(["this action has no lines"]);
    };
    let mut out = vec![vec![(
        Tone::Title,
        format!(
            "{} line(s) of {} matched by {} · {} changed · {} folded",
            lines_diff.lines.len(),
            lines_diff.entity_set,
            lines_diff.key_field,
            lines_diff.changed,
            lines_diff.folded
        ),
    )]];
    for entry in &lines_diff.lines {
        let marker = if entry.drift { '!' } else { entry.kind.marker() };
        let tone = match entry.kind {
            ChangeKind::Unchanged => Tone::Text,
            ChangeKind::Changed => Tone::DiffChanged,
            ChangeKind::Added => Tone::DiffAdded,
            ChangeKind::Removed => Tone::DiffRemoved,
        };
        let group = entry.group.as_deref().map(|g| format!("  [{g}]")).unwrap_or_default();
        out.push(vec![(tone, format!("{marker} line {}{group}", entry.key))]);
        out.extend(rows_lines(&entry.fields.rows, diff.three_way, false).into_iter().map(|mut l| {
            if let Some(first) = l.first_mut() {
                first.1.insert_str(0, "  ");
            }
            l
        }));
    }
    out.push(vec![(Tone::Muted, String::new())]);
    for total in lines_diff.totals.describe() {
        out.push(vec![(Tone::Title, total)]);
    }
    Section { lines: out }
}

/// Wrap text into chunks of at most `width` characters (values are already visible-escaped).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}
