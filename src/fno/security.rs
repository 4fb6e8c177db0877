//! Reading F&O's own security: a user (is it enabled?) and the roles they hold, enabled, in a company.
//! Names come from `[security]` (FNO.md §7 marks several unverified).

use crate::config::SecurityConfig;
use crate::model::{FieldValue, Fields};

use super::keys::string_literal;
use super::{EntityKey, FnoClient, FnoError, Query};

/// One role assignment of a user, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub role_id: String,
    pub role_name: String,
    pub enabled: bool,
    /// The legal entity the assignment is limited to (lowercase); `None`: every company.
    pub company: Option<String>,
}

impl Assignment {
    /// Whether it counts in `company` (`None`: a run with no company counts only unscoped assignments).
    pub fn counts_in(&self, company: Option<&str>) -> bool {
        self.enabled
            && match (&self.company, company) {
                (None, _) => true,
                (Some(scope), Some(c)) => scope.eq_ignore_ascii_case(c),
                (Some(_), None) => false,
            }
    }
}

fn text<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).and_then(FieldValue::as_text).unwrap_or_default()
}

/// Every role assignment of `user` (one query, all pages), enabled or not.
pub async fn assignments(client: &FnoClient, names: &SecurityConfig, user: &str) -> Result<Vec<Assignment>, FnoError> {
    let query = Query { filter: Some(format!("{} eq {}", names.user_field, string_literal(user))), ..Query::default() };
    let rows = client.query(&names.user_roles, &query).await?.rows;
    Ok(rows
        .iter()
        .filter(|r| text(&r.fields, &names.user_field).eq_ignore_ascii_case(user))
        .map(|r| {
            let company = names.company_field.as_deref().map(|f| text(&r.fields, f).trim().to_lowercase());
            Assignment {
                role_id: text(&r.fields, &names.role_field).to_string(),
                role_name: text(&r.fields, &names.role_name).to_string(),
                enabled: text(&r.fields, &names.status_field).eq_ignore_ascii_case(&names.enabled_status),
                company: company.filter(|c| !c.is_empty()),
            }
        })
        .collect())
}

/// The names of `user`'s enabled roles, sorted: what a role run's before snapshot lists.
pub async fn enabled_role_names(
    client: &FnoClient,
    names: &SecurityConfig,
    user: &str,
) -> Result<Vec<String>, FnoError> {
    let mut roles: Vec<String> =
        assignments(client, names, user).await?.into_iter().filter(|a| a.enabled).map(|a| a.role_name).collect();
    roles.sort_by_key(|r| r.to_lowercase());
    roles.dedup();
    Ok(roles)
}

/// Whether the F&O user `user` is enabled; `None` when F&O has no such user.
pub async fn user_enabled(client: &FnoClient, names: &SecurityConfig, user: &str) -> Result<Option<bool>, FnoError> {
    let mut key = Fields::new();
    key.insert(names.user_key.clone(), FieldValue::Text(user.to_string()));
    let key =
        EntityKey::from_fields(&key).map_err(|reason| FnoError::InvalidUrl { url: names.users.clone(), reason })?;
    match client.get_entity(&names.users, &key).await {
        Ok(entity) => Ok(Some(match entity.fields.get(&names.user_enabled) {
            Some(FieldValue::Bool(b)) => *b,
            Some(FieldValue::Text(t)) => t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("true"),
            _ => false,
        })),
        Err(FnoError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The role named `name` (or with that identifier): its identifier and name as F&O spells them.
pub async fn find_role(
    client: &FnoClient,
    names: &SecurityConfig,
    name: &str,
) -> Result<Option<(String, String)>, FnoError> {
    let filter =
        format!("{} eq {} or {} eq {}", names.role_name, string_literal(name), names.role_field, string_literal(name));
    let rows = client.query(&names.roles, &Query { filter: Some(filter), ..Query::default() }).await?.rows;
    Ok(rows
        .iter()
        .map(|r| (text(&r.fields, &names.role_field).to_string(), text(&r.fields, &names.role_name).to_string()))
        .find(|(id, n)| n.eq_ignore_ascii_case(name) || id.eq_ignore_ascii_case(name)))
}
