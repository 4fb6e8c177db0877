//! What the rules need beyond the run and the config: the approver, the clock, the live record, the
//! synced metadata catalog and the other known runs. `None` means "not known" and fails closed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::fno::Catalog;
use crate::model::{Action, ActorId, FieldValue, GovernedRun, RunId, Snapshot};

/// A record as read from F&O (or captured in the run): ETag, fields and lines.
pub type RecordState = Snapshot;

/// Everything the rules and the rollback planner know besides the run and the config.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The trusted clock's time of the decision (or of the preview).
    pub now: DateTime<Utc>,
    /// Who is deciding.
    pub approver: ActorId,
    /// The approver's approval groups (matched against the route's eligible groups).
    pub approver_groups: Vec<String>,
    /// Approvers already counted on this run.
    pub prior_approvers: Vec<ActorId>,
    /// The live record after re-validation; when absent the rules read the run's before snapshot.
    pub live: Option<&'a RecordState>,
    /// Operation names, bound action names or service paths verified by metadata sync; `None` = never synced.
    pub known_operations: Option<&'a BTreeSet<String>>,
    /// Entity set → its property names, from `$metadata`; `None` = never synced.
    pub known_entity_fields: Option<&'a BTreeMap<String, BTreeSet<String>>>,
    /// The synced `$metadata` catalog: property types and facets (`metadata.facets`); `None` = never synced.
    pub catalog: Option<&'a Catalog>,
    /// Main account ids from the catalog (`MainAccounts`); `None` = never synced.
    pub known_accounts: Option<&'a BTreeSet<String>>,
    /// Vendor invoices of other known runs, for duplicate detection.
    pub other_runs: &'a [OtherInvoice],
    /// The approver's F&O user and roles, read live at decision time for the F&O role rules; `None`
    /// when not read (a preview: the rules say they are checked when deciding).
    pub approver_security: Option<&'a ApproverSecurity>,
}

/// What F&O says about the deciding approver, read once per decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproverSecurity {
    /// The approver's F&O user, whether it is enabled (`None`: F&O has no such user), and the names of
    /// the roles it holds enabled in the run's company (unscoped ones everywhere).
    Read { user: String, enabled: Option<bool>, roles: Vec<String> },
    /// No F&O user is mapped to the approver's identity; signoff never guesses one.
    Unmapped,
    /// F&O's security data could not be read (the rules fail closed); the reason.
    Unreadable(String),
}

impl<'a> Facts<'a> {
    /// Facts with nothing known but the time and the approver (every catalog rule will fail closed).
    pub fn new(now: DateTime<Utc>, approver: ActorId) -> Self {
        Facts {
            now,
            approver,
            approver_groups: Vec::new(),
            prior_approvers: Vec::new(),
            live: None,
            known_operations: None,
            known_entity_fields: None,
            catalog: None,
            known_accounts: None,
            other_runs: &[],
            approver_security: None,
        }
    }

    /// The state the rules judge: the live record when re-validated, else the reviewed snapshot.
    pub fn state<'r>(&self, run: &'r GovernedRun) -> &'r RecordState
    where
        'a: 'r,
    {
        self.live.unwrap_or(&run.before)
    }
}

/// The identity of a vendor invoice in another run: enough to spot a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherInvoice {
    pub run_id: RunId,
    /// Lowercase `dataAreaId`.
    pub company: Option<String>,
    /// The invoice account (or vendor account) as the run names it.
    pub vendor: String,
    pub invoice_number: String,
}

impl OtherInvoice {
    /// The invoice identity of a vendor-invoice run (proposed values win over the snapshot), if it has one.
    pub fn of(run: &GovernedRun) -> Option<OtherInvoice> {
        OtherInvoice::judged_on(run, &run.before)
    }

    /// The invoice identity of `run` as judged on `state` (its before snapshot, or the live record it
    /// drifted to), proposed values winning: the values the duplicate rule reads.
    pub fn judged_on(run: &GovernedRun, state: &RecordState) -> Option<OtherInvoice> {
        if run.document_action() != Action::ApproveVendorInvoice {
            return None;
        }
        let field = |name: &str| {
            run.proposed
                .fields
                .get(name)
                .or_else(|| state.fields.get(name))
                .and_then(FieldValue::as_text)
                .map(str::to_string)
        };
        Some(OtherInvoice {
            run_id: run.id.clone(),
            company: run.company().map(|c| c.to_string()),
            vendor: field("InvoiceAccount").or_else(|| field("VendorAccount"))?,
            invoice_number: field("InvoiceNumber")?,
        })
    }

    /// The key the duplicate rule matches this invoice on.
    pub fn key(&self) -> InvoiceKey {
        InvoiceKey::new(self.company.clone(), &self.vendor, &self.invoice_number)
    }
}

/// A vendor invoice's identity exactly as the duplicate-invoice rule compares two of them: the same
/// lowercase `dataAreaId` (or both none), and vendor and invoice number equal once trimmed and
/// ASCII-lowercased (`same_actor` and the rule's own comparison). Two invoices are duplicates of each
/// other exactly when their keys are equal, so the store can index the key and answer by lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceKey {
    pub company: Option<String>,
    pub vendor: String,
    pub number: String,
}

impl InvoiceKey {
    /// The key of an invoice, normalised.
    pub fn new(company: Option<String>, vendor: &str, number: &str) -> InvoiceKey {
        InvoiceKey { company, vendor: normalised(vendor), number: normalised(number) }
    }

    /// The key of a vendor-invoice run, judged on its before snapshot; `None` for any other run or an
    /// invoice without a vendor or number (the rule then blocks on its own).
    pub fn of(run: &GovernedRun) -> Option<InvoiceKey> {
        OtherInvoice::of(run).map(|o| o.key())
    }
}

/// Trimmed, ASCII-lowercased: `a.trim().eq_ignore_ascii_case(b.trim())` holds exactly when
/// `normalised(a) == normalised(b)`.
fn normalised(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_equal_exactly_when_the_duplicate_rule_compares_equal() {
        let pairs = [
            ("US-101", " us-101 ", true),
            ("US-101\t", "US-101", true),
            ("US-101", "US-1010", false),
            ("ÄB-1", "äb-1", false),    // the rule folds ASCII case only
            ("AP\u{2003}", "ap", true), // Unicode whitespace is trimmed alike
        ];
        for (a, b, same) in pairs {
            let rule = a.trim().eq_ignore_ascii_case(b.trim());
            assert_eq!(rule, same, "{a:?} vs {b:?}");
            assert_eq!(InvoiceKey::new(None, a, "1") == InvoiceKey::new(None, b, "1"), same, "{a:?} vs {b:?}");
            assert_eq!(InvoiceKey::new(None, "v", a) == InvoiceKey::new(None, "v", b), same, "{a:?} vs {b:?}");
        }
        assert_ne!(InvoiceKey::new(Some("usmf".into()), "v", "1"), InvoiceKey::new(None, "v", "1"));
    }
}
