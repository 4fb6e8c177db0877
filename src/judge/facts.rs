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
        if run.action != Action::ApproveVendorInvoice {
            return None;
        }
        let field = |name: &str| {
            run.proposed
                .fields
                .get(name)
                .or_else(|| run.before.fields.get(name))
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
}
