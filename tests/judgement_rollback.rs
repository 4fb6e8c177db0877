//! Rollback readiness and recipes on the run fixtures.

use crate::judgement_common;

use judgement_common::*;
use signoff::config::ClosedPeriod;
use signoff::model::{ActorId, ETag, FieldValue};
use signoff::policy::Facts;
use signoff::rollback::{Readiness, plan};

#[test]
fn a_vendor_update_is_ready_with_a_patch_of_the_before_values_under_the_new_etag() {
    let catalog = Catalog::synced();
    let p = plan(&run("vnd-usmf-us-104"), &config(), &catalog.facts(CONTROLLER));
    assert_eq!(p.readiness, Readiness::Ready);
    assert_eq!(p.recipe.len(), 1);
    let r = &p.recipe[0];
    assert_eq!(r.method, "PATCH");
    assert_eq!(r.path, "/data/VendorsV2(VendorAccountNumber='US-104',dataAreaId='usmf')");
    assert_eq!(r.body, r#"{"BankAccountId":"BOA-9921"}"#);
    assert_eq!(r.if_match.as_deref(), Some("the ETag returned by the write"));
}

#[test]
fn a_before_snapshot_without_an_etag_is_not_ready() {
    let catalog = Catalog::synced();
    let mut r = run("vnd-usmf-us-108");
    r.before.etag = ETag::from("");
    let p = plan(&r, &config(), &catalog.facts(CONTROLLER));
    assert!(matches!(&p.readiness, Readiness::NotReady(why) if why.contains("no ETag")), "{p:?}");
}

#[test]
fn a_field_whose_before_value_was_not_captured_is_not_restorable() {
    let catalog = Catalog::synced();
    let mut r = run("vnd-usmf-us-108");
    r.proposed.fields.insert("PaymentMethod".into(), "CHECK".into());
    let p = plan(&r, &config(), &catalog.facts(CONTROLLER));
    assert!(matches!(&p.readiness, Readiness::NotReady(why) if why.contains("PaymentMethod")), "{p:?}");
}

#[test]
fn an_unsynced_catalog_makes_every_rollback_not_ready() {
    let facts = Facts::new(now(), ActorId::from(CONTROLLER));
    for name in all_runs() {
        let p = plan(&run(&name), &config(), &facts);
        assert!(
            matches!(&p.readiness, Readiness::NotReady(why) if why.contains("sync-metadata")),
            "{name}: {:?}",
            p.readiness
        );
    }
}

#[test]
fn an_unposted_invoice_is_recalled_while_it_stays_unposted() {
    let catalog = Catalog::synced();
    let p = plan(&run("inv-usmf-apinv-000124"), &config(), &catalog.facts(CONTROLLER));
    assert!(matches!(&p.readiness, Readiness::Conditional(why) if why.contains("unposted")), "{p:?}");
    assert_eq!(
        p.recipe[0].path,
        "/data/VendorInvoiceHeaders(HeaderReference='APINV-000124',dataAreaId='usmf')/Microsoft.Dynamics.DataEntities.recallVendorInvoice"
    );
    assert_eq!(p.recipe[0].body, r#"{"_comment":"rollback of run-inv-usmf-apinv-000124"}"#);
    assert_eq!(p.recipe[1].method, "PATCH", "the corrected due date is restored too");
    assert_eq!(p.recipe[1].body, r#"{"DueDate":"2026-12-18T12:00:00Z"}"#);
}

#[test]
fn a_posted_invoice_can_only_be_compensated_by_a_credit_note() {
    let catalog = Catalog::synced();
    let r = run("inv-usmf-apinv-000123");
    let mut live = r.before.clone();
    live.fields.insert("IsPosted".into(), "Yes".into());
    let mut facts = catalog.facts(CONTROLLER);
    facts.live = Some(&live);
    let p = plan(&r, &config(), &facts);
    assert_eq!(p.readiness, Readiness::NotReady("the invoice is posted: only a credit note can compensate".into()));
    assert!(p.recipe.is_empty());
}

#[test]
fn a_recall_operation_missing_from_the_catalog_is_not_ready() {
    let mut catalog = Catalog::synced();
    catalog.operations.remove("recallVendorInvoice");
    let p = plan(&run("inv-usmf-apinv-000123"), &config(), &catalog.facts(CONTROLLER));
    assert!(matches!(&p.readiness, Readiness::NotReady(why) if why.contains("recallVendorInvoice")), "{p:?}");
}

#[test]
fn a_journal_reversal_is_conditional_on_its_reversal_date_falling_in_an_open_period() {
    let catalog = Catalog::synced();
    let r = run("jnl-usmf-00461");
    let p = plan(&r, &config(), &catalog.facts(CONTROLLER));
    assert_eq!(p.readiness, Readiness::Conditional("the reversal date 2026-11-17 must fall in an open period".into()));
    assert_eq!(p.recipe[0].path, "/api/services/SignoffServices/LedgerJournalService/reverse");
    assert_eq!(
        p.recipe[0].body,
        r#"{"_comment":"rollback of run-jnl-usmf-00461","_dataAreaId":"usmf","_journalBatchNumber":"00461","_reversalDate":"2026-11-17"}"#
    );
    let mut cfg = config();
    cfg.policy.closed_periods = vec![ClosedPeriod { period: "2026-11".into(), company: "usmf".into() }];
    let p = plan(&r, &cfg, &catalog.facts(CONTROLLER));
    assert!(matches!(&p.readiness, Readiness::Conditional(why) if why.contains("needs a new reversal date")), "{p:?}");
}

#[test]
fn an_already_posted_journal_has_nothing_to_reverse() {
    let catalog = Catalog::synced();
    let mut r = run("jnl-usmf-00478");
    r.before.fields.insert("IsPosted".into(), "Yes".into());
    let p = plan(&r, &config(), &catalog.facts(CONTROLLER));
    assert!(matches!(p.readiness, Readiness::NotReady(_)));
}

#[test]
fn disabling_a_user_is_undone_by_the_inverse_patch() {
    let catalog = Catalog::synced();
    let p = plan(&run("usr-disable-jmorales"), &config(), &catalog.facts(CONTROLLER));
    assert_eq!(p.readiness, Readiness::Ready);
    assert_eq!(p.recipe[0].path, "/data/SystemUsers(UserID='jmorales')");
    assert_eq!(p.recipe[0].body, r#"{"Enabled":true}"#);
    let p = plan(&run("usr-enable-akumar"), &config(), &catalog.facts(CONTROLLER));
    assert_eq!(p.readiness, Readiness::Ready);
    assert_eq!(p.recipe[0].body, r#"{"Enabled":false}"#);
}

#[test]
fn hostile_values_are_escaped_in_the_recipe() {
    let catalog = Catalog::synced();
    let mut r = run("hostile-zero-width-vendor-account");
    r.target.keys.insert("VendorAccountNumber".into(), FieldValue::from("US-1\u{202e}01"));
    let p = plan(&r, &config(), &catalog.facts(CONTROLLER));
    let mut strings = Vec::new();
    json_strings(&serde_json::to_value(&p).unwrap(), &mut strings);
    assert_all_visible(&strings);
    assert!(p.recipe[0].path.contains("US-1⟨U+202E⟩01"), "{p:?}");
    assert!(!p.render_text().contains('\u{202e}'));
}

#[test]
fn the_plan_serializes_to_the_documented_shape() {
    let catalog = Catalog::synced();
    let json = serde_json::to_value(plan(&run("jnl-usmf-00461"), &config(), &catalog.facts(CONTROLLER))).unwrap();
    assert_eq!(json["readiness"]["state"], "conditional");
    assert_eq!(json["readiness"]["reason"], "the reversal date 2026-11-17 must fall in an open period");
    assert_eq!(json["recipe"][0]["method"], "POST");
    assert!(json["explanation"].as_str().unwrap().contains("reverse"));
}
