//! Rules every run meets: expiry, environment, allowlists, the metadata catalog, hostile values.

use super::Level;
use super::rules::*;
use super::values::{line_label, vis};
use crate::config::EnvironmentKind;
use crate::diff::merge::{key_field, line_key};
use crate::judge::{NOT_SYNCED, operation_status};
use crate::model::{Action, FieldValue, Fields, GovernedRun};
use crate::text::invisibles;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    expiry(ctx, out);
    environment(ctx, out);
    allowlist(ctx, out);
    metadata_fields(ctx, out);
    metadata_facets(ctx, out);
    operation(ctx, out);
    super::records::check(ctx, out);
    hostile(ctx.run, out);
}

fn expiry(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let expires = ctx.run.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    out.push(if ctx.run.is_expired(ctx.facts.now) {
        EXPIRED.verdict(Level::Hard, format!("the run expired at {expires}"), None)
    } else {
        EXPIRED.pass(format!("expires at {expires}"))
    });
}

fn environment(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let env = &ctx.config.environment;
    out.push(if ctx.run.environment == env.name {
        ENV_MATCH.pass(format!("prepared for {}", vis(&env.name)))
    } else {
        ENV_MATCH.verdict(
            Level::Hard,
            format!(
                "the run was prepared for '{}' but the configured environment is '{}'",
                vis(&ctx.run.environment),
                vis(&env.name)
            ),
            None,
        )
    });
    out.push(match (env.kind, env.allow_production_writes) {
        (EnvironmentKind::Sandbox, _) => ENV_POSTURE.pass("sandbox environment"),
        (EnvironmentKind::Production, false) => ENV_POSTURE.verdict(
            Level::Hard,
            "production environment and allow_production_writes is off: writes are for sandboxes only",
            None,
        ),
        (EnvironmentKind::Production, true) => ENV_POSTURE.verdict(
            Level::Advisory,
            "production environment: this write changes live books (allow_production_writes is on)",
            None,
        ),
    });
}

fn allowlist(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let target = &ctx.run.target;
    let Some(object) = ctx.config.managed_objects.get(&target.managed_object) else {
        out.push(ALLOW_OBJECT.verdict(
            Level::Hard,
            format!(
                "managed object '{}' is not configured: nothing may be written through it",
                vis(&target.managed_object)
            ),
            None,
        ));
        return;
    };
    let mut problems = Vec::new();
    if object.entity_set != target.entity_set {
        problems.push(format!(
            "the target entity set '{}' is not the managed object's '{}'",
            vis(&target.entity_set),
            vis(&object.entity_set)
        ));
    }
    if let Some(set) = &ctx.run.proposed.entity_set
        && set != &target.entity_set
    {
        problems.push(format!("the proposal names entity set '{}', not the target's", vis(set)));
    }
    if !ctx.run.proposed.lines.is_empty() && object.line_entity_set.is_none() {
        problems.push(format!(
            "lines are proposed but managed object '{}' has no line entity set",
            vis(&target.managed_object)
        ));
    }
    problems.extend(super::records::permission(ctx, object));
    if problems.is_empty() {
        out.push(ALLOW_OBJECT.pass(format!(
            "managed object '{}' on {}",
            vis(&target.managed_object),
            vis(&target.entity_set)
        )));
    }
    for p in problems {
        out.push(ALLOW_OBJECT.verdict(Level::Hard, p, None));
    }

    let mut blocked = 0;
    let mut checked = 0;
    for name in ctx.run.proposed.fields.keys() {
        checked += 1;
        if !object.fields.iter().any(|f| f == name) {
            blocked += 1;
            out.push(ALLOW_FIELD.verdict(
                Level::Hard,
                format!("header field '{}' is not in the '{}' allowlist", vis(name), vis(&target.managed_object)),
                Some(vis(name)),
            ));
        }
    }
    let key = key_field(ctx.run.document_action());
    for line in &ctx.run.proposed.lines {
        let label = line_label(key, &line_key(&line.keys, key));
        for name in line.fields.keys() {
            checked += 1;
            if !object.line_fields.iter().any(|f| f == name) {
                blocked += 1;
                out.push(ALLOW_FIELD.verdict(
                    Level::Hard,
                    format!(
                        "line field '{}' on {label} is not in the '{}' line allowlist",
                        vis(name),
                        vis(&target.managed_object)
                    ),
                    Some(format!("{label}.{}", vis(name))),
                ));
            }
        }
    }
    if blocked == 0 {
        out.push(ALLOW_FIELD.pass(format!("all {checked} proposed fields are allowlisted")));
    }
}

fn metadata_fields(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let Some(catalog) = ctx.facts.known_entity_fields else {
        out.push(META_FIELD.verdict(Level::Hard, NOT_SYNCED, None));
        return;
    };
    let mut missing = 0;
    let header_set = &ctx.run.target.entity_set;
    let mut check_set = |set: &str, fields: &mut dyn Iterator<Item = (&String, String)>| match catalog.get(set) {
        None => {
            missing += 1;
            out.push(META_FIELD.verdict(
                Level::Hard,
                format!("entity set '{}' is not in the synced metadata: {NOT_SYNCED}", vis(set)),
                None,
            ));
        }
        Some(known) => {
            for (name, label) in fields {
                if !known.contains(name) {
                    missing += 1;
                    out.push(META_FIELD.verdict(
                        Level::Hard,
                        format!("field '{}' does not exist on {} in the synced metadata", vis(name), vis(set)),
                        Some(label),
                    ));
                }
            }
        }
    };
    check_set(header_set, &mut ctx.run.proposed.fields.keys().map(|k| (k, vis(k))));
    if !ctx.run.proposed.lines.is_empty() {
        let key = key_field(ctx.run.document_action());
        let line_set = line_entity_set(ctx);
        let mut line_fields = ctx.run.proposed.lines.iter().flat_map(|l| {
            let label = line_label(key, &line_key(&l.keys, key));
            l.fields.keys().map(move |k| (k, format!("{label}.{}", vis(k))))
        });
        check_set(&line_set, &mut line_fields);
    }
    if missing == 0 {
        out.push(META_FIELD.pass("every proposed field exists in the synced metadata"));
    }
}

/// Every proposed value must be sendable as its property's declared type: F&O refuses a string over
/// `MaxLength`, a null where `Nullable="false"`, a decimal beyond `Precision`/`Scale`, a non-member of an
/// enum, and a value of the wrong JSON type. Judged by the same encoder that builds the request body,
/// so the verdict and the write cannot disagree. Fields or sets the catalog lacks are
/// `metadata.field`'s to report.
fn metadata_facets(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let Some(catalog) = ctx.facts.catalog else {
        out.push(META_FACETS.verdict(Level::Hard, NOT_SYNCED, None));
        return;
    };
    let mut checked = 0;
    let mut refused = 0;
    let mut check = |set: &str, name: &str, value: &FieldValue, label: String| {
        let Some(property) = catalog.property(set, name) else { return };
        checked += 1;
        if let Err(e) = crate::fno::encode_value(name, value, property, catalog) {
            refused += 1;
            out.push(META_FACETS.verdict(Level::Hard, format!("{e} ({})", vis(set)), Some(label)));
        }
    };
    let header_set = &ctx.run.target.entity_set;
    for (name, value) in &ctx.run.proposed.fields {
        check(header_set, name, value, vis(name));
    }
    if !ctx.run.proposed.lines.is_empty() {
        let key = key_field(ctx.run.document_action());
        let line_set = line_entity_set(ctx);
        for line in ctx.run.proposed.lines.iter().filter(|l| !l.remove) {
            let label = line_label(key, &line_key(&line.keys, key));
            for (name, value) in &line.fields {
                check(&line_set, name, value, format!("{label}.{}", vis(name)));
            }
        }
    }
    if refused == 0 {
        out.push(META_FACETS.pass(format!("all {checked} proposed value(s) fit their declared types and facets")));
    }
}

/// The line entity set: the managed object's, else the action's default.
pub fn line_entity_set(ctx: &Ctx<'_>) -> String {
    ctx.config
        .managed_objects
        .get(&ctx.run.target.managed_object)
        .and_then(|o| o.line_entity_set.clone())
        .or_else(|| ctx.run.document_action().lines().map(|(set, _)| set.to_string()))
        .unwrap_or_default()
}

/// The configured decision operation an approval runs, for actions that have one.
pub fn decision_operation(action: Action) -> Option<&'static str> {
    match action {
        Action::ApproveVendorInvoice => Some("invoice_approve"),
        Action::PostJournal => Some("journal_post"),
        _ => None,
    }
}

fn operation(ctx: &Ctx<'_>, out: &mut Vec<super::Verdict>) {
    let Some(name) = decision_operation(ctx.run.action) else { return };
    out.push(match operation_status(ctx.config, ctx.facts, name) {
        Ok(()) => META_OPERATION.pass(format!("operation '{name}' is configured and present in the synced catalog")),
        Err(why) => META_OPERATION.verdict(Level::Hard, why, None),
    });
}

fn hostile(run: &GovernedRun, out: &mut Vec<super::Verdict>) {
    let key = key_field(run.document_action());
    let mut flag = |label: String, text: &str| {
        let kinds = invisibles(text);
        if kinds.is_empty() {
            return;
        }
        let what: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
        out.push(HOSTILE.verdict(
            Level::Soft,
            format!("{label} contains {}: '{}'", what.join(" and "), vis(text)),
            Some(label),
        ));
    };
    let mut fields = |prefix: &str, fields: &Fields| {
        for (name, value) in fields {
            let label = format!("{prefix}{}", vis(name));
            // A hostile field *name* is as dangerous as a hostile value.
            flag(format!("{label} (name)"), name);
            if let FieldValue::Text(s) = value {
                flag(label, s);
            }
        }
    };
    fields("target.", &run.target.keys);
    fields("before.", &run.before.fields);
    for line in &run.before.lines {
        fields(&format!("before.{}.", line_label(key, &line_key(&line.keys, key))), &line.fields);
    }
    fields("proposed.", &run.proposed.fields);
    fields("proposed.parameters.", &run.proposed.parameters);
    for line in &run.proposed.lines {
        let prefix = format!("proposed.{}.", line_label(key, &line_key(&line.keys, key)));
        fields(&prefix, &line.keys);
        fields(&prefix, &line.fields);
    }
    if let Some(op) = &run.proposed.operation {
        flag("proposed.operation".into(), op);
    }
    flag("justification".into(), &run.justification);
    flag("requester".into(), run.requester.id.as_str());
    for e in &run.evidence {
        flag(format!("evidence '{}'", vis(&e.name)), &format!("{}{}", e.name, e.uri));
    }
}
