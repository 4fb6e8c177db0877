//! The queue's sort orders. Amounts sort within their currency — a euro amount is never ranked against a
//! dollar one — with the currency holding the largest amount first; severity puts the worst policy
//! verdict first.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::state::SortColumn;
use crate::model::RunSummary;

/// Sort `view` (indices into `all`) by `sort`, ties broken by run id so the order is stable.
pub fn order(sort: SortColumn, all: &[RunSummary], view: &mut [u32]) {
    let ranks = if sort == SortColumn::Amount { currency_ranks(all, view) } else { BTreeMap::new() };
    view.sort_by(|a, b| {
        let (x, y) = (&all[*a as usize], &all[*b as usize]);
        compare(sort, x, y, &ranks).then_with(|| x.id.cmp(&y.id))
    });
}

fn compare(sort: SortColumn, x: &RunSummary, y: &RunSummary, ranks: &BTreeMap<Option<&str>, usize>) -> Ordering {
    match sort {
        SortColumn::Age => x.requested_at.cmp(&y.requested_at),
        SortColumn::Expiry => x.expires_at.cmp(&y.expires_at),
        // Runs without an amount last; then by currency; the largest amount first within it.
        SortColumn::Amount => {
            let rank = |s: &RunSummary| ranks.get(&s.currency.as_deref()).copied().unwrap_or(usize::MAX);
            (x.amount.is_none(), rank(x)).cmp(&(y.amount.is_none(), rank(y))).then_with(|| y.amount.cmp(&x.amount))
        }
        SortColumn::Severity => severity(y).cmp(&severity(x)),
        SortColumn::Status => x.status.cmp(&y.status),
        SortColumn::Action => x.action.cmp(&y.action),
        SortColumn::Company => x.company.cmp(&y.company),
        SortColumn::Requester => x.requester.cmp(&y.requester),
    }
}

/// Each currency's place: the one holding the largest amount first (code order breaks ties).
fn currency_ranks<'a>(all: &'a [RunSummary], view: &[u32]) -> BTreeMap<Option<&'a str>, usize> {
    let mut largest: BTreeMap<Option<&str>, Decimal> = BTreeMap::new();
    for s in view.iter().filter_map(|i| all.get(*i as usize)) {
        if let Some(a) = s.amount {
            let max = largest.entry(s.currency.as_deref()).or_insert(a);
            *max = (*max).max(a);
        }
    }
    let mut currencies: Vec<(Option<&str>, Decimal)> = largest.into_iter().collect();
    currencies.sort_by(|(c1, a1), (c2, a2)| a2.cmp(a1).then_with(|| c1.cmp(c2)));
    currencies.into_iter().enumerate().map(|(rank, (c, _))| (c, rank)).collect()
}

/// How bad a run's worst policy verdict is: 3 hard, 2 soft, 1 advisory, 0 clear or not known.
///
/// Read from the summary's verdict text for now (its symbol leads it); when the summary carries the
/// verdict as a typed level, this is the one place to point at it.
pub fn severity(s: &RunSummary) -> u8 {
    match s.judged.map(|j| j.worst) {
        Some(crate::model::Level::Hard) => 3,
        Some(crate::model::Level::Soft) => 2,
        Some(crate::model::Level::Advisory) => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, RunId, RunStatus};
    use chrono::{TimeZone, Utc};
    use rust_decimal::Decimal;

    fn run(id: &str, amount: Option<i64>, currency: &str, policy: &str) -> RunSummary {
        use crate::model::{Level, QueueJudgement, Readiness};
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap();
        RunSummary {
            id: RunId(id.into()),
            action: Action::ApproveVendorInvoice,
            status: RunStatus::Pending,
            company: Some("usmf".into()),
            target: id.into(),
            amount: amount.map(|a| Decimal::new(a, 0)),
            currency: Some(currency.into()),
            requester: "april.meyer@contoso.com".into(),
            requested_at: at,
            expires_at: at,
            approvals: 0,
            required_approvals: 1,
            lease_holder: None,
            judged: Some(QueueJudgement {
                worst: match policy.chars().next() {
                    Some('✗') => Level::Hard,
                    Some('!') => Level::Soft,
                    Some('i') => Level::Advisory,
                    _ => Level::Pass,
                },
                count: 1,
                readiness: Readiness::Ready,
            }),
        }
    }

    fn sorted(sort: SortColumn, runs: Vec<RunSummary>) -> Vec<String> {
        let mut view: Vec<u32> = (0..runs.len() as u32).collect();
        order(sort, &runs, &mut view);
        view.into_iter().map(|i| runs[i as usize].id.0.clone()).collect()
    }

    #[test]
    fn amounts_sort_within_their_currency_the_currency_with_the_largest_amount_first() {
        let runs = vec![
            run("usd-small", Some(1_000), "USD", "✓ clear"),
            run("eur-big", Some(9_000_000), "EUR", "✓ clear"),
            run("usd-big", Some(1_250_000), "USD", "✓ clear"),
            run("none", None, "USD", "✓ clear"),
            run("eur-small", Some(3_260), "EUR", "✓ clear"),
        ];
        assert_eq!(sorted(SortColumn::Amount, runs), ["eur-big", "eur-small", "usd-big", "usd-small", "none"]);
    }

    #[test]
    fn severity_puts_the_worst_verdict_first() {
        let runs = vec![
            run("clear", None, "USD", "✓ clear"),
            run("advisory", None, "USD", "i 1 adv"),
            run("hard", None, "USD", "✗ 1 hard"),
            run("soft", None, "USD", "! 1 soft"),
        ];
        assert_eq!(sorted(SortColumn::Severity, runs), ["hard", "soft", "advisory", "clear"]);
    }
}
