//! The compensation recipe of each action (DESIGN.md's table) and its preconditions.

use super::request::{PlannedRequest, body_of, entity_path, operation_request};
use super::{Readiness, RollbackPlan};
use crate::config::Config;
use crate::diff::merge::{self, key_field, line_key};
use crate::judge::{Facts, NOT_SYNCED, operation_status, period_closed};
use crate::model::{Action, Fields, GovernedRun};
use crate::text::visible;

const NEW_ETAG: &str = "the ETag returned by the write";

pub fn recipe(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    match run.action {
        Action::ApproveVendorInvoice => invoice(run, config, facts),
        Action::PostJournal => journal(run, config, facts),
        Action::UpdateVendor => {
            restore(run, facts, "restores the vendor's before-values with a PATCH under the ETag the write returns")
        }
        Action::EnableUser | Action::DisableUser => {
            restore(run, facts, "sets Enabled back to its before-value with the inverse PATCH")
        }
        Action::ApproveWorkflowItem => workflow_item(),
        Action::UpdateRecord => {
            restore(run, facts, "restores the record's before-values with a PATCH under the ETag the write returns")
        }
        Action::CreateRecord => super::records::create(run, config, facts),
        Action::DeleteRecord => super::records::delete(run, facts),
        Action::ExecuteOperation => super::records::operation(run, config, facts),
        Action::AssignRole | Action::RevokeRole => super::roles::plan(run, config),
    }
}

/// A completed workflow step is F&O's own record: nothing outside F&O can reopen it.
fn workflow_item() -> RollbackPlan {
    RollbackPlan {
        readiness: Readiness::NotReady(
            "a completed workflow step cannot be undone from outside F&O; recall or resubmit the document's \
             workflow in F&O"
                .into(),
        ),
        recipe: Vec::new(),
        explanation: "approving or rejecting completes the F&O work item; F&O's workflow then moves the document \
                      on, and only F&O (recall, resubmit) can take it back"
            .into(),
        reversal_date: None,
    }
}

fn is_yes(fields: &Fields, name: &str) -> bool {
    match fields.get(name) {
        Some(crate::model::FieldValue::Text(s)) => s.eq_ignore_ascii_case("yes"),
        Some(crate::model::FieldValue::Bool(b)) => *b,
        _ => false,
    }
}

/// PATCHes that put back the before-values of every proposed header and line field; `Err` names a field
/// whose before-value was not captured.
fn restore_requests(run: &GovernedRun, facts: &Facts<'_>) -> Result<Vec<PlannedRequest>, String> {
    let mut requests = Vec::new();
    let target = &run.target;
    let catalog = facts.known_entity_fields.ok_or_else(|| NOT_SYNCED.to_string())?;
    let mut header = Fields::new();
    for name in run.proposed.fields.keys() {
        let Some(before) = run.before.fields.get(name) else {
            return Err(format!("the before-value of {} was not captured, so it cannot be restored", visible(name)));
        };
        header.insert(name.clone(), before.clone());
    }
    if !header.is_empty() {
        if !catalog.contains_key(&target.entity_set) {
            return Err(format!("entity set {} is not in the synced metadata", visible(&target.entity_set)));
        }
        requests.push(PlannedRequest {
            method: "PATCH".into(),
            path: entity_path(&target.entity_set, &target.keys),
            if_match: Some(NEW_ETAG.into()),
            body: body_of(&header),
            purpose: format!("restore {} header field(s) to their reviewed values", header.len()),
        });
    }
    let key = key_field(run.action);
    let before_lines = merge::index_lines(&run.before.lines, key);
    let line_set = run.action.lines().map_or("", |(set, _)| set);
    for change in &run.proposed.lines {
        let k = line_key(&change.keys, key);
        match (before_lines.get(&k), change.remove) {
            (None, _) => {
                return Err(format!("line {} is new: removing it again is not an automatic rollback", visible(&k)));
            }
            (Some(_), true) => {
                return Err(format!(
                    "line {} is removed by the run and cannot be recreated with its RecId",
                    visible(&k)
                ));
            }
            (Some(line), false) => {
                let mut fields = Fields::new();
                for name in change.fields.keys() {
                    let Some(v) = line.fields.get(name) else {
                        return Err(format!(
                            "the before-value of line {} {} was not captured",
                            visible(&k),
                            visible(name)
                        ));
                    };
                    fields.insert(name.clone(), v.clone());
                }
                if !fields.is_empty() {
                    requests.push(PlannedRequest {
                        method: "PATCH".into(),
                        path: entity_path(line_set, &line.keys),
                        if_match: Some(NEW_ETAG.into()),
                        body: body_of(&fields),
                        purpose: format!("restore line {} to its reviewed values", visible(&k)),
                    });
                }
            }
        }
    }
    Ok(requests)
}

fn restore(run: &GovernedRun, facts: &Facts<'_>, how: &str) -> RollbackPlan {
    let explanation = format!("The rollback {how}.");
    match restore_requests(run, facts) {
        Ok(recipe) if recipe.is_empty() => RollbackPlan {
            readiness: Readiness::NotReady("the run proposes no field change, so there is nothing to restore".into()),
            recipe,
            explanation,
            reversal_date: None,
        },
        Ok(recipe) => RollbackPlan { readiness: Readiness::Ready, recipe, explanation, reversal_date: None },
        Err(why) => {
            RollbackPlan { readiness: Readiness::NotReady(why), recipe: Vec::new(), explanation, reversal_date: None }
        }
    }
}

fn invoice(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    let explanation = "While the invoice is unposted, the configured recall operation takes it back out of \
                       approval and any corrected fields are PATCHed back; once posted, only a credit note \
                       can compensate."
        .to_string();
    let not_ready = |why: String| RollbackPlan {
        readiness: Readiness::NotReady(why),
        recipe: Vec::new(),
        explanation: explanation.clone(),
        reversal_date: None,
    };
    let state = facts.state(run);
    if is_yes(&state.fields, "IsPosted") {
        return not_ready("the invoice is posted: only a credit note can compensate".into());
    }
    if let Err(why) = operation_status(config, facts, "invoice_recall") {
        return not_ready(why);
    }
    let Some(op) = config.operations.get("invoice_recall") else {
        return not_ready("operation 'invoice_recall' is not configured".into());
    };
    let mut recipe = vec![operation_request(
        op,
        &run.target.entity_set,
        &run.target.keys,
        &[("comment", format!("rollback of {}", run.id)), ("reason", format!("rollback of {}", run.id))],
        "recall the approved invoice from workflow".into(),
    )];
    match restore_requests(run, facts) {
        Ok(more) => recipe.extend(more),
        Err(why) => return not_ready(why),
    }
    RollbackPlan {
        readiness: Readiness::Conditional(
            "the invoice must still be unposted when the recall is sent (workflow may auto-post it)".into(),
        ),
        recipe,
        explanation,
        reversal_date: None,
    }
}

fn journal(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    let explanation = "A posted journal cannot be deleted: the configured reverse operation posts a reversal \
                       of its vouchers, dated in an open period."
        .to_string();
    let not_ready = |why: String| RollbackPlan {
        readiness: Readiness::NotReady(why),
        recipe: Vec::new(),
        explanation: explanation.clone(),
        reversal_date: None,
    };
    let state = facts.state(run);
    if is_yes(&state.fields, "IsPosted") {
        return not_ready(
            "the journal is already posted: this run cannot post it, so there is nothing to reverse".into(),
        );
    }
    if let Err(why) = operation_status(config, facts, "journal_reverse") {
        return not_ready(why);
    }
    let Some(op) = config.operations.get("journal_reverse") else {
        return not_ready("operation 'journal_reverse' is not configured".into());
    };
    let record = merge::apply(state, &run.proposed, key_field(run.action));
    let Some(date) = record.lines.iter().filter_map(|l| crate::judge::date(l.fields.get("TransDate"))).max() else {
        return not_ready("no line has a TransDate, so no reversal date can be named".into());
    };
    let company = run.company().map(|c| c.to_string()).unwrap_or_default();
    let readiness = if period_closed(config, &company, date) {
        Readiness::Conditional(format!(
            "the period of the reversal date {date} is closed: the reversal needs a new reversal date in an open period"
        ))
    } else {
        Readiness::Conditional(format!("the reversal date {date} must fall in an open period"))
    };
    let recipe = vec![operation_request(
        op,
        &run.target.entity_set,
        &run.target.keys,
        &[
            ("reversal_date", super::request::date_parameter(op, facts.catalog, "reversal_date", date)),
            ("comment", format!("rollback of {}", run.id)),
            ("reason", format!("rollback of {}", run.id)),
        ],
        format!("reverse the posted vouchers on {date}"),
    )];
    RollbackPlan { readiness, recipe, explanation, reversal_date: Some(date) }
}
