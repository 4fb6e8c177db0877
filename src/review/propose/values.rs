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
    let object = config.managed_objects.get(action.managed_object()).ok_or_else(|| {
        refused(
            action.managed_object(),
            "allowlist.object",
            format!(
                "managed object '{}' is not configured, so nothing may be written through it: add \
                 [managed_objects.{}] to the config",
                action.managed_object(),
                action.managed_object()
            ),
        )
    })?;
    let mut fields = Fields::new();
    for (name, value) in user_fields(action, &request.fields)? {
        let allowed = object.fields.contains(&name);
        let allowlist = format!("'{}'", action.managed_object());
        let typed = typed(catalog, &source.header_set, &name, &name, &value, allowed, &allowlist)?;
        fields.insert(name, typed);
    }
    if action == Action::UpdateVendor && fields.is_empty() {
        return Err(ProposeError::Usage(
            "update-vendor needs at least one value to change: --set FIELD=VALUE (or a --patch file)".into(),
        ));
    }
    let mut lines = Vec::new();
    if !request.lines.is_empty() {
        let Some((line_set, line_field)) = &source.lines else {
            return Err(ProposeError::Usage(format!("{} has no lines; --line does not apply", action.verb())));
        };
        for change in &request.lines {
            let allowlist = format!("'{}' line", action.managed_object());
            lines.push(line(catalog, &object.line_fields, &allowlist, before, line_set, line_field, change)?);
        }
    }
    Ok(Proposed { entity_set: None, fields, lines })
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
