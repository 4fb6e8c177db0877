//! The meaning checks of a run: what a well-typed run must also satisfy to be reviewable.
//! Every check reports and goes on, so one pass lists everything wrong with a file.

use chrono::SecondsFormat;

use super::locate::{child, element};
use super::parse::Report;
use super::{Action, FieldValue, Fields, GovernedRun, RequesterKind};

/// Fields that hold money (or a quantity priced in money) and so must be JSON numbers.
pub const MONEY_FIELDS: [&str; 13] = [
    "ImportedAmount",
    "ImportedSalesTax",
    "NetAmount",
    "UnitPrice",
    "DebitAmount",
    "CreditAmount",
    "JournalTotalDebit",
    "JournalTotalCredit",
    "ReceiveNow",
    "LineAmount",
    "AmountCur",
    "AmountCurDebit",
    "AmountCurCredit",
];

/// The key field that names the target record, besides `dataAreaId` (a workflow item's document: an
/// invoice's, unless the run says a journal; see [`GovernedRun::document_action`]). `None` for a generic
/// record action: its entity's `$metadata` names the keys.
pub fn record_key(action: Action) -> Option<&'static str> {
    match action {
        Action::ApproveVendorInvoice | Action::ApproveWorkflowItem => Some("HeaderReference"),
        Action::PostJournal => Some("JournalBatchNumber"),
        Action::UpdateVendor => Some("VendorAccountNumber"),
        Action::EnableUser | Action::DisableUser => Some("UserID"),
        Action::UpdateRecord | Action::CreateRecord | Action::DeleteRecord | Action::ExecuteOperation => None,
        // The user-role row's keys are its entity's (`UserId`, `SecurityRoleIdentifier` by default).
        Action::AssignRole | Action::RevokeRole => None,
    }
}

/// Run every meaning check, adding each problem found to `report`.
pub(crate) fn check(run: &GovernedRun, report: &mut Report) {
    check_identity(run, report);
    check_times(run, report);
    check_target(run, report);
    check_lines(run, report);
    check_money(run, report);
    check_proposal(run, report);
    check_route_and_evidence(run, report);
    check_work_item(run, report);
    check_record_action(run, report);
    check_role_action(run, report);
}

/// A role run carries the user's enabled roles as read; an assignment starts from no user-role row and
/// proposes the role's name, a revocation starts from the row and proposes nothing.
fn check_role_action(run: &GovernedRun, report: &mut Report) {
    let (action, before, proposed) = (run.action, &run.before, &run.proposed);
    if !action.is_role_action() {
        if before.enabled_roles.is_some() {
            report.value("before.enabled_roles", format!("{action} is not a role run; remove `enabled_roles`"));
        }
        return;
    }
    if before.enabled_roles.is_none() {
        report.value(
            "before.enabled_roles",
            "missing: a role run lists the user's enabled security roles as read, e.g. [\"Accounts payable clerk\"]",
        );
    }
    if action == Action::AssignRole {
        if !before.absent {
            report.value(
                "before.absent",
                "an assign-role run starts from no user-role row: `before` must say \"absent\": true",
            );
        }
        if !before.fields.is_empty() {
            report
                .value("before.fields", "the user-role row is absent before an assignment: `before.fields` must be {}");
        }
        if proposed.fields.is_empty() {
            report.value(
                "proposed.fields",
                "an assign-role run proposes the role's name, e.g. {\"SecurityRoleName\": …}",
            );
        }
    } else {
        if before.absent {
            report.value("before.absent", "a revoke-role run starts from the user-role row it deletes, not absent");
        }
        if !proposed.fields.is_empty() {
            report
                .value("proposed.fields", "a revoke-role run deletes the user-role row: `proposed.fields` must be {}");
        }
    }
}

/// The before state and proposal each generic record action needs: a create starts from an absent
/// record; a delete proposes nothing (the whole record goes); an operation names itself. Only
/// `execute-operation` carries `proposed.operation` and `parameters`; only `create-record` an absent
/// before snapshot.
fn check_record_action(run: &GovernedRun, report: &mut Report) {
    let (action, before, proposed) = (run.action, &run.before, &run.proposed);
    if action == Action::CreateRecord {
        if !before.absent {
            report.value(
                "before.absent",
                "a create-record run starts from no record: `before` must say \"absent\": true (and have no etag \
                 and no fields)",
            );
        }
        if !before.fields.is_empty() {
            report.value("before.fields", "the record is absent before a create: `before.fields` must be {}");
        }
        if !before.etag.as_str().is_empty() {
            report.value("before.etag", "an absent record has no ETag: remove `before.etag`");
        }
    } else if before.absent && action != Action::AssignRole {
        report.value(
            "before.absent",
            format!("{action} acts on an existing record: `before` is that record as read, not absent"),
        );
    }
    if action == Action::ExecuteOperation {
        match &proposed.operation {
            None => report.value(
                "proposed.operation",
                "missing: an execute-operation run names the managed object's operation to run",
            ),
            Some(name) if !is_name(name) => {
                report.value("proposed.operation", format!("'{name}' is not an operation name (letters, digits, '_')"))
            }
            Some(_) => {}
        }
    } else {
        if proposed.operation.is_some() {
            report.value("proposed.operation", format!("{action} runs no operation; remove `operation`"));
        }
        if !proposed.parameters.is_empty() {
            report.value("proposed.parameters", format!("{action} has no parameters; remove `parameters`"));
        }
    }
    if matches!(action, Action::DeleteRecord | Action::ExecuteOperation) && !proposed.fields.is_empty() {
        let what = if action == Action::DeleteRecord {
            "a delete-record run removes the whole record: `proposed.fields` must be {}"
        } else {
            "an execute-operation run writes through its operation only: `proposed.fields` must be {} (give \
             `parameters`)"
        };
        report.value("proposed.fields", what);
    }
    if action == Action::UpdateRecord && proposed.fields.is_empty() {
        report.value("proposed.fields", "an update-record run must propose at least one field; found none");
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A workflow item run carries its work item and proposes nothing: F&O's workflow decides the document
/// as it is. No other action carries a work item.
fn check_work_item(run: &GovernedRun, report: &mut Report) {
    let Some(item) = &run.work_item else {
        if run.action == Action::ApproveWorkflowItem {
            report.value(
                "work_item",
                "missing: an approve-workflow-item run needs `work_item` (its `id`, `user_id` and `subject`)",
            );
        }
        return;
    };
    if run.action != Action::ApproveWorkflowItem {
        report.value("work_item", format!("{} has no work item; remove `work_item`", run.action));
        return;
    }
    for (name, value) in [("id", &item.id), ("user_id", &item.user_id)] {
        if value.trim().is_empty() {
            report.value(&child("work_item", name), format!("the work item's `{name}` is empty"));
        }
    }
    if !run.proposed.fields.is_empty() || !run.proposed.lines.is_empty() {
        report.value(
            "proposed",
            "a workflow item is approved or rejected as F&O holds it: `proposed` must have no fields and no lines",
        );
    }
}

fn check_identity(run: &GovernedRun, report: &mut Report) {
    let id = run.id.as_str();
    if id.is_empty() {
        report.value("id", "the run id is empty; expected letters, digits, '.', '_' or '-', e.g. \"RUN-2026-000123\"");
    } else if let Some(bad) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        report.value(
            "id",
            format!(
                "the run id contains {}; only letters A-Z a-z, digits, '.', '_' and '-' are allowed",
                describe(bad)
            ),
        );
    } else if id.len() > 128 {
        report.value("id", format!("the run id is {} characters long; at most 128 are allowed", id.len()));
    }
    if let Some(old) = &run.supersedes {
        if old == &run.id {
            report.value(
                "supersedes",
                "a run cannot supersede itself; expected the id of the stale or expired run it replaces",
            );
        } else if old.as_str().is_empty()
            || old.as_str().len() > 128
            || old.as_str().chars().any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            report.value("supersedes", "not a run id; expected 1 to 128 letters, digits, '.', '_' or '-'");
        }
    }
    if run.environment.trim().is_empty() {
        report.value("environment", "the environment is empty; expected its configured name, e.g. \"usmf-sandbox\"");
    }
    if run.justification.trim().is_empty() {
        report.value("justification", "the justification is empty; say why the change is needed, for the approver");
    }
    let requester = &run.requester;
    if requester.id.as_str().trim().is_empty() {
        report.value("requester.id", "the requester id is empty; expected a UPN or a service name");
    }
    match (requester.kind, &requester.sponsor) {
        (RequesterKind::Automation, None) => report.value(
            "requester.sponsor",
            "missing: an automation requester needs a `sponsor`, the person accountable for it",
        ),
        (RequesterKind::Person, Some(_)) => report.value(
            "requester.sponsor",
            "a person requester has no sponsor; remove `sponsor` or set `kind` to \"automation\"",
        ),
        (_, Some(sponsor)) if sponsor == &requester.id => report.value(
            "requester.sponsor",
            "the sponsor is the requester itself; expected a different, accountable person",
        ),
        (_, Some(sponsor)) if sponsor.as_str().trim().is_empty() => {
            report.value("requester.sponsor", "the sponsor is empty; expected the accountable person's UPN")
        }
        _ => {}
    }
}

fn check_times(run: &GovernedRun, report: &mut Report) {
    let show = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    if run.expires_at <= run.requested_at {
        report.value(
            "expires_at",
            format!(
                "the run expires ({}) before it was requested ({}); expected a later time",
                show(run.expires_at),
                show(run.requested_at)
            ),
        );
    }
    if run.before.captured_at > run.requested_at {
        report.value(
            "before.captured_at",
            format!(
                "the snapshot was captured ({}) after the run was requested ({}); expected a capture at or before the request",
                show(run.before.captured_at),
                show(run.requested_at)
            ),
        );
    }
}

fn check_target(run: &GovernedRun, report: &mut Report) {
    let target = &run.target;
    if run.action == Action::ApproveWorkflowItem && Action::for_document(&target.managed_object).is_none() {
        report.value(
            "target.managed_object",
            format!(
                "a workflow item's document is a vendor invoice (\"vendor_invoice\") or a journal \
                 (\"ledger_journal\"), found \"{}\"",
                target.managed_object
            ),
        );
    }
    // A workflow item's document is checked as that document's action would check it.
    let action = run.document_action();
    if let Some(set) = action.entity_set()
        && target.entity_set != set
    {
        report.value("target.entity_set", format!("{action} targets \"{set}\", found \"{}\"", target.entity_set));
    }
    if let Some(object) = action.managed_object()
        && target.managed_object != object
    {
        report.value(
            "target.managed_object",
            format!("{action} writes through the managed object \"{object}\", found \"{}\"", target.managed_object),
        );
    }
    if action.is_record_action() {
        for (path, name, what) in [
            ("target.entity_set", &target.entity_set, "an OData entity set, e.g. \"CustomerGroups\""),
            ("target.managed_object", &target.managed_object, "the config's managed object, e.g. \"customer_group\""),
        ] {
            if !is_name(name) {
                report.value(path, format!("expected {what}, found \"{name}\""));
            }
        }
    }
    if let Some(set) = &run.proposed.entity_set
        && set != &target.entity_set
    {
        report.value(
            "proposed.entity_set",
            format!(
                "proposed values are for \"{set}\" but the target is \"{}\"; a run changes one record",
                target.entity_set
            ),
        );
    }
    check_company(action, &target.entity_set, &target.keys, "target.keys", report);
    match record_key(action) {
        Some(key) => match target.keys.get(key) {
            None => report
                .value(&child("target.keys", key), format!("missing: {} needs the key `{key}`", target.entity_set)),
            Some(FieldValue::Text(s)) if s.trim().is_empty() => {
                report.value(&child("target.keys", key), format!("the key `{key}` is empty"))
            }
            Some(FieldValue::Text(_)) => {}
            Some(other) => report.value(
                &child("target.keys", key),
                format!("expected the key `{key}` as a string, found a {}", other.kind()),
            ),
        },
        // A generic record's keys are its entity's (policy checks them against `$metadata`): each one a
        // value that names a record.
        None => {
            if target.keys.is_empty() {
                report.value("target.keys", "missing: the record's keys, e.g. {\"dataAreaId\": \"usmf\", …}");
            }
            for (name, value) in &target.keys {
                match value {
                    FieldValue::Text(s) if s.trim().is_empty() => {
                        report.value(&child("target.keys", name), format!("the key `{name}` is empty"))
                    }
                    FieldValue::Null => report.value(&child("target.keys", name), format!("the key `{name}` is null")),
                    _ => {}
                }
            }
        }
    }
    if !run.before.absent && run.before.etag.as_str().trim().is_empty() {
        report.value(
            "before.etag",
            "the ETag is empty; expected the @odata.etag F&O sent, e.g. W/\"JzEsNTYzNzE0NDU3Nyc=\"",
        );
    }
}

/// `dataAreaId` must be there (as a 1-4 character string) exactly when the action is company-scoped (a
/// generic record's is when its keys say so).
fn check_company(action: Action, set: &str, keys: &Fields, path: &str, report: &mut Report) {
    let at = child(path, "dataAreaId");
    let scoped = action.company_scoped();
    match keys.get("dataAreaId") {
        None if scoped == Some(true) => report.value(
            &at,
            format!(
                "missing: {set} is company-scoped, so its keys need `dataAreaId` (the legal entity, e.g. \"usmf\")"
            ),
        ),
        None => {}
        Some(_) if scoped == Some(false) => {
            report.value(&at, format!("{set} is not company-scoped; remove `dataAreaId` from its keys"))
        }
        Some(FieldValue::Text(s))
            if (1..=4).contains(&s.chars().count()) && s.chars().all(|c| c.is_ascii_alphanumeric()) => {}
        Some(FieldValue::Text(s)) => report.value(
            &at,
            format!("`dataAreaId` \"{s}\" is not a legal entity id; expected 1 to 4 letters or digits, e.g. \"usmf\""),
        ),
        Some(other) => report
            .value(&at, format!("expected `dataAreaId` as a string of 1 to 4 characters, found a {}", other.kind())),
    }
}

fn check_lines(run: &GovernedRun, report: &mut Report) {
    let Some((line_set, number_key)) = run.document_action().lines() else {
        if !run.before.lines.is_empty() {
            report.value("before.lines", format!("{} has no lines; remove `lines`", run.action));
        }
        if !run.proposed.lines.is_empty() {
            report.value("proposed.lines", format!("{} has no lines; remove `lines`", run.action));
        }
        return;
    };
    let before_keys: Vec<&Fields> = run.before.lines.iter().map(|l| &l.keys).collect();
    for (i, line) in run.before.lines.iter().enumerate() {
        let path = element("before.lines", i);
        check_line_keys(run, &line.keys, &path, line_set, number_key, report);
        if before_keys[..i].contains(&&line.keys) {
            report.value(
                &child(&path, "keys"),
                format!("duplicate line keys: {} appears twice in before.lines", show_keys(&line.keys)),
            );
        }
        if line.etag.as_str().trim().is_empty() {
            report.value(&child(&path, "etag"), "the line's ETag is empty; expected the @odata.etag F&O sent for it");
        }
    }
    for (i, line) in run.proposed.lines.iter().enumerate() {
        let path = element("proposed.lines", i);
        check_line_keys(run, &line.keys, &path, line_set, number_key, report);
        if run.proposed.lines[..i].iter().any(|l| l.keys == line.keys) {
            report.value(
                &child(&path, "keys"),
                format!("duplicate line keys: {} appears twice in proposed.lines", show_keys(&line.keys)),
            );
        }
        if line.remove && !before_keys.contains(&&line.keys) {
            report.value(
                &child(&path, "keys"),
                format!("this line removes {} but no line in before.lines has those keys", show_keys(&line.keys)),
            );
        }
    }
}

/// A line needs its number key, and the header keys it repeats must name the target record.
fn check_line_keys(
    run: &GovernedRun,
    keys: &Fields,
    path: &str,
    line_set: &str,
    number_key: &str,
    report: &mut Report,
) {
    let keys_path = child(path, "keys");
    match keys.get(number_key) {
        None => report.value(
            &child(&keys_path, number_key),
            format!("missing: a line of {line_set} is identified by `{number_key}` (a number)"),
        ),
        Some(FieldValue::Number(_)) => {}
        Some(other) => report.value(
            &child(&keys_path, number_key),
            format!("expected `{number_key}` as a number, found a {}", other.kind()),
        ),
    }
    for (name, value) in &run.target.keys {
        if let Some(own) = keys.get(name)
            && own != value
        {
            report.value(
                &child(&keys_path, name),
                format!("the line's `{name}` is \"{own}\" but the target's is \"{value}\"; lines must belong to the target record"),
            );
        }
    }
}

fn check_money(run: &GovernedRun, report: &mut Report) {
    check_money_fields(&run.before.fields, "before.fields", report);
    for (i, line) in run.before.lines.iter().enumerate() {
        check_money_fields(&line.fields, &child(&element("before.lines", i), "fields"), report);
    }
    check_money_fields(&run.proposed.fields, "proposed.fields", report);
    for (i, line) in run.proposed.lines.iter().enumerate() {
        check_money_fields(&line.fields, &child(&element("proposed.lines", i), "fields"), report);
    }
}

fn check_money_fields(fields: &Fields, path: &str, report: &mut Report) {
    for name in MONEY_FIELDS {
        match fields.get(name) {
            None | Some(FieldValue::Number(_)) => {}
            Some(FieldValue::Text(text)) => report.value(
                &child(path, name),
                format!("`{name}` is an amount, so it must be a JSON number (e.g. 1250.00, no quotes), found the string \"{text}\""),
            ),
            Some(other) => report.value(
                &child(path, name),
                format!("`{name}` is an amount, so it must be a JSON number (e.g. 1250.00), found {}", other.kind()),
            ),
        }
    }
}

fn check_proposal(run: &GovernedRun, report: &mut Report) {
    let fields = &run.proposed.fields;
    // `Enabled` is Edm.Boolean in F&O: `true`/`false`, or the human "Yes"/"No" the encoder maps to them.
    let (wanted, human) = match run.action {
        Action::EnableUser => (true, "Yes"),
        Action::DisableUser => (false, "No"),
        Action::UpdateVendor => {
            if fields.is_empty() {
                report.value("proposed.fields", "an update-vendor run must propose at least one field; found none");
            }
            return;
        }
        Action::ApproveVendorInvoice | Action::PostJournal | Action::ApproveWorkflowItem => return,
        // Checked by `check_record_action`.
        Action::UpdateRecord | Action::CreateRecord | Action::DeleteRecord | Action::ExecuteOperation => return,
        // Checked by `check_role_action`.
        Action::AssignRole | Action::RevokeRole => return,
    };
    match fields.get("Enabled") {
        Some(FieldValue::Bool(b)) if *b == wanted => {}
        Some(FieldValue::Text(v)) if v == human => {}
        Some(other) => report.value(
            "proposed.fields.Enabled",
            format!("{} must set `Enabled` to {wanted} (or \"{human}\"), found {}", run.action, show_value(other)),
        ),
        None => report.value(
            "proposed.fields.Enabled",
            format!("missing: {} must set `Enabled` to {wanted} (or \"{human}\")", run.action),
        ),
    }
    for name in fields.keys().filter(|k| *k != "Enabled") {
        report.value(
            &child("proposed.fields", name),
            format!("{} may change only `Enabled`; remove `{name}`", run.action),
        );
    }
}

fn check_route_and_evidence(run: &GovernedRun, report: &mut Report) {
    if run.route.required_approvals == 0 {
        report.value(
            "route.required_approvals",
            "required_approvals is 0; expected at least 1 (every run needs an approver)",
        );
    }
    for (i, group) in run.route.eligible_groups.iter().enumerate() {
        if group.trim().is_empty() {
            report.value(&element("route.eligible_groups", i), "an eligible group name is empty");
        }
    }
    for (i, evidence) in run.evidence.iter().enumerate() {
        let path = element("evidence", i);
        let sha = &evidence.sha256;
        if sha.len() != 64 || !sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            report.value(
                &child(&path, "sha256"),
                format!(
                    "\"{sha}\" is not a SHA-256; expected 64 lowercase hex digits ({} characters found)",
                    sha.chars().count()
                ),
            );
        }
        if evidence.name.trim().is_empty() {
            report.value(&child(&path, "name"), "the evidence name is empty; expected the document's name");
        }
        if evidence.uri.trim().is_empty() {
            report.value(&child(&path, "uri"), "the evidence URI is empty; expected where the document can be read");
        }
    }
}

fn show_keys(keys: &Fields) -> String {
    let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={}", show_value(v))).collect();
    format!("({})", parts.join(", "))
}

fn show_value(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => format!("\"{}\"", crate::text::visible(s)),
        other => other.to_string(),
    }
}

/// A character named so a hostile one is visible in the message.
fn describe(c: char) -> String {
    if c.is_ascii_graphic() || c == ' ' { format!("'{c}'") } else { format!("U+{:04X}", c as u32) }
}
