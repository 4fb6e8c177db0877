//! The real `signoff` binary: import, list, show and audit verify on real store files.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{dec, invoice, journal, mixed_runs, user_disable, write_runs};
use serde_json::Value;

/// A temp home for one test (`common::CliHome`), with this file's own helpers.
struct Env(common::CliHome);

impl std::ops::Deref for Env {
    type Target = common::CliHome;
    fn deref(&self) -> &common::CliHome {
        &self.0
    }
}

impl Env {
    fn new() -> Self {
        Env(common::CliHome::new("april.meyer"))
    }

    fn list_json(&self) -> Vec<Value> {
        match serde_json::from_str(&self.ok(&["--json", "runs", "list"])).unwrap() {
            Value::Array(items) => items,
            other => panic!("expected an array, got {other}"),
        }
    }
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn an_imported_directory_is_listed_in_full_by_list_json() {
    let env = Env::new();
    let runs = mixed_runs("CLI", 20);
    write_runs(&env.path("runs"), &runs);
    let out = env.ok(&["runs", "import", arg(&env.path("runs"))]);
    assert!(out.contains("imported 20 run(s), 0 unchanged"), "{out}");

    let listed = env.list_json();
    assert_eq!(listed.len(), 20);
    let mut ids: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);

    let table = env.ok(&["runs", "list", "--action", "journal"]);
    assert!(table.lines().next().unwrap().starts_with("ID"), "{table}");
    assert_eq!(table.lines().count(), 1 + runs.iter().filter(|r| r.action.short() == "journal").count());
    assert!(table.contains("1250000.00 USD") || table.contains("4711.10 USD"), "{table}");
}

#[test]
fn an_identical_reimport_is_a_no_op() {
    let env = Env::new();
    write_runs(&env.path("runs"), &mixed_runs("RE", 5));
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    let again: Value = serde_json::from_str(&env.ok(&["--json", "runs", "import", arg(&env.path("runs"))])).unwrap();
    assert_eq!(again["imported"].as_array().unwrap().len(), 0);
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 5);
    assert!(env.ok(&["audit", "verify"]).contains("verified: 5 events"));
}

#[test]
fn a_conflicting_reimport_is_refused_naming_the_id_and_the_store_is_unchanged() {
    let env = Env::new();
    write_runs(&env.path("first"), &[invoice("RUN-X-000001", 1, "usmf", "12.50")]);
    env.ok(&["runs", "import", arg(&env.path("first"))]);
    write_runs(
        &env.path("second"),
        &[journal("RUN-X-000002", 2, "usmf", "310.00"), invoice("RUN-X-000001", 1, "usmf", "12500.00")],
    );
    let out = env.run(&["runs", "import", arg(&env.path("second"))]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RUN-X-000001") && stderr.contains("different content"), "{stderr}");
    let listed = env.list_json();
    assert_eq!(listed.len(), 1);
    // Summaries carry amounts as exact decimal strings.
    assert_eq!(listed[0]["amount"], "12.50");
}

#[test]
fn a_directory_with_one_invalid_file_imports_nothing_and_names_the_file() {
    let env = Env::new();
    env.ok(&["runs", "import", arg(&write_runs(&env.path("seed"), &mixed_runs("SEED", 2))[0])]);
    let dir = env.path("batch");
    write_runs(&dir, &mixed_runs("BAD", 6));
    let broken = dir.join("RUN-BAD-000004.json");
    let text = std::fs::read_to_string(&broken).unwrap().replace("dynamicsfinance.", "dynamicsfinanc.");
    std::fs::write(&broken, text).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a run; ignored because it is not *.json").unwrap();

    let out = env.run(&["runs", "import", arg(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RUN-BAD-000004.json:"), "{stderr}");
    assert!(stderr.contains("nothing imported"), "{stderr}");
    assert_eq!(env.list_json().len(), 1, "only the earlier seed run is in the store");
    assert!(env.ok(&["audit", "verify"]).contains("verified: 1 events"));
}

#[test]
fn an_import_that_meets_a_conflict_still_lists_every_invalid_file_after_it_and_writes_nothing() {
    let env = Env::new();
    write_runs(&env.path("first"), &[invoice("RUN-X-000001", 1, "usmf", "12.50")]);
    env.ok(&["runs", "import", arg(&env.path("first"))]);
    // Imported in name order: two new runs are written, then the conflict, then two broken files.
    let dir = env.path("batch");
    write_runs(
        &dir,
        &[
            journal("RUN-X-000000", 2, "usmf", "310.00"),
            invoice("RUN-X-000001", 1, "usmf", "12500.00"),
            user_disable("RUN-X-000002", 3),
            user_disable("RUN-X-000003", 4),
        ],
    );
    std::fs::write(dir.join("RUN-X-000002.json"), "{ \"version\": ").unwrap();
    std::fs::write(dir.join("RUN-X-000003.json"), "[]").unwrap();
    let out = env.run(&["runs", "import", arg(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing imported: 2 of 4 file(s) have problems"), "{stderr}");
    assert!(stderr.contains("RUN-X-000002.json:") && stderr.contains("RUN-X-000003.json:"), "{stderr}");
    assert_eq!(env.list_json().len(), 1, "the journal written before the conflict was rolled back");
    assert!(env.ok(&["audit", "verify"]).contains("verified: 1 events"));
}

#[test]
fn an_import_of_invalid_files_only_leaves_no_store_behind() {
    let env = Env::new();
    let dir = env.path("batch");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("RUN-X-000001.json"), "{}").unwrap();
    let out = env.run(&["runs", "import", arg(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing imported"));
    assert!(!env.store().exists(), "no store was created for an import that wrote nothing");
}

#[test]
fn amounts_round_trip_exactly_through_import_and_show_json() {
    let env = Env::new();
    let amounts = ["98765432109876543.21", "12.50", "0.0000001"];
    let runs: Vec<_> =
        amounts.iter().enumerate().map(|(i, a)| invoice(&format!("RUN-AMT-{i:06}"), i as u32, "usmf", a)).collect();
    write_runs(&env.path("runs"), &runs);
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    for (run, amount) in runs.iter().zip(amounts) {
        let raw = env.ok(&["--json", "runs", "show", run.id.as_str()]);
        let shown: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(shown["status"], "pending");
        assert_eq!(shown["run"]["before"]["fields"]["ImportedAmount"].to_string(), amount);
        assert_eq!(shown["run"]["before"]["lines"][0]["fields"]["NetAmount"].to_string(), amount);
        assert!(raw.contains(&format!("\"ImportedAmount\": {amount}")), "exact text in {raw}");
        let text = env.ok(&["runs", "show", run.id.as_str()]);
        assert!(text.contains(&format!("amount         {amount} USD")), "{text}");
    }
    assert_eq!(dec(amounts[0]).to_string(), amounts[0]);
}

#[test]
fn show_prints_before_and_proposed_side_by_side_with_hostile_text_escaped() {
    let env = Env::new();
    let mut run = invoice("RUN-SHOW-000001", 1, "usmf", "1250000.00");
    run.justification = "Pay now\u{1b}]52;c;ZXZpbA==\u{7} \u{202e}lanigiro".into();
    write_runs(&env.path("runs"), &[run]);
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    let text = env.ok(&["runs", "show", "RUN-SHOW-000001"]);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text}");
    assert!(text.contains("^[]52;c;ZXZpbA==^G") && text.contains("⟨U+202E⟩"), "{text}");
    let due = text.lines().find(|l| l.contains("DueDate")).unwrap();
    assert!(due.starts_with('~') && due.contains("2026-04-01") && due.contains("2026-04-15"), "{due}");
    let account = text.lines().find(|l| l.contains("MainAccount")).unwrap();
    assert!(account.contains("605140-001-022") && account.contains("605150-001-022"), "{account}");
    assert!(text.contains("lines of VendorInvoiceLines by InvoiceLineNumber: 1 changed"), "{text}");
    assert!(text.contains("~  InvoiceLineNumber 1\n"), "{text}");
}

#[test]
fn showing_an_unknown_id_fails_clearly() {
    let env = Env::new();
    write_runs(&env.path("runs"), &mixed_runs("KNOWN", 1));
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    let out = env.run(&["runs", "show", "RUN-NOPE-000001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run RUN-NOPE-000001"));
}

#[test]
fn a_bad_status_filter_is_a_usage_error() {
    let env = Env::new();
    assert_eq!(env.run(&["runs", "list", "--status", "approvedish"]).status.code(), Some(2));
}

#[test]
fn two_import_processes_started_together_both_complete_and_the_chain_verifies() {
    let env = Env::new();
    // No store file yet: both processes race to create and migrate it, then to write.
    let a = mixed_runs("PA", 200);
    let b: Vec<_> = mixed_runs("PB", 199).into_iter().chain([user_disable("RUN-PB-000200", 200)]).collect();
    write_runs(&env.path("a"), &a);
    write_runs(&env.path("b"), &b);
    let mut first = env.command(&["runs", "import", arg(&env.path("a"))]);
    let mut second = env.command(&["runs", "import", arg(&env.path("b"))]);
    for cmd in [&mut first, &mut second] {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let (first, second) = (first.spawn().unwrap(), second.spawn().unwrap());
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    for out in [&first, &second] {
        assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("imported 200 run(s)"));
    }
    assert_eq!(env.list_json().len(), 400);
    assert!(env.ok(&["audit", "verify"]).contains("audit chain verified: 400 events"));
}

#[test]
fn audit_verify_passes_on_a_fresh_store_and_fails_naming_an_altered_event() {
    let env = Env::new();
    // audit verify never creates a store (tests/cli_output.rs); an empty one verifies.
    drop(signoff::store::Store::open(&env.store()).unwrap());
    assert!(env.ok(&["audit", "verify"]).contains("audit chain verified: 0 events"));
    write_runs(&env.path("runs"), &mixed_runs("AV", 5));
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    assert!(env.ok(&["audit", "verify"]).contains("verified: 5 events"));

    let conn = rusqlite::Connection::open(env.store()).unwrap();
    conn.execute("UPDATE audit_events SET payload = '{\"digest\":\"0000\"}' WHERE seq = 3", []).unwrap();
    drop(conn);
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain BROKEN at event #3"));

    let json: Value = serde_json::from_slice(&env.run(&["--json", "audit", "verify"]).stdout).unwrap();
    assert_eq!(json["verified"], false);
    assert_eq!(json["seq"], 3);
}

#[test]
fn audit_verify_names_a_deleted_event() {
    let env = Env::new();
    write_runs(&env.path("runs"), &mixed_runs("DEL", 4));
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    let conn = rusqlite::Connection::open(env.store()).unwrap();
    conn.execute("DELETE FROM audit_events WHERE seq = 2", []).unwrap();
    drop(conn);
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN at event #2"));
}

#[test]
fn audit_verify_names_a_run_whose_row_was_edited_outside_signoff() {
    let env = Env::new();
    write_runs(&env.path("runs"), &mixed_runs("ST", 3));
    env.ok(&["runs", "import", arg(&env.path("runs"))]);
    let conn = rusqlite::Connection::open(env.store()).unwrap();
    conn.execute("UPDATE runs SET required_approvals = 1 WHERE id = 'RUN-ST-000002'", []).unwrap();
    drop(conn);
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("store state BROKEN for run RUN-ST-000002: runs.required_approvals is '1'"), "{stdout}");

    let json: Value = serde_json::from_slice(&env.run(&["--json", "audit", "verify"]).stdout).unwrap();
    assert_eq!(json["verified"], false);
    assert_eq!(json["run"], "RUN-ST-000002");
    assert!(json["reason"].as_str().unwrap().contains("the runs table was edited"), "{json}");
}

#[test]
fn six_processes_creating_a_brand_new_store_at_once_all_succeed() {
    for _round in 0..3 {
        let env = Env::new();
        // Importing creates the store (the read-only verbs never do); the same run six times is one import.
        let files = write_runs(&env.path("runs"), &mixed_runs("SIX", 1));
        let children: Vec<_> = (0..6)
            .map(|_| {
                let mut cmd = env.command(&["runs", "import", arg(&files[0])]);
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(env.ok(&["audit", "verify"]).contains("audit chain verified: 1 events"));
    }
}

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn importing_the_fixture_runs_lists_every_one_of_them() {
    let env = Env::new();
    let files = json_files(&fixtures("runs"));
    assert!(files.len() >= 15);
    env.ok(&["runs", "import", arg(&fixtures("runs"))]);
    let mut expected: Vec<String> = files
        .iter()
        .map(|f| {
            let run: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            run["id"].as_str().unwrap().to_string()
        })
        .collect();
    expected.sort();
    let mut listed: Vec<String> = env.list_json().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    listed.sort();
    assert_eq!(listed, expected);
    assert!(env.ok(&["audit", "verify"]).contains(&format!("verified: {} events", files.len())));
}

#[test]
fn hostile_fixture_runs_reach_the_terminal_escaped_in_list_and_show() {
    let env = Env::new();
    env.ok(&["runs", "import", arg(&fixtures("runs"))]);
    let raw = |s: &str| s.chars().any(|c| signoff::text::classify(c).is_some() && c != '\n');
    let table = env.ok(&["runs", "list"]);
    assert!(!raw(&table), "raw control or invisible characters in:\n{table}");
    for summary in env.list_json() {
        let id = summary["id"].as_str().unwrap();
        let text = env.ok(&["runs", "show", id]);
        assert!(!raw(&text), "raw control or invisible characters in runs show {id}");
    }
}

#[test]
fn every_invalid_fixture_is_refused_by_import_naming_the_position_and_the_store_is_unchanged() {
    let env = Env::new();
    let good = json_files(&fixtures("runs")).remove(0);
    env.ok(&["runs", "import", arg(&good)]);
    let invalid = json_files(&fixtures("invalid"));
    assert!(invalid.len() >= 8);
    for file in invalid {
        let expected = std::fs::read_to_string(file.with_extension("expected")).unwrap();
        let out = env.run(&["runs", "import", arg(&fixtures("runs")), arg(&file)]);
        assert_eq!(out.status.code(), Some(1), "{} was accepted", file.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in expected.lines().filter(|l| !l.trim().is_empty()) {
            assert!(stderr.contains(needle), "{}: expected {needle:?} in:\n{stderr}", file.display());
        }
        assert!(stderr.contains("nothing imported"), "{stderr}");
    }
    assert_eq!(env.list_json().len(), 1, "only the one good run imported first");
    assert!(env.ok(&["audit", "verify"]).contains("verified: 1 events"));
}

#[test]
fn a_run_file_over_the_configured_size_limit_is_refused_naming_its_size_and_the_limit() {
    let env = Env::new();
    std::fs::write(env.config(), "[runs]\nmax_file_bytes = 2048\n").unwrap();
    let big = json_files(&fixtures("runs")).into_iter().find(|f| std::fs::metadata(f).unwrap().len() > 2048).unwrap();
    let size = std::fs::metadata(&big).unwrap().len();
    let out = env.run(&["runs", "import", arg(&big)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: the file is {} KiB ({size} bytes), larger than the limit for a run file, 2 KiB (2048 bytes)",
            big.display(),
            size / 1024
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing imported"), "{stderr}");
}

#[test]
fn a_store_others_may_read_is_reported_by_config_check_and_warned_about_by_reconcile() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    std::fs::write(env.config(), "[approver]\nid = \"april.meyer@contoso.com\"\n").unwrap();
    std::fs::set_permissions(env.config(), std::fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(&["runs", "import", arg(&json_files(&fixtures("runs"))[0])]);
    let mode = std::fs::metadata(env.store()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "import creates the store owner-only");
    assert!(env.ok(&["config", "check"]).contains("config OK"));

    std::fs::set_permissions(env.store(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let store = env.store().display().to_string();
    assert!(
        stderr.contains(&format!(
            "the store file {store} has mode 0644: every user of this machine may read it; run `chmod 600 {store}`"
        )),
        "{stderr}"
    );
    let json: Value = serde_json::from_slice(&env.run(&["--json", "config", "check"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"][0]["key"], "store.path");

    let out = env.run(&["reconcile"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with(&format!("warning: the store file {store} has mode 0644")), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning"), "warnings never go to standard output");
}
