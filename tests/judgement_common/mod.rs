//! Shared fixtures for the judgement tests: the run fixtures, a USMF sandbox config, and a synced catalog.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use signoff::config::{Config, ManagedObject, Operation, OperationKind, QuorumRule};
use signoff::model::{ActorId, FieldValue, GovernedRun, parse_run};
use signoff::policy::Facts;
use signoff::text::classify;

/// Load `fixtures/runs/NAME.json`.
pub fn run(name: &str) -> GovernedRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_run(&text, name).unwrap_or_else(|e| panic!("{e}"))
}

/// Every run fixture's name.
pub fn all_runs() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// 2026-11-20 10:00 UTC: after every fixture was requested, before any expires.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

pub fn num(s: &str) -> FieldValue {
    FieldValue::Number(dec(s))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn object(set: &str, fields: &[&str], lines: Option<(&str, &[&str])>) -> ManagedObject {
    ManagedObject {
        entity_set: set.into(),
        fields: strings(fields),
        line_entity_set: lines.map(|(s, _)| s.to_string()),
        line_fields: lines.map(|(_, f)| strings(f)).unwrap_or_default(),
        high_risk_fields: Vec::new(),
        ..ManagedObject::default()
    }
}

fn op(
    kind: OperationKind,
    set: Option<&str>,
    action: Option<&str>,
    service: Option<&str>,
    params: &[(&str, &str)],
) -> Operation {
    Operation {
        kind,
        entity_set: set.map(str::to_string),
        action: action.map(str::to_string),
        service: service.map(str::to_string),
        parameters: params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        returns: None,
        mode: None,
        handover_fields: None,
    }
}

/// The USMF sandbox configuration the fixtures were prepared for.
pub fn config() -> Config {
    let mut c = Config::default();
    c.environment.name = "usmf-sandbox".into();
    c.managed_objects.insert(
        "vendor".into(),
        object(
            "VendorsV2",
            &["BankAccountId", "DefaultPaymentTermsName", "InvoiceVendorAccountNumber", "OnHoldStatus"],
            None,
        ),
    );
    c.managed_objects.insert(
        "vendor_invoice".into(),
        object(
            "VendorInvoiceHeaders",
            &["DueDate", "InvoiceDescription", "ImportedAmount"],
            Some(("VendorInvoiceLines", &["MainAccountDisplayValue", "DimensionDisplayValue", "NetAmount"])),
        ),
    );
    c.managed_objects.insert(
        "ledger_journal".into(),
        object(
            "LedgerJournalHeaders",
            &["Description"],
            Some((
                "LedgerJournalLines",
                &["Text", "AccountDisplayValue", "DebitAmount", "CreditAmount", "TransDate", "Voucher"],
            )),
        ),
    );
    c.managed_objects.insert("user".into(), object("SystemUsers", &["Enabled"], None));
    let bound = OperationKind::BoundAction;
    let service = OperationKind::CustomService;
    c.operations.insert(
        "invoice_approve".into(),
        op(bound, Some("VendorInvoiceHeaders"), Some("approveVendorInvoice"), None, &[("comment", "_comment")]),
    );
    c.operations.insert(
        "invoice_recall".into(),
        op(bound, Some("VendorInvoiceHeaders"), Some("recallVendorInvoice"), None, &[("comment", "_comment")]),
    );
    c.operations.insert(
        "journal_post".into(),
        op(service, None, None, Some("SignoffServices/LedgerJournalService/post"), &[("dataAreaId", "_dataAreaId")]),
    );
    c.operations.insert(
        "journal_reverse".into(),
        op(
            service,
            None,
            None,
            Some("SignoffServices/LedgerJournalService/reverse"),
            &[
                ("dataAreaId", "_dataAreaId"),
                ("JournalBatchNumber", "_journalBatchNumber"),
                ("reversal_date", "_reversalDate"),
                ("comment", "_comment"),
            ],
        ),
    );
    c.policy.quorum = vec![QuorumRule { action: "*".into(), min_amount: dec("10000.00"), approvals: 2 }];
    c
}

/// What `signoff connector sync-metadata` would have stored for the simulator.
pub struct Catalog {
    pub operations: BTreeSet<String>,
    pub entity_fields: BTreeMap<String, BTreeSet<String>>,
    pub accounts: BTreeSet<String>,
    /// The simulator's `$metadata` (fixtures/csdl/usmf-sandbox.xml): property types and facets.
    pub metadata: signoff::fno::Catalog,
}

impl Catalog {
    /// A catalog holding every entity field, main account and operation the fixtures use.
    pub fn synced() -> Catalog {
        let mut entity_fields: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut accounts = BTreeSet::new();
        for name in all_runs() {
            let r = run(&name);
            let header = entity_fields.entry(r.target.entity_set.clone()).or_default();
            header.extend(r.before.fields.keys().cloned());
            header.extend(r.proposed.fields.keys().cloned());
            if let Some((line_set, _)) = r.action.lines() {
                let lines = entity_fields.entry(line_set.to_string()).or_default();
                for l in &r.before.lines {
                    lines.extend(l.fields.keys().cloned());
                    for field in ["AccountDisplayValue", "OffsetAccountDisplayValue"] {
                        if let Some(FieldValue::Text(v)) = l.fields.get(field)
                            && !v.is_empty()
                        {
                            accounts.insert(v.split('-').next().unwrap().to_string());
                        }
                    }
                }
                for l in &r.proposed.lines {
                    lines.extend(l.fields.keys().cloned());
                }
            }
        }
        let operations = ["approveVendorInvoice", "recallVendorInvoice"]
            .into_iter()
            .chain(["SignoffServices/LedgerJournalService/post", "SignoffServices/LedgerJournalService/reverse"])
            .map(str::to_string)
            .collect();
        let csdl = include_str!("../../fixtures/csdl/usmf-sandbox.xml");
        let mut metadata = signoff::fno::parse_csdl(csdl).expect("the simulator's $metadata parses");
        // sync-metadata describes each configured custom service and stores it beside `$metadata`.
        let journal_params = |extra: &[(&str, &str)]| {
            let mut p = vec![("_dataAreaId", "String"), ("_journalBatchNumber", "String")];
            p.extend_from_slice(extra);
            p.push(("_comment", "String"));
            p.into_iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
        };
        for (operation, parameters) in
            [("post", journal_params(&[])), ("reverse", journal_params(&[("_reversalDate", "Date")]))]
        {
            metadata.services.push(signoff::fno::metadata::ServiceDef {
                group: "SignoffServices".into(),
                service: "LedgerJournalService".into(),
                operation: operation.into(),
                parameters,
                return_type: Some("String".into()),
            });
        }
        Catalog { operations, entity_fields, accounts, metadata }
    }

    /// Facts for `approver` (in every group the fixtures route to) with this catalog.
    pub fn facts(&self, approver: &str) -> Facts<'_> {
        let mut f = Facts::new(now(), ActorId::from(approver));
        f.approver_groups = strings(&[
            "ap-approvers",
            "ap-approvers-de",
            "gl-controllers",
            "gl-controllers-de",
            "vendor-master-stewards",
            "it-security-admins",
        ]);
        f.known_operations = Some(&self.operations);
        f.known_entity_fields = Some(&self.entity_fields);
        f.catalog = Some(&self.metadata);
        f.known_accounts = Some(&self.accounts);
        f
    }
}

/// An approver who is nobody's requester, sponsor or creator in the fixtures.
pub const CONTROLLER: &str = "ben.miller@contoso.com";

/// Every string in a JSON value, recursively.
pub fn json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                json_strings(v, out);
            }
        }
        _ => {}
    }
}

/// Panics if any string holds a raw control, bidi or zero-width character.
pub fn assert_all_visible(strings: &[String]) {
    for s in strings {
        if let Some(c) = s.chars().find(|c| classify(*c).is_some()) {
            panic!("raw U+{:04X} in {s:?}", c as u32);
        }
    }
}
