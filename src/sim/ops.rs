//! The decision operations with real effects: invoice approve/reject/recall, journal post/reject/reverse.
//!
//! F&O has no standard API for them; each dialect (`dialect.rs`) names them as bound actions or JSON
//! custom services (see docs/simulator.md). Whatever the name, the effect is [`perform`]'s.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::dialect::{self, Operation, Param, Role};
use super::odata::{Ctx, Req, find_visible};
use super::reply::Reply;
use super::schema::EntityDef;
use super::state::{Data, Record, bump_version, decimal_field, text_field};
use super::writes::{check_account, check_if_match, journal_lines, recompute_totals};

/// The parameter values an operation was called with, by what they carry.
#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<&'static str, String>,
}

impl Args {
    /// Pick the values of `params` out of a call's JSON parameters (unknown names are refused earlier).
    pub fn from_params(params: &[Param], given: &Map<String, Value>) -> Args {
        let mut values = BTreeMap::new();
        for p in params {
            let text = match given.get(p.name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => continue,
                Some(other) => other.to_string(),
            };
            values.insert(p.role.config_key(), text);
        }
        Args { values }
    }

    pub fn get(&self, role: Role) -> &str {
        self.values.get(role.config_key()).map(String::as_str).unwrap_or("")
    }

    /// The text a decision records: the reason when one was given, else the comment.
    fn note(&self) -> &str {
        match self.get(Role::Reason) {
            "" => self.get(Role::Comment),
            reason => reason,
        }
    }
}

/// Perform `op` on the record `key` (an invoice header's or a journal header's keys): the one place
/// every dialect's actions and services come to. `Ok` is the operation's return text.
pub fn perform(
    data: &mut Data,
    ctx: &Ctx,
    op: Operation,
    key: &Map<String, Value>,
    args: &Args,
) -> Result<String, String> {
    let company = text_field(key, "dataAreaId").to_lowercase();
    let journal = text_field(key, "JournalBatchNumber");
    match op {
        Operation::InvoiceApprove => invoice_approve(data, ctx, key, args.note()),
        Operation::InvoiceReject => invoice_reject(data, key, args.note()),
        Operation::InvoiceRecall => invoice_recall(data, key, args.note()),
        Operation::JournalPost => journal_post(data, ctx, &company, journal),
        Operation::JournalReject => journal_reject(data, &company, journal),
        Operation::JournalReverse => {
            let date = dialect::normalise_date(args.get(Role::ReversalDate));
            journal_reverse(data, ctx, &company, journal, &date, args.note())
        }
        Operation::CustomerHold => customer_hold(data, key, args.get(Role::HoldLevel)),
        Operation::CustomerRelease => customer_release(data, key),
    }
}

fn customer(data: &Data, key: &Map<String, Value>) -> Result<(String, String), String> {
    let r = data.table("CustomersV3").and_then(|t| t.get(key)).ok_or("The customer does not exist.")?;
    Ok((text_field(&r.fields, "CustomerAccount").to_string(), text_field(&r.fields, "OnHoldStatus").to_string()))
}

/// Hold: a customer that is not on hold is put on hold at the level given (`Invoice`, `All`, …).
fn customer_hold(data: &mut Data, key: &Map<String, Value>, level: &str) -> Result<String, String> {
    let (account, status) = customer(data, key)?;
    let valid = super::schema::enum_def("CustVendorBlocked").is_some_and(|e| e.members.contains(&level));
    if !valid || level == "No" {
        return Err(format!("'{level}' is not a hold level; use Invoice, All, Payment, Requisition or Never."));
    }
    if status != "No" {
        return Err(format!("Customer {account} is already on hold ({status})."));
    }
    update_record(data, "CustomersV3", key, |r| set(r, "OnHoldStatus", level));
    Ok("Success".into())
}

/// Release: a customer on hold goes back to `No`.
fn customer_release(data: &mut Data, key: &Map<String, Value>) -> Result<String, String> {
    let (account, status) = customer(data, key)?;
    if status == "No" {
        return Err(format!("Customer {account} is not on hold."));
    }
    update_record(data, "CustomersV3", key, |r| set(r, "OnHoldStatus", "No"));
    Ok("Success".into())
}

/// `POST /data/<Set>(<keys>)/Microsoft.Dynamics.DataEntities.<action>` → 200 with an `Edm.String` value.
///
/// An `If-Match` header is checked against the binding entity's ETag first (OData lets a bound action
/// carry one); a stale one is a 412 and nothing happens. Without the header the action proceeds.
pub fn bound_action(
    data: &mut Data,
    ctx: &Ctx,
    def: &EntityDef,
    key: &Map<String, Value>,
    action: &str,
    req: &Req,
) -> Reply {
    let Some(adef) = ctx.dialect.bound_action(def.set, action) else {
        return Reply::not_found(action);
    };
    let record = match find_visible(data, ctx, def, key, req) {
        Ok(r) => r.clone(),
        Err(reply) => return reply,
    };
    if let Err(reply) = check_if_match(req, &record, def) {
        return reply;
    }
    let params = match parse_params(adef.params, action, req.body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let args = Args::from_params(adef.params, &params);
    // The record's own keys: the URL's may differ in case.
    let own_key: Map<String, Value> =
        def.keys.iter().filter_map(|k| record.fields.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    match perform(data, ctx, adef.op, &own_key, &args) {
        Ok(value) => Reply::json(
            200,
            &json!({"@odata.context": format!("{}/data/$metadata#Edm.String", ctx.base), "value": value}),
        ),
        Err(message) => Reply::action_failed(action, def.type_name, &message),
    }
}

fn parse_params(params: &[Param], action: &str, body: &[u8]) -> Result<Map<String, Value>, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(Reply::odata_error(400, "The parameters of an action must be a JSON object."));
    };
    for k in obj.keys() {
        if !params.iter().any(|p| p.name == k) {
            return Err(Reply::odata_error(
                400,
                &format!(
                    "The parameter '{k}' in the request payload is not a valid parameter for the operation '{action}'."
                ),
            ));
        }
    }
    Ok(obj)
}

pub(super) fn update_record(data: &mut Data, set: &str, key: &Map<String, Value>, change: impl FnOnce(&mut Record)) {
    if let Some(r) = data.table_mut(set).and_then(|t| t.get_mut(key)) {
        change(r);
        r.rec_version = bump_version(r.rec_version);
    }
}

fn invoice_status(data: &Data, key: &Map<String, Value>) -> Result<(String, String), String> {
    let r = data.table("VendorInvoiceHeaders").and_then(|t| t.get(key)).ok_or("The invoice does not exist.")?;
    Ok((
        text_field(&r.fields, "VendorInvoiceReviewStatus").to_string(),
        text_field(&r.fields, "HeaderReference").to_string(),
    ))
}

/// Set the review status of an invoice's lines (each line's ETag changes too).
pub(super) fn set_line_status(data: &mut Data, key: &Map<String, Value>, status: &str) {
    let (company, reference) =
        (text_field(key, "dataAreaId").to_lowercase(), text_field(key, "HeaderReference").to_lowercase());
    if let Some(t) = data.table_mut("VendorInvoiceLines") {
        for r in t.rows.values_mut() {
            if text_field(&r.fields, "dataAreaId").to_lowercase() == company
                && text_field(&r.fields, "HeaderReference").to_lowercase() == reference
            {
                r.fields.insert("VendorInvoiceLineReviewStatus".into(), Value::String(status.into()));
                r.rec_version = bump_version(r.rec_version);
            }
        }
    }
}

pub(super) fn set(r: &mut Record, name: &str, value: &str) {
    r.fields.insert(name.into(), Value::String(value.into()));
}

/// Approve: the workflow's final approval. Only a Draft or InReview invoice can be approved.
fn invoice_approve(data: &mut Data, ctx: &Ctx, key: &Map<String, Value>, comment: &str) -> Result<String, String> {
    let (status, reference) = invoice_status(data, key)?;
    if status != "Draft" && status != "InReview" {
        return Err(format!("Invoice {reference} is {status}; only a Draft or InReview invoice can be approved."));
    }
    let user = ctx.user.clone();
    update_record(data, "VendorInvoiceHeaders", key, |r| {
        set(r, "IsApproved", "Yes");
        set(r, "ApprovedBy", &user);
        set(r, "VendorInvoiceReviewStatus", "Approved");
        set(r, "WorkflowComment", comment);
    });
    set_line_status(data, key, "Approved");
    Ok("Success".into())
}

/// Reject: needs a reason; the invoice goes back to the requester as Rejected.
fn invoice_reject(data: &mut Data, key: &Map<String, Value>, reason: &str) -> Result<String, String> {
    let (status, reference) = invoice_status(data, key)?;
    if reason.trim().is_empty() {
        return Err("A reason is required to reject a vendor invoice.".into());
    }
    if status != "Draft" && status != "InReview" {
        return Err(format!("Invoice {reference} is {status}; only a Draft or InReview invoice can be rejected."));
    }
    update_record(data, "VendorInvoiceHeaders", key, |r| {
        set(r, "IsApproved", "No");
        set(r, "ApprovedBy", "");
        set(r, "VendorInvoiceReviewStatus", "Rejected");
        set(r, "WorkflowComment", reason);
    });
    set_line_status(data, key, "Rejected");
    Ok("Success".into())
}

/// Recall: back to Draft while the invoice is not posted.
fn invoice_recall(data: &mut Data, key: &Map<String, Value>, comment: &str) -> Result<String, String> {
    let (status, reference) = invoice_status(data, key)?;
    match status.as_str() {
        "InReview" | "Approved" | "Rejected" | "ChangeRequested" => {}
        "Completed" | "Canceled" => {
            return Err(format!("Invoice {reference} is posted; it can no longer be recalled."));
        }
        _ => return Err(format!("Invoice {reference} is {status}; there is no workflow to recall.")),
    }
    update_record(data, "VendorInvoiceHeaders", key, |r| {
        set(r, "IsApproved", "No");
        set(r, "ApprovedBy", "");
        set(r, "ApproverPersonnelNumber", "");
        set(r, "VendorInvoiceReviewStatus", "Draft");
        set(r, "WorkflowComment", comment);
    });
    set_line_status(data, key, "Draft");
    Ok("Success".into())
}

pub fn header_key(company: &str, journal: &str) -> Map<String, Value> {
    let mut key = Map::new();
    key.insert("dataAreaId".into(), Value::String(company.to_string()));
    key.insert("JournalBatchNumber".into(), Value::String(journal.to_string()));
    key
}

fn journal(data: &Data, company: &str, number: &str) -> Result<(Record, Vec<Record>), String> {
    let header = data
        .table("LedgerJournalHeaders")
        .and_then(|t| t.get(&header_key(company, number)))
        .cloned()
        .ok_or_else(|| format!("Journal {number} does not exist in company {company}."))?;
    let lines = data
        .table("LedgerJournalLines")
        .map(|t| journal_lines(t.rows.values(), company, number).cloned().collect())
        .unwrap_or_default();
    Ok((header, lines))
}

/// `2026-01-31T12:00:00Z` → `2026-01`.
fn period_of(date: &str) -> &str {
    date.get(..7).unwrap_or(date)
}

fn check_open(ctx: &Ctx, date: &str) -> Result<(), String> {
    if ctx.closed_periods.iter().any(|p| p == period_of(date)) {
        let day = date.get(..10).unwrap_or(date);
        return Err(format!(
            "The period for {day} is closed. Posting is not allowed in fiscal period {} of the fiscal calendar Fiscal.",
            period_of(date)
        ));
    }
    Ok(())
}

/// Post: every voucher must balance (per voucher and date, an offset account balances its own line), no
/// date may fall in a closed period, and every ledger account must be usable. Numbers are allocated at
/// posting: each provisional voucher gets a final number. Returns the final vouchers, comma-separated.
pub(super) fn journal_post(data: &mut Data, ctx: &Ctx, company: &str, number: &str) -> Result<String, String> {
    let (header, lines) = journal(data, company, number)?;
    if text_field(&header.fields, "IsPosted") == "Yes" {
        return Err(format!("Journal {number} is already posted."));
    }
    if text_field(&header.fields, "WorkflowApprovalStatus") == "Rejected" {
        return Err(format!("Journal {number} was rejected; it cannot be posted."));
    }
    if lines.is_empty() {
        return Err(format!("Journal {number} has no lines to post."));
    }
    let mut groups: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        let f = &l.fields;
        check_open(ctx, text_field(f, "TransDate"))?;
        if let Some(problem) = check_account(data, f) {
            return Err(problem);
        }
        let voucher = match text_field(f, "Voucher") {
            "" => format!("(line {})", i + 1),
            v => v.to_string(),
        };
        let balance = groups.entry((voucher, text_field(f, "TransDate").to_string())).or_default();
        if text_field(f, "OffsetAccountDisplayValue").is_empty() {
            *balance += decimal_field(f, "DebitAmount") - decimal_field(f, "CreditAmount");
        }
    }
    for ((voucher, date), balance) in &groups {
        if !balance.is_zero() {
            let currency = text_field(&header.fields, "AccountingCurrency");
            return Err(format!(
                "The transactions on voucher {voucher} do not balance as per {}. (accounting currency: {balance} \
                 {currency} - reporting currency: {balance} {currency})",
                date.get(..10).unwrap_or(date)
            ));
        }
    }
    let mut finals: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut assigned = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let voucher = match text_field(&l.fields, "Voucher") {
            "" => format!("(line {})", i + 1),
            v => v.to_string(),
        };
        let group = (voucher, text_field(&l.fields, "TransDate").to_string());
        let final_voucher = match finals.get(&group) {
            Some(v) => v.clone(),
            None => {
                let v = data.new_voucher();
                finals.insert(group, v.clone());
                assigned.push(v.clone());
                v
            }
        };
        update_record(data, "LedgerJournalLines", &l.fields, |r| set(r, "Voucher", &final_voucher));
    }
    update_record(data, "LedgerJournalHeaders", &header_key(company, number), |r| set(r, "IsPosted", "Yes"));
    Ok(assigned.join(","))
}

/// Reject: the journal's workflow status becomes Rejected; it stays unposted.
fn journal_reject(data: &mut Data, company: &str, number: &str) -> Result<String, String> {
    let (header, _) = journal(data, company, number)?;
    if text_field(&header.fields, "IsPosted") == "Yes" {
        return Err(format!("Journal {number} is posted; it can no longer be rejected."));
    }
    update_record(data, "LedgerJournalHeaders", &header_key(company, number), |r| {
        set(r, "WorkflowApprovalStatus", "Rejected")
    });
    Ok("Success".into())
}

/// Reverse a posted journal: a new, posted journal with debit and credit swapped, on the reversal date
/// (default: each line's own date). Returns the new journal's batch number.
fn journal_reverse(
    data: &mut Data,
    ctx: &Ctx,
    company: &str,
    number: &str,
    reversal_date: &str,
    comment: &str,
) -> Result<String, String> {
    let (header, lines) = journal(data, company, number)?;
    if text_field(&header.fields, "IsPosted") != "Yes" {
        return Err(format!("Journal {number} is not posted; only a posted journal can be reversed."));
    }
    let reversed_key = format!("{}/{}", company.to_lowercase(), number.to_lowercase());
    if let Some(by) = data.reversed.get(&reversed_key) {
        return Err(format!("Journal {number} has already been reversed by journal {by}."));
    }
    if !reversal_date.is_empty() {
        chrono::DateTime::parse_from_rfc3339(reversal_date)
            .map_err(|_| format!("The reversal date '{reversal_date}' is not a valid date."))?;
    }
    for l in &lines {
        let date = if reversal_date.is_empty() { text_field(&l.fields, "TransDate") } else { reversal_date };
        check_open(ctx, date)?;
    }
    let new_number = data.new_journal_number();
    let mut new_header = header.fields.clone();
    new_header.insert("JournalBatchNumber".into(), Value::String(new_number.clone()));
    let description = if comment.is_empty() {
        format!("Reversal of journal {number}")
    } else {
        format!("Reversal of journal {number}: {comment}")
    };
    new_header.insert("Description".into(), Value::String(description.chars().take(60).collect()));
    new_header.insert("IsPosted".into(), Value::String("Yes".into()));
    let rec_id = data.new_rec_id();
    insert(data, "LedgerJournalHeaders", Record { rec_id, rec_version: 1, fields: new_header })?;
    let mut vouchers: BTreeMap<String, String> = BTreeMap::new();
    for l in &lines {
        let mut f = l.fields.clone();
        let (debit, credit) = (f.get("DebitAmount").cloned(), f.get("CreditAmount").cloned());
        f.insert("DebitAmount".into(), credit.unwrap_or(Value::from(0)));
        f.insert("CreditAmount".into(), debit.unwrap_or(Value::from(0)));
        f.insert("JournalBatchNumber".into(), Value::String(new_number.clone()));
        if !reversal_date.is_empty() {
            f.insert("TransDate".into(), Value::String(reversal_date.to_string()));
        }
        let original = text_field(&l.fields, "Voucher").to_string();
        let voucher = match vouchers.get(&original) {
            Some(v) => v.clone(),
            None => {
                let v = data.new_voucher();
                vouchers.insert(original, v.clone());
                v
            }
        };
        f.insert("Voucher".into(), Value::String(voucher));
        f.insert(
            "Text".into(),
            Value::String(format!("Reversal: {}", text_field(&l.fields, "Text")).chars().take(60).collect()),
        );
        let rec_id = data.new_rec_id();
        insert(data, "LedgerJournalLines", Record { rec_id, rec_version: 1, fields: f })?;
    }
    recompute_totals(data, company, &new_number);
    data.reversed.insert(reversed_key, new_number.clone());
    Ok(new_number)
}

fn insert(data: &mut Data, set: &str, record: Record) -> Result<(), String> {
    data.table_mut(set).ok_or_else(|| format!("no table {set}"))?.insert(record)
}
