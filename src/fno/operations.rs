//! Decision operations: bound actions, JSON custom services, `$batch` changesets and `$metadata`.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::batch::{self, BatchOp, BatchPart};
use super::client::{FnoClient, JSON_MINIMAL, Req, Sent};
use super::error::{FnoError, parse_service_error};
use super::keys::{EntityKey, encode_path};
use super::odata::parse_json;
use super::retry::Idempotency;
use crate::model::ETag;

/// The namespace F&O puts entity types and actions in.
pub const NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";

/// What `GET /api/services/<Group>/<Service>/<Operation>` says about an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDescription {
    /// Parameter name and type, in order.
    pub parameters: Vec<(String, String)>,
    pub return_type: Option<String>,
}

impl FnoClient {
    /// Call an instance-bound action: `POST /data/<Set>(<keys>)/Microsoft.Dynamics.DataEntities.<Action>`,
    /// guarded by `If-Match` on its binding record (OData lets a bound action carry it; a record changed
    /// since `if_match` was read answers 412 and nothing happens). Returns the action's `value` (or whole
    /// JSON answer); None for 204. Never retried after sending.
    pub async fn bound_action(
        &self,
        set: &str,
        key: &EntityKey,
        action: &str,
        parameters: &Value,
        if_match: Option<&ETag>,
    ) -> Result<Sent<Option<Value>>, FnoError> {
        let mut req = self.keyed(
            Method::POST,
            set,
            key,
            Some(parameters.to_string()),
            if_match.cloned(),
            Idempotency::NonIdempotent,
        )?;
        let mut path = req.url.path().to_string();
        path.push_str(&format!("/{NAMESPACE}.{}", encode_path(action)));
        req.url.set_path(&path);
        req.what = format!("{set}{} action {action}", key.odata());
        let Some(reply) = self.execute(req).await? else { return Ok(Sent::DryRun) };
        if reply.body.trim().is_empty() {
            return Ok(Sent::Done(None));
        }
        Ok(Sent::Done(Some(action_value(&reply.body, action)?)))
    }

    /// Call a collection-bound action: `POST /data/<Set>/Microsoft.Dynamics.DataEntities.<Action>` (F&O's
    /// static methods, e.g. the `WorkflowWorkItems` validate and complete actions, which take the
    /// instance as a parameter). `read_only` says the action changes nothing (validate), so a dry run
    /// sends it and a lost answer may be asked again; otherwise it is never retried after sending.
    /// Returns the action's `value` (or whole JSON answer); None for 204.
    pub async fn collection_action(
        &self,
        set: &str,
        action: &str,
        parameters: &Value,
        read_only: bool,
    ) -> Result<Sent<Option<Value>>, FnoError> {
        let idempotency = if read_only { Idempotency::Safe } else { Idempotency::NonIdempotent };
        let req = Req {
            method: Method::POST,
            url: self.url(&format!("data/{}/{NAMESPACE}.{}", encode_path(set), encode_path(action)))?,
            body: Some((JSON_MINIMAL.to_string(), parameters.to_string())),
            if_match: None,
            accept: JSON_MINIMAL,
            idempotency,
            what: format!("{set} action {action}"),
        };
        let Some(reply) = self.execute(req).await? else { return Ok(Sent::DryRun) };
        if reply.body.trim().is_empty() {
            return Ok(Sent::Done(None));
        }
        Ok(Sent::Done(Some(action_value(&reply.body, action)?)))
    }

    /// Describe a JSON custom service operation (`<Group>/<Service>/<Operation>`) with a GET.
    pub async fn describe_service(&self, service: &str) -> Result<ServiceDescription, FnoError> {
        let req = self.service_req(Method::GET, service, None, Idempotency::Safe)?;
        let reply = self.execute(req).await?.ok_or_else(|| FnoError::InvalidResponse {
            context: service.to_string(),
            reason: "a describe call was not sent".into(),
        })?;
        let value = parse_json(&reply.body, service)?;
        let parameters = value["Parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        Some((p["Name"].as_str()?.to_string(), p["Type"].as_str().unwrap_or("").to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let return_type = value["Return"]["Type"].as_str().map(String::from);
        Ok(ServiceDescription { parameters, return_type })
    }

    /// Invoke a JSON custom service operation with a POST; the answer is its serialized return value.
    pub async fn invoke_service(&self, service: &str, parameters: &Value) -> Result<Sent<Value>, FnoError> {
        let req = self.service_req(Method::POST, service, Some(parameters.to_string()), Idempotency::NonIdempotent)?;
        let Some(reply) = self.execute(req).await? else { return Ok(Sent::DryRun) };
        if reply.body.trim().is_empty() {
            return Ok(Sent::Done(Value::Null));
        }
        Ok(Sent::Done(parse_json(&reply.body, service)?))
    }

    /// Send `ops` as ONE atomic changeset. F&O answers 200 even when the changeset failed, so each part
    /// is checked: any failed part becomes the error (nothing in the changeset was committed).
    pub async fn batch(&self, ops: &[BatchOp]) -> Result<Sent<Vec<BatchPart>>, FnoError> {
        let data_url = self.url("data")?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (content_type, body) = batch::build(data_url.as_str(), ops, &id, self.encoder())?;
        let req = Req {
            method: Method::POST,
            url: self.url("data/$batch")?,
            body: Some((content_type, body)),
            if_match: None,
            accept: "multipart/mixed",
            idempotency: Idempotency::NonIdempotent,
            what: "$batch".into(),
        };
        let Some(reply) = self.execute(req).await? else { return Ok(Sent::DryRun) };
        let content_type =
            reply.headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let parts = batch::parse(&content_type, &reply.body)
            .map_err(|reason| FnoError::InvalidResponse { context: "$batch".into(), reason })?;
        if let Some(failed) = parts.iter().find(|p| p.status >= 400) {
            return Err(changeset_error(failed, ops));
        }
        if parts.len() != ops.len() {
            return Err(FnoError::InvalidResponse {
                context: "$batch".into(),
                reason: format!("{} operation(s) sent but {} answer(s) came back", ops.len(), parts.len()),
            });
        }
        Ok(Sent::Done(parts))
    }

    /// The CSDL document from `/data/$metadata`.
    pub async fn metadata_xml(&self) -> Result<String, FnoError> {
        let req = Req {
            method: Method::GET,
            url: self.url("data/$metadata")?,
            body: None,
            if_match: None,
            accept: "application/xml",
            idempotency: Idempotency::Safe,
            what: "$metadata".into(),
        };
        let reply = self.execute(req).await?.ok_or_else(|| FnoError::InvalidResponse {
            context: "$metadata".into(),
            reason: "the read was not sent".into(),
        })?;
        Ok(reply.body)
    }

    fn service_req(
        &self,
        method: Method,
        service: &str,
        body: Option<String>,
        idempotency: Idempotency,
    ) -> Result<Req, FnoError> {
        let segments: Vec<&str> = service.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() != 3 {
            return Err(FnoError::InvalidUrl {
                url: service.to_string(),
                reason: "a custom service is named <Group>/<Service>/<Operation>".into(),
            });
        }
        let path: Vec<String> = segments.iter().map(|s| encode_path(s)).collect();
        Ok(Req {
            method,
            url: self.url(&format!("api/services/{}", path.join("/")))?,
            body: body.map(|b| (JSON_MINIMAL.to_string(), b)),
            if_match: None,
            accept: JSON_MINIMAL,
            idempotency,
            what: format!("custom service {service}"),
        })
    }
}

/// An action's answer: its `value`, or the whole JSON answer when it has none.
pub fn action_value(body: &str, action: &str) -> Result<Value, FnoError> {
    let value = parse_json(body, action)?;
    Ok(value.get("value").cloned().unwrap_or(value))
}

fn changeset_error(failed: &BatchPart, ops: &[BatchOp]) -> FnoError {
    let body = parse_service_error(&failed.body);
    // F&O labels the failed part Content-ID 1 whatever operation failed (FNO.md §4), so name the changeset.
    let what = match ops {
        [single] => single.what.clone(),
        _ => format!("one of the {} records in the $batch changeset", ops.len()),
    };
    match failed.status {
        412 => FnoError::PreconditionFailed { what },
        403 => FnoError::Forbidden { entity: what, infolog: body.infolog.or(body.message) },
        404 => FnoError::NotFound { what },
        status => FnoError::ChangesetFailed {
            status,
            content_id: failed.content_id.clone(),
            message: body.message,
            infolog: body.infolog,
        },
    }
}
