//! Checks that types alone cannot express. Every problem is collected; none stops the others.

use rust_decimal::Decimal;

use super::load::Problem;
use super::validate_auth::{check_auth, check_url};
use super::validate_network::check_network;
use super::{Config, ManagedObject, Operation, OperationKind, OperationName, OperationReturns, PolicyConfig};

/// Managed object names signoff knows how to govern.
pub const MANAGED_OBJECT_NAMES: &[&str] =
    &["vendor", "vendor_invoice", "ledger_journal", "ledger_dimension", "user", "user_role"];

/// Decision operation names the review pipeline calls.
pub const OPERATION_NAMES: [&str; 6] = {
    let all = super::OperationName::ALL;
    let mut names = [""; 6];
    let mut i = 0;
    while i < all.len() {
        names[i] = all[i].as_str();
        i += 1;
    }
    names
};

impl Config {
    /// Every semantic problem, each naming its key. An empty list means the config is usable.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.check_basics(&mut out);
        check_auth(&self.auth, self.environment.url.is_some(), &mut out);
        check_network(self, &mut out);
        for (name, object) in &self.managed_objects {
            check_managed_object(name, object, &mut out);
        }
        for (name, op) in &self.operations {
            check_operation(name, op, &mut out);
        }
        check_policy(&self.policy, &mut out);
        self.intake.workflow.check(&mut out);
        check_propose(&self.propose, &mut out);
        super::connect_fields::check_overrides(&self.connect, &mut out);
        out
    }

    fn check_basics(&self, out: &mut Vec<Problem>) {
        if self.approver.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            out.push(Problem::at("approver.id", "approver.id is empty: remove it to use the OS user, or set it"));
        }
        if self.approver.identity == Some(super::IdentityMode::Ssh) && self.approver.allowed_signers.is_none() {
            out.push(Problem::at(
                "approver.identity",
                "approver.identity = \"ssh\" needs approver.allowed_signers: the file listing each approver's \
                 SSH public key (git's allowed-signers format)",
            ));
        }
        if self.approver.groups.iter().any(|g| g.trim().is_empty()) {
            out.push(Problem::at("approver.groups", "approver.groups contains an empty group name"));
        }
        if self.store.path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            out.push(Problem::at("store.path", "store.path is empty: remove it to use <data dir>/store.db"));
        }
        super::store_location::check_store_url(self, out);
        if self.store.lease_secs == 0 || self.store.lease_secs > super::MAX_LEASE_SECS {
            out.push(Problem::at(
                "store.lease_secs",
                format!(
                    "store.lease_secs must be between 1 and {} (a week; default 300); signoff lengthens a lease \
                     that would end before a request to F&O can time out",
                    super::MAX_LEASE_SECS
                ),
            ));
        }
        if self.store.group.as_deref().is_some_and(|g| g.trim().is_empty()) {
            out.push(Problem::at(
                "store.group",
                "store.group is empty: name a unix group, or remove it to keep the store owner-only",
            ));
        }
        if !(1..=600).contains(&self.store.busy_timeout_secs) {
            out.push(Problem::at(
                "store.busy_timeout_secs",
                "store.busy_timeout_secs must be between 1 and 600 (default 10)",
            ));
        }
        if !(1024..=super::MAX_RUN_FILE_BYTES).contains(&self.runs.max_file_bytes) {
            out.push(Problem::at(
                "runs.max_file_bytes",
                format!(
                    "runs.max_file_bytes must be between 1024 and {} (1 GiB; default {}, 10 MiB)",
                    super::MAX_RUN_FILE_BYTES,
                    super::DEFAULT_MAX_RUN_FILE_BYTES
                ),
            ));
        }
        let env = &self.environment;
        if env.name.trim().is_empty() {
            out.push(Problem::at("environment.name", "environment.name is empty: name it, e.g. \"usmf-sandbox\""));
        }
        if let Some(url) = &env.url {
            check_url("environment.url", url, true, out);
        }
        if let Some(company) = &env.default_company
            && !is_company(company)
        {
            out.push(Problem::at(
                "environment.default_company",
                "environment.default_company must be a legal entity id of 1 to 4 letters or digits, e.g. \"usmf\"",
            ));
        }
        if env.timeout_secs == 0 {
            out.push(Problem::at(
                "environment.timeout_secs",
                "environment.timeout_secs must be at least 1 (default 30)",
            ));
        }
        if env.max_retries > 20 {
            out.push(Problem::at("environment.max_retries", "environment.max_retries must be at most 20 (default 3)"));
        }
        if self.ui.theme.trim().is_empty() {
            out.push(Problem::at("ui.theme", "ui.theme is empty: use \"default\" or a theme file path"));
        }
        if self.ui.split_min_width == 0 {
            out.push(Problem::at("ui.split_min_width", "ui.split_min_width must be at least 1 (default 100)"));
        }
        for (action, keys) in &self.ui.keys {
            if keys.is_empty() || keys.iter().any(|k| k.trim().is_empty()) {
                out.push(Problem::at(format!("ui.keys.{action}"), format!("ui.keys.{action} needs at least one key")));
            }
        }
        // A misspelt action would silently leave its approvals unchecked: refuse it.
        for (action, roles) in &self.approver.roles {
            let at = format!("approver.roles.{action}");
            if action != "*" && action.parse::<crate::model::Action>().is_err() {
                let verbs: Vec<&str> = crate::model::Action::ALL.iter().map(|a| a.short()).collect();
                out.push(Problem::at(
                    &at,
                    format!("'{action}' is not an action: use a short name ({}) or \"*\"", verbs.join(", ")),
                ));
            }
            if roles.is_empty() || roles.iter().any(|r| r.trim().is_empty()) {
                out.push(Problem::at(&at, format!("{at} needs at least one F&O role name")));
            }
        }
        for (i, pair) in self.approver.role_conflicts.iter().enumerate() {
            if pair.requester.trim().is_empty() || pair.approver.trim().is_empty() {
                out.push(Problem::at(
                    format!("approver.role_conflicts[{i}]"),
                    "a role conflict names two roles: requester = \"…\", approver = \"…\"",
                ));
            }
        }
    }
}

fn check_managed_object(name: &str, o: &ManagedObject, out: &mut Vec<Problem>) {
    let key = format!("managed_objects.{name}");
    // The built-in names are what the five fixed actions write through; any other name is a managed
    // object for the generic record actions (create-record, update-record, delete-record, execute-operation).
    if !is_identifier(name) {
        out.push(Problem::at(
            &key,
            format!(
                "managed object name '{name}' must be letters, digits and '_' (the built-in ones: {})",
                MANAGED_OBJECT_NAMES.join(", ")
            ),
        ));
    }
    if !is_identifier(&o.entity_set) {
        out.push(Problem::at(
            format!("{key}.entity_set"),
            format!("{key}.entity_set must name an OData entity set, e.g. \"VendorsV2\""),
        ));
    }
    if let Some(lines) = &o.line_entity_set
        && !is_identifier(lines)
    {
        out.push(Problem::at(
            format!("{key}.line_entity_set"),
            format!("{key}.line_entity_set is not an entity set name"),
        ));
    }
    if o.line_entity_set.is_none() && !o.line_fields.is_empty() {
        out.push(Problem::at(
            format!("{key}.line_fields"),
            format!("{key}.line_fields is set but line_entity_set is not"),
        ));
    }
    for (list, fields) in
        [("fields", &o.fields), ("line_fields", &o.line_fields), ("high_risk_fields", &o.high_risk_fields)]
    {
        for (i, f) in fields.iter().enumerate() {
            if !is_identifier(f) {
                out.push(Problem::at(format!("{key}.{list}"), format!("{key}.{list} has an invalid field name '{f}'")));
            } else if fields[..i].contains(f) {
                out.push(Problem::at(format!("{key}.{list}"), format!("{key}.{list} lists '{f}' twice")));
            }
        }
    }
    check_record_operations(&key, o, out);
    for (i, reference) in o.referenced_by.iter().flatten().enumerate() {
        let at = format!("{key}.referenced_by[{i}]");
        if !is_identifier(&reference.entity_set) {
            out.push(Problem::at(format!("{at}.entity_set"), format!("{at}.entity_set is not an entity set name")));
        }
        if reference.fields.is_empty() {
            out.push(Problem::at(
                format!("{at}.fields"),
                format!(
                    "{at}.fields is empty: map each referencing field to the key field it holds, e.g. \
                     {{ CustomerGroupId = \"CustomerGroupId\" }}"
                ),
            ));
        }
        for (from, to) in &reference.fields {
            if !is_identifier(from) || !is_identifier(to) {
                out.push(Problem::at(
                    format!("{at}.fields"),
                    format!("{at}.fields maps '{from}' to '{to}': not field names"),
                ));
            }
        }
    }
    for f in &o.high_risk_fields {
        if !o.fields.contains(f) && !o.line_fields.contains(f) {
            out.push(Problem::at(
                format!("{key}.high_risk_fields"),
                format!("{key}.high_risk_fields names '{f}', which is not in fields or line_fields"),
            ));
        }
    }
}

/// A managed object's record operations: each a bound action (on the object's entity set) or a custom
/// service, with a compensation that names another operation of the same object.
fn check_record_operations(key: &str, o: &ManagedObject, out: &mut Vec<Problem>) {
    for (name, op) in &o.operations {
        let at = format!("{key}.operations.{name}");
        if !is_identifier(name) {
            out.push(Problem::at(&at, format!("{at}: '{name}' is not an operation name (letters, digits, '_')")));
        }
        match op.kind {
            OperationKind::BoundAction => match &op.action {
                Some(a) if is_identifier(a) => {}
                Some(_) => out.push(Problem::at(format!("{at}.action"), format!("{at}.action is not a valid name"))),
                None => out.push(Problem::at(
                    &at,
                    format!("{at} is a bound-action and needs 'action' (bound to {})", o.entity_set),
                )),
            },
            OperationKind::CustomService => match &op.service {
                Some(s) if s.split('/').count() == 3 && s.split('/').all(is_identifier) => {}
                _ => out.push(Problem::at(
                    format!("{at}.service"),
                    format!("{at} is a custom-service and needs service = \"<Group>/<Service>/<Operation>\""),
                )),
            },
        }
        if op.kind == OperationKind::BoundAction && op.service.is_some() {
            out.push(Problem::at(
                format!("{at}.service"),
                format!("{at}.service is only for kind = \"custom-service\""),
            ));
        }
        if op.kind == OperationKind::CustomService && op.action.is_some() {
            out.push(Problem::at(format!("{at}.action"), format!("{at}.action is only for kind = \"bound-action\"")));
        }
        for (logical, param) in &op.parameters {
            if !is_identifier(logical) || !is_identifier(param) {
                out.push(Problem::at(
                    format!("{at}.parameters.{logical}"),
                    format!(
                        "{at}.parameters maps '{logical}' to '{param}': both must be names, e.g. reason = \"_reason\""
                    ),
                ));
            }
        }
        match &op.compensation {
            Some(c) if c == name => out.push(Problem::at(
                format!("{at}.compensation"),
                format!("{at}.compensation names the operation itself; name the operation that undoes it"),
            )),
            Some(c) if !o.operations.contains_key(c) => out.push(Problem::at(
                format!("{at}.compensation"),
                format!("{at}.compensation names '{c}', which is not an operation of {key}"),
            )),
            _ => {}
        }
    }
}

fn check_operation(name: &str, op: &Operation, out: &mut Vec<Problem>) {
    let key = format!("operations.{name}");
    if !OPERATION_NAMES.contains(&name) {
        out.push(Problem::at(
            &key,
            format!("unknown operation '{name}' (expected one of: {})", OPERATION_NAMES.join(", ")),
        ));
    }
    match op.kind {
        OperationKind::BoundAction => {
            for (field, value) in [("entity_set", &op.entity_set), ("action", &op.action)] {
                match value {
                    None => out.push(Problem::at(
                        &key,
                        format!("{key} is a bound-action and needs '{field}' (the entity set and the action name)"),
                    )),
                    Some(v) if !is_identifier(v) => {
                        out.push(Problem::at(format!("{key}.{field}"), format!("{key}.{field} is not a valid name")))
                    }
                    Some(_) => {}
                }
            }
            if op.service.is_some() {
                out.push(Problem::at(
                    format!("{key}.service"),
                    format!("{key}.service is only for kind = \"custom-service\""),
                ));
            }
        }
        OperationKind::CustomService => {
            match &op.service {
                None => out.push(Problem::at(key.clone(), format!("{key} is a custom-service and needs 'service'"))),
                Some(s) if !(s.split('/').count() == 3 && s.split('/').all(is_identifier)) => out.push(Problem::at(
                    format!("{key}.service"),
                    format!(
                        "{key}.service must be <Group>/<Service>/<Operation>, e.g. \
                             \"SignoffServices/VendInvoiceApprovalService/approve\""
                    ),
                )),
                Some(_) => {}
            }
            for (field, value) in [("entity_set", &op.entity_set), ("action", &op.action)] {
                if value.is_some() {
                    out.push(Problem::at(
                        format!("{key}.{field}"),
                        format!("{key}.{field} is only for kind = \"bound-action\""),
                    ));
                }
            }
        }
    }
    if op.returns == Some(OperationReturns::Vouchers) && name != OperationName::JournalPost.as_str() {
        out.push(Problem::at(
            format!("{key}.returns"),
            format!(
                "{key}.returns = \"vouchers\" is only for journal_post, whose answer can carry the posted vouchers"
            ),
        ));
    }
    super::posting::check(name, op, out);
    for (logical, param) in &op.parameters {
        if !is_identifier(param) {
            out.push(Problem::at(
                format!("{key}.parameters.{logical}"),
                format!("{key}.parameters.{logical} must be an X++ parameter name, e.g. \"_comment\""),
            ));
        }
    }
}

fn check_policy(p: &PolicyConfig, out: &mut Vec<Problem>) {
    for (i, rule) in p.quorum.iter().enumerate() {
        let key = format!("policy.quorum[{i}]");
        if rule.approvals < 1 {
            out.push(Problem::at(format!("{key}.approvals"), format!("{key}.approvals must be at least 1")));
        }
        if rule.min_amount < Decimal::ZERO {
            out.push(Problem::at(format!("{key}.min_amount"), format!("{key}.min_amount must not be negative")));
        }
        if rule.action.trim().is_empty() {
            out.push(Problem::at(
                format!("{key}.action"),
                format!("{key}.action is empty (use \"*\" for every action)"),
            ));
        }
    }
    if p.invoice_amount_tolerance < Decimal::ZERO {
        out.push(Problem::at(
            "policy.invoice_amount_tolerance",
            "policy.invoice_amount_tolerance must not be negative",
        ));
    }
    if p.round_amount_multiple < Decimal::ZERO {
        out.push(Problem::at(
            "policy.round_amount_multiple",
            "policy.round_amount_multiple must not be negative (0 = off)",
        ));
    }
    if p.period_end_days > 28 {
        out.push(Problem::at("policy.period_end_days", "policy.period_end_days must be at most 28"));
    }
    for (i, cp) in p.closed_periods.iter().enumerate() {
        let key = format!("policy.closed_periods[{i}]");
        if !is_year_month(&cp.period) {
            out.push(Problem::at(
                format!("{key}.period"),
                format!("{key}.period '{}' must be YYYY-MM with a month 01 to 12, e.g. \"2026-01\"", cp.period),
            ));
        }
        if cp.company != "*" && !is_company(&cp.company) {
            out.push(Problem::at(
                format!("{key}.company"),
                format!("{key}.company must be a legal entity id (e.g. \"usmf\") or \"*\""),
            ));
        }
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_company(s: &str) -> bool {
    (1..=4).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_year_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(s[5..].parse::<u8>(), Ok(1..=12))
}

fn check_propose(propose: &super::ProposeConfig, out: &mut Vec<Problem>) {
    if !(1..=365).contains(&propose.expires_days) {
        out.push(Problem::at("propose.expires_days", "propose.expires_days must be between 1 and 365 (default 7)"));
    }
    let verbs: Vec<&str> = crate::model::Action::ALL.iter().map(|a| a.verb()).collect();
    for (name, route) in &propose.routes {
        let key = format!("propose.routes.{name}");
        if !verbs.contains(&name.as_str()) {
            out.push(Problem::at(
                key.clone(),
                format!("unknown action '{name}' in [propose.routes]; expected one of: {}", verbs.join(", ")),
            ));
        }
        if route.required_approvals == 0 {
            out.push(Problem::at(
                format!("{key}.required_approvals"),
                format!("{key}.required_approvals must be at least 1"),
            ));
        }
        if route.eligible_groups.iter().any(|g| g.trim().is_empty()) {
            out.push(Problem::at(
                format!("{key}.eligible_groups"),
                format!("{key}.eligible_groups contains an empty group name"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(c: &Config) -> Vec<String> {
        c.validate().into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let mut c = Config::default();
        for ok in ["http://127.0.0.1:8080", "http://127.8.9.10", "http://[::1]:9000", "http://LOCALHOST:1"] {
            c.environment.url = Some(ok.into());
            assert!(messages(&c).is_empty(), "{ok}: {:?}", messages(&c));
        }
        c.environment.url = Some("http://usmf.sandbox.operations.dynamics.com".into());
        assert!(messages(&c)[0].contains("http:// to a host that is not loopback"));
        c.environment.url = Some("http://127.0.0.1.nip.io".into());
        assert_eq!(messages(&c).len(), 1);
    }

    #[test]
    fn year_month_accepts_real_months_only() {
        assert!(is_year_month("2026-01") && is_year_month("2025-12"));
        for bad in ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "２０２６-01"] {
            assert!(!is_year_month(bad), "{bad}");
        }
    }

    #[test]
    fn the_shared_tenants_are_refused_with_the_entra_code() {
        let mut c = Config::default();
        c.auth.tenant = Some("Common".into());
        assert!(messages(&c).iter().any(|m| m.contains("AADSTS9001023")));
    }
}
