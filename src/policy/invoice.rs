//! Vendor-invoice rules: hold, matching, due date, duplicates, amount changes.

use super::Level;
use super::rules::*;
use super::values::{is_yes, money, number, same_actor, text, vis};
use crate::judge::date;
use crate::model::Action;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    if ctx.run.document_action() != Action::ApproveVendorInvoice {
        return;
    }
    let fields = &ctx.record.fields;

    out.push(match fields.get("IsOnHold") {
        None => INV_HOLD.verdict(Level::Advisory, "IsOnHold was not captured; the hold status is not checked", None),
        Some(v) if is_yes(Some(v)) => INV_HOLD.verdict(
            Level::Hard,
            "the invoice is on hold (IsOnHold = Yes): release the hold in F&O first",
            Some("IsOnHold".into()),
        ),
        Some(_) => INV_HOLD.pass("the invoice is not on hold"),
    });

    out.push(match text(fields, "MatchStatus") {
        Some(s) if s.eq_ignore_ascii_case("failed") => INV_MATCH.verdict(
            Level::Soft,
            "invoice matching failed (MatchStatus = Failed): approving posts it with discrepancies",
            Some("MatchStatus".into()),
        ),
        Some(s) => INV_MATCH.pass(format!("MatchStatus = {}", vis(s))),
        None => INV_MATCH.verdict(Level::Advisory, "MatchStatus was not captured; matching is not checked", None),
    });

    let today = ctx.facts.now.date_naive();
    if let Some(due) = date(fields.get("DueDate")) {
        out.push(if due < today {
            INV_DUE.verdict(
                Level::Soft,
                format!("the due date {due} has passed (today is {today}): a late payment"),
                Some("DueDate".into()),
            )
        } else {
            INV_DUE.pass(format!("due {due}"))
        });
    }

    duplicate(ctx, out);

    let tolerance = ctx.config.policy.invoice_amount_tolerance.abs();
    let reviewed = number(&ctx.state.fields, "ImportedAmount");
    let proposed = number(&ctx.run.proposed.fields, "ImportedAmount");
    if let Some(new) = proposed {
        out.push(match reviewed {
            Some(old) if (new - old).abs() > tolerance => INV_AMOUNT.verdict(
                Level::Soft,
                format!(
                    "ImportedAmount changes from {} to {} ({}), beyond the tolerance of {}",
                    money(old),
                    money(new),
                    signed(new - old),
                    money(tolerance)
                ),
                Some("ImportedAmount".into()),
            ),
            Some(old) => INV_AMOUNT.pass(format!(
                "ImportedAmount changes by {}, within the tolerance of {}",
                signed(new - old),
                money(tolerance)
            )),
            None => INV_AMOUNT.verdict(
                Level::Soft,
                format!("ImportedAmount is set to {} but its reviewed value is unknown", money(new)),
                Some("ImportedAmount".into()),
            ),
        });
    }
}

fn duplicate(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let fields = &ctx.record.fields;
    let vendor = text(fields, "InvoiceAccount").or_else(|| text(fields, "VendorAccount"));
    let (Some(vendor), Some(number)) = (vendor, text(fields, "InvoiceNumber")) else {
        out.push(INV_DUPLICATE.verdict(
            Level::Hard,
            "the vendor account or invoice number is missing, so duplicates cannot be ruled out",
            None,
        ));
        return;
    };
    let company = ctx.run.company().map(|c| c.to_string());
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let dups: Vec<String> = ctx
        .facts
        .other_runs
        .iter()
        .filter(|o| o.run_id != ctx.run.id)
        .filter(|o| o.company == company && same_actor(&o.vendor, vendor) && same(&o.invoice_number, number))
        .map(|o| vis(o.run_id.as_str()))
        .collect();
    out.push(if dups.is_empty() {
        INV_DUPLICATE.pass(format!("no other run carries invoice {} of vendor {}", vis(number), vis(vendor)))
    } else {
        INV_DUPLICATE.verdict(
            Level::Hard,
            format!("invoice {} of vendor {} is also in run {}", vis(number), vis(vendor), dups.join(", ")),
            Some("InvoiceNumber".into()),
        )
    });
}

/// A signed amount (`+250.00`, `-1,000.00`).
pub fn signed(d: rust_decimal::Decimal) -> String {
    if d.is_sign_negative() && !d.is_zero() { money(d) } else { format!("+{}", money(d)) }
}
