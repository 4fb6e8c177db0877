//! The compensation of role runs: an assignment is revoked (the user-role row deleted under the ETag the
//! assignment returned), a revocation re-assigned (the same role POSTed to the association entity).

use super::request::{PlannedRequest, body_of, entity_path};
use super::{Readiness, RollbackPlan};
use crate::config::Config;
use crate::model::{Action, Fields, GovernedRun};
use crate::text::visible;

/// The user-role row a revocation's rollback assigns again: the target's keys, the role's name and,
/// where the revoked assignment was scoped to a company, that scope.
pub fn reassignment(run: &GovernedRun, config: &Config) -> Fields {
    let security = &config.security;
    let mut fields = run.target.keys.clone();
    let keep = [Some(&security.role_name), security.company_field.as_ref()];
    for name in keep.into_iter().flatten() {
        if let Some(value) = run.before.fields.get(name)
            && !matches!(value, crate::model::FieldValue::Text(s) if s.is_empty())
        {
            fields.insert(name.clone(), value.clone());
        }
    }
    fields
}

/// The fields an assignment POSTs: the target's keys and the proposed role name.
pub fn assignment(run: &GovernedRun) -> Fields {
    let mut fields = run.target.keys.clone();
    fields.extend(run.proposed.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    fields
}

pub fn plan(run: &GovernedRun, config: &Config) -> RollbackPlan {
    let security = &config.security;
    let (recipe, explanation) = match run.action {
        Action::AssignRole => (
            PlannedRequest {
                method: "DELETE".into(),
                path: entity_path(&security.user_roles, &run.target.keys),
                if_match: Some("the ETag the assignment returned".into()),
                body: String::new(),
                purpose: format!("revoke the assigned role {}", visible(&run.target.label())),
            },
            "The rollback revokes exactly the assigned role (DELETE of the user-role row, under the ETag the \
             assignment returned); the user's other roles are untouched.",
        ),
        _ => (
            PlannedRequest {
                method: "POST".into(),
                path: visible(&format!("/data/{}", security.role_associations)).into_owned(),
                if_match: None,
                body: body_of(&reassignment(run, config)),
                purpose: format!("assign the revoked role {} again", visible(&run.target.label())),
            },
            "The rollback assigns the revoked role again (POST to the association entity), restoring the \
             user's reviewed role set; F&O gives the row a new RecId and ETag.",
        ),
    };
    RollbackPlan {
        readiness: Readiness::Ready,
        recipe: vec![recipe],
        explanation: explanation.to_string(),
        reversal_date: None,
    }
}
