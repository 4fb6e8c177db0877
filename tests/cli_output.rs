//! What the real `signoff` binary prints: every output escapes the same characters, `runs list` speaks the
//! TUI's filter language, errors have one shape (text or `--json`), read-only verbs never create or change
//! a store, and a closed pipe ends the listing quietly.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, Utc};
use common::{invoice, mixed_runs, write_runs};
use serde_json::Value;
use signoff::model::filter::Filter;
use signoff::model::{FieldValue, GovernedRun, RunId, RunSummary};
use signoff::text::classify;

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
        Env(common::CliHome::new("ben.miller"))
    }

    fn import(&self, runs: &[GovernedRun]) {
        let dir = self.path("runs");
        write_runs(&dir, runs);
        self.ok(&["runs", "import", dir.to_str().unwrap()]);
    }

    fn list_json(&self, extra: &[&str]) -> Vec<RunSummary> {
        let args: Vec<&str> = ["--json", "runs", "list"].iter().copied().chain(extra.iter().copied()).collect();
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    /// `{"error": {...}}` from standard output, after checking the exit code matches it.
    fn json_error(&self, args: &[&str], exit: i32) -> Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(exit), "signoff {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("signoff {args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
        let error = &json["error"];
        let mut keys: Vec<&str> = error.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "exit", "message", "problems"], "{json}");
        assert_eq!(error["exit"], exit, "{json}");
        assert!(error["problems"].is_array(), "{json}");
        assert!(
            out.stderr.is_empty(),
            "with --json the error is on stdout only: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        error.clone()
    }
}

/// Any character signoff must not print raw, newlines excepted (they separate lines).
fn raw_invisibles(text: &str) -> Vec<String> {
    text.chars().filter(|&c| c != '\n' && classify(c).is_some()).map(|c| format!("U+{:04X}", c as u32)).collect()
}

/// How `runs show`/`runs list` text names a character: `⟨U+E0041⟩`.
fn marker(c: char) -> String {
    format!("⟨U+{:04X}⟩", c as u32)
}

/// How JSON escapes it: `\u2028`, or a surrogate pair for the supplementary planes.
fn json_escape(c: char) -> String {
    c.encode_utf16(&mut [0u16; 2]).iter().map(|u| format!("\\u{u:04x}")).collect()
}

/// An invoice whose header key and justification carry `hostile`.
fn hostile_invoice(id: &str, n: u32, hostile: &str) -> GovernedRun {
    let mut run = invoice(id, n, "usmf", "4250.00");
    let reference = format!("{hostile}APINV-{n:06}");
    run.target.keys.insert("HeaderReference".into(), FieldValue::Text(reference.clone()));
    // Lines belong to their header: they carry the same key.
    for keys in
        run.before.lines.iter_mut().map(|l| &mut l.keys).chain(run.proposed.lines.iter_mut().map(|l| &mut l.keys))
    {
        keys.insert("HeaderReference".into(), FieldValue::Text(reference.clone()));
    }
    run.justification = format!("Supplier confirmed{hostile} by phone");
    run
}

/// The characters issue 11 added to the escape set, then the invisible look-alikes escaped before it.
const ADDED: &[char] = &[
    '\u{e0000}',
    '\u{e0041}',
    '\u{e007f}',
    '\u{fe00}',
    '\u{fe0f}',
    '\u{e0100}',
    '\u{e01ef}',
    '\u{2028}',
    '\u{2029}',
    '\u{115f}',
    '\u{1160}',
    '\u{3164}',
    '\u{ffa0}',
];
const EARLIER: &[char] = &[
    '\u{180e}', '\u{2060}', '\u{2064}', '\u{feff}', '\u{00ad}', '\u{034f}', '\u{061c}', '\u{200b}', '\u{200f}',
    '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
];

#[test]
fn every_invisible_character_is_escaped_in_list_and_show_text_and_json_and_named_by_the_hostile_verdict() {
    let env = Env::new();
    let chars: Vec<char> = ADDED.iter().chain(EARLIER).copied().collect();
    let runs: Vec<GovernedRun> = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| hostile_invoice(&format!("RUN-HIDDEN-{i:06}"), i as u32 + 1, &c.to_string()))
        .collect();
    env.import(&runs);

    let table = env.ok(&["runs", "list"]);
    assert_eq!(raw_invisibles(&table), Vec::<String>::new(), "runs list:\n{table}");
    let list_json = env.ok(&["--json", "runs", "list"]);
    assert_eq!(raw_invisibles(&list_json), Vec::<String>::new(), "runs list --json");
    let listed: Vec<RunSummary> = serde_json::from_str(&list_json).unwrap();
    for (c, run) in chars.iter().zip(&runs) {
        assert!(table.contains(&marker(*c)), "{} not shown in runs list:\n{table}", marker(*c));
        assert!(list_json.contains(&json_escape(*c)), "{} not escaped in runs list --json", json_escape(*c));
        let summary = listed.iter().find(|s| s.id == run.id).unwrap();
        assert!(summary.target.contains(*c), "the JSON value stays exact once parsed");

        let id = run.id.as_str();
        let text = env.ok(&["runs", "show", id]);
        assert_eq!(raw_invisibles(&text), Vec::<String>::new(), "runs show {id}:\n{text}");
        assert!(text.contains(&format!("Supplier confirmed{} by phone", marker(*c))), "{text}");
        let hostile: Vec<&str> = text.lines().filter(|l| l.contains("hostile.invisible v2")).collect();
        assert!(
            hostile.iter().any(|l| l.contains("target.HeaderReference") && l.contains(&marker(*c))),
            "no hostile verdict naming {} on the key in:\n{text}",
            marker(*c)
        );

        let raw = env.ok(&["--json", "runs", "show", id]);
        assert_eq!(raw_invisibles(&raw), Vec::<String>::new(), "runs show --json {id}");
        let shown: Value = serde_json::from_str(&raw).unwrap();
        let verdicts = shown["evaluation"]["verdicts"].as_array().unwrap();
        let named: Vec<&Value> = verdicts
            .iter()
            .filter(|v| v["rule"] == "hostile.invisible" && v["level"] == "soft" && v["version"] == 2)
            .filter(|v| v["message"].as_str().is_some_and(|m| m.contains(&marker(*c))))
            .collect();
        let fields: Vec<&str> = named.iter().filter_map(|v| v["field"].as_str()).collect();
        assert!(fields.contains(&"target.HeaderReference"), "{id}: {verdicts:?}");
        assert!(fields.contains(&"justification"), "{id}: {verdicts:?}");
        assert_ne!(shown["evaluation"]["outcome"], "clear", "{id}");
    }
}

#[test]
fn list_json_and_show_json_escape_the_same_characters_the_same_way() {
    let env = Env::new();
    let hostile = "\u{202e}\u{200b}\u{9b}\u{7f}\u{e0041}";
    env.import(&[hostile_invoice("RUN-SAME-000001", 7, hostile)]);
    let escaped = "\\u202e\\u200b\\u009b\\u007f\\udb40\\udc41APINV-000007";

    let list = env.ok(&["--json", "runs", "list"]);
    let show = env.ok(&["--json", "runs", "show", "RUN-SAME-000001"]);
    for (verb, raw) in [("runs list --json", &list), ("runs show --json", &show)] {
        assert_eq!(raw_invisibles(raw), Vec::<String>::new(), "{verb}:\n{raw}");
        assert!(raw.contains(escaped), "{verb} does not write {escaped}:\n{raw}");
    }
    let shown: Value = serde_json::from_str(&show).unwrap();
    assert_eq!(shown["run"]["target"]["keys"]["HeaderReference"], format!("{hostile}APINV-000007"));
}

#[test]
fn runs_list_filter_gives_the_runs_the_tui_filter_gives() {
    let env = Env::new();
    env.ok(&["runs", "import", fixtures().to_str().unwrap()]);
    let all = env.list_json(&[]);
    assert!(all.len() >= 20);
    for text in [
        "company:usmf amount>10000",
        "action:journal",
        "action=invoice,company=usmf",
        "status:expired requester:april",
        "hostile",
        "amount<=3106.75 currency:usd",
    ] {
        let filter = Filter::parse(text).unwrap();
        let mut expected: Vec<&RunId> = all.iter().filter(|s| filter.matches(s)).map(|s| &s.id).collect();
        assert!(!expected.is_empty(), "'{text}' matches no fixture: a weak test");
        let listed = env.list_json(&["--filter", text]);
        let mut got: Vec<&RunId> = listed.iter().map(|s| &s.id).collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "runs list --filter '{text}'");
    }
    // The existing flags still work, and combine with a filter.
    let journals = env.list_json(&["--action", "journal", "--filter", "company:usmf"]);
    assert!(!journals.is_empty());
    assert!(journals.iter().all(|s| s.action.short() == "journal" && s.company.as_deref() == Some("usmf")));
}

#[test]
fn an_invalid_filter_gives_the_tui_message_in_text_and_json_for_list_and_approve() {
    let env = Env::new();
    env.import(&mixed_runs("FLT", 3));
    for text in ["colour:red", "amount~5", "status:sleepy"] {
        let message = Filter::parse(text).unwrap_err();
        let out = env.run(&["runs", "list", "--filter", text]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("error: {message}\n"));
        assert!(out.stdout.is_empty());

        let error = env.json_error(&["--json", "runs", "list", "--filter", text], 2);
        assert_eq!(error["code"], "invalid-filter");
        assert_eq!(error["message"], message);

        let error = env.json_error(&["--json", "approve", "--all-matching", text, "--reason", "Month end"], 2);
        assert_eq!(error["code"], "invalid-filter");
        assert_eq!(error["message"], message);
    }
}

#[test]
fn json_errors_have_one_shape_and_the_exit_code_for_a_missing_run_a_bad_filter_and_no_store() {
    let env = Env::new();
    let error = env.json_error(&["--json", "runs", "list"], 1);
    assert_eq!(error["code"], "no-store");
    let store = env.store().display().to_string();
    assert_eq!(error["message"], format!("no store at {store}; run `signoff runs import` first or pass --store"));

    env.import(&mixed_runs("ERR", 2));
    let error = env.json_error(&["--json", "runs", "show", "RUN-NOPE-000001"], 1);
    assert_eq!(error["code"], "not-found");
    assert!(error["message"].as_str().unwrap().starts_with("no run RUN-NOPE-000001 in the store"), "{error}");

    let error = env.json_error(&["--json", "runs", "list", "--filter", "amount>ten"], 2);
    assert_eq!(error["code"], "invalid-filter");

    let error = env.json_error(&["--json", "runs", "list", "--status", "approvedish"], 2);
    assert_eq!(error["code"], "usage");
}

#[test]
fn a_hostile_run_id_argument_is_echoed_escaped() {
    let env = Env::new();
    env.import(&mixed_runs("ECHO", 1));
    let out = env.run(&["runs", "show", "RUN-\u{1b}[2J\u{202e}-1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no run RUN-^[[2J⟨U+202E⟩-1 in the store"), "{stderr}");
    let out = env.run(&["--json", "runs", "show", "RUN-\u{202e}-1"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw_invisibles(&stdout), Vec::<String>::new(), "{stdout}");
    assert!(stdout.contains("RUN-\\u202e-1"), "{stdout}");

    // clap's own usage errors quote the argument too (clap drops escape sequences itself).
    let out = env.run(&["runs", "list", "--status", "pend\u{202e}ing\u{1b}]52;c;ZXZpbA==\u{7}"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(raw_invisibles(&stderr), Vec::<String>::new(), "{stderr:?}");
    assert!(stderr.contains("invalid value 'pend⟨U+202E⟩ing"), "{stderr:?}");
}

#[test]
fn read_only_verbs_on_a_missing_store_say_so_and_create_nothing() {
    let env = Env::new();
    let store = env.store().display().to_string();
    for args in [&["runs", "list"][..], &["runs", "show", "RUN-1"], &["audit", "verify"]] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, format!("error: no store at {store}; run `signoff runs import` first or pass --store\n"));
        assert!(!env.store().exists(), "{args:?} created a store");
    }
}

#[test]
fn two_problems_in_one_error_are_two_lines_and_two_json_items() {
    let env = Env::new();
    let mut runs = mixed_runs("TWO", 3);
    runs[0].id = RunId("RUN TWO 1".into());
    runs[2].route.required_approvals = 0;
    let dir = env.path("batch");
    let files = write_runs(&dir, &runs);

    let out = env.run(&["runs", "import", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("^J") && !stderr.contains("\\n"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("error: nothing imported: 2 of 3 file(s) have problems"), "{stderr}");
    let problems: Vec<&str> = lines[1..].iter().map(|l| l.trim()).collect();
    assert_eq!(problems.len(), 2, "{stderr}");
    let name = |i: usize| files[i].display().to_string();
    assert!(problems[0].starts_with(&name(0)), "{stderr}");
    assert!(problems[1].starts_with(&name(2)), "{stderr}");

    let error = env.json_error(&["--json", "runs", "import", dir.to_str().unwrap()], 1);
    assert_eq!(error["code"], "invalid-run");
    let items = error["problems"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{error}");
    assert!(items[0].as_str().unwrap().starts_with(&name(0)), "{error}");
    assert!(items[1].as_str().unwrap().starts_with(&name(2)), "{error}");
    assert!(!error["message"].as_str().unwrap().contains('\n'));
}

#[test]
fn an_overdue_pending_run_is_listed_expired_and_listing_writes_nothing() {
    let env = Env::new();
    let overdue = invoice("RUN-EXP-000001", 1, "usmf", "980.00");
    let mut current = invoice("RUN-EXP-000002", 2, "usmf", "1250.00");
    current.requested_at = Utc::now() - Duration::hours(1);
    current.before.captured_at = current.requested_at;
    current.expires_at = Utc::now() + Duration::days(7);
    env.import(&[overdue, current]);
    let files = [env.store(), PathBuf::from(format!("{}-wal", env.store().display()))];
    let before: Vec<Option<Vec<u8>>> = files.iter().map(|f| std::fs::read(f).ok()).collect();

    let table = env.ok(&["runs", "list"]);
    let row = |id: &str| table.lines().find(|l| l.starts_with(id)).unwrap().to_string();
    assert!(row("RUN-EXP-000001").contains(" expired "), "{table}");
    assert!(row("RUN-EXP-000002").contains(" pending "), "{table}");
    let statuses: Vec<(String, String)> =
        env.list_json(&[]).into_iter().map(|s| (s.id.to_string(), s.status.to_string())).collect();
    assert_eq!(
        statuses,
        [("RUN-EXP-000001".to_string(), "expired".to_string()), ("RUN-EXP-000002".into(), "pending".into())]
    );
    let expired: Vec<RunId> = env.list_json(&["--status", "expired"]).into_iter().map(|s| s.id).collect();
    assert_eq!(expired, [RunId::from("RUN-EXP-000001")]);
    let pending: Vec<RunId> = env.list_json(&["--filter", "status:pending"]).into_iter().map(|s| s.id).collect();
    assert_eq!(pending, [RunId::from("RUN-EXP-000002")]);

    let after: Vec<Option<Vec<u8>>> = files.iter().map(|f| std::fs::read(f).ok()).collect();
    assert!(before == after, "runs list changed the store file");
    assert!(env.ok(&["audit", "verify"]).contains("verified: 2 events"), "no expiry was recorded");
}

#[test]
fn ids_longer_than_any_column_are_shown_whole() {
    let env = Env::new();
    let long = format!("RUN-{}-000001", "CONTOSO-ENTERTAINMENT-USMF-MONTH-END-ACCRUALS".repeat(2));
    assert!(long.len() > 80);
    env.import(&[invoice(&long, 1, "usmf", "12.50"), invoice("RUN-SHORT-1", 2, "usmf", "99.00")]);
    let table = env.ok(&["runs", "list"]);
    assert!(table.lines().any(|l| l.starts_with(&format!("{long}  "))), "{table}");
    let width = |l: &str| l.find("STATUS").or_else(|| l.find("expired")).unwrap();
    let columns: Vec<usize> = table.lines().map(width).collect();
    assert!(columns.iter().all(|&c| c == columns[0]), "the columns line up:\n{table}");
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    let env = Env::new();
    env.import(&mixed_runs("PIPE", 2000));
    for json in [false, true] {
        let mut args = vec![
            env!("CARGO_BIN_EXE_signoff").to_string(),
            "--store".into(),
            env.store().display().to_string(),
            "--config".into(),
            env.path("config.toml").display().to_string(),
        ];
        if json {
            args.push("--json".into());
        }
        args.extend(["runs".into(), "list".into()]);
        // The listing's own exit code is written to stderr by the shell, after the pipe closed on it.
        let out = Command::new("sh")
            .arg("-c")
            .arg(r#"{ "$@"; echo "signoff exit $?" >&2; } | head -1"#)
            .arg("sh")
            .args(&args)
            .env("XDG_STATE_HOME", env.path("state"))
            .env("XDG_DATA_HOME", env.path("share"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
        assert!(stderr == "signoff exit 141\n" || stderr == "signoff exit 0\n", "{stderr}");
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs")
}

/// The demo brings its own sandbox, config and store: a store or config named for it is refused, not
/// silently ignored (and never written with demo runs).
#[test]
fn the_demo_refuses_a_store_or_config_it_would_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("team.db");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let cases: [(&[&str], Option<&str>); 3] = [
        (&["demo", "--store", store.to_str().unwrap()], None),
        (&["--json", "demo"], Some(store.to_str().unwrap())),
        (&["demo", "--config", config.to_str().unwrap()], None),
    ];
    for (args, env_store) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signoff"));
        command
            .args(args)
            .env_remove("SIGNOFF_STORE")
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path());
        if let Some(store) = env_store {
            command.env("SIGNOFF_STORE", store);
        }
        let out = command.output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains("never touches yours") && said.contains("without --store"), "{args:?}: {said}");
        assert!(!store.exists(), "{args:?}: nothing was written to the named store");
    }
}
