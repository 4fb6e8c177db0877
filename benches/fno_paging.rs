//! Reading 10,000 journal lines through paging from the local simulator (target: at most 1.5 s).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use signoff::fno::{FnoClient, Query};
use signoff::sim::{SimOptions, Simulator};

fn paging(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (sim, client) = runtime.block_on(async {
        let sim = Simulator::start(SimOptions::default()).await.unwrap();
        let lines: Vec<_> = (1..=10_000)
            .map(|n| {
                json!({"dataAreaId":"usmf","JournalBatchNumber":"00124","LineNumber": 1000 + n,"AccountType":"Ledger",
                "AccountDisplayValue":"605140-001-02","OffsetAccountDisplayValue":"110180-001-02",
                "DebitAmount": format!("{}.{:02}", 100 + n, n % 100).parse::<serde_json::Value>().unwrap(),
                "CreditAmount":0,"CurrencyCode":"USD","TransDate":"2026-02-27T12:00:00Z","Voucher":"GNJL000777",
                "Text":"Office supplies Feb"})
            })
            .collect();
        sim.insert_records("LedgerJournalLines", lines).unwrap();
        let mut settings = sim.client_settings();
        settings.timeout = Duration::from_secs(30);
        let client = FnoClient::new(&settings).unwrap();
        client.token_check().await.unwrap();
        (sim, client)
    });
    let query = Query { filter: Some("JournalBatchNumber eq '00124'".into()), ..Default::default() };
    let mut group = c.benchmark_group("fno_paging");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    group.bench_function("read_10000_journal_lines", |b| {
        b.iter(|| {
            let result = runtime.block_on(client.query("LedgerJournalLines", &query)).unwrap();
            assert!(result.rows.len() >= 10_000);
            client.take_exchanges(); // keep memory flat across iterations
            sim.clear_requests();
        })
    });
    group.finish();
}

criterion_group!(benches, paging);
criterion_main!(benches);
