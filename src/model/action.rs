//! The governed actions and what each one targets: six fixed ones, each on its own kind of record, and
//! four generic record actions that work on any managed object the config names.

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
    /// PATCH allowlisted fields of any managed object's record under `If-Match`.
    #[serde(rename = "dynamicsfinance.update-record")]
    UpdateRecord,
    /// POST a new record of a managed object (its keys and allowlisted fields).
    #[serde(rename = "dynamicsfinance.create-record")]
    CreateRecord,
    /// DELETE a managed object's record under `If-Match`.
    #[serde(rename = "dynamicsfinance.delete-record")]
    DeleteRecord,
    /// Run one of a managed object's configured operations (bound action or custom service) on a record.
    #[serde(rename = "dynamicsfinance.execute-operation")]
    ExecuteOperation,
    /// Give a user a security role: POST to the user-role association entity.
    #[serde(rename = "dynamicsfinance.assign-role")]
    AssignRole,
    /// Take a security role from a user: DELETE of the user-role row under `If-Match`.
    #[serde(rename = "dynamicsfinance.revoke-role")]
    RevokeRole,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ApproveVendorInvoice,
        Action::PostJournal,
        Action::UpdateVendor,
        Action::EnableUser,
        Action::DisableUser,
        Action::ApproveWorkflowItem,
        Action::UpdateRecord,
        Action::CreateRecord,
        Action::DeleteRecord,
        Action::ExecuteOperation,
        Action::AssignRole,
        Action::RevokeRole,
    ];

    /// The security-role actions: their target is one user-role row (`UserId`, `SecurityRoleIdentifier`).
    pub const ROLE: [Action; 2] = [Action::AssignRole, Action::RevokeRole];

    /// Whether this action assigns or revokes a security role.
    pub fn is_role_action(self) -> bool {
        Action::ROLE.contains(&self)
    }

    /// The generic record actions: their target is any configured managed object, with the keys its
    /// synced `$metadata` declares.
    pub const RECORD: [Action; 4] =
        [Action::UpdateRecord, Action::CreateRecord, Action::DeleteRecord, Action::ExecuteOperation];

    /// Whether this is a generic record action (no fixed entity set, managed object or key).
    pub fn is_record_action(self) -> bool {
        Action::RECORD.contains(&self)
    }

    /// The wire name used in run files (`dynamicsfinance.post-journal`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ApproveVendorInvoice => "dynamicsfinance.approve-vendor-invoice",
            Action::PostJournal => "dynamicsfinance.post-journal",
            Action::UpdateVendor => "dynamicsfinance.update-vendor",
            Action::EnableUser => "dynamicsfinance.enable-user",
            Action::DisableUser => "dynamicsfinance.disable-user",
            Action::ApproveWorkflowItem => "dynamicsfinance.approve-workflow-item",
            Action::UpdateRecord => "dynamicsfinance.update-record",
            Action::CreateRecord => "dynamicsfinance.create-record",
            Action::DeleteRecord => "dynamicsfinance.delete-record",
            Action::ExecuteOperation => "dynamicsfinance.execute-operation",
            Action::AssignRole => "dynamicsfinance.assign-role",
            Action::RevokeRole => "dynamicsfinance.revoke-role",
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
            Action::UpdateRecord => "update",
            Action::CreateRecord => "create",
            Action::DeleteRecord => "delete",
            Action::ExecuteOperation => "operation",
            Action::AssignRole => "assign-role",
            Action::RevokeRole => "revoke-role",
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
            Action::UpdateRecord => "update-record",
            Action::CreateRecord => "create-record",
            Action::DeleteRecord => "delete-record",
            Action::ExecuteOperation => "execute-operation",
            Action::AssignRole => "assign-role",
            Action::RevokeRole => "revoke-role",
        }
    }

    /// The managed object (config section) this action writes through; `None` for a generic record
    /// action, whose run names it. A workflow item's is its document's: see [`Action::for_document`].
    pub fn managed_object(self) -> Option<&'static str> {
        match self {
            Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => Some("vendor_invoice"),
            Action::PostJournal => Some("ledger_journal"),
            Action::UpdateVendor => Some("vendor"),
            Action::EnableUser | Action::DisableUser => Some("user"),
            Action::AssignRole | Action::RevokeRole => Some("user_role"),
            Action::UpdateRecord | Action::CreateRecord | Action::DeleteRecord | Action::ExecuteOperation => None,
        }
    }

    /// The default header entity set (a workflow item's document decides its own; a generic record
    /// action's is its managed object's).
    pub fn entity_set(self) -> Option<&'static str> {
        match self {
            Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => Some("VendorInvoiceHeaders"),
            Action::PostJournal => Some("LedgerJournalHeaders"),
            Action::UpdateVendor => Some("VendorsV2"),
            Action::EnableUser | Action::DisableUser => Some("SystemUsers"),
            // The user-role row as read (a revoke deletes it here); an assignment is POSTed to the
            // association set (`[security] role_associations`).
            Action::AssignRole | Action::RevokeRole => Some("SecurityUserRoles"),
            Action::UpdateRecord | Action::CreateRecord | Action::DeleteRecord | Action::ExecuteOperation => None,
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

    /// Whether the target is company-scoped, so its keys must include `dataAreaId`; `None` for a generic
    /// record action, whose entity's `$metadata` keys decide.
    pub fn company_scoped(self) -> Option<bool> {
        match self {
            Action::EnableUser | Action::DisableUser | Action::AssignRole | Action::RevokeRole => Some(false),
            a if a.is_record_action() => None,
            _ => Some(true),
        }
    }

    /// The documents a workflow work item can be about: the action whose record (header, lines, rules)
    /// the item's document is, found by its managed object (`vendor_invoice`, `ledger_journal`).
    pub fn for_document(managed_object: &str) -> Option<Action> {
        [Action::ApproveVendorInvoice, Action::PostJournal]
            .into_iter()
            .find(|a| a.managed_object() == Some(managed_object))
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
