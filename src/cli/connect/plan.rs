//! What a connect payload asks of the config, resolved and checked before anything is written: the login
//! host and tenant from `loginUrl`, the managed objects with their logical fields mapped to F&O fields.

use url::Url;

use super::payload::{ConnectPayload, Source};
use crate::config::connect_fields::{self, Scope};
use crate::config::{Cloud, Config, EnvironmentKind, ManagedObject};

/// Where tokens come from: a cloud's own login host, or another host (the simulator, on loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Cloud(Cloud),
    Host(String),
}

/// One managed object as the config will hold it.
#[derive(Debug, Clone)]
pub struct PlannedObject {
    /// The `[managed_objects.<name>]` key.
    pub name: &'static str,
    pub display_name: Option<String>,
    pub object: ManagedObject,
    /// Its index in the payload, for naming it in errors.
    pub index: usize,
}

/// The config changes a payload asks for (secrets apart: they go to files).
#[derive(Debug, Clone)]
pub struct Plan {
    pub url: String,
    pub kind: EnvironmentKind,
    pub tenant: String,
    pub client_id: String,
    pub login: Login,
    pub objects: Vec<PlannedObject>,
}

/// OData versions F&O's `/data` endpoint speaks (FNO.md §2: `OData-Version: 4.0`).
const API_VERSIONS: &[&str] = &["4.0", "4", "v4", "v4.0"];

/// Resolve `payload` against `existing` (for its `[connect.field_names]` and `high_risk_fields`); every
/// problem names its payload field.
pub fn plan(payload: &ConnectPayload, source: &Source, existing: &Config) -> Result<Plan, Vec<String>> {
    let mut problems = Vec::new();
    let mut problem = |path: &str, message: String| problems.push(source.problem(path, &message));
    if !payload.is_enabled {
        problem(
            "isEnabled",
            "false is not supported: signoff has no disabled connector. To keep it from writing, approve with \
             --dry-run only, or leave [auth] without a credential"
                .into(),
        );
    }
    if let Some(v) = payload.api_version.as_deref().filter(|v| !API_VERSIONS.contains(v)) {
        problem(
            "apiVersion",
            format!(
                "'{v}' is not a version F&O speaks: its /data endpoint is OData 4.0; write \"4.0\" or leave it out"
            ),
        );
    }
    let (login, tenant) = match login(&payload.login_url) {
        Ok(pair) => pair,
        Err(message) => {
            problem("loginUrl", message);
            (Login::Host(String::new()), String::new())
        }
    };
    if payload.client_id.trim().is_empty() {
        problem("clientId", "empty: give the app registration's Application (client) ID".into());
    }
    for (name, secret) in [("clientSecret", &payload.client_secret), ("refreshToken", &payload.refresh_token)] {
        if secret.as_ref().is_some_and(|s| s.expose().trim().is_empty()) {
            problem(name, "empty: give the value, or leave the field out to keep the config's own source".into());
        }
    }
    let mut objects: Vec<PlannedObject> = Vec::new();
    for (i, o) in payload.managed_objects.iter().enumerate() {
        let at = format!("managedObjects[{i}]");
        let Some(def) = connect_fields::object(&o.object_api_name) else {
            let known: Vec<String> =
                connect_fields::OBJECTS.iter().map(|d| format!("{} ({})", d.entity_set, d.name)).collect();
            problem(
                &format!("{at}.objectApiName"),
                format!("unknown object '{}'; expected one of: {}", o.object_api_name, known.join(", ")),
            );
            continue;
        };
        if let Some(first) = objects.iter().find(|p| p.name == def.name) {
            problem(
                &format!("{at}.objectApiName"),
                format!("'{}' is already managedObjects[{}]: list each object once", o.object_api_name, first.index),
            );
            continue;
        }
        let mut object = ManagedObject {
            entity_set: def.entity_set.to_string(),
            line_entity_set: def.line_entity_set.map(str::to_string),
            ..ManagedObject::default()
        };
        let mut risky = Vec::new();
        for (j, logical) in o.allowed_fields.iter().enumerate() {
            let path = format!("{at}.allowedFields[{j}]");
            if o.allowed_fields[..j].contains(logical) {
                problem(&path, format!("'{logical}' is listed twice"));
                continue;
            }
            match def.resolve(logical, &existing.connect) {
                Ok(r) => {
                    let list = if r.scope == Scope::Line { &mut object.line_fields } else { &mut object.fields };
                    list.push(r.field.clone());
                    if r.high_risk {
                        risky.push(r.field);
                    }
                }
                Err(connect_fields::Unknown(message)) => problem(&path, message),
            }
        }
        // High risk: the table's, and what the config already marked that is still allowed.
        let kept = existing.managed_objects.get(def.name).map(|m| m.high_risk_fields.clone()).unwrap_or_default();
        for field in kept.into_iter().chain(risky) {
            let allowed = object.fields.contains(&field) || object.line_fields.contains(&field);
            if allowed && !object.high_risk_fields.contains(&field) {
                object.high_risk_fields.push(field);
            }
        }
        objects.push(PlannedObject { name: def.name, display_name: o.display_name.clone(), object, index: i });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let kind = if payload.is_sandbox { EnvironmentKind::Sandbox } else { EnvironmentKind::Production };
    let url = payload.instance_url.trim().trim_end_matches('/').to_string();
    Ok(Plan { url, kind, tenant, client_id: payload.client_id.trim().to_string(), login, objects })
}

/// `https://login.microsoftonline.com/<tenant>` → the cloud (or another host) and the tenant.
fn login(text: &str) -> Result<(Login, String), String> {
    let expected = "expected https://login.microsoftonline.com/<tenant> (the tenant's GUID or domain)";
    let url = Url::parse(text.trim()).map_err(|e| format!("'{text}' is not a URL ({e}); {expected}"))?;
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    let tenant = match segments.as_slice() {
        [tenant] => (*tenant).to_string(),
        [] => return Err(format!("'{text}' names no tenant; {expected}")),
        _ => return Err(format!("'{text}' has more than the tenant in its path; {expected}")),
    };
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!("'{text}' carries a query, fragment or credentials; {expected}"));
    }
    let origin = url.origin().ascii_serialization();
    let cloud =
        [Cloud::Global, Cloud::Usgov, Cloud::China].into_iter().find(|c| c.login_host() == Some(origin.as_str()));
    Ok((cloud.map_or(Login::Host(origin), Login::Cloud), tenant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_urls_give_the_cloud_or_the_host_and_the_tenant() {
        let (login_at, tenant) =
            login("https://login.partner.microsoftonline.cn/contoso.partner.onmschina.cn").unwrap();
        assert_eq!((login_at, tenant.as_str()), (Login::Cloud(Cloud::China), "contoso.partner.onmschina.cn"));
        let (login_at, _) = login("http://127.0.0.1:8443/contoso.onmicrosoft.com/").unwrap();
        assert_eq!(login_at, Login::Host("http://127.0.0.1:8443".into()));
        assert!(login("https://login.microsoftonline.com").unwrap_err().contains("names no tenant"));
        assert!(login("https://login.microsoftonline.com/t/oauth2/v2.0/token").unwrap_err().contains("more than"));
    }
}
