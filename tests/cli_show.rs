//! The real `signoff runs show` binary on a real store: the diff, the verdicts, the approvals needed and the
//! rollback readiness an approver sees before deciding, as text and as `--json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use signoff::fno::metadata::{ActionDef, Catalog, EntityType, Property, catalog_to_json};
use signoff::model::{FieldValue, parse_run};
use signoff::store::Store;

/// The controller deciding in these tests: nobody's requester, sponsor or creator in the fixtures.
const APPROVER: &str = "ben.miller@contoso.com";

/// A temp home with the USMF sandbox config (the template), the fixture runs imported and the catalog synced.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Env { dir: tempfile::tempdir().unwrap() };
        let config_dir = env.path("config/signoff");
        std::fs::create_dir_all(&config_dir).unwrap();
        let config = signoff::config::template().replace(
            "groups = [\"ap-approvers\"]",
            "groups = [\"ap-approvers\", \"gl-controllers\", \"vendor-master-stewards\"]",
        );
        std::fs::write(config_dir.join("config.toml"), config).unwrap();
        env.ok(&["runs", "import", fixtures().to_str().unwrap()]);
        let catalog = catalog_to_json(&synced_catalog()).unwrap();
        Store::open(&env.store()).unwrap().save_catalog(&catalog, "sync-test").unwrap();
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> PathBuf {
        self.path("share/signoff/store.db")
    }

    /// The binary with HOME and every XDG directory inside the temp dir: no user config is read.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("share"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("SIGNOFF_APPROVER", APPROVER)
            .env("USER", "signoff-test")
            .env_remove("SIGNOFF_STORE")
            .env_remove("SIGNOFF_CONFIG")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "signoff {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn show(&self, id: &str) -> String {
        self.ok(&["runs", "show", id])
    }

    fn show_json(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["--json", "runs", "show", id])).unwrap()
    }

    /// Write a run derived from a fixture under a new id and import it.
    fn import_derived(&self, fixture: &str, id: &str, change: impl FnOnce(&mut Value)) {
        let mut run: Value = serde_json::from_str(&read_fixture(fixture)).unwrap();
        run["id"] = json!(id);
        change(&mut run);
        let file = self.path(&format!("{id}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(&run).unwrap()).unwrap();
        self.ok(&["runs", "import", file.to_str().unwrap()]);
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs")
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap()
}

/// What `connector sync-metadata` stores for an environment exposing every field the fixtures use and the
/// operations the template config names.
fn synced_catalog() -> Catalog {
    let mut catalog = Catalog::default();
    let mut add = |set: &str, names: Vec<(String, FieldValue)>| {
        let ty = catalog
            .entity_types
            .entry(set.to_string())
            .or_insert_with(|| EntityType { name: set.to_string(), ..EntityType::default() });
        for (name, value) in names {
            // The Edm type F&O would declare for the value (numbers are decimals, dates are text here).
            let edm = match value {
                FieldValue::Number(_) => "Edm.Decimal",
                FieldValue::Bool(_) => "Edm.Boolean",
                _ => "Edm.String",
            };
            ty.properties.insert(name, Property::of_type(edm));
        }
        catalog.entity_sets.insert(set.to_string(), set.to_string());
    };
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let run = parse_run(&std::fs::read_to_string(&path).unwrap(), "fixture").unwrap();
        let header =
            run.before.fields.iter().chain(run.proposed.fields.iter()).map(|(k, v)| (k.clone(), v.clone())).collect();
        add(&run.target.entity_set, header);
        if let Some((line_set, _)) = run.action.lines() {
            let lines = run.before.lines.iter().map(|l| &l.fields).chain(run.proposed.lines.iter().map(|l| &l.fields));
            add(line_set, lines.flat_map(|f| f.iter().map(|(k, v)| (k.clone(), v.clone()))).collect());
        }
    }
    let bound = |name: &str, to: &str| ActionDef {
        name: name.into(),
        bound_to: Some(to.into()),
        collection_bound: false,
        parameters: vec![("_comment".into(), "Edm.String".into())],
        return_type: Some("Edm.String".into()),
    };
    catalog.actions = vec![
        bound("signoffApprove", "VendorInvoiceHeaders"),
        bound("signoffReject", "VendorInvoiceHeaders"),
        bound("signoffRecall", "VendorInvoiceHeaders"),
        bound("signoffPost", "LedgerJournalHeaders"),
        bound("signoffReverse", "LedgerJournalHeaders"),
    ];
    catalog
}

/// The verdict lines of a text view (`  ! soft     hostile.invisible v2: …`).
fn verdict_lines<'a>(text: &'a str, level: &str, rule: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(&format!(" {level:<8} {rule} v"))).collect()
}

fn raw_hostile_bytes(text: &str) -> Vec<char> {
    text.chars().filter(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{202e}' | '\u{200b}')).collect()
}

#[test]
fn hostile_fixtures_are_shown_escaped_with_a_soft_verdict_naming_the_field_and_no_raw_control_bytes() {
    let env = Env::new();
    // (run, field holding the hostile value, escaped renderings that must be visible)
    let cases: &[(&str, &str, &[&str])] = &[
        ("run-hostile-ansi-vendor-name", "VendorName", &["Tailspin Toys^[[32m APPROVED^[[0m"]),
        ("run-hostile-bidi-invoice-number", "InvoiceNumber", &["INV-⟨U+202E⟩0001-FDP"]),
        ("run-hostile-osc52-description", "InvoiceDescription", &["^[]52;c;", "^G"]),
        ("run-hostile-zero-width-vendor-account", "InvoiceVendorAccountNumber", &["US-1⟨U+200B⟩01"]),
    ];
    for (id, field, renderings) in cases {
        let text = env.show(id);
        assert_eq!(raw_hostile_bytes(&text), Vec::<char>::new(), "raw hostile characters in runs show {id}");
        assert!(!text.bytes().any(|b| b == 0x1b || b == 0x07), "raw ESC or BEL byte in runs show {id}");
        for rendering in *renderings {
            assert!(text.contains(rendering), "{id}: {rendering} not shown in\n{text}");
        }
        let soft = verdict_lines(&text, "soft", "hostile.invisible");
        assert!(
            soft.iter().any(|l| l.contains(field)),
            "{id}: no soft hostile.invisible verdict naming {field}:\n{text}"
        );

        let raw = env.ok(&["--json", "runs", "show", id]);
        assert_eq!(raw_hostile_bytes(&raw), Vec::<char>::new(), "raw hostile characters in runs show --json {id}");
        let shown: Value = serde_json::from_str(&raw).unwrap();
        let captured: Value = serde_json::from_str(&read_fixture(&id["run-".len()..])).unwrap();
        assert_eq!(shown["run"]["before"], captured["before"], "{id}: the run's values stay exact in JSON");
        let verdicts = shown["evaluation"]["verdicts"].as_array().unwrap();
        assert!(
            verdicts.iter().any(|v| v["level"] == "soft"
                && v["rule"] == "hostile.invisible"
                && v["field"].as_str().is_some_and(|f| f.contains(field))),
            "{id}: {verdicts:?}"
        );
        assert_ne!(shown["evaluation"]["outcome"], "clear", "{id}");
    }
}

#[test]
fn wide_and_long_but_harmless_fixtures_raise_no_hostile_verdict_and_keep_their_values_whole() {
    let env = Env::new();
    for (id, fixture, field) in [
        ("run-hostile-cjk-vendor-name", "hostile-cjk-vendor-name", "VendorName"),
        ("run-hostile-long-description", "hostile-long-description", "InvoiceDescription"),
    ] {
        let text = env.show(id);
        assert_eq!(raw_hostile_bytes(&text), Vec::<char>::new(), "{id}");
        assert!(!text.contains("hostile.invisible"), "{id}:\n{text}");
        let captured: Value = serde_json::from_str(&read_fixture(fixture)).unwrap();
        let row = header_row(&env.show_json(id), field);
        assert_eq!(row["kind"], "unchanged");
        assert_eq!(row["before"]["text"], captured["before"]["fields"][field], "{id}: {field} shown whole");
    }
}

/// The diff row of header field `field`.
fn header_row(shown: &Value, field: &str) -> Value {
    let rows = shown["diff"]["header"]["rows"].as_array().unwrap();
    rows.iter().find(|r| r["field"] == field).unwrap_or_else(|| panic!("no row {field}")).clone()
}

#[test]
fn a_journal_shows_its_changed_line_by_key_and_the_balance_of_every_voucher() {
    let env = Env::new();
    let text = env.show("run-jnl-usmf-00482");
    assert!(text.contains("lines of LedgerJournalLines by LineNumber: 1 changed, 2 unchanged (folded)"), "{text}");
    assert!(text.contains("~  LineNumber 3 · voucher GNJL000843"), "{text}");
    let changed = text.lines().find(|l| l.contains("Text ") && l.contains('│')).unwrap();
    assert!(changed.contains("Prepaid subscription Q3") && changed.starts_with('~'), "{changed}");
    for voucher in ["GNJL000841", "GNJL000842", "GNJL000843"] {
        assert!(text.contains(&format!("voucher {voucher}")), "{voucher} in\n{text}");
    }
    assert!(text.contains("reviewed  debit 3,333.33 credit 3,333.33 ✓ balanced"), "{text}");
    assert!(text.contains("journal proposed  debit"), "{text}");
    assert_eq!(verdict_lines(&text, "pass", "journal.balance").len(), 1, "{text}");
}

#[test]
fn main_accounts_that_are_only_read_live_stay_blocking_and_say_they_are_checked_at_decision_time() {
    let env = Env::new();
    let text = env.show("run-jnl-usmf-00461");
    let account = verdict_lines(&text, "hard", "journal.account");
    assert_eq!(account.len(), 1, "{text}");
    assert!(account[0].contains("read live from F&O at decision time"), "{}", account[0]);
    assert!(!account[0].contains("sync-metadata"), "syncing would not help: {}", account[0]);
    assert!(text.contains("reviewed against the before snapshot; re-validated against live F&O at decision time"));
    assert!(text.contains("outcome: blocked"), "{text}");
}

#[test]
fn an_invoice_shows_its_verdicts_required_approvals_and_conditional_rollback() {
    let env = Env::new();
    let text = env.show("run-inv-usmf-apinv-000124");
    assert!(text.contains("~  DueDate"), "{text}");
    assert!(text.contains("header ImportedAmount 3,106.75 (difference to lines 182.75)"), "{text}");
    assert!(
        text.contains("rollback ? conditional: the invoice must still be unposted when the recall is sent"),
        "{text}"
    );
    assert!(text.contains("POST "), "the recall request is listed:\n{text}");
    assert!(text.contains("required approvals: "), "{text}");
    assert!(text.contains("outcome: "), "{text}");
    // Ben is in the eligible group, so the only hard verdicts left are the ones the fixture earns.
    assert!(verdict_lines(&text, "hard", "sod.eligible-group").is_empty(), "{text}");
    assert_eq!(verdict_lines(&text, "pass", "metadata.operation").len(), 1, "{text}");
}

#[test]
fn show_json_is_one_envelope_with_exact_amounts_and_the_judgement() {
    let env = Env::new();
    let raw = env.ok(&["--json", "runs", "show", "run-inv-usmf-apinv-000124"]);
    let shown: Value = serde_json::from_str(&raw).unwrap();
    let keys: Vec<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected =
        vec!["approvals", "diff", "digest", "evaluation", "lease", "required_approvals", "rollback", "run", "status"];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["approvals"], json!([]));
    assert_eq!(shown["required_approvals"], shown["evaluation"]["required_approvals"]);
    assert_eq!(shown["lease"], Value::Null);
    assert_eq!(shown["run"]["before"]["fields"]["ImportedAmount"].to_string(), "3106.75");
    assert!(raw.contains("\"header_amount\": \"3106.75\""), "decimals are exact strings in the diff");
    let totals = &shown["diff"]["lines"]["totals"];
    assert_eq!(totals["kind"], "invoice");
    assert_eq!(totals["header_amount"], "3106.75");
    assert_eq!(totals["reviewed_net"], "2924.00");
    assert_eq!(totals["header_difference"], "182.75");
    let due = header_row(&shown, "DueDate");
    assert_eq!((&due["kind"], &due["proposed"]["text"]), (&json!("changed"), &json!("2026-12-31T12:00:00Z")));
    assert_eq!(shown["rollback"]["readiness"]["state"], "conditional");
    assert!(shown["evaluation"]["required_approvals"].as_u64().unwrap() >= 1);
    assert_eq!(shown["evaluation"]["policy_version"].as_str().unwrap().len(), 64);
}

/// A 10-line journal whose proposal corrects lines 2 and 7, with `before` and `proposed` lines in the given
/// orders.
fn reorder(run: &mut Value, before_reversed: bool, proposed: [u64; 2]) {
    let lines = run["before"]["lines"].as_array_mut().unwrap();
    if before_reversed {
        lines.reverse();
    }
    let key = |n: u64| json!({"dataAreaId": "usmf", "JournalBatchNumber": "00478", "LineNumber": n});
    run["proposed"]["lines"] = json!(
        proposed
            .iter()
            .map(|n| json!({"keys": key(*n), "fields": {"Text": format!("Corrected allocation {n}")}}))
            .collect::<Vec<_>>()
    );
}

/// Each diffed line by its key, so two diffs compare whatever order their lines came in.
fn lines_by_key(shown: &Value) -> BTreeMap<String, Value> {
    let lines = shown["diff"]["lines"]["lines"].as_array().unwrap();
    lines.iter().map(|l| (l["key"].as_str().unwrap().to_string(), l.clone())).collect()
}

#[test]
fn lines_reordered_between_before_and_proposed_are_matched_by_key() {
    let env = Env::new();
    env.import_derived("jnl-usmf-00478", "run-jnl-usmf-00478-in-order", |run| reorder(run, false, [2, 7]));
    env.import_derived("jnl-usmf-00478", "run-jnl-usmf-00478-reordered", |run| reorder(run, true, [7, 2]));

    let in_order = env.show_json("run-jnl-usmf-00478-in-order");
    let reordered = env.show_json("run-jnl-usmf-00478-reordered");
    assert_eq!(lines_by_key(&in_order), lines_by_key(&reordered));
    assert_eq!(in_order["diff"]["lines"]["totals"], reordered["diff"]["lines"]["totals"]);
    let changed = lines_by_key(&reordered);
    let line7 = &changed["7"];
    assert_eq!(line7["kind"], "changed");
    let text_row = line7["fields"]["rows"].as_array().unwrap().iter().find(|r| r["field"] == "Text").unwrap();
    assert_eq!(text_row["before"]["text"], fixture_line_text("jnl-usmf-00478", 7));
    assert_eq!(text_row["proposed"]["text"], "Corrected allocation 7");
    assert_eq!(reordered["diff"]["lines"]["changed"], 2);

    let text = env.show("run-jnl-usmf-00478-reordered");
    assert!(text.contains("lines of LedgerJournalLines by LineNumber: 2 changed, 8 unchanged (folded)"), "{text}");
    assert!(text.contains("Corrected allocation 2") && text.contains("Corrected allocation 7"), "{text}");
}

/// The `Text` of line `n` as the fixture captured it (the reviewed value a key match must pair with).
fn fixture_line_text(fixture: &str, n: u64) -> String {
    let run: Value = serde_json::from_str(&read_fixture(fixture)).unwrap();
    let line = run["before"]["lines"].as_array().unwrap().iter().find(|l| l["keys"]["LineNumber"] == n).unwrap();
    line["fields"]["Text"].as_str().unwrap().to_string()
}

#[test]
fn show_marks_the_changed_part_of_a_value_without_colour() {
    let env = Env::new();
    let text = env.show("run-vnd-usmf-us-104");
    let changed: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("changed:")).collect();
    let bank = changed.iter().find(|l| l.contains("[-") && l.contains("{+")).unwrap_or_else(|| panic!("{text}"));
    // The marks wrap only the differing characters: unmarked, each side is the whole value.
    let (before, after) = bank.trim_start().trim_start_matches("changed: ").split_once(" → ").unwrap();
    let strip = |s: &str| s.replace("[-", "").replace("-]", "").replace("{+", "").replace("+}", "");
    let shown = serde_json::to_string(&env.show_json("run-vnd-usmf-us-104")["run"]).unwrap();
    assert!(shown.contains(&strip(before)) && shown.contains(&strip(after)), "{bank}");
    assert_ne!(strip(before), strip(after));
}
