//! Line diffs: lines matched by key (never position), with per-voucher or per-invoice totals.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Serialize;

use std::borrow::Cow;

use super::merge::{index_lines, line_key};
use super::rows::{ChangeKind, Section, rows};
use crate::model::{Action, FieldValue, Fields, LineSnapshot, Proposed, Snapshot};
use crate::text::visible;

/// One line across the states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineEntry {
    /// The matching key's value, visible-escaped (`3` for `LineNumber = 3`).
    pub key: String,
    pub kind: ChangeKind,
    /// The live line differs from the reviewed one, or exists only on one side (three-way only).
    pub drift: bool,
    /// The journal voucher the line belongs to, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub fields: Section,
}

impl LineEntry {
    /// Whether a view folds this line by default.
    pub fn folds(&self) -> bool {
        self.kind == ChangeKind::Unchanged && !self.drift && self.fields.rows.iter().all(|r| !r.hostile)
    }
}

/// Every line of the record, in reviewed order, then added lines, then lines only the live record has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinesDiff {
    pub entity_set: String,
    /// The field lines are matched by (`LineNumber`, `InvoiceLineNumber`).
    pub key_field: String,
    pub lines: Vec<LineEntry>,
    pub changed: usize,
    pub folded: usize,
    pub drifted: usize,
    pub totals: LineTotals,
}

/// A debit/credit balance, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub debit: Decimal,
    pub credit: Decimal,
    /// debit − credit.
    pub difference: Decimal,
    pub balanced: bool,
}

impl Balance {
    fn of<'f>(lines: impl Iterator<Item = &'f Fields>) -> Balance {
        let (mut debit, mut credit) = (Decimal::ZERO, Decimal::ZERO);
        for f in lines {
            let (d, c) = posting_sides(f);
            debit += d;
            credit += c;
        }
        Balance { debit, credit, difference: debit - credit, balanced: debit == credit }
    }
}

/// One voucher's balance in each state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherTotals {
    pub voucher: String,
    pub reviewed: Balance,
    pub proposed: Balance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Balance>,
}

/// Totals of the lines, by kind of document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LineTotals {
    /// Per voucher and overall.
    Journal { vouchers: Vec<VoucherTotals>, reviewed: Balance, proposed: Balance },
    /// Sum of line `NetAmount`, against the header `ImportedAmount`.
    Invoice {
        reviewed_net: Decimal,
        proposed_net: Decimal,
        /// proposed − reviewed.
        delta: Decimal,
        #[serde(skip_serializing_if = "Option::is_none")]
        header_amount: Option<Decimal>,
        /// header `ImportedAmount` − proposed line total.
        #[serde(skip_serializing_if = "Option::is_none")]
        header_difference: Option<Decimal>,
    },
}

fn number(fields: &Fields, name: &str) -> Decimal {
    fields.get(name).and_then(FieldValue::as_number).unwrap_or(Decimal::ZERO)
}

/// What a journal line posts to each side. A line with an offset account balances itself: F&O posts
/// its amount to the account and the opposite side to the offset account, so it counts on both sides.
pub fn posting_sides(fields: &Fields) -> (Decimal, Decimal) {
    let (debit, credit) = (number(fields, "DebitAmount"), number(fields, "CreditAmount"));
    let has_offset =
        fields.get("OffsetAccountDisplayValue").and_then(FieldValue::as_text).is_some_and(|v| !v.trim().is_empty());
    if has_offset { (debit + credit, debit + credit) } else { (debit, credit) }
}

fn voucher_of(fields: &Fields) -> Option<String> {
    fields
        .get("Voucher")
        .and_then(FieldValue::as_text)
        .filter(|v| !v.trim().is_empty())
        .map(|v| visible(v).into_owned())
}

/// The line diff of an action with lines.
pub(crate) fn diff_lines(
    action: Action,
    before: &Snapshot,
    proposed: &Proposed,
    header: &Fields,
    live: Option<&Snapshot>,
) -> Option<LinesDiff> {
    let (entity_set, key_field) = action.lines()?;
    let key = Some(key_field);
    let changes: HashMap<String, &crate::model::ProposedLine> =
        proposed.lines.iter().map(|l| (line_key(&l.keys, key), l)).collect();
    let live_lines = live.map(|l| index_lines(&l.lines, key));
    let live_of = |k: &str| live_lines.as_ref().map(|m| m.get(k).map(|l| &l.fields));

    let mut lines = Vec::with_capacity(before.lines.len() + proposed.lines.len());
    // The proposed state of every line, borrowed where the proposal leaves a line alone.
    let mut after_all: Vec<Cow<'_, Fields>> = Vec::with_capacity(before.lines.len() + proposed.lines.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(before.lines.len());
    for line in &before.lines {
        let k = line_key(&line.keys, key);
        if seen.contains(&k) {
            continue;
        }
        let change = changes.get(&k);
        let removed = change.is_some_and(|c| c.remove);
        let after: Option<Cow<'_, Fields>> = match change {
            _ if removed => None,
            Some(c) if !c.fields.is_empty() => {
                let mut merged = line.fields.clone();
                merged.extend(c.fields.iter().map(|(n, v)| (n.clone(), v.clone())));
                Some(Cow::Owned(merged))
            }
            _ => Some(Cow::Borrowed(&line.fields)),
        };
        let forced = removed.then_some(ChangeKind::Removed);
        lines.push(entry(&k, Some(&line.fields), after.as_deref(), live_of(&k), forced));
        after_all.extend(after);
        seen.insert(k);
    }
    for change in &proposed.lines {
        let k = line_key(&change.keys, key);
        if change.remove || seen.contains(&k) {
            continue;
        }
        lines.push(entry(&k, None, Some(&change.fields), live_of(&k), Some(ChangeKind::Added)));
        after_all.push(Cow::Borrowed(&change.fields));
        seen.insert(k);
    }
    if let Some(live) = live {
        for line in &live.lines {
            let k = line_key(&line.keys, key);
            if !seen.contains(&k) {
                lines.push(entry(&k, None, None, Some(Some(&line.fields)), None));
                seen.insert(k);
            }
        }
    }

    let totals = totals(action, before, &after_all, header, live);
    let changed = lines.iter().filter(|l| l.kind != ChangeKind::Unchanged).count();
    let folded = lines.iter().filter(|l| l.folds()).count();
    let drifted = lines.iter().filter(|l| l.drift).count();
    Some(LinesDiff {
        entity_set: entity_set.to_string(),
        key_field: key_field.to_string(),
        lines,
        changed,
        folded,
        drifted,
        totals,
    })
}

fn entry(
    key: &str,
    before: Option<&Fields>,
    after: Option<&Fields>,
    live: Option<Option<&Fields>>,
    forced: Option<ChangeKind>,
) -> LineEntry {
    let fields = Section::new(rows(before, after, live, forced));
    let kind = forced.unwrap_or(if fields.changed > 0 { ChangeKind::Changed } else { ChangeKind::Unchanged });
    // A line present on one side only (reviewed vs live) is drift even if no field row says so.
    let drift = fields.drifted > 0 || live.is_some_and(|l| l.is_some() != before.is_some());
    let group = after.or(before).or(live.flatten()).and_then(voucher_of);
    LineEntry { key: visible(key).into_owned(), kind, drift, group, fields }
}

fn totals(
    action: Action,
    before: &Snapshot,
    after: &[Cow<'_, Fields>],
    header: &Fields,
    live: Option<&Snapshot>,
) -> LineTotals {
    let reviewed_lines = || before.lines.iter().map(|l: &LineSnapshot| &l.fields);
    let proposed_lines = || after.iter().map(|f| f.as_ref());
    match action {
        Action::PostJournal => {
            // One pass per state; vouchers keep the order they first appear in.
            let mut order: HashMap<String, usize> = HashMap::new();
            let mut vouchers: Vec<VoucherTotals> = Vec::new();
            let zero = Balance::of(std::iter::empty());
            let mut slot = |f: &Fields| {
                let raw = f.get("Voucher").and_then(FieldValue::as_text).unwrap_or("");
                if let Some(i) = order.get(raw) {
                    return *i;
                }
                let name = voucher_of(f).unwrap_or_else(|| "(no voucher)".into());
                *order.entry(raw.to_string()).or_insert_with(|| {
                    vouchers.push(VoucherTotals {
                        voucher: name,
                        reviewed: zero,
                        proposed: zero,
                        live: live.map(|_| zero),
                    });
                    vouchers.len() - 1
                })
            };
            let mut sums: Vec<[(Decimal, Decimal); 3]> = Vec::new();
            let states: [Box<dyn Iterator<Item = &Fields>>; 3] = [
                Box::new(reviewed_lines()),
                Box::new(proposed_lines()),
                Box::new(live.into_iter().flat_map(|l| l.lines.iter().map(|x| &x.fields))),
            ];
            for (state, lines) in states.into_iter().enumerate() {
                for f in lines {
                    let i = slot(f);
                    if sums.len() <= i {
                        sums.resize(i + 1, [(Decimal::ZERO, Decimal::ZERO); 3]);
                    }
                    let (d, c) = posting_sides(f);
                    sums[i][state].0 += d;
                    sums[i][state].1 += c;
                }
            }
            let balance = |(debit, credit): (Decimal, Decimal)| Balance {
                debit,
                credit,
                difference: debit - credit,
                balanced: debit == credit,
            };
            for (v, s) in vouchers.iter_mut().zip(&sums) {
                v.reviewed = balance(s[0]);
                v.proposed = balance(s[1]);
                v.live = live.map(|_| balance(s[2]));
            }
            LineTotals::Journal {
                vouchers,
                reviewed: Balance::of(reviewed_lines()),
                proposed: Balance::of(proposed_lines()),
            }
        }
        _ => {
            let reviewed_net: Decimal = reviewed_lines().map(|f| number(f, "NetAmount")).sum();
            let proposed_net: Decimal = proposed_lines().map(|f| number(f, "NetAmount")).sum();
            let header_amount = header.get("ImportedAmount").and_then(FieldValue::as_number);
            LineTotals::Invoice {
                reviewed_net,
                proposed_net,
                delta: proposed_net - reviewed_net,
                header_amount,
                header_difference: header_amount.map(|h| h - proposed_net),
            }
        }
    }
}
