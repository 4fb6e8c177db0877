//! The ActionPlane-style connect payload (JSON), read strictly: unknown and repeated fields are refused,
//! every problem names its field (`managedObjects[1].allowedFields[2]`) with its line and column, and no
//! message ever carries the secret or the refresh token.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::config::secret::{Secret, redact};
use crate::model::locate::{Locator, element};
use crate::text::visible;

/// The payload's top-level fields, in the order ActionPlane writes them.
const FIELDS: &[&str] = &[
    "loginUrl",
    "instanceUrl",
    "clientId",
    "clientSecret",
    "refreshToken",
    "apiVersion",
    "isSandbox",
    "isEnabled",
    "validateAfterSave",
    "syncMetadataAfterSave",
    "managedObjects",
];

/// A managed object's fields.
const OBJECT_FIELDS: &[&str] = &["objectApiName", "displayName", "allowedFields"];

/// A connect payload as read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectPayload {
    /// `https://login.microsoftonline.com/<tenant>`: the authority host and the tenant.
    pub login_url: String,
    /// The F&O environment's base URL.
    pub instance_url: String,
    pub client_id: String,
    #[serde(default, deserialize_with = "secret")]
    pub client_secret: Option<Secret>,
    #[serde(default, deserialize_with = "secret")]
    pub refresh_token: Option<Secret>,
    /// The OData version (F&O's `/data` speaks 4.0); anything else is refused.
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default = "yes")]
    pub is_sandbox: bool,
    #[serde(default = "yes")]
    pub is_enabled: bool,
    #[serde(default)]
    pub validate_after_save: bool,
    #[serde(default)]
    pub sync_metadata_after_save: bool,
    pub managed_objects: Vec<ManagedObjectPayload>,
}

/// One `managedObjects[i]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedObjectPayload {
    /// The entity set (`VendorInvoiceHeaders`) or signoff's managed object name (`vendor_invoice`).
    pub object_api_name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Logical field names (`invoiceAmount`).
    pub allowed_fields: Vec<String>,
}

fn yes() -> bool {
    true
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// The text of a payload, kept for placing later problems (logical field names) at their line.
#[derive(Debug)]
pub struct Source {
    pub origin: String,
    locator: Locator,
    /// The secret and refresh token as written (whatever their type), scrubbed from every message.
    secrets: Vec<Secret>,
}

impl Source {
    /// `origin:line:column: path: message`, scrubbed of secrets and made visible.
    pub fn problem(&self, path: &str, message: &str) -> String {
        let at = self.locator.nearest(path);
        let field = if path.is_empty() { "(payload)" } else { path };
        let text = format!("{}:{}:{}: {field}: {message}", self.origin, at.line, at.column);
        visible(&redact(&text, &self.secrets.iter().collect::<Vec<_>>())).into_owned()
    }
}

/// Read `text`; every problem is one line naming its field.
pub fn parse(text: &str, origin: &str) -> Result<(ConnectPayload, Source), Vec<String>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        vec![format!("{origin}:{}:{}: {message}; the payload is not valid JSON", e.line(), e.column())]
    })?;
    let secrets = ["clientSecret", "refreshToken"]
        .iter()
        .filter_map(|k| value.get(k))
        .map(|v| Secret::new(v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    let source = Source { origin: origin.to_string(), locator: Locator::new(text), secrets };
    let mut problems: Vec<String> = source
        .locator
        .duplicates()
        .iter()
        .map(|d| source.problem(&d.path, "repeated: a JSON reader keeps only one of the values; remove one"))
        .collect();
    match &value {
        Value::Object(map) => {
            unknown(map, "", FIELDS, &source, &mut problems);
            if let Some(Value::Array(objects)) = map.get("managedObjects") {
                for (i, object) in objects.iter().enumerate() {
                    if let Value::Object(o) = object {
                        unknown(o, &element("managedObjects", i), OBJECT_FIELDS, &source, &mut problems);
                    }
                }
            }
        }
        other => problems.push(source.problem("", &format!("expected a JSON object, found {}", kind(other)))),
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match serde_path_to_error::deserialize::<_, ConnectPayload>(&value) {
        Ok(payload) => Ok((payload, source)),
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            Err(vec![source.problem(&path, &e.inner().to_string())])
        }
    }
}

/// Every member of `map` not in `known`, each named.
fn unknown(map: &Map<String, Value>, at: &str, known: &[&str], source: &Source, out: &mut Vec<String>) {
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
        out.push(source.problem(&path, &format!("unknown field `{key}`; expected one of: {}", known.join(", "))));
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../fixtures/connect/seed-payload.json");

    #[test]
    fn the_seed_payload_reads() {
        let (payload, _) = parse(SEED, "seed-payload.json").unwrap();
        assert_eq!(payload.managed_objects.len(), 4);
        assert!(payload.validate_after_save && payload.sync_metadata_after_save && payload.is_sandbox);
        assert_eq!(format!("{payload:?}").matches("Secret(***)").count(), 1, "Debug never shows the secret");
    }

    #[test]
    fn an_unknown_field_and_a_wrong_type_are_named_and_the_secret_never_echoed() {
        let text = SEED.replace("\"isEnabled\"", "\"isEnabeld\"");
        let problems = parse(&text, "p.json").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains(": isEnabeld: unknown field `isEnabeld`; expected one of: loginUrl"),
            "{problems:?}"
        );
        let text = SEED.replace("\"isSandbox\": true", "\"isSandbox\": \"sim-secret-do-not-use\"");
        let problems = parse(&text, "p.json").unwrap_err();
        assert!(problems[0].contains("isSandbox: invalid type: string \"***\""), "{problems:?}");
    }
}
