//! How long parsing and validating one run file takes (the import of 10,000 runs is budgeted at 3 s).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use signoff::model::parse_run;

const INVOICE: &str = include_str!("../fixtures/runs/inv-usmf-apinv-000131.json");
const JOURNAL: &str = include_str!("../fixtures/runs/jnl-usmf-00478.json");
const INVALID: &str = include_str!("../fixtures/invalid/automation-without-sponsor.json");

fn parse(c: &mut Criterion) {
    c.bench_function("parse_run invoice with 4 lines", |b| b.iter(|| parse_run(black_box(INVOICE), "inv.json")));
    c.bench_function("parse_run journal with 10 lines", |b| b.iter(|| parse_run(black_box(JOURNAL), "jnl.json")));
    c.bench_function("parse_run invalid run (4 problems located)", |b| {
        b.iter(|| parse_run(black_box(INVALID), "bad.json"))
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
