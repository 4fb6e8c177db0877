//! The diff model and its text rendering on the run fixtures.

use crate::judgement_common;

use judgement_common::*;
use signoff::diff::{ChangeKind, LineTotals, RunDiff, Span, diff_run, render_text};
use signoff::model::{FieldValue, ProposedLine};

fn emphasised(text: &str, spans: &[Span]) -> Vec<String> {
    spans.iter().map(|s| text[s.start..s.end].to_string()).collect()
}

fn all_strings(diff: &RunDiff) -> Vec<String> {
    let mut strings = Vec::new();
    json_strings(&serde_json::to_value(diff).unwrap(), &mut strings);
    strings
}

#[test]
fn a_changed_date_is_one_changed_row_with_character_emphasis_and_the_rest_folded() {
    let diff = diff_run(&run("inv-usmf-apinv-000124"), None);
    assert_eq!(diff.header.changed, 1);
    assert_eq!(diff.header.folded, diff.header.rows.len() - 1, "unchanged rows are kept, flagged, and counted");
    let row = diff.header.rows.iter().find(|r| r.field == "DueDate").unwrap();
    assert_eq!(row.kind, ChangeKind::Changed);
    let before = row.before.as_ref().unwrap();
    let proposed = row.proposed.as_ref().unwrap();
    assert_eq!(emphasised(&before.text, &before.emphasis), vec!["18"]);
    assert_eq!(emphasised(&proposed.text, &proposed.emphasis), vec!["31"]);
}

#[test]
fn free_text_is_emphasised_by_whole_words() {
    let diff = diff_run(&run("jnl-usmf-00482"), None);
    let lines = diff.lines.as_ref().unwrap();
    let line = lines.lines.iter().find(|l| l.key == "3").unwrap();
    let row = line.fields.rows.iter().find(|r| r.field == "Text").unwrap();
    let proposed = row.proposed.as_ref().unwrap();
    assert_eq!(emphasised(&proposed.text, &proposed.emphasis), vec![" (final instalment)"]);
}

#[test]
fn a_money_change_has_an_exact_delta() {
    let mut r = run("inv-usmf-apinv-000123");
    r.proposed.fields.insert("ImportedAmount".into(), num("12.75"));
    let diff = diff_run(&r, None);
    let row = diff.header.rows.iter().find(|r| r.field == "ImportedAmount").unwrap();
    assert!(row.numeric);
    assert_eq!(row.delta, Some(dec("0.25")));
    assert!(render_text(&diff, 120).contains("12.75 (+0.25)"));
}

#[test]
fn lines_reordered_between_before_and_proposed_are_matched_by_key() {
    let mut r = run("jnl-usmf-00478");
    // Corrections listed in reverse order of the journal's lines, each for its own key.
    for n in [9u32, 1] {
        let keys = r.before.lines[(n - 1) as usize].keys.clone();
        r.proposed.lines.push(ProposedLine {
            keys,
            fields: [("Text".to_string(), FieldValue::from(format!("corrected line {n}").as_str()))].into(),
            remove: false,
        });
    }
    let diff = diff_run(&r, None);
    let lines = diff.lines.as_ref().unwrap();
    assert_eq!(lines.changed, 2);
    for n in ["1", "9"] {
        let line = lines.lines.iter().find(|l| l.key == n).unwrap();
        assert_eq!(line.kind, ChangeKind::Changed, "line {n}");
        let text = line.fields.rows.iter().find(|r| r.field == "Text").unwrap();
        assert_eq!(text.proposed.as_ref().unwrap().text, format!("corrected line {n}"));
    }
    assert!(lines.lines.iter().filter(|l| l.key != "1" && l.key != "9").all(|l| l.kind == ChangeKind::Unchanged));
}

#[test]
fn a_live_record_with_its_lines_in_another_order_has_no_drift() {
    let r = run("jnl-usmf-00478");
    let mut live = r.before.clone();
    live.lines.reverse();
    let diff = diff_run(&r, Some(&live));
    assert!(diff.three_way);
    assert!(!diff.drift);
    assert_eq!(diff.lines.as_ref().unwrap().drifted, 0);
}

#[test]
fn added_and_removed_lines_are_shown_whole() {
    let mut r = run("inv-usmf-apinv-000131");
    let mut removed = r.before.lines[2].keys.clone();
    r.proposed.lines.push(ProposedLine { keys: removed.clone(), fields: Default::default(), remove: true });
    removed.insert("InvoiceLineNumber".into(), num("5"));
    r.proposed.lines.push(ProposedLine {
        keys: removed,
        fields: [("NetAmount".to_string(), num("2400.00")), ("LineDescription".to_string(), "Freight".into())].into(),
        remove: false,
    });
    let diff = diff_run(&r, None);
    let lines = diff.lines.as_ref().unwrap();
    let gone = lines.lines.iter().find(|l| l.key == "3").unwrap();
    assert_eq!(gone.kind, ChangeKind::Removed);
    assert!(gone.fields.rows.iter().all(|row| row.kind == ChangeKind::Removed && row.proposed.is_none()));
    let new = lines.lines.iter().find(|l| l.key == "5").unwrap();
    assert_eq!(new.kind, ChangeKind::Added);
    assert_eq!(new.fields.rows.len(), 2);
    let text = render_text(&diff, 120);
    assert!(text.contains("-  InvoiceLineNumber 3"), "{text}");
    assert!(text.contains("+  InvoiceLineNumber 5"), "{text}");
    match &lines.totals {
        LineTotals::Invoice { reviewed_net, proposed_net, delta, .. } => {
            assert_eq!(*reviewed_net, dec("76280.00"));
            assert_eq!(*proposed_net, dec("76280.00"));
            assert_eq!(*delta, dec("0.00"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn journal_totals_show_each_vouchers_balance_and_difference() {
    let mut r = run("jnl-demf-00112");
    let keys = r.before.lines[0].keys.clone();
    r.proposed.lines.push(ProposedLine {
        keys,
        fields: [("DebitAmount".to_string(), num("2318.50"))].into(),
        remove: false,
    });
    let diff = diff_run(&r, None);
    let LineTotals::Journal { vouchers, reviewed, proposed } = &diff.lines.as_ref().unwrap().totals else {
        panic!("journal totals expected")
    };
    assert_eq!(vouchers.len(), 1);
    assert!(reviewed.balanced);
    assert_eq!((reviewed.debit, reviewed.credit), (dec("3260.00"), dec("3260.00")));
    assert!(!proposed.balanced);
    assert_eq!(proposed.difference, dec("0.10"));
    assert!(render_text(&diff, 100).contains("✗ difference 0.10"));
}

#[test]
fn a_drifted_live_record_gives_a_three_way_view_with_the_drifted_rows_marked() {
    let r = run("inv-usmf-apinv-000124");
    let mut live = r.before.clone();
    live.fields.insert("DueDate".into(), "2026-12-20T12:00:00Z".into());
    live.lines[1].fields.insert("NetAmount".into(), num("999.00"));
    let diff = diff_run(&r, Some(&live));
    assert!(diff.drift);
    let row = diff.header.rows.iter().find(|r| r.field == "DueDate").unwrap();
    assert!(row.drift && !row.folds());
    let live_cell = row.live.as_ref().unwrap();
    assert_eq!(live_cell.text, "2026-12-20T12:00:00Z");
    assert_eq!(emphasised(&live_cell.text, &live_cell.emphasis), vec!["20"]);
    assert_eq!(diff.header.drifted, 1);
    let lines = diff.lines.as_ref().unwrap();
    assert_eq!(lines.drifted, 1);
    let text = render_text(&diff, 140);
    assert!(text.contains("│ live"), "{text}");
    assert!(text.contains("~! DueDate"), "{text}");
}

#[test]
fn hostile_values_are_escaped_in_the_model_and_never_folded() {
    for name in all_runs() {
        let r = run(&name);
        let mut live = r.before.clone();
        live.fields.insert("VendorName".into(), "Contoso\u{1b}[2J\u{202e}".into());
        for diff in [diff_run(&r, None), diff_run(&r, Some(&live))] {
            assert_all_visible(&all_strings(&diff));
            let text = render_text(&diff, 100);
            assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{name}");
        }
    }
    let diff = diff_run(&run("hostile-bidi-invoice-number"), None);
    let row = diff.header.rows.iter().find(|r| r.field == "InvoiceNumber").unwrap();
    assert!(row.hostile && !row.folds());
    assert!(row.before.as_ref().unwrap().text.contains("⟨U+202E⟩"));
    let text = render_text(&diff, 100);
    assert!(text.contains(" * InvoiceNumber"), "{text}");
}

#[test]
fn emphasis_spans_index_the_escaped_strings() {
    let mut r = run("hostile-ansi-vendor-name");
    r.proposed.fields.insert("VendorName".into(), "Tailspin Toys".into());
    let diff = diff_run(&r, None);
    let row = diff.header.rows.iter().find(|r| r.field == "VendorName").unwrap();
    let before = row.before.as_ref().unwrap();
    assert!(before.text.contains("^["));
    for span in &before.emphasis {
        assert!(before.text.is_char_boundary(span.start) && before.text.is_char_boundary(span.end));
        assert!(span.end <= before.text.len());
    }
    assert!(emphasised(&before.text, &before.emphasis).concat().contains("^["));
}

#[test]
fn the_text_rendering_wraps_long_values_instead_of_truncating() {
    let mut r = run("hostile-long-description");
    let long = r.before.fields["InvoiceDescription"].to_string();
    r.proposed.fields.insert("InvoiceDescription".into(), format!("{long} (reviewed)").as_str().into());
    let text = render_text(&diff_run(&r, None), 80);
    assert!(text.lines().all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80), "{text}");
    assert!(text.contains("(reviewed)"));
}

#[test]
fn the_diff_serializes_to_the_documented_shape() {
    let json = serde_json::to_value(diff_run(&run("vnd-usmf-us-104"), None)).unwrap();
    assert_eq!(json["action"], "dynamicsfinance.update-vendor");
    let row = json["header"]["rows"].as_array().unwrap().iter().find(|r| r["field"] == "BankAccountId").unwrap();
    assert_eq!(row["kind"], "changed");
    assert_eq!(row["before"]["text"], "BOA-9921");
    assert_eq!(row["proposed"]["emphasis"][0]["start"], 0);
    assert!(json.get("lines").is_none());
}
