//! General-journal rules: balance per voucher, open periods, known accounts, and the AS 2401 red flags.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::Level;
use super::rules::*;
use super::values::{money, number, text, vis};
use crate::diff::merge::RecordLine;
use crate::judge::{NOT_SYNCED, date, period_closed, period_of};
use crate::model::Action;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    if ctx.run.document_action() != Action::PostJournal {
        return;
    }
    let lines = &ctx.record.lines;
    if lines.is_empty() {
        out.push(JRN_BALANCE.verdict(Level::Hard, "the journal has no lines: there is nothing to post", None));
        return;
    }
    balance(lines, out);
    periods(ctx, lines, out);
    accounts(ctx, lines, out);
    round_amounts(ctx, lines, out);
    period_end(ctx, lines, out);
}

/// A line's debit and credit, zero when absent.
pub fn debit_credit(fields: &crate::model::Fields) -> (Decimal, Decimal) {
    (number(fields, "DebitAmount").unwrap_or(Decimal::ZERO), number(fields, "CreditAmount").unwrap_or(Decimal::ZERO))
}

/// The voucher a line belongs to (lines without one are grouped together).
pub fn voucher(fields: &crate::model::Fields) -> String {
    text(fields, "Voucher").filter(|v| !v.trim().is_empty()).map_or_else(|| "(no voucher)".into(), vis)
}

fn balance(lines: &[RecordLine], out: &mut Vec<super::Verdict>) {
    let mut by_voucher: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for line in lines {
        let (d, c) = crate::diff::posting_sides(&line.fields);
        let entry = by_voucher.entry(voucher(&line.fields)).or_default();
        entry.0 += d;
        entry.1 += c;
    }
    let mut unbalanced = 0;
    for (v, (debit, credit)) in &by_voucher {
        if debit != credit {
            unbalanced += 1;
            out.push(JRN_BALANCE.verdict(
                Level::Hard,
                format!(
                    "voucher {v} does not balance: debit {} ≠ credit {} (difference {})",
                    money(*debit),
                    money(*credit),
                    money(debit - credit)
                ),
                Some(format!("Voucher={v}")),
            ));
        }
    }
    if unbalanced == 0 {
        let total: Decimal = by_voucher.values().map(|(d, _)| *d).sum();
        out.push(JRN_BALANCE.pass(format!(
            "{} voucher(s) balance; total debit = total credit = {}",
            by_voucher.len(),
            money(total)
        )));
    }
}

fn periods(ctx: &Ctx<'_>, lines: &[RecordLine], out: &mut Vec<super::Verdict>) {
    let company = ctx.run.company().map(|c| c.to_string()).unwrap_or_default();
    let mut closed_lines: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut open: BTreeSet<String> = BTreeSet::new();
    for line in lines {
        match date(line.fields.get("TransDate")) {
            None => out.push(JRN_PERIOD.verdict(
                Level::Hard,
                format!("line {} has no TransDate, so its posting period is unknown", vis(&line.key)),
                Some(format!("lines[{}].TransDate", vis(&line.key))),
            )),
            Some(day) if period_closed(ctx.config, &company, day) => {
                closed_lines.entry(period_of(day)).or_default().push(&line.key)
            }
            Some(day) => {
                open.insert(period_of(day));
            }
        }
    }
    for (period, keys) in &closed_lines {
        out.push(JRN_PERIOD.verdict(
            Level::Hard,
            format!("period {period} is closed for {}: line(s) {} post into it", vis(&company), vis(&keys.join(", "))),
            Some("TransDate".into()),
        ));
    }
    if closed_lines.is_empty() && !open.is_empty() {
        out.push(
            JRN_PERIOD.pass(format!("posting period(s) {} open", open.into_iter().collect::<Vec<_>>().join(", "))),
        );
    }
}

/// The main account of a ledger dimension display value: its first segment (`605140-001-02` → `605140`).
pub fn main_account(display: &str) -> &str {
    display.split('-').next().unwrap_or(display).trim()
}

/// Every ledger main account a line names (account and offset account), with the field it came from.
pub fn ledger_accounts(fields: &crate::model::Fields) -> Vec<(&'static str, &str)> {
    let mut found = Vec::new();
    for (type_field, value_field) in
        [("AccountType", "AccountDisplayValue"), ("OffsetAccountType", "OffsetAccountDisplayValue")]
    {
        // F&O defaults the account type to Ledger when it is not given.
        let ledger = text(fields, type_field).is_none_or(|t| t.eq_ignore_ascii_case("ledger"));
        if let Some(value) = text(fields, value_field).filter(|v| !v.trim().is_empty())
            && ledger
        {
            found.push((value_field, main_account(value)));
        }
    }
    found
}

fn accounts(ctx: &Ctx<'_>, lines: &[RecordLine], out: &mut Vec<super::Verdict>) {
    let Some(known) = ctx.facts.known_accounts else {
        out.push(JRN_ACCOUNT.verdict(Level::Hard, format!("main accounts cannot be checked: {NOT_SYNCED}"), None));
        return;
    };
    let mut missing: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for line in lines {
        for (_, account) in ledger_accounts(&line.fields) {
            seen.insert(account.to_string());
            if !known.contains(account) {
                missing.entry(account.to_string()).or_default().push(&line.key);
            }
        }
    }
    for (account, keys) in &missing {
        out.push(JRN_ACCOUNT.verdict(
            Level::Hard,
            format!(
                "main account {} does not exist in the synced chart of accounts (line(s) {})",
                vis(account),
                vis(&keys.join(", "))
            ),
            Some("AccountDisplayValue".into()),
        ));
    }
    if missing.is_empty() {
        out.push(JRN_ACCOUNT.pass(format!("{} main account(s) exist in the catalog", seen.len())));
    }
}

fn round_amounts(ctx: &Ctx<'_>, lines: &[RecordLine], out: &mut Vec<super::Verdict>) {
    let multiple = ctx.config.policy.round_amount_multiple;
    if multiple <= Decimal::ZERO {
        return;
    }
    let mut round = Vec::new();
    for line in lines {
        let (d, c) = debit_credit(&line.fields);
        let amount = if d.is_zero() { c } else { d };
        if !amount.is_zero() && (amount % multiple).is_zero() {
            round.push(format!("line {} {}", vis(&line.key), money(amount)));
        }
    }
    if !round.is_empty() {
        out.push(JRN_ROUND.verdict(
            Level::Advisory,
            format!("round amounts (multiples of {}): {}", money(multiple), round.join(", ")),
            None,
        ));
    }
}

fn period_end(ctx: &Ctx<'_>, lines: &[RecordLine], out: &mut Vec<super::Verdict>) {
    let window = i64::from(ctx.config.policy.period_end_days);
    if window == 0 {
        return;
    }
    let mut flagged = BTreeSet::new();
    for line in lines {
        if let Some(day) = date(line.fields.get("TransDate"))
            && let Some(last) = last_day_of_month(day)
            && (last - day).num_days() < window
        {
            flagged.insert(day.to_string());
        }
    }
    if !flagged.is_empty() {
        out.push(JRN_PERIOD_END.verdict(
            Level::Advisory,
            format!(
                "posting within {window} day(s) of period end: {}",
                flagged.into_iter().collect::<Vec<_>>().join(", ")
            ),
            Some("TransDate".into()),
        ));
    }
}

fn last_day_of_month(day: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if day.month() == 12 { (day.year() + 1, 1) } else { (day.year(), day.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}
