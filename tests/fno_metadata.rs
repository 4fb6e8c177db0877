//! The CSDL parser on the hand-written sample (fixtures/csdl/sample.xml) and config verification.

use signoff::config::Config;
use signoff::fno::metadata::{catalog_from_json, catalog_to_json};
use signoff::fno::{Mismatch, parse_csdl, verify};

const SAMPLE: &str = include_str!("../fixtures/csdl/sample.xml");

/// The config written for the sample catalog (a customer with its own action and service names).
fn template_config() -> Config {
    toml::from_str(include_str!("../fixtures/csdl/sample-config.toml")).unwrap()
}

#[test]
fn the_sample_csdl_gives_sets_keys_types_enums_and_actions() {
    let catalog = parse_csdl(SAMPLE).unwrap();
    let header = catalog.entity_type_of("VendorInvoiceHeaders").unwrap();
    assert_eq!(header.keys, ["dataAreaId", "HeaderReference"]);
    assert_eq!(header.properties["ImportedAmount"].type_name, "Edm.Decimal");
    assert_eq!(header.properties["dataAreaId"].max_length, Some(4));
    assert!(!header.properties["dataAreaId"].nullable);
    let lines = catalog.entity_type_of("LedgerJournalLines").unwrap();
    assert_eq!(lines.keys, ["dataAreaId", "JournalBatchNumber", "LineNumber"]);
    let status = catalog.enum_of("VendorInvoiceHeaders", "VendorInvoiceReviewStatus").unwrap();
    let members: Vec<(&str, i64)> = status.members.iter().map(|m| (m.name.as_str(), m.value)).collect();
    assert_eq!(members, [("Draft", 0), ("InReview", 1), ("Approved", 2), ("Rejected", 3)]);
    let approve =
        catalog.bound_actions("VendorInvoiceHeaders").into_iter().find(|a| a.name == "approveInvoice").unwrap();
    assert_eq!(approve.parameters, [("_comment".to_string(), "Edm.String".to_string())]);
    assert!(!approve.collection_bound);
    let events = catalog.actions.iter().find(|a| a.name == "getBusinessEvents").unwrap();
    assert!(events.collection_bound);
    assert_eq!(catalog.summary(), "8 entity sets, 8 entity types, 6 enum types, 6 actions, 0 custom services");
}

#[test]
fn a_catalog_survives_its_json_round_trip() {
    let catalog = parse_csdl(SAMPLE).unwrap();
    assert_eq!(catalog_from_json(&catalog_to_json(&catalog).unwrap()).unwrap(), catalog);
}

#[test]
fn the_sample_config_matches_the_sample_catalog() {
    assert_eq!(verify(&parse_csdl(SAMPLE).unwrap(), &template_config()), vec![]);
}

#[test]
fn an_allowlisted_field_that_does_not_exist_is_reported_with_a_suggestion() {
    let mut config = template_config();
    config.managed_objects.get_mut("vendor_invoice").unwrap().fields.push("InvoiceDescripton".into());
    let mismatches = verify(&parse_csdl(SAMPLE).unwrap(), &config);
    assert_eq!(
        mismatches,
        [Mismatch::MissingField {
            object: "vendor_invoice".into(),
            entity_set: "VendorInvoiceHeaders".into(),
            field: "InvoiceDescripton".into(),
            suggestions: vec!["InvoiceDescription".into()],
        }]
    );
    assert_eq!(
        mismatches[0].to_string(),
        "managed object `vendor_invoice`: field InvoiceDescripton does not exist on VendorInvoiceHeaders; did you mean InvoiceDescription?"
    );
}

#[test]
fn a_missing_operation_and_a_missing_parameter_are_reported() {
    let mut config = template_config();
    config.operations.get_mut("invoice_approve").unwrap().action = Some("approveInvoices".into());
    config.operations.get_mut("invoice_reject").unwrap().parameters.insert("reason".into(), "_reason".into());
    let text: Vec<String> = verify(&parse_csdl(SAMPLE).unwrap(), &config).iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "operation `invoice_approve`: action approveInvoices is not bound to VendorInvoiceHeaders in F&O; did you mean approveInvoice?",
            "operation `invoice_reject`: action rejectInvoice has no parameter _reason (it has: _comment)",
        ]
    );
}

#[test]
fn a_missing_entity_set_is_reported_once_with_close_names() {
    let mut config = template_config();
    config.managed_objects.get_mut("vendor").unwrap().entity_set = "VendorV2".into();
    let mismatches = verify(&parse_csdl(SAMPLE).unwrap(), &config);
    assert_eq!(
        mismatches,
        [Mismatch::MissingEntitySet {
            object: "vendor".into(),
            entity_set: "VendorV2".into(),
            suggestions: vec!["VendorsV2".into()],
        }]
    );
}
