//! Writing a [`Plan`] into the config text in place: the keys the payload owns change, everything else —
//! other settings, comments, layout — stays as the user wrote it.

use toml_edit::{Array, DocumentMut, Item, Table, Value, value};

use super::plan::{Login, Plan};
use crate::config::EnvironmentKind;

/// Where the credentials go: the config names files, never values.
#[derive(Debug, Clone, Default)]
pub struct CredentialFiles {
    /// `auth.client_secret_file` as written in the config (relative to its directory).
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

/// Secret sources that the payload's secret replaces: exactly one credential may be configured.
const OTHER_SECRET_SOURCES: &[&str] =
    &["client_secret_env", "client_secret_command", "client_secret", "client_certificate_file", "managed_identity"];
const OTHER_REFRESH_SOURCES: &[&str] = &["refresh_token_env", "refresh_token_command"];

/// Apply `plan` to `doc`.
pub fn apply(doc: &mut DocumentMut, plan: &Plan, files: &CredentialFiles) {
    let environment = table(doc.as_table_mut(), "environment");
    set(environment, "url", plan.url.as_str());
    set(environment, "kind", if plan.kind == EnvironmentKind::Production { "production" } else { "sandbox" });
    if let Login::Cloud(cloud) = plan.login {
        set(environment, "cloud", cloud.as_str());
    }
    let auth = table(doc.as_table_mut(), "auth");
    set(auth, "tenant", plan.tenant.as_str());
    set(auth, "client_id", plan.client_id.as_str());
    match &plan.login {
        Login::Cloud(_) => {
            // The cloud's own login host: no override, and the cloud lives in [environment] now.
            auth.remove("authority_host");
            auth.remove("cloud");
        }
        Login::Host(origin) => set(auth, "authority_host", origin.as_str()),
    }
    if let Some(path) = &files.client_secret {
        for key in OTHER_SECRET_SOURCES {
            auth.remove(key);
        }
        set(auth, "client_secret_file", path.as_str());
    }
    if let Some(path) = &files.refresh_token {
        for key in OTHER_REFRESH_SOURCES {
            auth.remove(key);
        }
        set(auth, "refresh_token_file", path.as_str());
    }
    let objects = table(doc.as_table_mut(), "managed_objects");
    objects.set_implicit(true);
    let keep: Vec<&str> = plan.objects.iter().map(|o| o.name).collect();
    let gone: Vec<String> =
        objects.iter().map(|(k, _)| k.to_string()).filter(|k| !keep.contains(&k.as_str())).collect();
    for name in gone {
        objects.remove(&name);
    }
    for planned in &plan.objects {
        let fresh = !objects.contains_key(planned.name);
        let t = table(objects, planned.name);
        if fresh && let Some(display) = &planned.display_name {
            // The payload's display name, as a comment; one line, whatever it holds.
            let line: String = display.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            t.decor_mut().set_prefix(format!("\n# {line}\n"));
        }
        let o = &planned.object;
        set(t, "entity_set", o.entity_set.as_str());
        set(t, "fields", strings(&o.fields));
        match &o.line_entity_set {
            Some(lines) => {
                set(t, "line_entity_set", lines.as_str());
                set(t, "line_fields", strings(&o.line_fields));
            }
            None => {
                t.remove("line_entity_set");
                t.remove("line_fields");
            }
        }
        set(t, "high_risk_fields", strings(&o.high_risk_fields));
    }
}

/// The table `key` of `parent`, made if missing (a dotted or inline one is replaced by a plain table).
fn table<'a>(parent: &'a mut Table, key: &str) -> &'a mut Table {
    if !parent.get(key).is_some_and(Item::is_table) {
        let mut t = Table::new();
        if let Some(inline) = parent.get(key).and_then(Item::as_inline_table) {
            t = inline.clone().into_table();
        }
        parent.insert(key, Item::Table(t));
    }
    parent.get_mut(key).and_then(Item::as_table_mut).expect("the table was just made")
}

/// Set `key`, keeping the comment and spacing around an existing value.
fn set(t: &mut Table, key: &str, new: impl Into<Value>) {
    let mut new = new.into();
    if let Some(old) = t.get(key).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    t.insert(key, value(new));
}

fn strings(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::connect::plan::PlannedObject;
    use crate::config::ManagedObject;

    fn plan() -> Plan {
        Plan {
            url: "https://contoso-test.sandbox.operations.dynamics.com".into(),
            kind: EnvironmentKind::Sandbox,
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "8f2d1c3e-5150-4f0a-9c1e-7a1b2c3d4e5f".into(),
            login: Login::Cloud(crate::config::Cloud::Global),
            objects: vec![PlannedObject {
                name: "vendor",
                display_name: Some("Vendors".into()),
                object: ManagedObject {
                    entity_set: "VendorsV2".into(),
                    fields: vec!["BankAccountId".into()],
                    high_risk_fields: vec!["BankAccountId".into()],
                    ..ManagedObject::default()
                },
                index: 0,
            }],
        }
    }

    #[test]
    fn the_template_keeps_its_comments_and_other_settings_and_loses_the_objects_not_asked_for() {
        let mut doc: DocumentMut = crate::config::template().parse().unwrap();
        let files = CredentialFiles { client_secret: Some("client-secret".into()), refresh_token: None };
        apply(&mut doc, &plan(), &files);
        let text = doc.to_string();
        assert!(text.contains("kind = \"sandbox\"                     # \"sandbox\" or \"production\""), "{text}");
        assert!(text.contains("# Connecting a real F&O sandbox, in four steps:"));
        assert!(text.contains("client_secret_file = \"client-secret\"") && !text.contains("\nclient_secret_env"));
        assert!(text.contains("[operations.journal_reverse]") && text.contains("[propose.routes.update-vendor]"));
        assert!(!text.contains("[managed_objects.vendor_invoice]") && text.contains("[managed_objects.vendor]"));
        let config = crate::config::load::parse(&text, std::path::Path::new("/tmp/c.toml"), Some(0o600)).unwrap();
        assert_eq!(config.managed_objects["vendor"].fields, ["BankAccountId"]);
        assert_eq!(config.auth.client_id.as_deref(), Some("8f2d1c3e-5150-4f0a-9c1e-7a1b2c3d4e5f"));
    }
}
