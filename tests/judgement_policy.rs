//! Policy rules on the run fixtures: each rule passes on a clean run and fails on a realistic bad one.

use crate::judgement_common;

use chrono::Duration;
use judgement_common::*;
use signoff::config::{ClosedPeriod, EnvironmentKind};
use signoff::model::{ActorId, FieldValue, GovernedRun, RunId};
use signoff::policy::{Evaluation, Facts, Level, OtherInvoice, Outcome, Verdict, evaluate, policy_version};

fn judge(run: &GovernedRun, approver: &str) -> Evaluation {
    let catalog = Catalog::synced();
    evaluate(run, &catalog.facts(approver), &config())
}

fn of<'e>(eval: &'e Evaluation, rule: &str) -> Vec<&'e Verdict> {
    eval.verdicts.iter().filter(|v| v.rule == rule).collect()
}

fn level(eval: &Evaluation, rule: &str) -> Level {
    of(eval, rule).iter().map(|v| v.level).max().unwrap_or_else(|| panic!("no verdict of {rule}: {eval:#?}"))
}

fn message(eval: &Evaluation, rule: &str, at: Level) -> String {
    of(eval, rule)
        .iter()
        .find(|v| v.level == at)
        .map(|v| v.message.clone())
        .unwrap_or_else(|| panic!("no {at:?} {rule}"))
}

fn set(run: &mut GovernedRun, field: &str, value: FieldValue) {
    run.before.fields.insert(field.into(), value);
}

#[test]
fn a_clean_small_invoice_is_clear_with_one_approver() {
    let eval = judge(&run("inv-usmf-apinv-000123"), CONTROLLER);
    assert_eq!(eval.outcome, Outcome::Clear, "{}", eval.render_text());
    assert_eq!(eval.required_approvals, 1);
    assert!(eval.verdicts.iter().all(|v| v.level <= Level::Advisory));
}

#[test]
fn an_expired_run_is_blocked() {
    let r = run("inv-usmf-apinv-000123");
    let catalog = Catalog::synced();
    let mut facts = catalog.facts(CONTROLLER);
    assert_eq!(level(&evaluate(&r, &facts, &config()), "run.expired"), Level::Pass);
    facts.now = r.expires_at + Duration::minutes(1);
    let eval = evaluate(&r, &facts, &config());
    assert_eq!(level(&eval, "run.expired"), Level::Hard);
    assert!(message(&eval, "run.expired", Level::Hard).contains("2026-11-25T09:12:00Z"));
    assert_eq!(eval.outcome, Outcome::Blocked);
}

#[test]
fn a_run_prepared_for_another_environment_is_blocked() {
    let mut cfg = config();
    let catalog = Catalog::synced();
    let r = run("vnd-usmf-us-108");
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "environment.match"), Level::Pass);
    cfg.environment.name = "usmf-prod".into();
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &cfg);
    assert_eq!(level(&eval, "environment.match"), Level::Hard);
    assert!(message(&eval, "environment.match", Level::Hard).contains("usmf-sandbox"));
}

#[test]
fn production_writes_are_blocked_unless_enabled_and_then_advised() {
    let catalog = Catalog::synced();
    let r = run("vnd-usmf-us-108");
    let mut cfg = config();
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "environment.posture"), Level::Pass);
    cfg.environment.kind = EnvironmentKind::Production;
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "environment.posture"), Level::Hard);
    cfg.environment.allow_production_writes = true;
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "environment.posture"), Level::Advisory);
}

#[test]
fn an_unconfigured_managed_object_is_blocked() {
    let catalog = Catalog::synced();
    let mut cfg = config();
    let r = run("vnd-usmf-us-108");
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "allowlist.object"), Level::Pass);
    cfg.managed_objects.remove("vendor");
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &cfg);
    assert_eq!(level(&eval, "allowlist.object"), Level::Hard);
    assert!(message(&eval, "allowlist.object", Level::Hard).contains("'vendor' is not configured"));
}

#[test]
fn a_field_outside_the_allowlist_is_named_and_blocked_and_still_in_the_diff() {
    let mut r = run("vnd-usmf-us-108");
    assert_eq!(level(&judge(&r, CONTROLLER), "allowlist.field"), Level::Pass);
    r.proposed.fields.insert("VendorOrganizationName".into(), "Fabrikam Holdings".into());
    let eval = judge(&r, CONTROLLER);
    let blocked = of(&eval, "allowlist.field");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].level, Level::Hard);
    assert_eq!(blocked[0].field.as_deref(), Some("VendorOrganizationName"));
    let diff = signoff::diff::diff_run(&r, None);
    let row = diff.header.rows.iter().find(|r| r.field == "VendorOrganizationName").expect("never dropped");
    assert_eq!(row.proposed.as_ref().unwrap().text, "Fabrikam Holdings");
}

#[test]
fn a_line_field_outside_the_line_allowlist_is_blocked_with_its_line() {
    let mut r = run("jnl-usmf-00482");
    assert_eq!(level(&judge(&r, CONTROLLER), "allowlist.field"), Level::Pass);
    r.proposed.lines[0].fields.insert("PostingLayer".into(), "Tax".into());
    let eval = judge(&r, CONTROLLER);
    let v = of(&eval, "allowlist.field")[0];
    assert_eq!(v.level, Level::Hard);
    assert_eq!(v.field.as_deref(), Some("lines[LineNumber=3].PostingLayer"));
}

#[test]
fn an_unsynced_catalog_fails_closed_and_says_how_to_sync() {
    let r = run("jnl-usmf-00461");
    let eval = evaluate(&r, &Facts::new(now(), ActorId::from(CONTROLLER)), &config());
    assert_eq!(eval.outcome, Outcome::Blocked);
    for rule in ["metadata.field", "metadata.facets", "metadata.operation", "journal.account"] {
        assert_eq!(level(&eval, rule), Level::Hard, "{rule}");
        assert!(message(&eval, rule, Level::Hard).contains("signoff connector sync-metadata"), "{rule}");
    }
}

#[test]
fn a_proposed_field_missing_from_metadata_is_blocked() {
    let mut r = run("vnd-usmf-us-108");
    let mut catalog = Catalog::synced();
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.field"), Level::Pass);
    catalog.entity_fields.get_mut("VendorsV2").unwrap().remove("DefaultPaymentTermsName");
    r.id = RunId::from("run-vnd-usmf-us-108-b");
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert_eq!(level(&eval, "metadata.field"), Level::Hard);
    assert_eq!(of(&eval, "metadata.field")[0].field.as_deref(), Some("DefaultPaymentTermsName"));
}

#[test]
fn a_bank_account_id_longer_than_its_max_length_is_blocked_naming_the_facet() {
    let catalog = Catalog::synced();
    let mut r = run("vnd-usmf-us-104");
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.facets"), Level::Pass);
    r.proposed.fields.insert("BankAccountId".into(), "WF-CHK-4410".into());
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert_eq!(eval.outcome, Outcome::Blocked);
    let verdict = of(&eval, "metadata.facets")[0];
    assert_eq!(verdict.level, Level::Hard);
    assert_eq!(verdict.message, "BankAccountId allows 10 characters; 'WF-CHK-4410' has 11 (VendorsV2)");
    assert_eq!(verdict.field.as_deref(), Some("BankAccountId"));
}

#[test]
fn enabled_must_be_a_boolean_and_not_null() {
    let catalog = Catalog::synced();
    let mut r = run("usr-disable-jmorales");
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.facets"), Level::Pass);
    r.proposed.fields.insert("Enabled".into(), "No".into());
    assert_eq!(
        level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.facets"),
        Level::Pass,
        "the human form \"No\" is sent as false"
    );
    r.proposed.fields.insert("Enabled".into(), "Disabled".into());
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert!(
        message(&eval, "metadata.facets", Level::Hard).starts_with("Enabled is Edm.Boolean: expected true or false"),
        "{}",
        eval.render_text()
    );
    r.proposed.fields.insert("Enabled".into(), FieldValue::Null);
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert!(message(&eval, "metadata.facets", Level::Hard).contains("cannot be empty (null)"));
}

#[test]
fn an_enum_value_that_is_not_a_member_is_blocked_listing_the_members() {
    let catalog = Catalog::synced();
    let mut r = run("vnd-demf-de-001");
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.facets"), Level::Pass);
    r.proposed.fields.insert("OnHoldStatus".into(), "Blocked".into());
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    let text = message(&eval, "metadata.facets", Level::Hard);
    assert!(
        text.starts_with("OnHoldStatus is the enum CustVendorBlocked: 'Blocked' is not one of its members"),
        "{text}"
    );
    assert!(text.contains("No, Invoice, All"), "{text}");
}

#[test]
fn a_line_amount_with_too_many_decimals_or_given_as_text_is_blocked() {
    let catalog = Catalog::synced();
    let mut r = run("jnl-usmf-00482");
    r.proposed.lines[0].fields.insert("DebitAmount".into(), num("1250.50"));
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.facets"), Level::Pass);
    r.proposed.lines[0].fields.insert("DebitAmount".into(), num("1250.5000001"));
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    let verdict = of(&eval, "metadata.facets").into_iter().find(|v| v.level == Level::Hard).unwrap();
    assert!(verdict.message.contains("DebitAmount allows 6 decimal place(s)"), "{}", verdict.message);
    assert!(verdict.field.as_deref().is_some_and(|f| f.ends_with("DebitAmount") && f.contains('3')), "{verdict:?}");
    r.proposed.lines[0].fields.insert("DebitAmount".into(), "1250.50".into());
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert!(message(&eval, "metadata.facets", Level::Hard).contains("expected a number"));
}

#[test]
fn a_decision_operation_missing_from_the_catalog_is_blocked() {
    let r = run("inv-usmf-apinv-000123");
    let mut catalog = Catalog::synced();
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &config()), "metadata.operation"), Level::Pass);
    catalog.operations.remove("approveVendorInvoice");
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &config());
    assert!(message(&eval, "metadata.operation", Level::Hard).contains("approveVendorInvoice"));
    let mut cfg = config();
    cfg.operations.remove("invoice_approve");
    let eval = evaluate(&r, &Catalog::synced().facts(CONTROLLER), &cfg);
    assert!(message(&eval, "metadata.operation", Level::Hard).contains("[operations.invoice_approve]"));
}

#[test]
fn hostile_values_raise_a_soft_verdict_naming_the_field() {
    let cases = [
        ("hostile-ansi-vendor-name", "before.VendorName"),
        ("hostile-bidi-invoice-number", "before.InvoiceNumber"),
        ("hostile-osc52-description", "before.InvoiceDescription"),
        ("hostile-zero-width-vendor-account", "proposed.InvoiceVendorAccountNumber"),
    ];
    for (name, field) in cases {
        let eval = judge(&run(name), CONTROLLER);
        let hostile = of(&eval, "hostile.invisible");
        assert!(
            hostile.iter().any(|v| v.level == Level::Soft && v.field.as_deref() == Some(field)),
            "{name}: {hostile:#?}"
        );
        let mut strings = Vec::new();
        json_strings(&serde_json::to_value(&eval).unwrap(), &mut strings);
        assert_all_visible(&strings);
        assert!(!eval.render_text().contains('\u{1b}'));
    }
}

#[test]
fn cjk_and_long_text_are_not_hostile() {
    for name in ["hostile-cjk-vendor-name", "hostile-long-description", "inv-usmf-apinv-000140"] {
        assert!(of(&judge(&run(name), CONTROLLER), "hostile.invisible").is_empty(), "{name}");
    }
}

#[test]
fn the_requester_cannot_approve_their_own_run() {
    let r = run("vnd-usmf-us-108");
    assert_eq!(level(&judge(&r, CONTROLLER), "sod.requester"), Level::Pass);
    let eval = judge(&r, "Julia.Funderburk@contoso.com");
    assert_eq!(level(&eval, "sod.requester"), Level::Hard);
}

#[test]
fn the_sponsor_of_an_automation_cannot_approve_its_run() {
    let r = run("inv-usmf-apinv-000140");
    assert_eq!(r.requester.sponsor.as_ref().map(|s| s.as_str()), Some("april.meyer@contoso.com"));
    assert_eq!(level(&judge(&r, CONTROLLER), "sod.sponsor"), Level::Pass);
    assert_eq!(level(&judge(&r, "april.meyer@contoso.com"), "sod.sponsor"), Level::Hard);
}

#[test]
fn the_records_creator_cannot_approve_a_change_to_it() {
    let mut r = run("inv-usmf-apinv-000098");
    assert_eq!(level(&judge(&r, CONTROLLER), "sod.creator"), Level::Advisory, "unknown creator is noted");
    r.before.created_by = Some(ActorId::from("victor.ash@contoso.com"));
    assert_eq!(level(&judge(&r, CONTROLLER), "sod.creator"), Level::Pass);
    assert_eq!(level(&judge(&r, "victor.ash@contoso.com"), "sod.creator"), Level::Hard);
}

#[test]
fn nobody_is_counted_twice() {
    let r = run("jnl-usmf-00478");
    let catalog = Catalog::synced();
    let mut facts = catalog.facts(CONTROLLER);
    facts.prior_approvers = vec![ActorId::from("cfo@contoso.com")];
    assert_eq!(level(&evaluate(&r, &facts, &config()), "sod.already-approved"), Level::Pass);
    facts.prior_approvers.push(ActorId::from("BEN.MILLER@contoso.com"));
    let eval = evaluate(&r, &facts, &config());
    assert!(message(&eval, "sod.already-approved", Level::Hard).contains("already approved"));
}

#[test]
fn an_approver_outside_the_eligible_groups_is_blocked() {
    let r = run("usr-disable-jmorales");
    let catalog = Catalog::synced();
    let mut facts = catalog.facts(CONTROLLER);
    assert_eq!(level(&evaluate(&r, &facts, &config()), "sod.eligible-group"), Level::Pass);
    facts.approver_groups = vec!["ap-approvers".into()];
    let eval = evaluate(&r, &facts, &config());
    assert!(message(&eval, "sod.eligible-group", Level::Hard).contains("it-security-admins"));
}

#[test]
fn a_large_journal_needs_two_distinct_approvers() {
    let eval = judge(&run("jnl-usmf-00478"), CONTROLLER);
    assert_eq!(eval.required_approvals, 2);
    assert_eq!(level(&eval, "quorum.amount"), Level::Advisory);
    assert_eq!(
        message(&eval, "quorum.amount", Level::Advisory),
        "needs 2 distinct approvers (amount 1,250,000.00 ≥ 10,000.00)"
    );
    let small = judge(&run("jnl-usmf-00461"), CONTROLLER);
    assert_eq!(small.required_approvals, 1);
    assert_eq!(level(&small, "quorum.amount"), Level::Pass);
}

#[test]
fn raising_the_amount_in_the_proposal_cannot_slip_under_the_quorum() {
    let mut r = run("inv-usmf-apinv-000123");
    r.proposed.fields.insert("ImportedAmount".into(), num("12500.00"));
    assert!(judge(&r, CONTROLLER).required_approvals >= 2);
}

#[test]
fn an_invoice_on_hold_is_blocked() {
    let mut r = run("inv-usmf-apinv-000123");
    assert_eq!(level(&judge(&r, CONTROLLER), "invoice.on-hold"), Level::Pass);
    set(&mut r, "IsOnHold", "Yes".into());
    assert_eq!(level(&judge(&r, CONTROLLER), "invoice.on-hold"), Level::Hard);
}

#[test]
fn failed_matching_is_soft_and_needs_one_more_approver() {
    let mut r = run("inv-usmf-apinv-000123");
    assert_eq!(level(&judge(&r, CONTROLLER), "invoice.match-status"), Level::Pass);
    set(&mut r, "MatchStatus", "Failed".into());
    let eval = judge(&r, CONTROLLER);
    assert_eq!(level(&eval, "invoice.match-status"), Level::Soft);
    assert_eq!(eval.outcome, Outcome::NeedsOverride);
    assert_eq!(eval.required_approvals, 2);
}

#[test]
fn a_passed_due_date_is_soft() {
    let mut r = run("inv-usmf-apinv-000123");
    assert_eq!(level(&judge(&r, CONTROLLER), "invoice.due-date"), Level::Pass);
    set(&mut r, "DueDate", "2026-11-15T12:00:00Z".into());
    let eval = judge(&r, CONTROLLER);
    assert!(message(&eval, "invoice.due-date", Level::Soft).contains("2026-11-15 has passed"));
}

#[test]
fn a_duplicate_invoice_number_for_the_same_vendor_is_blocked() {
    let r = run("inv-usmf-apinv-000123");
    let catalog = Catalog::synced();
    let mut other = OtherInvoice::of(&run("inv-usmf-apinv-000123")).unwrap();
    other.run_id = RunId::from("run-inv-usmf-apinv-000199");
    let other_vendor = OtherInvoice { vendor: "US-102".into(), ..other.clone() };
    let others = [other_vendor];
    let mut facts = catalog.facts(CONTROLLER);
    facts.other_runs = &others;
    assert_eq!(level(&evaluate(&r, &facts, &config()), "invoice.duplicate"), Level::Pass);
    let others = [other];
    facts.other_runs = &others;
    let eval = evaluate(&r, &facts, &config());
    let msg = message(&eval, "invoice.duplicate", Level::Hard);
    assert!(
        msg.contains("SI-2026-4471") && msg.contains("US-101") && msg.contains("run-inv-usmf-apinv-000199"),
        "{msg}"
    );
}

#[test]
fn an_amount_change_beyond_the_tolerance_is_soft() {
    let mut r = run("inv-usmf-apinv-000140");
    let mut cfg = config();
    cfg.policy.invoice_amount_tolerance = dec("1.00");
    let catalog = Catalog::synced();
    r.proposed.fields.insert("ImportedAmount".into(), num("2045.50"));
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "invoice.amount-change"), Level::Pass);
    r.proposed.fields.insert("ImportedAmount".into(), num("2144.89"));
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &cfg);
    assert_eq!(
        message(&eval, "invoice.amount-change", Level::Soft),
        "ImportedAmount changes from 2,044.89 to 2,144.89 (+100.00), beyond the tolerance of 1.00"
    );
}

#[test]
fn an_unbalanced_voucher_is_blocked_and_offset_lines_balance_themselves() {
    assert_eq!(level(&judge(&run("jnl-usmf-00478"), CONTROLLER), "journal.balance"), Level::Pass);
    assert_eq!(level(&judge(&run("jnl-usmf-00482"), CONTROLLER), "journal.balance"), Level::Pass);
    let mut r = run("jnl-usmf-00478");
    let key = r.before.lines[0].keys.clone();
    r.proposed.lines.push(signoff::model::ProposedLine {
        keys: key,
        fields: [("DebitAmount".to_string(), num("187500.01"))].into(),
        remove: false,
    });
    let eval = judge(&r, CONTROLLER);
    assert_eq!(
        message(&eval, "journal.balance", Level::Hard),
        "voucher GNJL000830 does not balance: debit 1,250,000.01 ≠ credit 1,250,000.00 (difference 0.01)"
    );
}

#[test]
fn posting_into_a_closed_period_is_blocked() {
    let r = run("jnl-usmf-00461");
    let catalog = Catalog::synced();
    let mut cfg = config();
    cfg.policy.closed_periods = vec![ClosedPeriod { period: "2026-11".into(), company: "demf".into() }];
    assert_eq!(level(&evaluate(&r, &catalog.facts(CONTROLLER), &cfg), "journal.period"), Level::Pass);
    cfg.policy.closed_periods.push(ClosedPeriod { period: "2026-11".into(), company: "*".into() });
    let eval = evaluate(&r, &catalog.facts(CONTROLLER), &cfg);
    assert!(message(&eval, "journal.period", Level::Hard).starts_with("period 2026-11 is closed for usmf"));
}

#[test]
fn an_unknown_main_account_is_blocked() {
    let mut r = run("jnl-usmf-00461");
    assert_eq!(level(&judge(&r, CONTROLLER), "journal.account"), Level::Pass);
    r.proposed.lines.push(signoff::model::ProposedLine {
        keys: r.before.lines[0].keys.clone(),
        fields: [("AccountDisplayValue".to_string(), FieldValue::from("999999-001-022"))].into(),
        remove: false,
    });
    let eval = judge(&r, CONTROLLER);
    assert!(message(&eval, "journal.account", Level::Hard).contains("main account 999999"));
}

#[test]
fn round_amounts_and_period_end_postings_are_advised() {
    let eval = judge(&run("jnl-usmf-00461"), CONTROLLER);
    assert!(of(&eval, "journal.round-amount").is_empty(), "1,240.00 is not a multiple of 1,000");
    assert!(of(&eval, "journal.period-end").is_empty(), "2026-11-17 is not period end");
    let mut r = run("jnl-usmf-00478");
    for line in &mut r.before.lines {
        line.fields.insert("TransDate".into(), "2026-11-29T12:00:00Z".into());
    }
    let eval = judge(&r, CONTROLLER);
    assert!(message(&eval, "journal.round-amount", Level::Advisory).contains("line 7 250,000.00"));
    assert!(message(&eval, "journal.period-end", Level::Advisory).contains("2026-11-29"));
    assert_eq!(eval.outcome, Outcome::Clear);
}

#[test]
fn a_bank_account_change_is_high_risk_and_needs_a_second_approver() {
    let mut r = run("vnd-usmf-us-104");
    r.route.required_approvals = 1;
    let eval = judge(&r, CONTROLLER);
    assert_eq!(
        message(&eval, "fields.high-risk", Level::Soft),
        "high-risk field BankAccountId changes from 'BOA-9921' to 'WF-CHK-441': a second distinct approver is required"
    );
    assert_eq!(eval.required_approvals, 2);
    assert_eq!(level(&judge(&run("vnd-usmf-us-108"), CONTROLLER), "fields.high-risk"), Level::Pass);
}

#[test]
fn nobody_disables_their_own_user() {
    let r = run("usr-disable-jmorales");
    assert_eq!(level(&judge(&r, CONTROLLER), "user.self-disable"), Level::Pass);
    assert_eq!(level(&judge(&r, "jmorales"), "user.self-disable"), Level::Hard);
    assert_eq!(level(&judge(&r, "JMorales@contoso.com"), "user.self-disable"), Level::Hard, "matched by UPN alias");
}

#[test]
fn verdicts_are_ordered_most_severe_first() {
    let mut r = run("inv-usmf-apinv-000123");
    set(&mut r, "IsOnHold", "Yes".into());
    set(&mut r, "MatchStatus", "Failed".into());
    let eval = judge(&r, CONTROLLER);
    let levels: Vec<Level> = eval.verdicts.iter().map(|v| v.level).collect();
    let mut sorted = levels.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(levels, sorted);
    assert_eq!(eval.worst(), Level::Hard);
    assert!(eval.summary().starts_with("✗ 1 hard · ! 1 soft"), "{}", eval.summary());
}

#[test]
fn the_policy_version_is_stable_and_follows_the_config() {
    let cfg = config();
    assert_eq!(policy_version(&cfg), policy_version(&config()));
    assert_eq!(policy_version(&cfg).len(), 64);
    let mut changed = config();
    changed.policy.invoice_amount_tolerance = dec("5.00");
    assert_ne!(policy_version(&cfg), policy_version(&changed));
    let mut allow = config();
    allow.managed_objects.get_mut("vendor").unwrap().fields.push("VendorGroupId".into());
    assert_ne!(policy_version(&cfg), policy_version(&allow));
}

#[test]
fn the_evaluation_serializes_to_the_documented_shape() {
    let eval = judge(&run("vnd-usmf-us-104"), CONTROLLER);
    let json = serde_json::to_value(&eval).unwrap();
    assert_eq!(json["outcome"], "needs-override");
    assert_eq!(json["required_approvals"], 2, "the route already asks for the second approver a bank change needs");
    let v = json["verdicts"].as_array().unwrap().iter().find(|v| v["rule"] == "fields.high-risk").unwrap();
    assert_eq!(v["level"], "soft");
    assert_eq!(v["version"], 1);
    assert_eq!(v["field"], "BankAccountId");
}
