//! Policy: rules evaluated on a run, the record state, the config, the approver and the metadata catalog.
//!
//! Pure functions. Every rule states its reason; a rule that needs a fact nobody supplied (an unsynced
//! catalog) fails closed. See `docs/policy.md` for every rule, its level and its configuration.

mod general;
mod invoice;
pub(crate) mod journal;
mod records;
mod roles;
mod rules;
mod sod;
mod values;
mod vendor_user;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::diff::merge;
use crate::model::GovernedRun;

pub use crate::judge::{Facts, OtherInvoice, RecordState};
pub use rules::{RULES, RuleInfo};

/// An exact amount with thousands separators (`1,250,000.00`).
pub fn money_text(amount: rust_decimal::Decimal) -> String {
    values::money(amount)
}

pub use crate::model::Level;

/// One rule's judgement on one run (or one field of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub level: Level,
    /// Stable rule id, e.g. `allowlist.field`.
    pub rule: &'static str,
    /// The rule's version; it changes whenever the rule's meaning changes.
    pub version: u32,
    /// The reason, naming the field and values; already made visible (no raw control characters).
    pub message: String,
    /// The field the verdict is about (`VendorName`, `lines[LineNumber=2].DebitAmount`), visible-escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// What the verdicts add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Only pass and advisory verdicts: approvable with the required approvals.
    Clear,
    /// At least one soft verdict: approvable with an override reason and one more distinct approver.
    NeedsOverride,
    /// At least one hard verdict: cannot be approved.
    Blocked,
}

/// Every verdict on a run, the approvals it needs, and the policy version an approval binds to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// Hard first, then soft, advisory, pass; in rule order within a level.
    pub verdicts: Vec<Verdict>,
    /// Distinct approvers needed: max(route, quorum), plus one to override soft verdicts (see docs/policy.md).
    pub required_approvals: u32,
    /// SHA-256 (hex) of the rule ids and versions and the policy-relevant configuration.
    pub policy_version: String,
    pub outcome: Outcome,
}

impl Evaluation {
    /// The most severe level among the verdicts.
    pub fn worst(&self) -> Level {
        self.verdicts.iter().map(|v| v.level).max().unwrap_or(Level::Pass)
    }

    /// Verdicts at exactly `level`.
    pub fn at(&self, level: Level) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(move |v| v.level == level)
    }

    /// A one-line summary for a queue column (`✗ 2 hard · ! 1 soft`, or `✓ clear`).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for level in [Level::Hard, Level::Soft, Level::Advisory] {
            let n = self.at(level).count();
            if n > 0 {
                parts.push(format!("{} {n} {}", level.symbol(), level.as_str()));
            }
        }
        if parts.is_empty() { format!("{} clear", Level::Pass.symbol()) } else { parts.join(" · ") }
    }

    /// A plain-text rendering, one verdict per line, for `runs show`.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "policy {} · {} · needs {} distinct approver{}\n",
            short_version(&self.policy_version),
            self.summary(),
            self.required_approvals,
            if self.required_approvals == 1 { "" } else { "s" }
        );
        for v in &self.verdicts {
            out.push_str(&format!(
                "  {} {:<8} {} v{}: {}\n",
                v.level.symbol(),
                v.level.as_str(),
                v.rule,
                v.version,
                v.message
            ));
        }
        out
    }
}

fn short_version(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}

/// Evaluate every rule that applies to the run's action.
pub fn evaluate(run: &GovernedRun, facts: &Facts<'_>, config: &Config) -> Evaluation {
    evaluate_versioned(run, facts, config, policy_version(config))
}

/// [`evaluate`] with `version`, the caller's [`policy_version`] of this `config`, computed once: it hashes
/// the serialized config, which was half the work of judging a queue when done once per run.
pub fn evaluate_versioned(run: &GovernedRun, facts: &Facts<'_>, config: &Config, version: String) -> Evaluation {
    let state = facts.state(run);
    let key_field = merge::key_field(run.document_action());
    let record = merge::apply(state, &run.proposed, key_field);
    let ctx = rules::Ctx { run, facts, config, state, record: &record };

    let mut verdicts = Vec::new();
    general::check(&ctx, &mut verdicts);
    sod::check(&ctx, &mut verdicts);
    invoice::check(&ctx, &mut verdicts);
    journal::check(&ctx, &mut verdicts);
    vendor_user::check(&ctx, &mut verdicts);
    roles::check(&ctx, &mut verdicts);
    let quorum = sod::quorum(&ctx, &mut verdicts);

    // Stable sort: most severe first, rule order kept within a level.
    verdicts.sort_by_key(|v| std::cmp::Reverse(v.level));
    let outcome = if verdicts.iter().any(|v| v.level == Level::Hard) {
        Outcome::Blocked
    } else if verdicts.iter().any(|v| v.level == Level::Soft) {
        Outcome::NeedsOverride
    } else {
        Outcome::Clear
    };
    Evaluation { required_approvals: required_approvals(quorum, &verdicts), verdicts, policy_version: version, outcome }
}

/// max(route, quorum); one more when a soft verdict is overridden; at least two when a high-risk field
/// changes (that verdict is met by the second approver, so it does not add a third on its own).
/// A rule whose soft verdict asks for a second approver rather than an override: a high-risk field or
/// a high-risk security role.
fn is_high_risk(rule: &str) -> bool {
    rule == rules::HIGH_RISK.id || rule == rules::ROLE_HIGH_RISK.id
}

fn required_approvals(base: u32, verdicts: &[Verdict]) -> u32 {
    let base = base.max(1);
    let soft = |high_risk: bool| verdicts.iter().any(|v| v.level == Level::Soft && is_high_risk(v.rule) == high_risk);
    let mut required = if soft(false) { base + 1 } else { base };
    if soft(true) {
        required = required.max(2);
    }
    required
}

/// The version an approval is bound to: a hash of every rule id and version and of the configuration the
/// rules read (policy settings, managed-object allowlists, environment posture).
pub fn policy_version(config: &Config) -> String {
    let mut hasher = Sha256::new();
    for rule in RULES {
        hasher.update(format!("{}@{}\n", rule.id, rule.version).as_bytes());
    }
    let relevant = serde_json::json!({
        "policy": config.policy,
        "managed_objects": config.managed_objects,
        "environment": {
            "name": config.environment.name,
            "kind": config.environment.kind,
            "allow_production_writes": config.environment.allow_production_writes,
        },
    });
    hasher.update(relevant.to_string().as_bytes());
    hex::encode(hasher.finalize())
}
