//! The six governed actions and what each one targets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A governed action: one proposed write on one F&O record (and its lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "dynamicsfinance.approve-vendor-invoice")]
    ApproveVendorInvoice,
    #[serde(rename = "dynamicsfinance.post-journal")]
    PostJournal,
    #[serde(rename = "dynamicsfinance.update-vendor")]
    UpdateVendor,
    #[serde(rename = "dynamicsfinance.enable-user")]
    EnableUser,
    #[serde(rename = "dynamicsfinance.disable-user")]
    DisableUser,
    /// Decide an F&O workflow work item (approve or reject it through `WorkflowWorkItems`): the target is
    /// the item's document (a vendor invoice or a journal), the run's `work_item` the item itself.
    #[serde(rename = "dynamicsfinance.approve-workflow-item")]
    ApproveWorkflowItem,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::ApproveVendorInvoice,
        Action::PostJournal,
        Action::UpdateVendor,
        Action::EnableUser,
        Action::DisableUser,
        Action::ApproveWorkflowItem,
    ];

    /// The wire name used in run files (`dynamicsfinance.post-journal`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice => "dynamicsfinance.approve-vendor-invoice",
            Action::PostJournal => "dynamicsfinance.post-journal",
            Action::UpdateVendor => "dynamicsfinance.update-vendor",
            Action::EnableUser => "dynamicsfinance.enable-user",
            Action::DisableUser => "dynamicsfinance.disable-user",
            Action::ApproveWorkflowItem => "dynamicsfinance.approve-workflow-item",
        }
    }

    /// A short label for tables (`invoice`, `journal`, `vendor`, `enable-user`, `disable-user`,
    /// `workflow-item`).
    pub fn short(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice => "invoice",
            Action::PostJournal => "journal",
            Action::UpdateVendor => "vendor",
            Action::EnableUser => "enable-user",
            Action::DisableUser => "disable-user",
            Action::ApproveWorkflowItem => "workflow-item",
        }
    }

    /// The verb `signoff propose` takes and `[propose.routes]` is keyed by (`approve-invoice`,
    /// `post-journal`, `update-vendor`, `enable-user`, `disable-user`).
    pub fn verb(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice => "approve-invoice",
            Action::PostJournal => "post-journal",
            Action::UpdateVendor => "update-vendor",
            Action::EnableUser => "enable-user",
            Action::DisableUser => "disable-user",
            Action::ApproveWorkflowItem => "approve-workflow-item",
        }
    }

    /// The managed object (config section) this action writes through. A workflow item's is its
    /// document's: see [`Action::for_document`].
    pub fn managed_object(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => "vendor_invoice",
            Action::PostJournal => "ledger_journal",
            Action::UpdateVendor => "vendor",
            Action::EnableUser | Action::DisableUser => "user",
        }
    }

    /// The default header entity set (a workflow item's document decides its own).
    pub fn entity_set(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => "VendorInvoiceHeaders",
            Action::PostJournal => "LedgerJournalHeaders",
            Action::UpdateVendor => "VendorsV2",
            Action::EnableUser | Action::DisableUser => "SystemUsers",
        }
    }

    /// The default line entity set and the line-number key, for actions that have lines.
    pub fn lines(self) -> Option<(&'static str, &'static str)> {
        match self {
            Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => {
                Some(("VendorInvoiceLines", "InvoiceLineNumber"))
            }
            Action::PostJournal => Some(("LedgerJournalLines", "LineNumber")),
            _ => None,
        }
    }

    /// Whether the target is company-scoped, so its keys must include `dataAreaId`.
    pub fn company_scoped(self) -> bool {
        !matches!(self, Action::EnableUser | Action::DisableUser)
    }

    /// The documents a workflow work item can be about: the action whose record (header, lines, rules)
    /// the item's document is, found by its managed object (`vendor_invoice`, `ledger_journal`).
    pub fn for_document(managed_object: &str) -> Option<Action> {
        [Action::ApproveVendorInvoice, Action::PostJournal].into_iter().find(|a| a.managed_object() == managed_object)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    /// Accepts the wire name, the short label or the verb (`update-vendor`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL.into_iter().find(|a| a.as_str() == s || a.short() == s || a.verb() == s).ok_or_else(|| {
            let verbs: Vec<_> = Action::ALL.iter().map(|a| a.verb()).collect();
            let names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
            format!(
                "unknown action '{s}'; expected one of: {} (or the full names: {})",
                verbs.join(", "),
                names.join(", ")
            )
        })
    }
}
