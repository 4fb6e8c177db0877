//! `[intake.workflow]`: F&O's own workflow inbox as a source of runs (off by default).
//!
//! Work items assigned to the approver's F&O user are read from `WorkflowWorkItems`, decided through its
//! validate and complete actions (FNO.md §7, §8). Microsoft documents the route but not every name, and
//! names vary by version: every entity set, field, action, parameter and outcome name is configurable,
//! with the documented names as defaults. See docs/config.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::load::Problem;

/// Run sources besides run files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    pub workflow: WorkflowIntake,
}

/// F&O's workflow inbox: its entity set, field and action names, and whose inbox it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowIntake {
    /// Off by default: `signoff inbox sync` and the TUI read work items only when this is true.
    pub enabled: bool,
    /// The work item entity set.
    pub entity_set: String,
    /// The work item's field names.
    pub fields: WorkItemFields,
    /// The `Status` value of an item that awaits its user.
    pub pending_status: String,
    /// The action that says whether an item still awaits a user (answers a boolean).
    pub validate_action: String,
    /// The action that completes an item with an outcome and a comment.
    pub complete_action: String,
    /// The two actions' parameter names.
    pub parameters: WorkflowParameters,
    /// The outcome names complete takes.
    pub outcomes: WorkflowOutcomes,
    /// A work item's menu item name → the managed object of its document (`vendor_invoice`,
    /// `ledger_journal`): how signoff knows an invoice's item from a journal's.
    pub documents: BTreeMap<String, String>,
    /// The approver's identity (as `approver.id` or the allowed-signers file names it) → their F&O user
    /// id. An approver not listed here is looked up in `SystemUsers` by `Alias` (their UPN).
    pub users: BTreeMap<String, String>,
    /// Groups whose members may decide an item's run (empty: the F&O workflow's assignment alone).
    pub eligible_groups: Vec<String>,
    /// A run made from a work item expires this many days after it was read.
    pub expires_days: u32,
}

/// Field names of a work item (and the document field its `document` points at).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkItemFields {
    /// The work item instance id (what validate and complete take).
    pub id: String,
    pub subject: String,
    /// The workflow step's instructions (read when present).
    pub instructions: String,
    pub element_id: String,
    pub status: String,
    /// The F&O user the item is assigned to.
    pub user: String,
    pub due: String,
    pub menu_item: String,
    /// Who submitted the document to workflow (read when present; segregation of duties).
    pub originator: String,
    /// The RecId of the item's document.
    pub document: String,
    /// The document entity's field holding its RecId.
    pub document_rec_id: String,
    /// How a completed item was decided (read back when complete's answer was lost).
    pub outcome: String,
}

/// Parameter names of the validate and complete actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowParameters {
    /// The work item instance id (both actions).
    pub work_item: String,
    /// The F&O user acting (both actions); empty: not sent.
    pub user: String,
    /// The outcome (complete).
    pub outcome: String,
    /// The comment (complete): the approver's reason.
    pub comment: String,
}

/// The outcome names complete takes for an approval and a rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowOutcomes {
    pub approve: String,
    pub reject: String,
}

impl Default for WorkflowIntake {
    fn default() -> Self {
        WorkflowIntake {
            enabled: false,
            entity_set: "WorkflowWorkItems".into(),
            fields: WorkItemFields::default(),
            pending_status: "Pending".into(),
            validate_action: "validate".into(),
            complete_action: "complete".into(),
            parameters: WorkflowParameters::default(),
            outcomes: WorkflowOutcomes::default(),
            documents: [
                ("VendInvoiceInfoTable".to_string(), "vendor_invoice".to_string()),
                ("LedgerJournalTable".to_string(), "ledger_journal".to_string()),
            ]
            .into(),
            users: BTreeMap::new(),
            eligible_groups: Vec::new(),
            expires_days: 14,
        }
    }
}

impl Default for WorkItemFields {
    fn default() -> Self {
        WorkItemFields {
            id: "InstanceId".into(),
            subject: "Subject".into(),
            instructions: "Instructions".into(),
            element_id: "ElementId".into(),
            status: "Status".into(),
            user: "UserId".into(),
            due: "DueDateTime".into(),
            menu_item: "MenuItemName".into(),
            originator: "Originator".into(),
            document: "RefRecId".into(),
            document_rec_id: "RecId".into(),
            outcome: "Outcome".into(),
        }
    }
}

impl Default for WorkflowParameters {
    fn default() -> Self {
        WorkflowParameters {
            work_item: "_workItemInstanceId".into(),
            user: "_userId".into(),
            outcome: "_outcome".into(),
            comment: "_comment".into(),
        }
    }
}

impl Default for WorkflowOutcomes {
    fn default() -> Self {
        WorkflowOutcomes { approve: "Approve".into(), reject: "Reject".into() }
    }
}

impl WorkflowIntake {
    /// Every problem with the section, each naming its key (checked even while it is off, so turning it
    /// on never reveals an old mistake).
    pub(super) fn check(&self, out: &mut Vec<Problem>) {
        let key = "intake.workflow";
        let name = |out: &mut Vec<Problem>, field: &str, value: &str, allow_empty: bool| {
            if (allow_empty && value.is_empty()) || super::validate::is_identifier(value) {
                return;
            }
            let what =
                if value.trim().is_empty() { "is empty".to_string() } else { format!("'{value}' is not a name") };
            out.push(Problem::at(
                format!("{key}.{field}"),
                format!(
                    "{key}.{field} {what}: expected an OData name (letters, digits, '_'), e.g. the default in \
                     docs/config.md"
                ),
            ));
        };
        name(out, "entity_set", &self.entity_set, false);
        name(out, "validate_action", &self.validate_action, false);
        name(out, "complete_action", &self.complete_action, false);
        let f = &self.fields;
        for (field, value) in [
            ("id", &f.id),
            ("subject", &f.subject),
            ("instructions", &f.instructions),
            ("element_id", &f.element_id),
            ("status", &f.status),
            ("user", &f.user),
            ("due", &f.due),
            ("menu_item", &f.menu_item),
            ("originator", &f.originator),
            ("document", &f.document),
            ("document_rec_id", &f.document_rec_id),
            ("outcome", &f.outcome),
        ] {
            name(out, &format!("fields.{field}"), value, false);
        }
        let p = &self.parameters;
        for (field, value, optional) in [
            ("work_item", &p.work_item, false),
            ("user", &p.user, true),
            ("outcome", &p.outcome, false),
            ("comment", &p.comment, false),
        ] {
            name(out, &format!("parameters.{field}"), value, optional);
        }
        for (field, value) in [("pending_status", &self.pending_status), ("outcomes.approve", &self.outcomes.approve)]
            .into_iter()
            .chain([("outcomes.reject", &self.outcomes.reject)])
        {
            if value.trim().is_empty() {
                out.push(Problem::at(
                    format!("{key}.{field}"),
                    format!("{key}.{field} is empty: F&O needs the value it uses, e.g. the default in docs/config.md"),
                ));
            }
        }
        if self.outcomes.approve == self.outcomes.reject {
            out.push(Problem::at(
                format!("{key}.outcomes"),
                format!(
                    "{key}.outcomes.approve and .reject are both '{}': a rejection would approve",
                    self.outcomes.reject
                ),
            ));
        }
        for (menu_item, object) in &self.documents {
            if crate::model::Action::for_document(object).is_none() {
                out.push(Problem::at(
                    format!("{key}.documents.{menu_item}"),
                    format!(
                        "{key}.documents.{menu_item} = '{object}': a work item's document is \"vendor_invoice\" or \
                         \"ledger_journal\""
                    ),
                ));
            }
        }
        for (approver, user) in &self.users {
            if approver.trim().is_empty() || user.trim().is_empty() {
                out.push(Problem::at(
                    format!("{key}.users"),
                    format!(
                        "{key}.users maps '{approver}' to '{user}': neither the approver nor the F&O user may be empty"
                    ),
                ));
            }
        }
        if self.eligible_groups.iter().any(|g| g.trim().is_empty()) {
            out.push(Problem::at(format!("{key}.eligible_groups"), format!("{key}.eligible_groups has an empty name")));
        }
        if !(1..=365).contains(&self.expires_days) {
            out.push(Problem::at(
                format!("{key}.expires_days"),
                format!("{key}.expires_days must be between 1 and 365 (default 14)"),
            ));
        }
    }

    /// The F&O user configured for `approver` (compared case-insensitively), if any.
    pub fn user_for(&self, approver: &str) -> Option<&str> {
        self.users.iter().find(|(a, _)| a.eq_ignore_ascii_case(approver)).map(|(_, u)| u.as_str())
    }

    /// The managed object of the document a menu item opens, if configured.
    pub fn document_for(&self, menu_item: &str) -> Option<&str> {
        self.documents.iter().find(|(m, _)| m.eq_ignore_ascii_case(menu_item)).map(|(_, o)| o.as_str())
    }
}
