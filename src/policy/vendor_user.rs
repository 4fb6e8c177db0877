//! Vendor and user rules: high-risk field changes, and nobody disabling their own user.

use super::Level;
use super::rules::*;
use super::values::{same_actor, shown, text, vis};
use crate::model::Action;

/// High-risk fields when the managed object configures none: the vendor's bank details.
pub const DEFAULT_HIGH_RISK_FIELDS: &[&str] =
    &["BankAccountId", "BankAccountNumber", "BankIBAN", "BankSWIFTCode", "BankRoutingNumber", "PaymentId"];

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    high_risk(ctx, out);
    if ctx.run.action == Action::DisableUser {
        self_disable(ctx, out);
    }
}

fn high_risk(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let configured = ctx.config.managed_objects.get(&ctx.run.target.managed_object).map(|o| &o.high_risk_fields);
    let fields: Vec<&str> = match configured {
        Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
        _ if ctx.run.action == Action::UpdateVendor => DEFAULT_HIGH_RISK_FIELDS.to_vec(),
        _ => return,
    };
    let mut changed = 0;
    for (name, new) in &ctx.run.proposed.fields {
        if !fields.contains(&name.as_str()) {
            continue;
        }
        let old = ctx.state.fields.get(name);
        if old == Some(new) {
            continue;
        }
        changed += 1;
        let before = old.map_or_else(|| "(not captured)".to_string(), shown);
        out.push(HIGH_RISK.verdict(
            Level::Soft,
            format!(
                "high-risk field {} changes from {before} to {}: a second distinct approver is required",
                vis(name),
                shown(new)
            ),
            Some(vis(name)),
        ));
    }
    if changed == 0 {
        out.push(HIGH_RISK.pass(format!("no high-risk field changes ({})", fields.join(", "))));
    }
}

fn self_disable(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let approver = ctx.facts.approver.as_str();
    let target = text(&ctx.run.target.keys, "UserID");
    // The approver may be known by UPN while the target is an F&O user id: compare with the alias and email too.
    let names = [target, text(&ctx.state.fields, "Alias"), text(&ctx.state.fields, "Email")];
    let own = names.iter().flatten().any(|n| same_actor(n, approver));
    out.push(match (own, target) {
        (true, _) => USER_SELF.verdict(
            Level::Hard,
            format!("{} cannot disable their own user {}", vis(approver), vis(target.unwrap_or(approver))),
            Some("UserID".into()),
        ),
        (false, Some(t)) => USER_SELF.pass(format!("the target user {} is not the approver", vis(t))),
        (false, None) => {
            USER_SELF.verdict(Level::Hard, "the target has no UserID key, so self-disable cannot be ruled out", None)
        }
    });
}
