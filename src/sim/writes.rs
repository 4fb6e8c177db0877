//! `POST`, `PATCH`/`PUT` and `DELETE` on entity sets, with F&O's validation and business rules.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::odata::{Ctx, Req, find_visible, render};
use super::reply::Reply;
use super::schema::{EntityDef, PropType, enum_def};
use super::state::{Data, Record, bump_version, decimal_field, decimal_value, fill_defaults, key_part, text_field};

/// Parse a write body into an object of known, well-typed properties (annotations dropped).
pub fn parse_body(def: &EntityDef, body: &[u8]) -> Result<Map<String, Value>, Reply> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Reply::odata_error(400, &format!("The request body is not valid JSON: {e}.")))?;
    let Value::Object(obj) = value else {
        return Err(Reply::odata_error(400, "The request body must be a JSON object."));
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if k.starts_with('@') || k.contains("@odata.") {
            continue;
        }
        let Some(prop) = def.prop(&k) else {
            return Err(Reply::odata_error(
                400,
                &format!(
                    "The property '{k}' does not exist on type '{}'. Make sure to only use property names that are \
                     defined by the type.",
                    def.qualified()
                ),
            ));
        };
        check_value(def, prop.ty, &k, &v)?;
        // RecId is the system's: a write never sets it.
        if k != "RecId" {
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Why a value does not fit its declared property, as F&O reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadValue {
    /// The OData layer cannot read the JSON as the property's Edm type (or enum).
    Type(String),
    /// The value reads, but X++ refuses it (a string over the field's length).
    TooLong(String),
}

/// Check a value against its property's type and `MaxLength`, in F&O's words (wording unverified:
/// modelled on OData's literal conversion error and F&O's write Infolog, FNO.md §3).
pub fn check_type(def: &EntityDef, ty: PropType, name: &str, v: &Value) -> Result<(), BadValue> {
    let convert = || {
        let literal = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        BadValue::Type(format!(
            "Cannot convert the literal '{literal}' to the expected type '{}' of property '{name}' on type '{}'.",
            ty.edm(),
            def.qualified()
        ))
    };
    match (ty, v) {
        // A key or non-string property is declared Nullable="false" (see metadata.rs).
        (PropType::String(_), Value::Null) if !def.keys.contains(&name) => Ok(()),
        (PropType::String(max), Value::String(s)) => {
            let chars = s.chars().count();
            if max > 0 && chars > max as usize {
                Err(BadValue::TooLong(format!(
                    "Write failed for table row of type '{}'. Infolog: Error: The value '{s}' is too long for field \
                     '{name}': it allows {max} characters and has {chars}.",
                    def.aot_name
                )))
            } else {
                Ok(())
            }
        }
        (t, Value::Number(_)) if t.is_numeric() => Ok(()),
        (PropType::Boolean, Value::Bool(_)) => Ok(()),
        (PropType::DateTime, Value::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Ok(()),
        (PropType::Enum(e), Value::String(s)) => {
            if enum_def(e).is_some_and(|d| d.members.contains(&s.as_str())) {
                Ok(())
            } else {
                Err(BadValue::Type(format!(
                    "The value '{s}' is not valid for the enum type '{}' of property '{name}'.",
                    ty.edm()
                )))
            }
        }
        _ => Err(convert()),
    }
}

/// [`check_type`] as the 400 F&O answers a write with.
fn check_value(def: &EntityDef, ty: PropType, name: &str, v: &Value) -> Result<(), Reply> {
    check_type(def, ty, name, v).map_err(|bad| match bad {
        BadValue::Type(message) => Reply::odata_error(400, &message),
        BadValue::TooLong(infolog) => Reply::fno_error(
            400,
            &infolog,
            "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
        ),
    })
}

/// `If-Match` must equal the live ETag, unless absent or `*`.
pub fn check_if_match(req: &Req, record: &Record, def: &EntityDef) -> Result<(), Reply> {
    match req.if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(tag) if tag == record.etag() => Ok(()),
        Some(_) => Err(Reply::fno_error(
            412,
            &format!(
                "The ETag value in the request header does not match with the current ETag value of the object. \
                 Cannot update a record in {}: the record has been changed by another user since it was read.",
                def.aot_name
            ),
            "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
        )),
    }
}

/// Business rules F&O's validateWrite applies before a record is saved.
fn validate_write(data: &Data, def: &EntityDef, fields: &Map<String, Value>) -> Result<(), Reply> {
    let fail = |m: String| Err(Reply::write_failed(def.aot_name, &m));
    match def.set {
        "LedgerJournalHeaders" if text_field(fields, "IsPosted") == "Yes" => {
            fail(format!("Journal {} is posted and cannot be changed", text_field(fields, "JournalBatchNumber")))
        }
        "LedgerJournalLines" => {
            let journal = text_field(fields, "JournalBatchNumber");
            match journal_header(data, text_field(fields, "dataAreaId"), journal) {
                None => fail(format!("Journal batch number {journal} does not exist")),
                Some(h) if text_field(&h.fields, "IsPosted") == "Yes" => {
                    fail(format!("Journal {journal} is posted and cannot be changed"))
                }
                Some(_) => check_account(data, fields).map_or(Ok(()), fail),
            }
        }
        "VendorInvoiceHeaders" if text_field(fields, "InvoiceNumber").is_empty() => {
            fail("Field 'Invoice' must be filled in".into())
        }
        "SecurityUserRoles" | "SecurityUserRoleAssociations" => check_assignment(data, fields).map_or(Ok(()), fail),
        // The worker's title relates to the titles table (HcmTitle): an unknown title is refused.
        "Workers" if !text_field(fields, "TitleId").is_empty() => {
            let title = text_field(fields, "TitleId");
            let known = data
                .table("Titles")
                .is_some_and(|t| t.rows.values().any(|r| text_field(&r.fields, "TitleId").eq_ignore_ascii_case(title)));
            if known {
                Ok(())
            } else {
                fail(format!("The value '{title}' in field 'Title' is not found in the relating table 'Titles'."))
            }
        }
        _ => Ok(()),
    }
}

/// A role assignment names an existing user and role, under the role's own name.
fn check_assignment(data: &Data, fields: &Map<String, Value>) -> Option<String> {
    let user = text_field(fields, "UserId");
    let known_user = data
        .table("SystemUsers")
        .is_some_and(|t| t.rows.values().any(|r| text_field(&r.fields, "UserID").eq_ignore_ascii_case(user)));
    if !known_user {
        return Some(format!("User {user} does not exist"));
    }
    let role = text_field(fields, "SecurityRoleIdentifier");
    let found = data.table("SecurityRoles").and_then(|t| {
        t.rows.values().find(|r| text_field(&r.fields, "SecurityRoleIdentifier").eq_ignore_ascii_case(role))
    });
    match found {
        None => Some(format!("Security role {role} does not exist")),
        Some(r) => {
            let (name, given) = (text_field(&r.fields, "SecurityRoleName"), text_field(fields, "SecurityRoleName"));
            (!given.is_empty() && !given.eq_ignore_ascii_case(name))
                .then(|| format!("Security role {role} is named '{name}', not '{given}'"))
        }
    }
}

/// The role name an assignment is shown with, filled from the role when a POST leaves it out.
fn role_name_of(data: &Data, fields: &mut Map<String, Value>) {
    if !text_field(fields, "SecurityRoleName").is_empty() {
        return;
    }
    let role = text_field(fields, "SecurityRoleIdentifier").to_string();
    let name = data.table("SecurityRoles").and_then(|t| {
        t.rows
            .values()
            .find(|r| text_field(&r.fields, "SecurityRoleIdentifier").eq_ignore_ascii_case(&role))
            .map(|r| text_field(&r.fields, "SecurityRoleName").to_string())
    });
    if let Some(name) = name {
        fields.insert("SecurityRoleName".into(), Value::String(name));
    }
}

/// F&O's validateDelete: a customer group still used by a customer cannot be deleted (the delete
/// action `Restricted` on the relation).
fn validate_delete(data: &Data, def: &EntityDef, fields: &Map<String, Value>) -> Result<(), Reply> {
    if def.set != "CustomerGroups" {
        return Ok(());
    }
    let (company, group) = (text_field(fields, "dataAreaId"), text_field(fields, "CustomerGroupId"));
    let used = data.table("CustomersV3").and_then(|t| {
        t.rows.values().find(|r| {
            text_field(&r.fields, "dataAreaId").eq_ignore_ascii_case(company)
                && text_field(&r.fields, "CustomerGroupId").eq_ignore_ascii_case(group)
        })
    });
    match used {
        Some(c) => Err(Reply::write_failed(
            def.aot_name,
            &format!(
                "Cannot delete a record in Customer groups (CustGroup). The record is used by customer {} \
                 (table Customers).",
                text_field(&c.fields, "CustomerAccount")
            ),
        )),
        None => Ok(()),
    }
}

/// A ledger account's main account must exist and not be suspended. Returns the problem, if any.
pub fn check_account(data: &Data, line: &Map<String, Value>) -> Option<String> {
    if text_field(line, "AccountType") != "Ledger" {
        return None;
    }
    let display = text_field(line, "AccountDisplayValue");
    let main = display.split('-').next().unwrap_or("");
    let account = data.table("MainAccounts")?.rows.values().find(|r| text_field(&r.fields, "MainAccountId") == main);
    match account {
        None => Some(format!("Account {display} does not exist in the chart of accounts Shared")),
        Some(a) if text_field(&a.fields, "IsSuspended") == "Yes" => Some(format!("Main account {main} is suspended")),
        Some(_) => None,
    }
}

/// The journal header for a company and batch number.
pub fn journal_header<'a>(data: &'a Data, company: &str, journal: &str) -> Option<&'a Record> {
    let mut key = Map::new();
    key.insert("dataAreaId".into(), Value::String(company.to_string()));
    key.insert("JournalBatchNumber".into(), Value::String(journal.to_string()));
    data.table("LedgerJournalHeaders")?.get(&key)
}

/// Recompute a journal's totals from its lines (computed fields: the header's ETag does not change).
/// A line with an offset account counts on both sides.
pub fn recompute_totals(data: &mut Data, company: &str, journal: &str) {
    let (mut debit, mut credit) = (Decimal::ZERO, Decimal::ZERO);
    if let Some(lines) = data.table("LedgerJournalLines") {
        for l in journal_lines(lines.rows.values(), company, journal) {
            let (d, c) = (decimal_field(&l.fields, "DebitAmount"), decimal_field(&l.fields, "CreditAmount"));
            debit += d;
            credit += c;
            if !text_field(&l.fields, "OffsetAccountDisplayValue").is_empty() {
                debit += c;
                credit += d;
            }
        }
    }
    let mut key = Map::new();
    key.insert("dataAreaId".into(), Value::String(company.to_string()));
    key.insert("JournalBatchNumber".into(), Value::String(journal.to_string()));
    if let Some(header) = data.table_mut("LedgerJournalHeaders").and_then(|t| t.get_mut(&key)) {
        header.fields.insert("JournalTotalDebit".into(), decimal_value(debit));
        header.fields.insert("JournalTotalCredit".into(), decimal_value(credit));
    }
}

/// A journal's lines, in RecId order.
pub fn journal_lines<'a>(
    rows: impl Iterator<Item = &'a Record>,
    company: &'a str,
    journal: &'a str,
) -> impl Iterator<Item = &'a Record> {
    rows.filter(move |r| {
        text_field(&r.fields, "dataAreaId").eq_ignore_ascii_case(company)
            && text_field(&r.fields, "JournalBatchNumber").eq_ignore_ascii_case(journal)
    })
}

fn after_line_change(data: &mut Data, def: &EntityDef, fields: &Map<String, Value>) {
    if def.set == "LedgerJournalLines" {
        let (company, journal) =
            (text_field(fields, "dataAreaId").to_string(), text_field(fields, "JournalBatchNumber").to_string());
        match &mut data.deferred_totals {
            Some(pending) => {
                pending.insert((company, journal));
            }
            None => recompute_totals(data, &company, &journal),
        }
    }
}

/// Hold journal total recomputation until [`finish_deferred`] (bulk inserts, `$batch`).
pub fn defer_totals(data: &mut Data) {
    data.deferred_totals.get_or_insert_with(Default::default);
}

/// Recompute the totals of every journal touched since [`defer_totals`].
pub fn finish_deferred(data: &mut Data) {
    for (company, journal) in data.deferred_totals.take().unwrap_or_default() {
        recompute_totals(data, &company, &journal);
    }
}

/// `PATCH`/`PUT`: 204 (or 200 with `Prefer: return=representation`); 412 on a stale `If-Match`.
pub fn update(data: &mut Data, ctx: &Ctx, def: &EntityDef, key: &Map<String, Value>, req: &Req) -> Reply {
    let record = match find_visible(data, ctx, def, key, req) {
        Ok(r) => r.clone(),
        Err(reply) => return reply,
    };
    if let Err(reply) = check_if_match(req, &record, def) {
        return reply;
    }
    let changes = match parse_body(def, req.body) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let mut updated = record.clone();
    for (k, v) in changes {
        if def.keys.contains(&k.as_str()) {
            if key_part(&v) != record.fields.get(&k).and_then(key_part) {
                return Reply::odata_error(400, &format!("The key property '{k}' cannot be changed."));
            }
            continue;
        }
        updated.fields.insert(k, v);
    }
    // A posted journal refuses any change, even one that only touches other fields.
    if let Err(reply) =
        validate_write(data, def, &record.fields).and_then(|_| validate_write(data, def, &updated.fields))
    {
        return reply;
    }
    updated.rec_version = bump_version(record.rec_version);
    let etag = updated.etag();
    let fields = updated.fields.clone();
    if let Some(r) = data.table_mut(def.set).and_then(|t| t.get_mut(key)) {
        *r = updated;
    }
    after_line_change(data, def, &fields);
    if req.prefer_representation {
        let Some(r) = data.table(def.set).and_then(|t| t.get(key)) else { return Reply::not_found(def.set) };
        let mut body = render(r, None);
        body.insert("@odata.context".into(), Value::String(format!("{}/data/$metadata#{}/$entity", ctx.base, def.set)));
        return Reply::json(200, &Value::Object(body)).with_header("etag", etag);
    }
    Reply::empty(204).with_header("etag", etag)
}

/// `POST`: 201 with the created entity and its ETag. Fills the keys F&O would number itself.
pub fn create(data: &mut Data, ctx: &Ctx, def: &EntityDef, req: &Req) -> Reply {
    // Roles are assigned through the association entity; the user-role entity is read (and revoked) only.
    if def.set == "SecurityUserRoles" {
        return Reply::odata_error(
            405,
            "The requested resource does not support http method 'POST'. Assign a role through \
             SecurityUserRoleAssociations.",
        );
    }
    let mut fields = match parse_body(def, req.body) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    if def.company_scoped() {
        let company = text_field(&fields, "dataAreaId").to_lowercase();
        let company = if company.is_empty() { ctx.company.clone() } else { company };
        fields.insert("dataAreaId".into(), Value::String(company));
    }
    number_new_record(data, def, &mut fields);
    if def.set == "SecurityUserRoleAssociations" {
        role_name_of(data, &mut fields);
    }
    fill_defaults(def, &mut fields);
    if let Err(reply) = validate_write(data, def, &fields) {
        return reply;
    }
    let record = Record { rec_id: data.new_rec_id(), rec_version: 1, fields };
    let Some(table) = data.table_mut(def.set) else { return Reply::not_found(def.set) };
    if let Err(m) = table.insert(record.clone()) {
        return Reply::write_failed(
            def.aot_name,
            &format!("Cannot create a record in {} ({}). {m}", def.type_name, def.aot_name),
        );
    }
    after_line_change(data, def, &record.fields);
    let mut body = render(&record, None);
    body.insert("@odata.context".into(), Value::String(format!("{}/data/$metadata#{}/$entity", ctx.base, def.set)));
    let location = format!("{}/data/{}({})", ctx.base, def.set, key_text(def, &record.fields));
    Reply::json(201, &Value::Object(body)).with_header("etag", record.etag()).with_header("location", location)
}

/// The key text of a record (`dataAreaId='usmf',JournalBatchNumber='00123'`).
pub fn key_text(def: &EntityDef, fields: &Map<String, Value>) -> String {
    def.keys
        .iter()
        .map(|k| match fields.get(*k) {
            Some(Value::String(s)) => format!("{k}='{}'", s.replace('\'', "''")),
            Some(v) => format!("{k}={v}"),
            None => format!("{k}=null"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Number sequences and defaults F&O applies on insert.
fn number_new_record(data: &mut Data, def: &EntityDef, fields: &mut Map<String, Value>) {
    let missing =
        |f: &Map<String, Value>, k: &str| text_field(f, k).is_empty() && !f.get(k).is_some_and(Value::is_number);
    match def.set {
        "LedgerJournalHeaders" if missing(fields, "JournalBatchNumber") => {
            fields.insert("JournalBatchNumber".into(), Value::String(data.new_journal_number()));
        }
        "LedgerJournalLines" => {
            let (company, journal) =
                (text_field(fields, "dataAreaId").to_string(), text_field(fields, "JournalBatchNumber").to_string());
            if missing(fields, "LineNumber") {
                let slot = format!("{}/{}", company.to_lowercase(), journal.to_lowercase());
                let last = match data.last_line.get(&slot) {
                    Some(n) => *n,
                    None => data
                        .table("LedgerJournalLines")
                        .and_then(|t| {
                            journal_lines(t.rows.values(), &company, &journal)
                                .map(|r| decimal_field(&r.fields, "LineNumber"))
                                .max()
                        })
                        .unwrap_or_default(),
                };
                let next = last.trunc() + Decimal::ONE;
                data.last_line.insert(slot, next);
                fields.insert("LineNumber".into(), decimal_value(next));
            }
            if text_field(fields, "CurrencyCode").is_empty()
                && let Some(h) = journal_header(data, &company, &journal)
            {
                let currency = text_field(&h.fields, "AccountingCurrency").to_string();
                fields.insert("CurrencyCode".into(), Value::String(currency));
            }
        }
        "VendorInvoiceHeaders" if missing(fields, "HeaderReference") => {
            let n = data.new_rec_id() % 1_000_000;
            fields.insert("HeaderReference".into(), Value::String(format!("APINV-{n:06}")));
        }
        _ => {}
    }
}

/// `DELETE`: 204. Deleting a journal header deletes its lines, as F&O does.
pub fn delete(data: &mut Data, ctx: &Ctx, def: &EntityDef, key: &Map<String, Value>, req: &Req) -> Reply {
    let record = match find_visible(data, ctx, def, key, req) {
        Ok(r) => r.clone(),
        Err(reply) => return reply,
    };
    if let Err(reply) = check_if_match(req, &record, def)
        .and_then(|_| validate_write(data, def, &record.fields))
        .and_then(|_| validate_delete(data, def, &record.fields))
    {
        return reply;
    }
    if let Some(t) = data.table_mut(def.set) {
        t.remove(key);
    }
    if def.set == "LedgerJournalHeaders" {
        let (company, journal) =
            (text_field(&record.fields, "dataAreaId"), text_field(&record.fields, "JournalBatchNumber"));
        if let Some(lines) = data.table_mut("LedgerJournalLines") {
            let doomed: Vec<Map<String, Value>> =
                journal_lines(lines.rows.values(), company, journal).map(|r| r.fields.clone()).collect();
            for l in doomed {
                lines.remove(&l);
            }
        }
    }
    after_line_change(data, def, &record.fields);
    Reply::empty(204)
}
