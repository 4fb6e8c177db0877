//! Where F&O keeps security (users, roles, who holds which role), and how approvers map to F&O users.
//!
//! The entity and field names follow FNO.md §7; several are unverified there, so each is configurable
//! under `[security]`, with the documented names as defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[security]`: the entity sets and fields signoff reads and writes for role runs and for segregation
/// of duties from F&O's own roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The users entity set and its key (`SystemUsers`, `UserID`) and enabled flag (`Enabled`, an
    /// `Edm.Boolean`).
    pub users: String,
    pub user_key: String,
    pub user_enabled: String,
    /// The roles entity set (`SecurityRoles`), keyed by the role identifier.
    pub roles: String,
    /// Who holds which role, as read; a revocation DELETEs a row here (`SecurityUserRoles`).
    pub user_roles: String,
    /// Where an assignment is POSTed (`SecurityUserRoleAssociations`).
    pub role_associations: String,
    /// The user and role fields of a user-role row (`UserId`, `SecurityRoleIdentifier`), and the role's
    /// name (`SecurityRoleName`, on roles and user-role rows alike).
    pub user_field: String,
    pub role_field: String,
    pub role_name: String,
    /// The assignment's status field and the member that counts (`AssignmentStatus`, `Enabled`).
    pub status_field: String,
    pub enabled_status: String,
    /// The field that scopes an assignment to one legal entity (empty value: every company); `None`
    /// when the environment does not scope assignments.
    pub company_field: Option<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            users: "SystemUsers".into(),
            user_key: "UserID".into(),
            user_enabled: "Enabled".into(),
            roles: "SecurityRoles".into(),
            user_roles: "SecurityUserRoles".into(),
            role_associations: "SecurityUserRoleAssociations".into(),
            user_field: "UserId".into(),
            role_field: "SecurityRoleIdentifier".into(),
            role_name: "SecurityRoleName".into(),
            status_field: "AssignmentStatus".into(),
            enabled_status: "Enabled".into(),
            company_field: Some("Company".into()),
        }
    }
}

/// A pair of roles one approver may not hold together: the role that prepares such changes (the
/// requester's side) and the role that approves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConflict {
    pub requester: String,
    pub approver: String,
}

/// The approver's F&O user: `[approver.fno_users]`, else the workflow inbox's `[intake.workflow.users]`
/// (one mapping, two places to write it), matched case-insensitively on the signed identity. Never
/// guessed: an unmapped approver has none.
pub fn fno_user_of<'a>(
    fno_users: &'a BTreeMap<String, String>,
    workflow_users: &'a BTreeMap<String, String>,
    approver: &str,
) -> Option<&'a str> {
    fno_users
        .iter()
        .chain(workflow_users.iter())
        .find(|(a, _)| a.eq_ignore_ascii_case(approver))
        .map(|(_, u)| u.as_str())
        .filter(|u| !u.trim().is_empty())
}
