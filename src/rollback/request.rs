//! A compensating request as the approver sees it, and how its path reads.
//!
//! These are summaries for review; the connector builds (and percent-encodes) the real requests.

use serde::Serialize;

use crate::config::{Operation, OperationKind};
use crate::model::{FieldValue, Fields};
use crate::text::visible;

/// One request of a compensation recipe. Every string is visible-escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedRequest {
    /// `PATCH` or `POST`.
    pub method: String,
    /// Path under the environment URL, e.g. `/data/VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-101')`.
    pub path: String,
    /// The `If-Match` header: an ETag, or a description of which one (`the ETag returned by the write`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    /// The body, summarised as compact JSON.
    pub body: String,
    /// Why this request is in the recipe.
    pub purpose: String,
}

/// `Set(key='value',Number=1)`, keys in name order, `'` doubled as OData requires.
pub fn entity_path(entity_set: &str, keys: &Fields) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|(k, v)| match v {
            FieldValue::Text(s) => format!("{k}='{}'", s.replace('\'', "''")),
            other => format!("{k}={}", other.to_json()),
        })
        .collect();
    visible(&format!("/data/{entity_set}({})", keys.join(","))).into_owned()
}

/// Compact JSON of fields, visible-escaped.
pub fn body_of(fields: &Fields) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
    visible(&serde_json::Value::Object(map).to_string()).into_owned()
}

/// A date for an operation parameter, in the form the parameter's declared type needs: `Edm.Date` (or a
/// custom service's `Date`) as `2026-01-31`; a date-time (and anything undeclared) as F&O writes a
/// date-only value, `2026-01-31T12:00:00Z`. The plan shows, and the rollback sends, this same text.
pub fn date_parameter(
    op: &Operation,
    catalog: Option<&crate::fno::Catalog>,
    logical: &str,
    date: chrono::NaiveDate,
) -> String {
    let declared = op.parameters.get(logical).and_then(|param| {
        let catalog = catalog?;
        let params = match op.kind {
            OperationKind::BoundAction => {
                let action = op.action.as_deref()?;
                &catalog.actions.iter().find(|a| a.name == action)?.parameters
            }
            OperationKind::CustomService => &catalog.service(op.service.as_deref()?)?.parameters,
        };
        params.iter().find(|(name, _)| name == param).map(|(_, ty)| ty.clone())
    });
    match declared.as_deref() {
        Some("Edm.Date" | "Date") => date.to_string(),
        _ => format!("{date}T12:00:00Z"),
    }
}

/// The request that invokes a configured operation on the target, with its logical parameters mapped to
/// the X++ parameter names. `values` gives the logical parameters signoff supplies.
pub fn operation_request(
    op: &Operation,
    target_set: &str,
    keys: &Fields,
    values: &[(&str, String)],
    purpose: String,
) -> PlannedRequest {
    let path = match op.kind {
        OperationKind::BoundAction => {
            let set = op.entity_set.as_deref().unwrap_or(target_set);
            let action = op.action.as_deref().unwrap_or("?");
            format!("{}/Microsoft.Dynamics.DataEntities.{}", entity_path(set, keys), visible(action))
        }
        OperationKind::CustomService => format!("/api/services/{}", visible(op.service.as_deref().unwrap_or("?"))),
    };
    let mut body = serde_json::Map::new();
    for (logical, xpp) in &op.parameters {
        let value = values
            .iter()
            .find(|(name, _)| name == logical)
            .map(|(_, v)| serde_json::Value::String(v.clone()))
            .or_else(|| keys.iter().find(|(k, _)| k.eq_ignore_ascii_case(logical)).map(|(_, v)| v.to_json()))
            .unwrap_or_else(|| serde_json::Value::String(format!("<{logical}>")));
        body.insert(xpp.clone(), value);
    }
    PlannedRequest {
        method: "POST".into(),
        path,
        if_match: None,
        body: visible(&serde_json::Value::Object(body).to_string()).into_owned(),
        purpose,
    }
}
