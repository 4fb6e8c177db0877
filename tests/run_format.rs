//! The `signoff.run/v1` format against its fixtures: valid runs parse, broken ones are refused with
//! the file, position and field, amounts survive a round trip exactly, hostile text is kept as is.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use signoff::config::DEFAULT_MAX_RUN_FILE_BYTES;
use signoff::model::{Action, FieldValue, GovernedRun, parse_run, parse_run_bytes};
use signoff::run_file::read_run_file;

fn fixtures(dir: &str, ext: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn load(path: &Path) -> GovernedRun {
    let source = fs::read_to_string(path).unwrap();
    parse_run(&source, &name(path)).unwrap_or_else(|e| panic!("{e}"))
}

fn runs() -> Vec<(String, GovernedRun)> {
    fixtures("runs", "json").iter().map(|p| (name(p), load(p))).collect()
}

fn number(fields: &signoff::model::Fields, field: &str) -> Decimal {
    fields.get(field).and_then(FieldValue::as_number).unwrap_or_else(|| panic!("{field} is not a number"))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn every_run_fixture_parses_and_the_set_covers_every_action_and_both_companies() {
    let runs = runs();
    let realistic: Vec<_> = runs.iter().filter(|(n, _)| !n.starts_with("hostile-")).collect();
    assert!(realistic.len() >= 15, "only {} realistic runs", realistic.len());
    let actions: BTreeSet<Action> = runs.iter().map(|(_, r)| r.action).collect();
    // Workflow item runs come from F&O's inbox (`inbox sync`), not from run files: the docs example and
    // the inbox tests cover them. The generic record actions act on the customer's own managed objects:
    // the docs examples (one each) and tests/cli_records.rs cover them; the shipped worker object has
    // its update-record run here (the demo's worker change); role runs are covered by tests/cli_roles.rs.
    let authored: BTreeSet<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| *a != Action::ApproveWorkflowItem && !a.is_record_action() && !a.is_role_action())
        .collect();
    let missing: Vec<_> = authored.difference(&actions).collect();
    assert!(missing.is_empty(), "actions without a fixture: {missing:?}");
    assert!(actions.contains(&Action::UpdateRecord), "the worker fixture: {actions:?}");
    assert!(!actions.contains(&Action::ApproveWorkflowItem), "{actions:?}");
    let companies: BTreeSet<String> = runs.iter().filter_map(|(_, r)| r.company()).map(|c| c.to_string()).collect();
    assert!(companies.contains("usmf") && companies.contains("demf"), "{companies:?}");
    let ids: HashSet<&str> = runs.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids.len(), runs.len(), "run ids must be unique across fixtures");
}

#[test]
fn exactly_one_fixture_is_already_expired_on_the_demo_day() {
    let demo_day = at("2026-11-22T09:00:00Z");
    let expired: Vec<_> = runs().into_iter().filter(|(_, r)| r.is_expired(demo_day)).map(|(n, _)| n).collect();
    assert_eq!(expired, ["inv-usmf-apinv-000098.json"]);
}

#[test]
fn fixture_amounts_span_twelve_fifty_to_one_and_a_quarter_million() {
    let amounts: Vec<Decimal> = runs().iter().filter_map(|(_, r)| r.headline_amount()).map(|(a, _)| a).collect();
    assert_eq!(amounts.iter().min().copied(), Some(Decimal::new(1250, 2)));
    assert_eq!(amounts.iter().max().copied(), Some(Decimal::new(125_000_000, 2)));
}

#[test]
fn every_etag_encodes_its_records_recid_and_no_recid_is_reused() {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut seen = HashSet::new();
    for (file, run) in runs() {
        let records = std::iter::once((&run.before.etag, &run.before.fields))
            .chain(run.before.lines.iter().map(|l| (&l.etag, &l.fields)));
        for (etag, fields) in records {
            let rec_id = number(fields, "RecId");
            let expected = format!("W/\"{}\"", engine.encode(format!("'1,{rec_id}'")));
            assert_eq!(etag.as_str(), expected, "{file}: ETag of RecId {rec_id}");
            assert!(seen.insert(rec_id), "{file}: RecId {rec_id} is used twice");
        }
    }
}

#[test]
fn every_journal_fixture_is_balanced() {
    for (file, run) in runs().into_iter().filter(|(_, r)| r.action == Action::PostJournal) {
        let header = &run.before.fields;
        assert_eq!(number(header, "JournalTotalDebit"), number(header, "JournalTotalCredit"), "{file}");
        let debit: Decimal = run.before.lines.iter().map(|l| number(&l.fields, "DebitAmount")).sum();
        assert_eq!(debit, number(header, "JournalTotalDebit"), "{file}: lines' debits vs header");
    }
}

#[test]
fn every_invalid_fixture_is_refused_naming_file_position_and_field() {
    let files = fixtures("invalid", "json");
    assert!(files.len() >= 10, "only {} invalid fixtures", files.len());
    for path in files {
        let expected_path = path.with_extension("expected");
        let expected = fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{} needs {}: {e}", name(&path), name(&expected_path)));
        let source = fs::read_to_string(&path).unwrap();
        let err = match parse_run(&source, &name(&path)) {
            Ok(_) => panic!("{} was accepted", name(&path)),
            Err(e) => e.to_string(),
        };
        for want in expected.lines().filter(|l| !l.trim().is_empty()) {
            assert!(err.contains(want), "{}: expected {want:?} in:\n{err}", name(&path));
        }
    }
}

#[test]
fn every_expected_file_has_its_invalid_run() {
    for expected in fixtures("invalid", "expected") {
        assert!(expected.with_extension("json").exists(), "{} has no run file", name(&expected));
    }
}

#[test]
fn all_problems_of_a_file_are_listed_in_source_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid/automation-without-sponsor.json");
    let err = parse_run(&fs::read_to_string(&path).unwrap(), "a.json").unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["requester.sponsor", "justification", "evidence[0].sha256", "route.required_approvals"]);
}

#[test]
fn amounts_round_trip_exactly_through_canonical_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs/inv-usmf-apinv-000150.json");
    let source = fs::read_to_string(path).unwrap();
    // Values f64 cannot hold: 20 significant digits, and a tiny fraction.
    let source = source
        .replacen("\"ImportedAmount\": 1250000.00", "\"ImportedAmount\": 98765432109876543.21", 1)
        .replacen("\"ImportedSalesTax\": 73529.41", "\"ImportedSalesTax\": 0.0000001", 1);
    let run = parse_run(&source, "big.json").unwrap();
    let again = parse_run(&run.canonical_json(), "canonical.json").unwrap();
    assert_eq!(again, run);
    assert_eq!(again.payload_digest(), run.payload_digest());
    let fields = &again.before.fields;
    assert_eq!(number(fields, "ImportedAmount").to_string(), "98765432109876543.21");
    assert_eq!(number(fields, "ImportedSalesTax").to_string(), "0.0000001");
    assert_eq!(number(&again.before.lines[0].fields, "UnitPrice").to_string(), "1176470.59");
    assert!(run.canonical_json().contains("\"ImportedAmount\":98765432109876543.21"));
}

#[test]
fn every_fixture_round_trips_through_canonical_json_unchanged() {
    for (file, run) in runs() {
        let again = parse_run(&run.canonical_json(), &file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, run, "{file}");
    }
}

#[test]
fn fractional_unit_prices_keep_their_digits() {
    let run = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs/hostile-cjk-vendor-name.json"));
    let line = &run.before.lines[0].fields;
    assert_eq!(number(line, "UnitPrice").to_string(), "0.0125");
    assert_eq!(number(line, "NetAmount"), number(line, "UnitPrice") * number(line, "ReceiveNow"));
}

#[test]
fn hostile_fixtures_parse_and_keep_their_characters() {
    let text = |file: &str, field: &str| -> String {
        let run = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs").join(file));
        let fields = if run.action == Action::UpdateVendor { run.proposed.fields } else { run.before.fields };
        fields.get(field).and_then(FieldValue::as_text).unwrap().to_string()
    };
    assert_eq!(text("hostile-ansi-vendor-name.json", "VendorName"), "Tailspin Toys\u{1b}[32m APPROVED\u{1b}[0m");
    assert!(text("hostile-osc52-description.json", "InvoiceDescription").contains("\u{1b}]52;c;"));
    assert_eq!(text("hostile-bidi-invoice-number.json", "InvoiceNumber"), "INV-\u{202e}0001-FDP");
    assert_eq!(text("hostile-zero-width-vendor-account.json", "InvoiceVendorAccountNumber"), "US-1\u{200b}01");
    assert_eq!(text("hostile-long-description.json", "InvoiceDescription").chars().count(), 10_240);
    assert_eq!(text("hostile-cjk-vendor-name.json", "VendorName"), "深圳华强电子有限公司");
}

#[test]
fn hostile_text_quoted_in_an_error_is_made_visible() {
    let source = r#"{"format": "signoff.run/v1", "action": "\u001b]52;c;ZXZpbA==\u0007"}"#;
    let err = parse_run(source, "evil.json").unwrap_err().to_string();
    assert!(err.contains("evil.json:1:40: action: unknown action"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "raw control characters in: {err:?}");
}

#[test]
fn documents_that_are_not_runs_are_refused_without_panicking() {
    for (source, want) in [
        ("", "(document)"),
        ("[1, 2]", "expected a JSON object"),
        ("{\"format\": \"signoff.run/v1\"", "not valid JSON"),
        ("\"signoff.run/v1\"", "expected a JSON object"),
    ] {
        let err = parse_run(source, "odd.json").unwrap_err().to_string();
        assert!(err.starts_with("odd.json:1:") && err.contains(want), "{source:?} gave {err}");
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(parse_run(&deep, "deep.json").unwrap_err().to_string().contains("recursion limit"));
}

#[test]
fn a_short_action_label_is_refused_with_the_full_name_to_use() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs/jnl-usmf-00461.json");
    let source = fs::read_to_string(path).unwrap().replace("\"dynamicsfinance.post-journal\"", "\"journal\"");
    let err = parse_run(&source, "jnl.json").unwrap_err().to_string();
    assert!(err.contains("jnl.json:4:13: action: unknown action 'journal'"), "{err}");
    assert!(err.contains("use the full name \"dynamicsfinance.post-journal\""), "{err}");
}

#[test]
fn every_json_example_in_the_format_documentation_parses() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/run-format.md")).unwrap();
    let examples: Vec<&str> =
        doc.split("```json\n").skip(1).map(|rest| rest.split("```").next().unwrap_or_default()).collect();
    let actions: BTreeSet<Action> = examples
        .iter()
        .enumerate()
        .map(|(i, text)| parse_run(text, &format!("docs example {}", i + 1)).unwrap_or_else(|e| panic!("{e}")).action)
        .collect();
    assert_eq!(actions.len(), Action::ALL.len(), "one example per action: {actions:?}");
}

#[test]
fn a_syntax_error_after_cjk_text_is_placed_in_characters_not_bytes() {
    let err = parse_run("{\n  \"justification\": \"深圳华强\" \"id\": 1\n}", "cjk.json").unwrap_err();
    assert_eq!((err.problems[0].line, err.problems[0].column), (2, 27), "{err}");
}

/// The error for a fixture with one text replacement applied.
fn refused(fixture: &str, from: &str, to: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs").join(fixture);
    let source = fs::read_to_string(path).unwrap();
    assert!(source.contains(from), "{fixture} has no {from:?}");
    match parse_run(&source.replacen(from, to, 1), fixture) {
        Ok(_) => panic!("{fixture} with {to:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_user_target_with_a_company_is_refused() {
    let err = refused(
        "usr-disable-jmorales.json",
        "\"UserID\": \"jmorales\"\n",
        "\"UserID\": \"jmorales\", \"dataAreaId\": \"usmf\"\n",
    );
    assert!(err.contains("target.keys.dataAreaId: SystemUsers is not company-scoped"), "{err}");
}

#[test]
fn a_line_of_another_journal_is_refused() {
    let err = refused(
        "jnl-usmf-00461.json",
        "\"JournalBatchNumber\": \"00461\",\n          \"LineNumber\": 2",
        "\"JournalBatchNumber\": \"00462\",\n          \"LineNumber\": 2",
    );
    assert!(
        err.contains("before.lines[1].keys.JournalBatchNumber: the line's `JournalBatchNumber` is \"00462\""),
        "{err}"
    );
}

#[test]
fn duplicate_proposed_lines_are_refused() {
    let line = "{\"keys\": {\"LineNumber\": 3}, \"fields\": {\"Text\": \"x\"}}";
    let err = refused(
        "jnl-usmf-00482.json",
        "\"lines\": [\n      {\n        \"keys\": {\n          \"dataAreaId\": \"usmf\",\n          \"JournalBatchNumber\": \"00482\",\n          \"LineNumber\": 3",
        &format!(
            "\"lines\": [{line}, {line},\n      {{\n        \"keys\": {{\n          \"dataAreaId\": \"usmf\",\n          \"JournalBatchNumber\": \"00482\",\n          \"LineNumber\": 9"
        ),
    );
    assert!(err.contains("proposed.lines[1].keys: duplicate line keys"), "{err}");
}

#[test]
fn a_money_field_holding_a_boolean_or_null_is_refused() {
    let err = refused("jnl-usmf-00461.json", "\"JournalTotalCredit\": 1240.00", "\"JournalTotalCredit\": null");
    assert!(err.contains("before.fields.JournalTotalCredit: `JournalTotalCredit` is an amount"), "{err}");
    let err = refused("jnl-usmf-00461.json", "\"DebitAmount\": 1240.00", "\"DebitAmount\": true");
    assert!(err.contains("before.lines[0].fields.DebitAmount") && err.contains("found boolean"), "{err}");
}

#[test]
fn a_repeated_top_level_key_is_refused_naming_both_places() {
    let err = refused(
        "jnl-usmf-00461.json",
        "  \"target\": {",
        "  \"justification\": \"Post journal 00461 as corrected.\",\n  \"target\": {",
    );
    assert!(
        err.contains(
            "jnl-usmf-00461.json:13:3: justification: duplicate key `justification`: \
             first at jnl-usmf-00461.json:12:3, again at jnl-usmf-00461.json:13:3"
        ),
        "{err}"
    );
}

#[test]
fn a_repeated_key_deep_in_a_line_is_refused_naming_both_places_and_other_problems_still_listed() {
    let err = refused(
        "jnl-usmf-00461.json",
        "\"DebitAmount\": 1240.00,",
        "\"DebitAmount\": 1240.00, \"DebitAmount\": 12400.00,",
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        err.contains("before.lines[0].fields.DebitAmount: duplicate key `DebitAmount`: first at jnl-usmf-00461.json:")
            && err.contains(", again at jnl-usmf-00461.json:"),
        "{err}"
    );
    let err = refused(
        "jnl-usmf-00461.json",
        "\"required_approvals\": 1,",
        "\"required_approvals\": 1, \"required_approvals\": 0,",
    );
    // The value kept (the last, 0) is still checked: every problem of the file in one pass.
    assert!(err.contains("route.required_approvals: duplicate key `required_approvals`"), "{err}");
    assert!(err.contains("route.required_approvals: required_approvals is 0; expected at least 1"), "{err}");
}

#[test]
fn a_second_document_after_the_run_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs/jnl-usmf-00461.json");
    let source = fs::read_to_string(path).unwrap();
    let err = parse_run(&format!("{source}{{\"id\": \"run-other\"}}\n"), "two.json").unwrap_err().to_string();
    assert!(err.contains("trailing characters") && err.contains("not valid JSON"), "{err}");
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs").join(name)).unwrap()
}

#[test]
fn a_utf8_byte_order_mark_is_skipped_and_the_run_is_the_same() {
    let plain = fixture_bytes("inv-usmf-apinv-000123.json");
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&plain);
    let run = parse_run_bytes(&with_bom, "bom.json").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run, parse_run_bytes(&plain, "plain.json").unwrap());
    assert_eq!(run.payload_digest(), parse_run_bytes(&plain, "plain.json").unwrap().payload_digest());
    // Positions are the editor's, which does not show the mark: line 1 column 1 is the `{`.
    let broken = [b"\xEF\xBB\xBF[1]".as_slice()].concat();
    assert!(parse_run_bytes(&broken, "bom.json").unwrap_err().to_string().starts_with("bom.json:1:1: (document)"));
}

#[test]
fn a_utf16_file_is_refused_saying_so_and_how_to_save_it() {
    let text = String::from_utf8(fixture_bytes("inv-usmf-apinv-000123.json")).unwrap();
    // What PowerShell 5's `Out-File` writes: UTF-16 little-endian with a byte-order mark.
    let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let err = parse_run_bytes(&utf16, "ps.json").unwrap_err().to_string();
    assert!(
        err.starts_with(
            "ps.json:1:1: (document): the file is UTF-16 (little-endian, with a byte-order mark); run files are UTF-8: \
             save it as UTF-8"
        ),
        "{err}"
    );
    let without_mark: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let err = parse_run_bytes(&without_mark, "be.json").unwrap_err().to_string();
    assert!(err.contains("the file is UTF-16 (big-endian)"), "{err}");
}

#[test]
fn a_windows_1252_file_is_refused_at_the_offending_character() {
    let text = String::from_utf8(fixture_bytes("inv-demf-apinv-000052.json")).unwrap();
    let (line, _) = text.lines().enumerate().find(|(_, l)| l.contains("\"VendorName\"")).unwrap();
    let latin1: Vec<u8> =
        text.replacen("\"VendorName\": \"", "\"VendorName\": \"M\u{fc}ller ", 1).chars().map(|c| c as u8).collect();
    let err = parse_run_bytes(&latin1, "latin1.json").unwrap_err().to_string();
    assert!(err.starts_with(&format!("latin1.json:{}:", line + 1)), "{err}");
    assert!(err.contains("not valid UTF-8 (byte 0xFC") && err.contains("Windows-1252"), "{err}");
}

#[test]
fn a_run_file_over_the_size_limit_is_refused_naming_file_size_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // Sparse: 11 MiB on paper, nothing on disk; refused from its size before a byte is read.
    fs::File::create(&path).unwrap().set_len(11 * 1024 * 1024).unwrap();
    let err = read_run_file(&path, "huge.json", DEFAULT_MAX_RUN_FILE_BYTES).unwrap_err().to_string();
    assert_eq!(
        err,
        "huge.json: the file is 11.0 MiB (11534336 bytes), larger than the limit for a run file, 10.0 MiB \
         (10485760 bytes); a run is normally a few KB: check that this is the run you meant, or raise \
         `[runs] max_file_bytes` in the config"
    );
    let small = dir.path().join("run.json");
    fs::write(&small, fixture_bytes("inv-usmf-apinv-000123.json")).unwrap();
    let size = fs::metadata(&small).unwrap().len();
    assert!(read_run_file(&small, "run.json", size).is_ok(), "a file exactly at the limit is read");
    let err = read_run_file(&small, "run.json", size - 1).unwrap_err().to_string();
    assert!(err.contains(&format!("({size} bytes), larger than the limit for a run file")), "{err}");
}

/// The docs example of `action`, as text.
fn docs_example(action: &str) -> String {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/run-format.md")).unwrap();
    doc.split("```json\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default().to_string())
        .find(|text| text.contains(&format!("\"action\": \"{action}\"")))
        .unwrap_or_else(|| panic!("no docs example of {action}"))
}

#[test]
fn a_create_must_start_from_an_absent_record_and_nothing_else_may() {
    let create = docs_example("dynamicsfinance.create-record");
    let with_record = create.replace("\"absent\": true,", "\"etag\": \"W/\\\"JzEsNjg3MTk1NDEwMDIn\\\"\",");
    let err = parse_run(&with_record, "create.json").unwrap_err().to_string();
    assert!(err.contains("before.absent: a create-record run starts from no record"), "{err}");
    let update = docs_example("dynamicsfinance.update-record");
    let absent = update.replacen("\"etag\": \"W/\\\"JzEsNjg3MTk1NDEwMDIn\\\"\",", "\"absent\": true,", 1);
    let err = parse_run(&absent, "update.json").unwrap_err().to_string();
    assert!(err.contains("before.absent: dynamicsfinance.update-record acts on an existing record"), "{err}");
}

#[test]
fn an_operation_run_names_its_operation_and_a_delete_proposes_no_field() {
    let operation = docs_example("dynamicsfinance.execute-operation");
    let unnamed = operation.replace("\"operation\": \"place_on_hold\",", "");
    let err = parse_run(&unnamed, "op.json").unwrap_err().to_string();
    assert!(err.contains("proposed.operation: missing: an execute-operation run names"), "{err}");
    let delete = docs_example("dynamicsfinance.delete-record");
    let with_field =
        delete.replace("\"proposed\": { \"fields\": {} }", "\"proposed\": { \"fields\": { \"Description\": \"x\" } }");
    let err = parse_run(&with_field, "delete.json").unwrap_err().to_string();
    assert!(err.contains("proposed.fields: a delete-record run removes the whole record"), "{err}");
}

#[test]
fn a_role_run_lists_the_users_enabled_roles_and_an_assignment_starts_from_no_row() {
    let assign = docs_example("dynamicsfinance.assign-role");
    let unlisted = assign.replace(",\n    \"enabled_roles\": [\"Accounts payable clerk\", \"System user\"]", "");
    let err = parse_run(&unlisted, "assign.json").unwrap_err().to_string();
    assert!(err.contains("before.enabled_roles: missing: a role run lists the user's enabled security roles"), "{err}");
    let present = assign.replace("\"absent\": true,", "\"etag\": \"W/\\\"JzEsNTYzNzE0NjExMSc=\\\"\",");
    let err = parse_run(&present, "assign.json").unwrap_err().to_string();
    assert!(err.contains("before.absent: an assign-role run starts from no user-role row"), "{err}");
    let revoke = docs_example("dynamicsfinance.revoke-role");
    let with_field = revoke.replace(
        "\"proposed\": { \"fields\": {} }",
        "\"proposed\": { \"fields\": { \"SecurityRoleName\": \"Accountant\" } }",
    );
    let err = parse_run(&with_field, "revoke.json").unwrap_err().to_string();
    assert!(err.contains("proposed.fields: a revoke-role run deletes the user-role row"), "{err}");
    let update = docs_example("dynamicsfinance.update-record");
    let listed = update.replacen("\"fields\": {", "\"enabled_roles\": [\"Accountant\"],\n    \"fields\": {", 1);
    let err = parse_run(&listed, "update.json").unwrap_err().to_string();
    assert!(err.contains("before.enabled_roles: dynamicsfinance.update-record is not a role run"), "{err}");
}
