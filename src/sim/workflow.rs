//! `WorkflowWorkItems`: F&O's workflow inbox, with its collection-bound validate and complete actions
//! (FNO.md §7, §8) and their effects on the item's document.
//!
//! `POST /data/WorkflowWorkItems/Microsoft.Dynamics.DataEntities.<validate>` answers whether an item still
//! awaits a user; `…<complete>` completes it with an outcome and a comment, and moves the document's
//! workflow state: an invoice becomes Approved or Rejected (its lines too), a journal's workflow approval
//! status Approved or Rejected. Each dialect names the actions and parameters (`dialect.rs`).

use serde_json::{Map, Value, json};

use super::dialect::WorkItemNames;
use super::odata::{Ctx, Req};
use super::ops::{set, set_line_status, update_record};
use super::reply::Reply;
use super::state::{Data, Record, text_field};

/// The work item entity set.
pub const SET: &str = "WorkflowWorkItems";

/// A menu item that opens a vendor invoice, and one that opens a journal: how an item names its document.
pub const INVOICE_MENU_ITEM: &str = "VendInvoiceInfoTable";
pub const JOURNAL_MENU_ITEM: &str = "LedgerJournalTable";

/// How a work item is completed, by whom, and why.
#[derive(Debug, Clone)]
pub struct Completion {
    pub user: String,
    /// `true`: approve; `false`: reject.
    pub approve: bool,
    /// The outcome as the dialect names it (what the item shows afterwards).
    pub outcome: String,
    pub comment: String,
}

/// `POST /data/WorkflowWorkItems/Microsoft.Dynamics.DataEntities.<action>`.
pub fn collection_action(data: &mut Data, ctx: &Ctx, action: &str, req: &Req) -> Reply {
    let names = ctx.dialect.work_items();
    let params = match parse(names, action, req.body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let text = |name: &str| params.get(name).and_then(Value::as_str).unwrap_or("").to_string();
    let (id, user) = (text(names.work_item), text(names.user));
    let context = format!("{}/data/$metadata#Edm", ctx.base);
    if action == names.validate {
        let awaits = awaiting(data, &id, &user).is_ok();
        return Reply::json(200, &json!({"@odata.context": format!("{context}.Boolean"), "value": awaits}));
    }
    let outcome = text(names.outcome);
    let approve = if outcome == names.approve {
        true
    } else if outcome == names.reject {
        false
    } else {
        let detail =
            format!("'{outcome}' is not an outcome of this work item (expected {} or {})", names.approve, names.reject);
        return Reply::action_failed(action, "WorkflowWorkItem", &detail);
    };
    let user = if user.is_empty() { ctx.user.clone() } else { user };
    match complete(data, &id, &Completion { user, approve, outcome, comment: text(names.comment) }) {
        Ok(()) => Reply::json(200, &json!({"@odata.context": format!("{context}.String"), "value": "Success"})),
        Err(detail) => Reply::action_failed(action, "WorkflowWorkItem", &detail),
    }
}

fn parse(names: &WorkItemNames, action: &str, body: &[u8]) -> Result<Map<String, Value>, Reply> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(Reply::odata_error(400, "The parameters of an action must be a JSON object."));
    };
    let mut known = vec![names.work_item, names.user];
    if action == names.complete {
        known.extend([names.outcome, names.comment]);
    }
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Reply::odata_error(
            400,
            &format!(
                "The parameter '{k}' in the request payload is not a valid parameter for the operation '{action}'."
            ),
        ));
    }
    Ok(obj)
}

fn item_key(id: &str) -> Map<String, Value> {
    let mut key = Map::new();
    key.insert("InstanceId".into(), Value::String(id.to_string()));
    key
}

/// The item, if it is pending and assigned to `user` (any user when `user` is empty).
fn awaiting(data: &Data, id: &str, user: &str) -> Result<Record, String> {
    let item = data.table(SET).and_then(|t| t.get(&item_key(id))).ok_or(format!("Work item {id} does not exist."))?;
    let fields = &item.fields;
    if text_field(fields, "Status") != "Pending" {
        return Err(format!("Work item {id} is {}; it no longer awaits a decision.", text_field(fields, "Status")));
    }
    if !user.is_empty() && !text_field(fields, "UserId").eq_ignore_ascii_case(user) {
        return Err(format!("Work item {id} is not assigned to user {user}."));
    }
    Ok(item.clone())
}

/// Complete a pending item and move its document's workflow state: the one effect the action and a
/// decision taken inside F&O (`Simulator::complete_work_item`) share.
pub fn complete(data: &mut Data, id: &str, c: &Completion) -> Result<(), String> {
    let item = awaiting(data, id, &c.user)?;
    if !c.approve && c.comment.trim().is_empty() {
        return Err("A comment is required to reject a work item.".into());
    }
    let rec_id = item.fields.get("RefRecId").and_then(Value::as_i64).unwrap_or_default();
    match text_field(&item.fields, "MenuItemName") {
        INVOICE_MENU_ITEM => {
            let key = document_key(data, "VendorInvoiceHeaders", rec_id)?;
            let status = if c.approve { "Approved" } else { "Rejected" };
            update_record(data, "VendorInvoiceHeaders", &key, |r| {
                set(r, "IsApproved", if c.approve { "Yes" } else { "No" });
                set(r, "ApprovedBy", if c.approve { &c.user } else { "" });
                set(r, "VendorInvoiceReviewStatus", status);
                set(r, "WorkflowComment", &c.comment);
            });
            set_line_status(data, &key, status);
        }
        JOURNAL_MENU_ITEM => {
            let key = document_key(data, "LedgerJournalHeaders", rec_id)?;
            update_record(data, "LedgerJournalHeaders", &key, |r| {
                set(r, "WorkflowApprovalStatus", if c.approve { "Approved" } else { "Rejected" })
            });
        }
        other => return Err(format!("Work item {id} opens '{other}', which has no workflow document here.")),
    }
    update_record(data, SET, &item_key(id), |r| {
        set(r, "Status", "Completed");
        set(r, "Outcome", &c.outcome);
        set(r, "Comment", &c.comment);
        set(r, "CompletedBy", &c.user);
    });
    Ok(())
}

/// The keys of the document whose RecId is `rec_id`.
fn document_key(data: &Data, set: &str, rec_id: i64) -> Result<Map<String, Value>, String> {
    let table = data.table(set).ok_or(format!("no table {set}"))?;
    let record = table.rows.get(&rec_id).ok_or(format!("The work item's document {rec_id} no longer exists."))?;
    Ok(table.def.keys.iter().filter_map(|k| record.fields.get(*k).map(|v| (k.to_string(), v.clone()))).collect())
}
