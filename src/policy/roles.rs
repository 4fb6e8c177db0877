//! Security roles in policy: a high-risk role's assignment or revocation needs a second approver, and
//! segregation of duties from F&O's own security (the approver's F&O user is enabled, holds a role that
//! may approve the action, and no conflicting pair of roles), read live at decision time.

use super::Level;
use super::rules::*;
use super::values::vis;
use crate::judge::ApproverSecurity;
use crate::model::{FieldValue, GovernedRun};

/// The role a role run assigns or revokes, by name (else by identifier).
pub fn role_of(run: &GovernedRun, config: &crate::config::Config) -> Option<String> {
    let s = &config.security;
    let name =
        |fields: &crate::model::Fields| fields.get(&s.role_name).and_then(FieldValue::as_text).map(str::to_string);
    name(&run.proposed.fields)
        .or_else(|| name(&run.before.fields))
        .or_else(|| run.target.keys.get(&s.role_field).and_then(FieldValue::as_text).map(str::to_string))
}

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    high_risk(ctx, out);
    fno_security(ctx, out);
}

fn high_risk(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let run = ctx.run;
    if !run.action.is_role_action() {
        return;
    }
    let Some(role) = role_of(run, ctx.config) else { return };
    let id = run.target.keys.get(&ctx.config.security.role_field).and_then(FieldValue::as_text).unwrap_or_default();
    let listed = &ctx.config.policy.high_risk_roles;
    let high = listed.iter().find(|r| r.eq_ignore_ascii_case(&role) || r.eq_ignore_ascii_case(id));
    let verb = if run.action == crate::model::Action::AssignRole { "assigning" } else { "revoking" };
    out.push(match high {
        Some(r) => ROLE_HIGH_RISK.verdict(
            Level::Soft,
            format!("{verb} the high-risk role '{}' needs a second, distinct approver", vis(r)),
            Some(ctx.config.security.role_name.clone()),
        ),
        None => ROLE_HIGH_RISK.pass(format!("'{}' is not a high-risk role ([policy] high_risk_roles)", vis(&role))),
    });
}

/// The roles `[approver.roles]` lets approve this run's action (its short name, verb, wire name, or `*`).
fn roles_for<'c>(ctx: &Ctx<'c>) -> Option<&'c Vec<String>> {
    let roles = &ctx.config.approver.roles;
    [ctx.run.action, ctx.run.document_action()]
        .into_iter()
        .flat_map(|a| [a.short(), a.verb(), a.as_str()])
        .chain(["*"])
        .find_map(|k| roles.get(k))
}

fn fno_security(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let approver = &ctx.config.approver;
    if approver.roles.is_empty() {
        return; // The F&O role rules are off.
    }
    let who = vis(ctx.facts.approver.as_str());
    let (user, enabled, held) = match ctx.facts.approver_security {
        None => {
            out.push(SOD_FNO_USER.verdict(
                Level::Advisory,
                format!("{who}'s F&O user and roles are read from F&O when deciding"),
                None,
            ));
            return;
        }
        Some(ApproverSecurity::Unmapped) => {
            out.push(SOD_FNO_USER.verdict(
                Level::Hard,
                format!(
                    "no F&O user is mapped to {who}, so their F&O roles cannot be checked: add \"{who}\" = \"<F&O \
                     user id>\" under [approver.fno_users]"
                ),
                None,
            ));
            return;
        }
        Some(ApproverSecurity::Unreadable(why)) => {
            out.push(SOD_FNO_USER.verdict(
                Level::Hard,
                format!("F&O security data could not be read ({}); failing closed", vis(why)),
                None,
            ));
            return;
        }
        Some(ApproverSecurity::Read { user, enabled, roles }) => (user, *enabled, roles),
    };
    let user_v = vis(user);
    match enabled {
        None => {
            out.push(SOD_FNO_USER.verdict(
                Level::Hard,
                format!("{who}'s F&O user {user_v} does not exist in F&O"),
                None,
            ));
            return;
        }
        Some(false) => {
            out.push(SOD_FNO_USER.verdict(Level::Hard, format!("{who}'s F&O user {user_v} is disabled in F&O"), None));
            return;
        }
        Some(true) => out.push(SOD_FNO_USER.pass(format!("{who} is F&O user {user_v}, enabled"))),
    }
    let holds = |role: &str| held.iter().any(|h| h.eq_ignore_ascii_case(role));
    let scope = ctx.run.company().map(|c| format!(" in {}", vis(c.as_str()))).unwrap_or_default();
    match roles_for(ctx) {
        Some(allowed) => match allowed.iter().find(|r| holds(r)) {
            Some(r) => out.push(SOD_FNO_ROLE.pass(format!("{user_v} holds the role '{}'{scope}, enabled", vis(r)))),
            None => out.push(SOD_FNO_ROLE.verdict(
                Level::Hard,
                format!(
                    "{user_v} holds no enabled F&O role that may approve {}{scope}: needs '{}'",
                    ctx.run.action.verb(),
                    allowed.iter().map(|r| vis(r)).collect::<Vec<_>>().join("' or '")
                ),
                None,
            )),
        },
        None => out.push(SOD_FNO_ROLE.pass(format!("[approver.roles] names no role for {}", ctx.run.action.verb()))),
    }
    let mut conflicts = 0;
    for pair in approver.role_conflicts.iter().filter(|p| holds(&p.requester) && holds(&p.approver)) {
        conflicts += 1;
        out.push(SOD_FNO_CONFLICT.verdict(
            Level::Hard,
            format!(
                "{user_v} holds both '{}' and '{}'{scope}: roles that prepare and approve the same change conflict",
                vis(&pair.requester),
                vis(&pair.approver)
            ),
            None,
        ));
    }
    if conflicts == 0 && !approver.role_conflicts.is_empty() {
        out.push(SOD_FNO_CONFLICT.pass(format!("{user_v} holds no conflicting pair of roles")));
    }
}
