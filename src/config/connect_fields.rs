//! The logical names a connect payload uses for objects and fields (`invoiceAmount`, `bankAccountMask`,
//! `postingPeriod`), and the F&O names they stand for: a built-in table, overridden per object by
//! `[connect.field_names.<object>]` (docs/connect.md).

use std::collections::BTreeMap;

use super::ConnectConfig;
use super::load::Problem;

/// Where a field lives: on the header entity or on its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Header,
    Line,
}

/// One logical field.
#[derive(Debug, Clone, Copy)]
struct FieldDef {
    logical: &'static str,
    field: &'static str,
    scope: Scope,
    /// A change to it needs a second approver (`high_risk_fields`).
    high_risk: bool,
}

/// One managed object: its config name, entity sets and logical fields.
#[derive(Debug)]
pub struct ObjectDef {
    /// The `[managed_objects.<name>]` key.
    pub name: &'static str,
    pub entity_set: &'static str,
    pub line_entity_set: Option<&'static str>,
    fields: &'static [FieldDef],
}

const fn h(logical: &'static str, field: &'static str) -> FieldDef {
    FieldDef { logical, field, scope: Scope::Header, high_risk: false }
}

const fn l(logical: &'static str, field: &'static str) -> FieldDef {
    FieldDef { logical, field, scope: Scope::Line, high_risk: false }
}

const fn risky(f: FieldDef) -> FieldDef {
    FieldDef { high_risk: true, ..f }
}

/// The built-in table. F&O names follow FNO.md §7 (the standard data entities).
pub const OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        name: "vendor_invoice",
        entity_set: "VendorInvoiceHeaders",
        line_entity_set: Some("VendorInvoiceLines"),
        fields: &[
            risky(h("invoiceAmount", "ImportedAmount")),
            h("invoiceNumber", "InvoiceNumber"),
            h("invoiceDate", "InvoiceDate"),
            h("postingPeriod", "Date"),
            h("dueDate", "DueDate"),
            h("description", "InvoiceDescription"),
            h("dimensions", "DimensionDisplayValue"),
            h("paymentTerms", "TermsOfPayment"),
            h("onHold", "IsOnHold"),
            h("postingProfile", "PostingProfile"),
            l("lineDescription", "LineDescription"),
            l("lineMainAccount", "MainAccountDisplayValue"),
            l("lineDimensions", "DimensionDisplayValue"),
            risky(l("lineAmount", "NetAmount")),
            risky(l("unitPrice", "UnitPrice")),
            l("quantity", "ReceiveNow"),
        ],
    },
    ObjectDef {
        name: "ledger_journal",
        entity_set: "LedgerJournalHeaders",
        line_entity_set: Some("LedgerJournalLines"),
        fields: &[
            h("description", "Description"),
            l("postingPeriod", "TransDate"),
            l("account", "AccountDisplayValue"),
            l("offsetAccount", "OffsetAccountDisplayValue"),
            risky(l("debitAmount", "DebitAmount")),
            risky(l("creditAmount", "CreditAmount")),
            l("lineText", "Text"),
            l("dimensions", "DefaultDimensionDisplayValue"),
            l("currency", "CurrencyCode"),
        ],
    },
    ObjectDef {
        name: "vendor",
        entity_set: "VendorsV2",
        line_entity_set: None,
        fields: &[
            h("vendorName", "VendorOrganizationName"),
            h("vendorGroup", "VendorGroupId"),
            h("paymentTerms", "DefaultPaymentTermsName"),
            h("onHold", "OnHoldStatus"),
            risky(h("bankAccountMask", "BankAccountId")),
            h("salesTaxGroup", "SalesTaxGroupCode"),
            h("currency", "CurrencyCode"),
            risky(h("invoiceAccount", "InvoiceVendorAccountNumber")),
        ],
    },
    ObjectDef {
        name: "ledger_dimension",
        entity_set: "MainAccounts",
        line_entity_set: None,
        fields: &[h("accountName", "Name"), h("suspended", "IsSuspended")],
    },
    ObjectDef {
        name: "user",
        entity_set: "SystemUsers",
        line_entity_set: None,
        fields: &[risky(h("enabled", "Enabled")), h("email", "Email"), h("userName", "UserName")],
    },
];

/// The object an `objectApiName` names: its entity set (`VendorInvoiceHeaders`) or its config name
/// (`vendor_invoice`).
pub fn object(api_name: &str) -> Option<&'static ObjectDef> {
    OBJECTS.iter().find(|o| o.entity_set == api_name || o.name == api_name)
}

/// What a logical name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub field: String,
    pub scope: Scope,
    pub high_risk: bool,
}

/// Why a logical name did not resolve, as one sentence naming what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown(pub String);

impl ObjectDef {
    /// Resolve `logical` through `overrides` (this object's `[connect.field_names.<name>]`), then the
    /// built-in table.
    pub fn resolve(&self, logical: &str, overrides: &ConnectConfig) -> Result<Resolved, Unknown> {
        let built_in = self.fields.iter().find(|f| f.logical == logical);
        if let Some(value) = overrides.field_names.get(self.name).and_then(|m| m.get(logical)) {
            let (scope, field) = parse_override(value);
            return Ok(Resolved { field: field.to_string(), scope, high_risk: built_in.is_some_and(|f| f.high_risk) });
        }
        if let Some(f) = built_in {
            return Ok(Resolved { field: f.field.to_string(), scope: f.scope, high_risk: f.high_risk });
        }
        Err(Unknown(self.unknown_message(logical, overrides)))
    }

    fn unknown_message(&self, logical: &str, overrides: &ConnectConfig) -> String {
        let mut known: Vec<&str> = self.fields.iter().map(|f| f.logical).collect();
        if let Some(extra) = overrides.field_names.get(self.name) {
            for k in extra.keys() {
                if !known.contains(&k.as_str()) {
                    known.push(k);
                }
            }
        }
        let mut message = format!("unknown logical field '{logical}' for {}", self.entity_set);
        if let Some(f) = self.fields.iter().find(|f| f.field == logical) {
            message.push_str(&format!(
                " ('{logical}' is the F&O field name; the payload uses logical names: '{}')",
                f.logical
            ));
        } else if let Some(near) = nearest(logical, &known) {
            message.push_str(&format!("; did you mean '{near}'?"));
        }
        message.push_str(&format!(
            "; known: {}; map your own with [connect.field_names.{}] in the config (docs/connect.md)",
            known.join(", "),
            self.name
        ));
        message
    }
}

/// `"line:NetAmount"` → a line field; anything else a header field.
fn parse_override(value: &str) -> (Scope, &str) {
    match value.strip_prefix("line:") {
        Some(field) => (Scope::Line, field),
        None => (Scope::Header, value),
    }
}

/// The known name closest to a typo (at most two edits away), if one is.
fn nearest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edits(&typed.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `[connect.field_names]`: known objects, F&O identifiers, `line:` only where the object has lines.
pub(super) fn check_overrides(connect: &ConnectConfig, out: &mut Vec<Problem>) {
    for (name, fields) in &connect.field_names {
        let key = format!("connect.field_names.{name}");
        let Some(def) = OBJECTS.iter().find(|o| o.name == name) else {
            let names: Vec<&str> = OBJECTS.iter().map(|o| o.name).collect();
            out.push(Problem::at(
                key,
                format!("unknown managed object '{name}' (expected one of: {})", names.join(", ")),
            ));
            continue;
        };
        for (logical, value) in fields {
            let (scope, field) = parse_override(value);
            let at = format!("{key}.{logical}");
            if !super::validate::is_identifier(field) {
                out.push(Problem::at(
                    at,
                    format!("'{value}' is not an F&O field name: write \"FieldName\", or \"line:FieldName\" for a line field"),
                ));
            } else if scope == Scope::Line && def.line_entity_set.is_none() {
                out.push(Problem::at(
                    at,
                    format!("{} has no lines: write \"{field}\" without 'line:'", def.entity_set),
                ));
            }
        }
    }
}

/// The table as documented: object → logical → (`line:`)F&O field; for docs and `--json` help.
pub fn table() -> BTreeMap<&'static str, Vec<(&'static str, String)>> {
    OBJECTS
        .iter()
        .map(|o| {
            let fields = o
                .fields
                .iter()
                .map(|f| (f.logical, if f.scope == Scope::Line { format!("line:{}", f.field) } else { f.field.into() }))
                .collect();
            (o.name, fields)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_names_resolve_and_a_typo_is_answered_with_the_nearest_name() {
        let none = ConnectConfig::default();
        let invoice = object("VendorInvoiceHeaders").unwrap();
        assert_eq!(invoice.resolve("invoiceAmount", &none).unwrap().field, "ImportedAmount");
        assert_eq!(object("vendor").unwrap().resolve("bankAccountMask", &none).unwrap().field, "BankAccountId");
        let period = object("LedgerJournalHeaders").unwrap().resolve("postingPeriod", &none).unwrap();
        assert_eq!((period.field.as_str(), period.scope), ("TransDate", Scope::Line));
        let Unknown(message) = invoice.resolve("invoiceAmout", &none).unwrap_err();
        assert!(message.contains("did you mean 'invoiceAmount'?"), "{message}");
        let Unknown(message) = invoice.resolve("DueDate", &none).unwrap_err();
        assert!(message.contains("the payload uses logical names: 'dueDate'"), "{message}");
    }

    #[test]
    fn docs_connect_md_lists_every_built_in_name() {
        let doc = include_str!("../../docs/connect.md");
        for (object, fields) in table() {
            let mut rows = doc.lines().skip_while(|l| !l.contains(&format!("| `{object}` (")));
            let section: Vec<&str> = rows.by_ref().take(fields.len()).collect();
            for ((logical, field), row) in fields.iter().zip(&section) {
                let risk = if object_risk(object, logical) { " ⚠" } else { "" };
                assert!(
                    row.contains(&format!("| `{logical}`{risk} | `{field}`")),
                    "{object}.{logical} → {field}: {row}"
                );
            }
        }
    }

    fn object_risk(object: &str, logical: &str) -> bool {
        OBJECTS.iter().find(|o| o.name == object).unwrap().fields.iter().any(|f| f.logical == logical && f.high_risk)
    }

    #[test]
    fn an_override_replaces_or_adds_a_name_and_keeps_the_risk_of_the_built_in_one() {
        let mut overrides = ConnectConfig::default();
        let vendor: BTreeMap<String, String> = [("bankAccountMask", "ContosoBankAccount"), ("iban", "ContosoIban")]
            .map(|(a, b)| (a.into(), b.into()))
            .into();
        overrides.field_names.insert("vendor".into(), vendor);
        let def = object("VendorsV2").unwrap();
        let bank = def.resolve("bankAccountMask", &overrides).unwrap();
        assert_eq!((bank.field.as_str(), bank.high_risk), ("ContosoBankAccount", true));
        assert_eq!(def.resolve("iban", &overrides).unwrap().field, "ContosoIban");
        let mut problems = Vec::new();
        overrides
            .field_names
            .insert("vendor_invoice".into(), [("x".to_string(), "line:Net Amount".to_string())].into());
        overrides.field_names.insert("vendors".into(), BTreeMap::new());
        check_overrides(&overrides, &mut problems);
        let keys: Vec<_> = problems.iter().filter_map(|p| p.key.clone()).collect();
        assert_eq!(keys, ["connect.field_names.vendor_invoice.x", "connect.field_names.vendors"]);
    }
}
