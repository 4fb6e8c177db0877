//! A freshly seeded simulator matches every governed-run fixture's before snapshot exactly.

use crate::sim_support;

use std::path::Path;

use serde_json::Value;
use signoff::model::{Fields, parse_run};
use sim_support::*;

/// `Set(k='v',n=1)` for a record's keys.
fn key_path(entity_set: &str, keys: &Fields) -> String {
    let parts: Vec<String> = keys
        .iter()
        .map(|(k, v)| match v.as_text() {
            Some(t) => format!("{k}='{}'", t.replace('\'', "''")),
            None => format!("{k}={v}"),
        })
        .collect();
    format!("/data/{entity_set}({})?cross-company=true", parts.join(","))
}

fn assert_same(run: &str, what: &str, live: &Value, etag: &str, fields: &Fields) {
    assert_eq!(live["@odata.etag"], etag, "{run}: {what}: ETag");
    for (name, expected) in fields {
        assert_eq!(live[name.as_str()], expected.to_json(), "{run}: {what}: field {name} (exact JSON text)");
    }
}

#[tokio::test]
async fn every_fixture_runs_before_snapshot_matches_the_fresh_seed_exactly() {
    let sim = start().await;
    let token = token(&sim).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "the governed-run fixtures are present");
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let run = parse_run(&std::fs::read_to_string(path).unwrap(), &name).unwrap();
        let header = get(&sim, &token, &key_path(&run.target.entity_set, &run.target.keys)).await;
        assert_eq!(header.status, 200, "{name}: {}", header.text);
        assert_same(&name, "header", &header.json(), run.before.etag.as_str(), &run.before.fields);
        let (line_set, _) = run.action.lines().unwrap_or(("", ""));
        for line in &run.before.lines {
            let live = get(&sim, &token, &key_path(line_set, &line.keys)).await;
            assert_eq!(live.status, 200, "{name}: line {:?}: {}", line.keys, live.text);
            assert_same(&name, &format!("line {:?}", line.keys), &live.json(), line.etag.as_str(), &line.fields);
        }
    }
}
