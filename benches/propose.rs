//! Proposing a run for a 5,000-line journal on the local simulator, reads included: the header GET, every
//! line through server paging with its ETag, the values typed by `$metadata`, the run checked by the
//! run-format parser. What `signoff propose post-journal` costs before it prints.

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use signoff::config::Config;
use signoff::fno::{FnoClient, parse_csdl};
use signoff::model::{Action, ActorId, FieldValue, Requester, RequesterKind};
use signoff::review::propose::{PatchLine, ProposalRequest, propose};
use signoff::sim::{BlockingSimulator, SimOptions};

const LINES: usize = 5_000;

fn proposing(c: &mut Criterion) {
    let sim = BlockingSimulator::start(SimOptions::default()).expect("the simulator starts");
    let s = sim.sim();
    let header = s
        .insert_record(
            "LedgerJournalHeaders",
            json!({"dataAreaId": "usmf", "JournalName": "GenJrn", "Description": "Shared services allocation"}),
        )
        .expect("a journal");
    let journal = header["JournalBatchNumber"].as_str().unwrap_or_default().to_string();
    let lines: Vec<Value> = (0..LINES)
        .map(|i| {
            json!({"dataAreaId": "usmf", "JournalBatchNumber": journal, "AccountDisplayValue": "605140-001-022",
                "DebitAmount": 12.34, "TransDate": "2026-11-17T12:00:00Z", "Text": format!("Allocation line {i}")})
        })
        .collect();
    s.insert_records("LedgerJournalLines", lines).expect("lines");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let client = FnoClient::new(&s.client_settings()).expect("a client");
    let catalog = parse_csdl(&runtime.block_on(client.metadata_xml()).expect("$metadata")).expect("a catalog");
    let mut config: Config = toml::from_str(signoff::config::template()).expect("the template loads");
    config.environment.url = Some(s.base_url());
    let request = ProposalRequest {
        action: Action::PostJournal,
        object: None,
        operation: None,
        parameters: Vec::new(),
        keys: vec![
            ("dataAreaId".into(), FieldValue::Text("usmf".into())),
            ("JournalBatchNumber".into(), FieldValue::Text(journal.clone())),
        ],
        fields: Vec::new(),
        lines: vec![PatchLine {
            line: FieldValue::Text("2".into()),
            fields: [("Text".to_string(), FieldValue::Text("Allocation, corrected".into()))].into_iter().collect(),
            remove: false,
        }],
        justification: "Month-end allocation of shared services".into(),
        requester: Requester {
            id: ActorId("tony.krijnen@contoso.com".into()),
            kind: RequesterKind::Person,
            sponsor: None,
        },
        expires_in: Duration::days(7),
        route: None,
        id: None,
        supersedes: None,
        evidence: Vec::new(),
        rollback_hint: None,
    };
    c.bench_function("propose a run for a 5,000-line journal (reads included)", |b| {
        b.iter(|| {
            let run = runtime.block_on(propose(&config, &client, Some(&catalog), &request)).expect("a run");
            assert_eq!(run.before.lines.len(), LINES);
        })
    });
}

criterion_group! { name = benches; config = Criterion::default().sample_size(10); targets = proposing }
criterion_main!(benches);
