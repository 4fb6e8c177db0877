//! The proposed values of a run: each one in the managed object's allowlist, on a property the synced
//! `$metadata` declares, read as that property's type and within its facets — or refused, naming the
//! field and the rule (the same rule ids policy judges runs by: `allowlist.field`, `metadata.field`,
//! `metadata.facets`).

use std::fmt;

use super::{PatchLine, ProposalRequest, ProposeError};
use crate::config::Config;
use crate::fno::Catalog;
use crate::model::{Action, FieldValue, Fields, Proposed, ProposedLine, Snapshot};
use crate::review::capture::RecordSource;
use crate::text::visible;

/// One proposed value refused: the field (`BankAccountId`, `lines[LineNumber=2].Text`), the rule it
/// breaks and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub rule: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(field: &str, rule: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { field: visible(field).into_owned(), rule, message: message.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused ({}): {}; nothing was saved", self.field, self.rule, self.message)
    }
}

fn refused(field: &str, rule: &'static str, message: impl Into<String>) -> ProposeError {
    ProposeError::Refused(Refusal::new(field, rule, message))
}

/// The `proposed` section for `request` against the captured `before`.
pub(super) fn proposal(
    config: &Config,
    catalog: &Catalog,
    request: &ProposalRequest,
    source: &RecordSource,
    before: &Snapshot,
) -> Result<Proposed, ProposeError> {
    let action = request.action;
    let name = source.object.as_str();
    let object = config.managed_objects.get(name).ok_or_else(|| {
        refused(
            name,
            "allowlist.object",
            format!(
                "managed object '{name}' is not configured, so nothing may be written through it: add \
                 [managed_objects.{name}] to the config"
            ),
        )
    })?;
    let permitted = match action {
        Action::CreateRecord => object.allow_create,
        Action::DeleteRecord => object.allow_delete,
        _ => true,
    };
    if !permitted {
        let key = if action == Action::CreateRecord { "allow_create" } else { "allow_delete" };
        return Err(refused(
            name,
            "allowlist.object",
            format!(
                "managed object '{name}' does not allow {}: set {key} = true under [managed_objects.{name}]",
                action.verb()
            ),
        ));
    }
    if matches!(action, Action::DeleteRecord | Action::ExecuteOperation) && !request.fields.is_empty() {
        return Err(ProposeError::Usage(format!(
            "{} writes no fields: leave out --set{}",
            action.verb(),
            if action == Action::ExecuteOperation { " (give the operation's --param NAME=VALUE)" } else { "" }
        )));
    }
    let mut fields = Fields::new();
    for (field, value) in user_fields(action, &request.fields)? {
        if action == Action::CreateRecord && before_keys(catalog, &source.header_set).contains(&field) {
            return Err(ProposeError::Usage(format!(
                "{} is a key of {}: give it with --key {}=VALUE",
                visible(&field),
                visible(&source.header_set),
                visible(&field)
            )));
        }
        let allowed = object.fields.contains(&field);
        let allowlist = format!("'{name}'");
        let typed = typed(catalog, &source.header_set, &field, &field, &value, allowed, &allowlist)?;
        fields.insert(field, typed);
    }
    if matches!(action, Action::UpdateVendor | Action::UpdateRecord) && fields.is_empty() {
        return Err(ProposeError::Usage(format!(
            "{} needs at least one value to change: --set FIELD=VALUE (or a --patch file)",
            action.verb()
        )));
    }
    let (operation, parameters) = operation(config, catalog, request, source)?;
    let mut lines = Vec::new();
    if !request.lines.is_empty() {
        let Some((line_set, line_field)) = &source.lines else {
            return Err(ProposeError::Usage(format!("{} has no lines; --line does not apply", action.verb())));
        };
        for change in &request.lines {
            let allowlist = format!("'{name}' line");
            lines.push(line(catalog, &object.line_fields, &allowlist, before, line_set, line_field, change)?);
        }
    }
    Ok(Proposed { entity_set: None, fields, lines, operation, parameters })
}

/// The key fields of the set's entity type, as `$metadata` declares them.
fn before_keys(catalog: &Catalog, set: &str) -> Vec<String> {
    catalog.entity_type_of(set).map(|t| t.keys.clone()).unwrap_or_default()
}

/// The operation an `execute-operation` run names, and its parameters: each one declared by the
/// configured operation (not a key, which the record supplies) and read as its `$metadata` type.
fn operation(
    config: &Config,
    catalog: &Catalog,
    request: &ProposalRequest,
    source: &RecordSource,
) -> Result<(Option<String>, Fields), ProposeError> {
    if request.action != Action::ExecuteOperation {
        if request.operation.is_some() || !request.parameters.is_empty() {
            return Err(ProposeError::Usage(format!(
                "{} runs no operation: leave out --operation and --param",
                request.action.verb()
            )));
        }
        return Ok((None, Fields::new()));
    }
    let name = request.operation.as_deref().ok_or_else(|| {
        ProposeError::Usage("execute-operation needs --operation NAME (an operation of the managed object)".into())
    })?;
    crate::judge::record_operation_status(config, Some(catalog), &source.object, name)
        .map_err(|why| refused(name, "metadata.operation", why))?;
    let op = config.record_operation(&source.object, name).expect("checked just above");
    let keys = before_keys(catalog, &source.header_set);
    let mut parameters = Fields::new();
    for (logical, value) in &request.parameters {
        let label = format!("parameters.{logical}");
        let Some(xpp) = op.parameters.get(logical).filter(|_| !keys.contains(logical)) else {
            let declared: Vec<&str> = op.parameters.keys().filter(|k| !keys.contains(*k)).map(String::as_str).collect();
            return Err(refused(
                &label,
                "allowlist.field",
                format!(
                    "'{}' is not a parameter of operation '{name}' (its parameters: {})",
                    visible(logical),
                    if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                ),
            ));
        };
        let property =
            crate::judge::record_operation_parameter(catalog, &source.header_set, op, xpp).ok_or_else(|| {
                refused(
                    &label,
                    "metadata.field",
                    format!("'{xpp}' is not a parameter of {name} in the synced metadata"),
                )
            })?;
        let typed = crate::fno::typed_value(xpp, value, &property, catalog)
            .map_err(|e| refused(&label, "metadata.facets", e.to_string()))?;
        if parameters.insert(logical.clone(), typed).is_some() {
            return Err(ProposeError::Usage(format!("the parameter {} is given twice", visible(logical))));
        }
    }
    Ok((Some(name.to_string()), parameters))
}

/// The header values: for user actions `Enabled` alone, set by the action itself.
fn user_fields(action: Action, given: &[(String, FieldValue)]) -> Result<Vec<(String, FieldValue)>, ProposeError> {
    let enabled = match action {
        Action::EnableUser => true,
        Action::DisableUser => false,
        _ => return Ok(given.to_vec()),
    };
    if let Some((name, _)) = given.iter().find(|(n, v)| n != "Enabled" || !v.same_value(&FieldValue::Bool(enabled))) {
        return Err(refused(
            name,
            "allowlist.field",
            format!("{} changes only Enabled (to {enabled}); leave out --set", action.verb()),
        ));
    }
    Ok(vec![("Enabled".to_string(), FieldValue::Bool(enabled))])
}

/// One value: allowlisted, declared, typed and within its facets.
fn typed(
    catalog: &Catalog,
    set: &str,
    name: &str,
    label: &str,
    value: &FieldValue,
    allowed: bool,
    allowlist: &str,
) -> Result<FieldValue, ProposeError> {
    if !allowed {
        return Err(refused(
            label,
            "allowlist.field",
            format!("'{}' is not in the {allowlist} allowlist of the config, so it may not be written", visible(name)),
        ));
    }
    let property = catalog.property(set, name).ok_or_else(|| {
        refused(
            label,
            "metadata.field",
            format!("'{}' does not exist on {} in the synced metadata", visible(name), visible(set)),
        )
    })?;
    crate::fno::typed_value(name, value, property, catalog)
        .map_err(|e| refused(label, "metadata.facets", e.to_string()))
}

/// One line correction, matched to a captured line by its line number.
fn line(
    catalog: &Catalog,
    line_fields: &[String],
    allowlist: &str,
    before: &Snapshot,
    line_set: &str,
    line_field: &str,
    change: &PatchLine,
) -> Result<ProposedLine, ProposeError> {
    let number = match catalog.property(line_set, line_field) {
        Some(p) => crate::fno::typed_value(line_field, &change.line, p, catalog)
            .map_err(|e| refused(&format!("lines[{line_field}={}]", change.line), "metadata.facets", e.to_string()))?,
        None => change.line.clone(),
    };
    let label = format!("lines[{line_field}={number}]");
    let captured = before.lines.iter().find(|l| l.keys.get(line_field).is_some_and(|v| v.same_value(&number)));
    let Some(captured) = captured else {
        let known: Vec<String> =
            before.lines.iter().filter_map(|l| l.keys.get(line_field)).map(ToString::to_string).collect();
        return Err(refused(
            &label,
            "lines",
            format!(
                "the record has no line {} {} (its lines: {}); propose corrects the lines F&O holds",
                line_field,
                visible(&number.to_string()),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ),
        ));
    };
    let mut fields = Fields::new();
    for (name, value) in &change.fields {
        let allowed = line_fields.iter().any(|f| f == name);
        let field_label = format!("{label}.{name}");
        let typed = typed(catalog, line_set, name, &field_label, value, allowed, allowlist)?;
        fields.insert(name.clone(), typed);
    }
    if fields.is_empty() && !change.remove {
        return Err(ProposeError::Usage(format!("{label}: no field to change (--line N:FIELD=VALUE)")));
    }
    Ok(ProposedLine { keys: captured.keys.clone(), fields, remove: change.remove })
}
