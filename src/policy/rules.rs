//! The rule catalogue: every rule's id, version and what it checks. `policy_version` hashes this table.

use serde::Serialize;

use super::{Facts, Level, RecordState, Verdict};
use crate::config::Config;
use crate::diff::merge::Record;
use crate::model::GovernedRun;

/// A rule's identity and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub version: u32,
    /// The level it gives when it does not pass (some rules vary; see docs/policy.md).
    pub level: Level,
    pub summary: &'static str,
}

impl RuleInfo {
    /// A verdict of this rule.
    pub fn verdict(&self, level: Level, message: impl Into<String>, field: Option<String>) -> Verdict {
        Verdict { level, rule: self.id, version: self.version, message: message.into(), field }
    }

    /// A passing verdict of this rule.
    pub fn pass(&self, message: impl Into<String>) -> Verdict {
        self.verdict(Level::Pass, message, None)
    }
}

macro_rules! rules {
    ($($name:ident = $id:literal, v = $version:literal, $level:ident: $summary:literal;)*) => {
        $(pub const $name: RuleInfo = RuleInfo { id: $id, version: $version, level: Level::$level, summary: $summary };)*
        /// Every rule, in evaluation order.
        pub const RULES: &[RuleInfo] = &[$($name),*];
    };
}

rules! {
    EXPIRED = "run.expired", v = 1, Hard: "the run has passed its expiry time";
    ENV_MATCH = "environment.match", v = 1, Hard: "the run was prepared for another environment than the configured one";
    ENV_POSTURE = "environment.posture", v = 1, Hard: "production writes need allow_production_writes (advisory when enabled)";
    ALLOW_OBJECT = "allowlist.object", v = 1, Hard: "the managed object is configured and its entity sets match the target";
    ALLOW_FIELD = "allowlist.field", v = 1, Hard: "every proposed header and line field is in the managed object's allowlist";
    META_FIELD = "metadata.field", v = 1, Hard: "every proposed field exists in the synced $metadata of its entity set";
    META_FACETS = "metadata.facets", v = 1, Hard: "every proposed value fits its property's type and facets in the synced $metadata";
    META_OPERATION = "metadata.operation", v = 1, Hard: "the decision operation is configured and present in the synced catalog";
    RECORD_KEYS = "record.keys", v = 1, Hard: "a generic record's keys are exactly its entity's keys in the synced $metadata, each of its declared type";
    HOSTILE = "hostile.invisible", v = 2, Soft: "a value holds control, bidi, zero-width or other invisible characters";
    SOD_REQUESTER = "sod.requester", v = 1, Hard: "the approver is not the requester";
    SOD_SPONSOR = "sod.sponsor", v = 1, Hard: "the approver is not the sponsor of the requesting automation";
    SOD_CREATOR = "sod.creator", v = 1, Hard: "the approver is not the record's creator";
    SOD_ALREADY = "sod.already-approved", v = 1, Hard: "nobody is counted twice";
    SOD_GROUP = "sod.eligible-group", v = 1, Hard: "the approver belongs to one of the route's eligible groups";
    QUORUM = "quorum.amount", v = 1, Advisory: "the amount decides how many distinct approvers are needed";
    INV_HOLD = "invoice.on-hold", v = 1, Hard: "the invoice is not on hold";
    INV_MATCH = "invoice.match-status", v = 1, Soft: "invoice matching did not fail";
    INV_DUE = "invoice.due-date", v = 1, Soft: "the due date has not passed";
    INV_DUPLICATE = "invoice.duplicate", v = 1, Hard: "no other run carries the same vendor and invoice number";
    INV_AMOUNT = "invoice.amount-change", v = 1, Soft: "the invoice amount moves by no more than the tolerance";
    JRN_BALANCE = "journal.balance", v = 1, Hard: "each voucher balances: debits equal credits exactly";
    JRN_PERIOD = "journal.period", v = 1, Hard: "every line posts into an open period";
    JRN_ACCOUNT = "journal.account", v = 1, Hard: "every ledger main account exists in the synced catalog";
    JRN_ROUND = "journal.round-amount", v = 1, Advisory: "round amounts are an audit red flag";
    JRN_PERIOD_END = "journal.period-end", v = 1, Advisory: "postings close to period end are an audit red flag";
    HIGH_RISK = "fields.high-risk", v = 1, Soft: "a high-risk field (bank account) changes: a second approver is needed";
    ROLE_HIGH_RISK = "roles.high-risk", v = 1, Soft: "assigning or revoking a high-risk security role needs a second approver";
    SOD_FNO_USER = "sod.fno-user", v = 1, Hard: "the approver's F&O user is mapped, exists and is enabled (read live; fails closed)";
    SOD_FNO_ROLE = "sod.fno-role", v = 1, Hard: "the approver holds an enabled F&O role that [approver.roles] lets approve the action";
    SOD_FNO_CONFLICT = "sod.fno-conflict", v = 1, Hard: "the approver holds no pair of F&O roles named as conflicting";
    USER_SELF = "user.self-disable", v = 1, Hard: "nobody disables their own user";
}

/// What a rule looks at.
pub struct Ctx<'c> {
    pub run: &'c GovernedRun,
    pub facts: &'c Facts<'c>,
    pub config: &'c Config,
    /// The record as judged: live when re-validated, else the reviewed snapshot.
    pub state: &'c RecordState,
    /// The record after the proposed values are applied to `state`.
    pub record: &'c Record,
}
