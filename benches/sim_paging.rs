//! Reading 10,000 journal lines through server paging from the local simulator (plain reqwest).

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use signoff::sim::{BlockingSimulator, SimOptions};

fn paging(c: &mut Criterion) {
    let sim = BlockingSimulator::start(SimOptions::default()).expect("the simulator starts");
    let s = sim.sim();
    let header = s
        .insert_record(
            "LedgerJournalHeaders",
            json!({"dataAreaId": "usmf", "JournalName": "GenJrn", "Description": "Bench"}),
        )
        .expect("a journal");
    let journal = header["JournalBatchNumber"].as_str().unwrap_or_default().to_string();
    let lines: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"dataAreaId": "usmf", "JournalBatchNumber": journal, "AccountDisplayValue": "605140-001-022",
                "DebitAmount": 12.34, "TransDate": "2026-11-17T12:00:00Z", "Text": format!("Bench line {i}")})
        })
        .collect();
    s.insert_records("LedgerJournalLines", lines).expect("lines");
    let o = s.options().clone();
    let base = s.base_url();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let client = reqwest::Client::builder().no_proxy().build().expect("a client");
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={base}/.default",
        o.client_id, o.client_secret
    );
    let token: Value = runtime.block_on(async {
        let r = client.post(format!("{base}/{}/oauth2/v2.0/token", o.tenant)).body(form).send().await.expect("token");
        r.json().await.expect("token JSON")
    });
    let token = token["access_token"].as_str().unwrap_or_default().to_string();
    let first = format!("{base}/data/LedgerJournalLines?$filter=JournalBatchNumber eq '{journal}'");
    c.bench_function("read 10,000 journal lines through paging", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (mut next, mut count) = (Some(first.clone()), 0);
                while let Some(url) = next {
                    let page: Value =
                        client.get(url).bearer_auth(&token).send().await.expect("page").json().await.expect("JSON");
                    count += page["value"].as_array().map_or(0, Vec::len);
                    next = page["@odata.nextLink"].as_str().map(str::to_string);
                }
                assert_eq!(count, 10_000);
            })
        })
    });
}

criterion_group! { name = benches; config = Criterion::default().sample_size(10); targets = paging }
criterion_main!(benches);
