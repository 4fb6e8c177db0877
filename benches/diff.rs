//! Diff speed: a 5,000-line journal (target ≤ 50 ms) and a 10 KB text field with inline emphasis (≤ 5 ms).

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use signoff::diff::diff_run;
use signoff::model::{
    Action, ActorId, ETag, FieldValue, Fields, GovernedRun, LineSnapshot, Proposed, ProposedLine, RUN_FORMAT,
    Requester, RequesterKind, Route, RunId, Snapshot, Target,
};

fn fields(pairs: &[(&str, FieldValue)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn run(action: Action, set: &str, object: &str, before: Snapshot, proposed: Proposed) -> GovernedRun {
    let at = Utc.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).unwrap();
    GovernedRun {
        format: RUN_FORMAT.into(),
        id: RunId::from("run-bench"),
        action,
        environment: "usmf-sandbox".into(),
        requester: Requester {
            id: ActorId::from("tony.krijnen@contoso.com"),
            kind: RequesterKind::Person,
            sponsor: None,
        },
        requested_at: at,
        expires_at: at + chrono::Duration::days(7),
        justification: "Month-end allocation of shared services".into(),
        target: Target {
            entity_set: set.into(),
            managed_object: object.into(),
            keys: fields(&[("dataAreaId", "usmf".into()), ("JournalBatchNumber", "00999".into())]),
        },
        before,
        proposed,
        evidence: Vec::new(),
        route: Route { required_approvals: 1, eligible_groups: Vec::new() },
        rollback_hint: None,
        work_item: None,
        supersedes: None,
    }
}

/// A 5,000-line journal: 2,500 balanced two-line vouchers; 50 lines corrected, listed in reverse order.
fn journal() -> GovernedRun {
    let lines: Vec<LineSnapshot> = (1..=5000i64)
        .map(|n| {
            let amount = FieldValue::Number(Decimal::new(100_000 + n * 37, 2));
            let zero = FieldValue::Number(Decimal::new(0, 2));
            let (debit, credit) = if n % 2 == 1 { (amount, zero) } else { (zero, amount_of(n - 1)) };
            LineSnapshot {
                keys: fields(&[
                    ("dataAreaId", "usmf".into()),
                    ("JournalBatchNumber", "00999".into()),
                    ("LineNumber", FieldValue::Number(Decimal::from(n))),
                ]),
                etag: ETag::from("W/\"JzEsNTYzNzE0NDU5OSc=\""),
                fields: fields(&[
                    ("AccountDisplayValue", if n % 2 == 1 { "605140-001-022" } else { "200120-001-" }.into()),
                    ("AccountType", "Ledger".into()),
                    ("CreditAmount", credit),
                    ("CurrencyCode", "USD".into()),
                    ("DebitAmount", debit),
                    ("DefaultDimensionDisplayValue", "001-022".into()),
                    ("OffsetAccountDisplayValue", "".into()),
                    ("OffsetAccountType", "Ledger".into()),
                    ("Text", format!("Shared services allocation line {n}").as_str().into()),
                    ("TransDate", "2026-11-17T12:00:00Z".into()),
                    ("Voucher", format!("GNJL{:06}", 900_000 + (n + 1) / 2).as_str().into()),
                ]),
            }
        })
        .collect();
    let proposed_lines = (1..=50i64)
        .rev()
        .map(|i| ProposedLine {
            keys: lines[(i * 97) as usize].keys.clone(),
            fields: fields(&[("Text", format!("Shared services allocation, corrected {i}").as_str().into())]),
            remove: false,
        })
        .collect();
    let before = Snapshot {
        etag: ETag::from("W/\"JzEsNTYzNzE0NDU5OCc=\""),
        absent: false,
        captured_at: Utc.with_ymd_and_hms(2026, 11, 18, 8, 0, 0).unwrap(),
        created_by: None,
        fields: fields(&[("Description", "Shared services November".into()), ("JournalName", "GenJrn".into())]),
        lines,
        enabled_roles: None,
    };
    let proposed = Proposed { lines: proposed_lines, ..Proposed::default() };
    run(Action::PostJournal, "LedgerJournalHeaders", "ledger_journal", before, proposed)
}

fn amount_of(n: i64) -> FieldValue {
    FieldValue::Number(Decimal::new(100_000 + n * 37, 2))
}

/// A vendor whose 10 KB notes field has a few words changed.
fn long_text() -> GovernedRun {
    let sentence = "Annual subscription renewal for technical journals and standards, billed in advance. ";
    let old: String = sentence.repeat(10_240 / sentence.len() + 1);
    let new =
        old.replacen("billed in advance", "billed quarterly in arrears", 3).replacen("technical", "engineering", 2);
    let before = Snapshot {
        etag: ETag::from("W/\"JzEsNTYzNzE0NDYyMSc=\""),
        absent: false,
        captured_at: Utc.with_ymd_and_hms(2026, 11, 18, 8, 0, 0).unwrap(),
        created_by: None,
        fields: fields(&[("Notes", old.as_str().into()), ("VendorAccountNumber", "US-104".into())]),
        lines: Vec::new(),
        enabled_roles: None,
    };
    let proposed = Proposed { fields: fields(&[("Notes", new.as_str().into())]), ..Proposed::default() };
    run(Action::UpdateVendor, "VendorsV2", "vendor", before, proposed)
}

fn bench(c: &mut Criterion) {
    let journal = journal();
    c.bench_function("diff 5,000-line journal", |b| b.iter(|| diff_run(black_box(&journal), None)));
    let mut live = journal.before.clone();
    live.lines.reverse();
    c.bench_function("diff 5,000-line journal, three-way", |b| b.iter(|| diff_run(black_box(&journal), Some(&live))));
    let text = long_text();
    c.bench_function("diff 10 KB text field with emphasis", |b| b.iter(|| diff_run(black_box(&text), None)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
