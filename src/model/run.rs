//! A governed run: the `signoff.run/v1` document, as plain data.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Action, ActorId, DataAreaId, ETag, FieldValue, Fields, RunId};

/// The only format version this build reads and writes.
pub const RUN_FORMAT: &str = "signoff.run/v1";

/// One proposed write on one F&O record, with everything an approver needs to judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernedRun {
    /// Always [`RUN_FORMAT`].
    pub format: String,
    pub id: RunId,
    pub action: Action,
    /// The configured environment name this run was prepared against (e.g. `usmf-sandbox`).
    pub environment: String,
    pub requester: Requester,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub justification: String,
    pub target: Target,
    pub before: Snapshot,
    pub proposed: Proposed,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    pub route: Route,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_hint: Option<String>,
    /// For `approve-workflow-item` only (and required there): the F&O workflow work item decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item: Option<WorkItem>,
    /// The stale or expired run this one re-proposes against the live record (`signoff runs recapture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<RunId>,
}

/// The F&O workflow work item an `approve-workflow-item` run decides, as F&O listed it: the context
/// shown to the approver, and what the validate and complete actions are called with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkItem {
    /// The work item's id (the instance id validate and complete take).
    pub id: String,
    /// The F&O user the item awaits: the approver's F&O user when it was read.
    pub user_id: String,
    /// The item's subject, as F&O shows it in the user's work items.
    pub subject: String,
    /// The workflow step's instructions to the approver, when F&O gave any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// When the step is due, when F&O set a due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The workflow element (approval step) the item belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_id: Option<String>,
    /// The menu item F&O opens the document with (it tells an invoice from a journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu_item: Option<String>,
}

/// Who asked for the run: a person, or an automation with the person who sponsors it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    pub id: ActorId,
    pub kind: RequesterKind,
    /// Required for an automation, absent for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<ActorId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequesterKind {
    Person,
    Automation,
}

/// The record the run writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// OData entity set, e.g. `VendorInvoiceHeaders`.
    pub entity_set: String,
    /// The config section whose allowlist governs the write, e.g. `vendor_invoice`.
    pub managed_object: String,
    /// Every key field, including `dataAreaId` for company-scoped entities.
    pub keys: Fields,
}

impl Target {
    /// The legal entity, when the target is company-scoped.
    pub fn company(&self) -> Option<DataAreaId> {
        self.keys.get("dataAreaId").and_then(FieldValue::as_text).map(DataAreaId::new)
    }

    /// The key values joined for display (`usmf / APINV-000123`).
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(company) = self.company() {
            parts.push(company.to_string());
        }
        parts.extend(self.keys.iter().filter(|(k, _)| *k != "dataAreaId").map(|(_, v)| v.to_string()));
        parts.join(" / ")
    }
}

/// The record as the requester saw it: what the approval is reviewed against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The record's ETag. Empty (and left out of the JSON) only when the record is `absent`.
    #[serde(default = "no_etag", skip_serializing_if = "no_record_etag")]
    pub etag: ETag,
    /// No record with the target's keys existed when the snapshot was taken: the before state of a
    /// `create-record` run (then `etag` is left out and `fields` is `{}`). Left out when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
    pub captured_at: DateTime<Utc>,
    /// The F&O user who created the record, when known (for segregation of duties).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ActorId>,
    pub fields: Fields,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineSnapshot>,
    /// For role runs (and required there): the names of the user's *enabled* security roles when read,
    /// sorted. The approver sees the set before and after; a different live set makes the run stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_roles: Option<Vec<String>>,
}

fn no_etag() -> ETag {
    ETag(String::new())
}

fn no_record_etag(etag: &ETag) -> bool {
    etag.0.is_empty()
}

impl Snapshot {
    /// The snapshot of a record that does not exist (no ETag, no fields), read at `captured_at`.
    pub fn absent(captured_at: DateTime<Utc>) -> Snapshot {
        Snapshot {
            etag: no_etag(),
            absent: true,
            captured_at,
            created_by: None,
            fields: Fields::new(),
            lines: Vec::new(),
            enabled_roles: None,
        }
    }
}

/// One line (invoice line, journal line) as captured, with its own ETag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSnapshot {
    pub keys: Fields,
    pub etag: ETag,
    pub fields: Fields,
}

/// The proposed values. Only the fields named here are written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposed {
    /// When given, must equal `target.entity_set`: a run changes one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_set: Option<String>,
    #[serde(default)]
    pub fields: Fields,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ProposedLine>,
    /// For `execute-operation` only (and required there): the managed object's operation to run, by its
    /// configured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// For `execute-operation`: the operation's parameters by logical name, as configured.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub parameters: Fields,
}

/// A proposed line: a correction of an existing line (matched by keys), a new line, or a removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedLine {
    pub keys: Fields,
    #[serde(default)]
    pub fields: Fields,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

/// A document that supports the run, pinned by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub name: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub uri: String,
}

/// Who must approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Distinct approvers needed (at least 1).
    pub required_approvals: u32,
    #[serde(default)]
    pub eligible_groups: Vec<String>,
}

impl GovernedRun {
    /// The company (legal entity) of the target, if company-scoped.
    pub fn company(&self) -> Option<DataAreaId> {
        self.target.company()
    }

    /// The action whose record the target is: a workflow item's document (an invoice or a journal, by
    /// its managed object); every other action's own. Lines, drift and the document rules follow it.
    pub fn document_action(&self) -> Action {
        match self.action {
            Action::ApproveWorkflowItem => {
                Action::for_document(&self.target.managed_object).unwrap_or(Action::ApproveVendorInvoice)
            }
            action => action,
        }
    }

    /// The canonical JSON of the run: field order fixed by the type, maps sorted, numbers exact.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a governed run always serializes")
    }

    /// SHA-256 (hex) of the canonical JSON: what an approval is bound to.
    pub fn payload_digest(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The amount an approver sizes the run by, with its currency, where the action has one:
    /// the invoice amount (header `ImportedAmount`, else the sum of line `NetAmount`), or a
    /// journal's total debit.
    pub fn headline_amount(&self) -> Option<(Decimal, Option<String>)> {
        let fields = &self.before.fields;
        let currency =
            |keys: &[&str]| keys.iter().find_map(|k| fields.get(*k).and_then(FieldValue::as_text)).map(str::to_string);
        match self.document_action() {
            Action::ApproveVendorInvoice => {
                let amount = fields
                    .get("ImportedAmount")
                    .and_then(FieldValue::as_number)
                    .or_else(|| sum_lines(&self.before.lines, "NetAmount"))?;
                Some((amount, currency(&["Currency"])))
            }
            Action::PostJournal => {
                let amount = fields
                    .get("JournalTotalDebit")
                    .and_then(FieldValue::as_number)
                    .or_else(|| sum_lines(&self.before.lines, "DebitAmount"))?;
                Some((amount, currency(&["AccountingCurrency", "CurrencyCode"])))
            }
            _ => None,
        }
    }

    /// Whether the run has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

fn sum_lines(lines: &[LineSnapshot], field: &str) -> Option<Decimal> {
    let mut total = None;
    for line in lines {
        if let Some(n) = line.fields.get(field).and_then(FieldValue::as_number) {
            total = Some(total.unwrap_or(Decimal::ZERO) + n);
        }
    }
    total
}

/// Where a run is in its lifecycle (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Waiting for approvals (some may already be counted).
    Pending,
    /// Quorum reached, not yet executed.
    Approved,
    /// Requests are being sent to F&O by a process holding the run's lease; the outcome is not recorded yet.
    Executing,
    /// The answer to a write was lost (timeout, dropped connection, killed process): F&O may or may not
    /// have applied it. Not final: reconciliation reads F&O and concludes only on evidence.
    Unknown,
    /// Approved and handed to F&O to post (`[operations.journal_post] mode = "leave-for-batch"` or
    /// `"approve-only"`): signoff posted nothing. `signoff reconcile` records the posting (`executed`, with
    /// the vouchers F&O assigned) once F&O shows the journal posted.
    HandedOver,
    Executed,
    /// Part of the decision was written (e.g. corrections committed) and the rest refused: the record
    /// holds what the headline names, and a rollback can restore the before-values.
    PartlyExecuted,
    Failed,
    Rejected,
    Expired,
    /// The live record no longer matches the reviewed snapshot.
    Stale,
    RolledBack,
    /// A rollback undid only part of what the run wrote; the status change names what is left.
    RollbackPartial,
}

impl RunStatus {
    pub const ALL: [RunStatus; 13] = [
        RunStatus::Pending,
        RunStatus::Approved,
        RunStatus::Executing,
        RunStatus::Unknown,
        RunStatus::HandedOver,
        RunStatus::Executed,
        RunStatus::PartlyExecuted,
        RunStatus::Failed,
        RunStatus::Rejected,
        RunStatus::Expired,
        RunStatus::Stale,
        RunStatus::RolledBack,
        RunStatus::RollbackPartial,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Approved => "approved",
            RunStatus::Executing => "executing",
            RunStatus::Unknown => "unknown",
            RunStatus::HandedOver => "handed-over",
            RunStatus::Executed => "executed",
            RunStatus::PartlyExecuted => "partly-executed",
            RunStatus::Failed => "failed",
            RunStatus::Rejected => "rejected",
            RunStatus::Expired => "expired",
            RunStatus::Stale => "stale",
            RunStatus::RolledBack => "rolled-back",
            RunStatus::RollbackPartial => "rollback-partial",
        }
    }

    /// A rollback can be offered: the run wrote something to F&O that is still in effect.
    pub fn can_roll_back(self) -> bool {
        matches!(self, RunStatus::Executed | RunStatus::PartlyExecuted | RunStatus::RollbackPartial)
    }

    /// The approvals were met and the decision went to F&O (whatever became of it): the approval that
    /// completed the count is the one that executed it.
    pub fn reached_execution(self) -> bool {
        !matches!(
            self,
            RunStatus::Pending | RunStatus::Approved | RunStatus::Rejected | RunStatus::Expired | RunStatus::Stale
        )
    }

    /// The outcome of a write is not known yet: reconciliation (reading F&O) must settle it.
    pub fn awaits_reconciliation(self) -> bool {
        matches!(self, RunStatus::Executing | RunStatus::Unknown)
    }

    /// No approval or rejection can be taken on a run in this state (a rollback may still be: see
    /// [`RunStatus::can_roll_back`]); an unknown outcome is not final until reconciliation settles it.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Pending | RunStatus::Approved | RunStatus::Executing | RunStatus::Unknown)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown status '{s}'; expected one of: {}", names.join(", "))
        })
    }
}
