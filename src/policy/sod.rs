//! Segregation of duties and quorum: who may approve, and how many distinct people must.

use rust_decimal::Decimal;

use super::Level;
use super::rules::*;
use super::values::{money, number, same_actor, vis};
use crate::model::{Action, RequesterKind};

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let approver = ctx.facts.approver.as_str();
    let run = ctx.run;
    let who = vis(approver);

    out.push(if same_actor(approver, run.requester.id.as_str()) {
        SOD_REQUESTER.verdict(Level::Hard, format!("{who} requested this run and cannot approve it"), None)
    } else {
        SOD_REQUESTER.pass(format!("{who} is not the requester {}", vis(run.requester.id.as_str())))
    });

    if run.requester.kind == RequesterKind::Automation {
        out.push(match &run.requester.sponsor {
            Some(sponsor) if same_actor(approver, sponsor.as_str()) => SOD_SPONSOR.verdict(
                Level::Hard,
                format!("{who} sponsors the automation {} that requested this run", vis(run.requester.id.as_str())),
                None,
            ),
            Some(sponsor) => SOD_SPONSOR.pass(format!("{who} is not the sponsor {}", vis(sponsor.as_str()))),
            // Fail closed: an automation nobody answers for cannot be cleared.
            None => SOD_SPONSOR.verdict(Level::Hard, "the requesting automation names no sponsoring person", None),
        });
    }

    let creator = ctx.state.created_by.as_ref().or(run.before.created_by.as_ref());
    match creator {
        Some(c) if same_actor(approver, c.as_str()) => out.push(SOD_CREATOR.verdict(
            Level::Hard,
            format!("{who} created the record {} and cannot approve a change to it", vis(&run.target.label())),
            None,
        )),
        Some(c) => out.push(SOD_CREATOR.pass(format!("{who} is not the record's creator {}", vis(c.as_str())))),
        None => out.push(SOD_CREATOR.verdict(Level::Advisory, "the record's creator is not known; not checked", None)),
    }

    out.push(if ctx.facts.prior_approvers.iter().any(|p| same_actor(approver, p.as_str())) {
        SOD_ALREADY.verdict(Level::Hard, format!("{who} already approved this run and is not counted twice"), None)
    } else {
        SOD_ALREADY
            .pass(format!("{} approval(s) counted so far; {who} is not among them", ctx.facts.prior_approvers.len()))
    });

    let groups = &run.route.eligible_groups;
    if !groups.is_empty() {
        let member = groups.iter().find(|g| ctx.facts.approver_groups.iter().any(|a| a.eq_ignore_ascii_case(g)));
        out.push(match member {
            Some(g) => SOD_GROUP.pass(format!("{who} is in the eligible group {}", vis(g))),
            None => SOD_GROUP.verdict(
                Level::Hard,
                format!(
                    "{who} is in none of the eligible groups: {}",
                    groups.iter().map(|g| vis(g)).collect::<Vec<_>>().join(", ")
                ),
                None,
            ),
        });
    }
}

/// The amount the quorum is sized by: the larger of the reviewed and the proposed amount, so a proposal
/// cannot slip under a threshold by changing the amount.
pub fn quorum_amount(ctx: &Ctx<'_>) -> Option<Decimal> {
    let reviewed = amount_of(ctx.run.document_action(), &ctx.state.fields, ctx.state.lines.iter().map(|l| &l.fields));
    let proposed = amount_of(ctx.run.document_action(), &ctx.record.fields, ctx.record.lines.iter().map(|l| &l.fields));
    match (reviewed, proposed) {
        (Some(a), Some(b)) => Some(a.abs().max(b.abs())),
        (a, b) => a.or(b).map(|x| x.abs()),
    }
}

fn amount_of<'f>(
    action: Action,
    header: &crate::model::Fields,
    lines: impl Iterator<Item = &'f crate::model::Fields>,
) -> Option<Decimal> {
    let sum = |lines: &mut dyn Iterator<Item = &'f crate::model::Fields>, name: &str| {
        let mut total = None;
        for l in lines {
            if let Some(n) = number(l, name) {
                total = Some(total.unwrap_or(Decimal::ZERO) + n);
            }
        }
        total
    };
    let mut lines = lines;
    match action {
        Action::ApproveVendorInvoice => number(header, "ImportedAmount").or_else(|| sum(&mut lines, "NetAmount")),
        Action::PostJournal => sum(&mut lines, "DebitAmount").or_else(|| number(header, "JournalTotalDebit")),
        _ => None,
    }
}

/// Push the quorum verdict and return max(route, matching quorum rules).
pub fn quorum(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) -> u32 {
    let route = ctx.run.route.required_approvals.max(1);
    if ctx.run.action == Action::ApproveWorkflowItem {
        // F&O's workflow routes its own items: each one awaits one user, whose decision completes it.
        // Counting more signoff approvers than the route asks for could never be met by that one user.
        let message = format!("needs {route} {} (the F&O workflow routes this item)", plural_of(route));
        out.push(QUORUM.verdict(if route > 1 { Level::Advisory } else { Level::Pass }, message, None));
        return route;
    }
    let amount = quorum_amount(ctx);
    let action = ctx.run.action;
    let rule = amount.and_then(|amount| {
        ctx.config
            .policy
            .quorum
            .iter()
            .filter(|q| q.action == "*" || q.action == action.as_str() || q.action == action.short())
            .filter(|q| amount >= q.min_amount)
            .max_by_key(|q| q.approvals)
    });
    let required = route.max(rule.map_or(0, |q| q.approvals));
    let plural = plural_of;
    let message = match (amount, rule) {
        (Some(a), Some(q)) if q.approvals >= route => {
            format!("needs {required} {} (amount {} ≥ {})", plural(required), money(a), money(q.min_amount))
        }
        (Some(a), _) => format!("needs {required} {} (route; amount {})", plural(required), money(a)),
        (None, _) => format!("needs {required} {} (route; the action has no amount)", plural(required)),
    };
    out.push(QUORUM.verdict(if required > 1 { Level::Advisory } else { Level::Pass }, message, None));
    required
}

fn plural_of(n: u32) -> &'static str {
    if n == 1 { "approver" } else { "distinct approvers" }
}
