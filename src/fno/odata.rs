//! Entity reads and writes: one record with its ETag, collections with paging, PATCH/POST/DELETE.

use reqwest::Method;
use serde_json::Value;

use super::client::{FnoClient, JSON_MINIMAL, Req, Sent};
use super::error::FnoError;
use super::keys::{EntityKey, encode_path, encode_query_value, entity_path};
use super::retry::Idempotency;
use crate::model::{ETag, FieldValue, Fields};

/// One record as F&O sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub fields: Fields,
    pub etag: ETag,
}

/// One row of a collection (F&O sends an ETag per row; a row without one gets None).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub fields: Fields,
    pub etag: Option<ETag>,
}

/// Collection query options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `$filter`, e.g. `JournalBatchNumber eq '00461'` (build literals with [`super::keys::string_literal`]).
    pub filter: Option<String>,
    pub select: Vec<String>,
    pub orderby: Option<String>,
    pub top: Option<u32>,
    pub count: bool,
    /// `cross-company=true`: all companies the user can access, not just the default one.
    pub cross_company: bool,
}

impl Query {
    /// The query string, percent-encoded (`$filter=…&$select=…`).
    /// The rows whose fields equal `fields` (`A eq 'x' and B eq 2`), each value an OData literal: the one
    /// place signoff builds such a `$filter`.
    pub fn matching(fields: &crate::model::Fields) -> Query {
        let filter: Vec<String> = fields
            .iter()
            .map(|(name, value)| match value {
                crate::model::FieldValue::Text(s) => format!("{name} eq {}", super::keys::string_literal(s)),
                crate::model::FieldValue::Null => format!("{name} eq null"),
                other => format!("{name} eq {other}"),
            })
            .collect();
        Query { filter: (!filter.is_empty()).then(|| filter.join(" and ")), ..Default::default() }
    }

    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.filter {
            parts.push(format!("$filter={}", encode_query_value(f)));
        }
        if !self.select.is_empty() {
            parts.push(format!("$select={}", encode_query_value(&self.select.join(","))));
        }
        if let Some(o) = &self.orderby {
            parts.push(format!("$orderby={}", encode_query_value(o)));
        }
        if let Some(t) = self.top {
            parts.push(format!("$top={t}"));
        }
        if self.count {
            parts.push("$count=true".into());
        }
        if self.cross_company {
            parts.push("cross-company=true".into());
        }
        parts.join("&")
    }
}

/// Every row of a query, all pages followed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub rows: Vec<Row>,
    /// `@odata.count`, when `$count=true` was asked.
    pub count: Option<u64>,
    /// How many pages were read.
    pub pages: u32,
}

impl FnoClient {
    /// Read one record and its ETag.
    pub async fn get_entity(&self, set: &str, key: &EntityKey) -> Result<Entity, FnoError> {
        let req = self.keyed(Method::GET, set, key, None, None, Idempotency::Safe)?;
        let reply = self.execute(req).await?.ok_or_else(dry_read)?;
        let what = format!("{set}{}", key.odata());
        let value = parse_json(&reply.body, &what)?;
        let row = row_from_json(&value, &what)?;
        let etag = row.etag.or_else(|| header_etag(&reply.headers)).ok_or_else(|| FnoError::InvalidResponse {
            context: what,
            reason: "the record came without an ETag (@odata.etag)".into(),
        })?;
        Ok(Entity { fields: row.fields, etag })
    }

    /// Read a collection, following `@odata.nextLink` until the last page.
    pub async fn query(&self, set: &str, query: &Query) -> Result<QueryResult, FnoError> {
        let qs = query.to_query_string();
        let path = if qs.is_empty() {
            format!("data/{}", encode_path(set))
        } else {
            format!("data/{}?{qs}", encode_path(set))
        };
        let mut url = self.url(&path)?;
        let mut result = QueryResult { rows: Vec::new(), count: None, pages: 0 };
        loop {
            let req = Req {
                method: Method::GET,
                url: url.clone(),
                body: None,
                if_match: None,
                accept: JSON_MINIMAL,
                idempotency: Idempotency::Safe,
                what: set.to_string(),
            };
            let reply = self.execute(req).await?.ok_or_else(dry_read)?;
            let page = parse_json(&reply.body, set)?;
            result.pages += 1;
            if result.count.is_none() {
                result.count = page["@odata.count"].as_u64();
            }
            let values = page["value"].as_array().ok_or_else(|| FnoError::InvalidResponse {
                context: set.to_string(),
                reason: "the collection has no `value` array".into(),
            })?;
            result.rows.reserve(values.len());
            for v in values {
                result.rows.push(row_from_json(v, set)?);
            }
            match page["@odata.nextLink"].as_str() {
                Some(next) => {
                    url = url.join(next).map_err(|e| FnoError::InvalidResponse {
                        context: set.to_string(),
                        reason: format!("unreadable @odata.nextLink: {e}"),
                    })?;
                    self.same_environment(&url)?;
                }
                None => return Ok(result),
            }
        }
    }

    /// Update the given fields under `If-Match`; returns the new ETag when F&O sends one.
    pub async fn patch(
        &self,
        set: &str,
        key: &EntityKey,
        fields: &Fields,
        if_match: &ETag,
    ) -> Result<Sent<Option<ETag>>, FnoError> {
        let body = self.encoder().body(set, fields)?;
        let req = self.keyed(Method::PATCH, set, key, Some(body), Some(if_match.clone()), Idempotency::Conditional)?;
        Ok(match self.execute(req).await? {
            None => Sent::DryRun,
            Some(reply) => Sent::Done(header_etag(&reply.headers)),
        })
    }

    /// Create a record; F&O answers 201 with the record and its ETag.
    pub async fn post(&self, set: &str, fields: &Fields) -> Result<Sent<Entity>, FnoError> {
        let req = Req {
            method: Method::POST,
            url: self.url(&format!("data/{}", encode_path(set)))?,
            body: Some((JSON_MINIMAL.to_string(), self.encoder().body(set, fields)?)),
            if_match: None,
            accept: JSON_MINIMAL,
            idempotency: Idempotency::NonIdempotent,
            what: set.to_string(),
        };
        let Some(reply) = self.execute(req).await? else { return Ok(Sent::DryRun) };
        let value = parse_json(&reply.body, set)?;
        let row = row_from_json(&value, set)?;
        let etag = row.etag.or_else(|| header_etag(&reply.headers)).unwrap_or_else(|| ETag(String::new()));
        Ok(Sent::Done(Entity { fields: row.fields, etag }))
    }

    /// Delete a record under `If-Match`.
    pub async fn delete(&self, set: &str, key: &EntityKey, if_match: &ETag) -> Result<Sent<()>, FnoError> {
        let req = self.keyed(Method::DELETE, set, key, None, Some(if_match.clone()), Idempotency::Conditional)?;
        Ok(match self.execute(req).await? {
            None => Sent::DryRun,
            Some(_) => Sent::Done(()),
        })
    }

    /// A request on `Set(keys)`; a key naming a company gets `cross-company=true` so any company resolves.
    pub(crate) fn keyed(
        &self,
        method: Method,
        set: &str,
        key: &EntityKey,
        body: Option<String>,
        if_match: Option<ETag>,
        idempotency: Idempotency,
    ) -> Result<Req, FnoError> {
        let typed = self.catalog().map(|c| key.typed_by(c, set));
        let key = typed.as_ref().unwrap_or(key);
        let suffix = if key.has_company() { "?cross-company=true" } else { "" };
        Ok(Req {
            method,
            url: self.url(&format!("data/{}{suffix}", entity_path(set, key)))?,
            body: body.map(|b| (JSON_MINIMAL.to_string(), b)),
            if_match,
            accept: JSON_MINIMAL,
            idempotency,
            what: format!("{set}{}", key.odata()),
        })
    }
}

fn dry_read() -> FnoError {
    FnoError::InvalidResponse { context: "dry run".into(), reason: "a read was not sent".into() }
}

/// The ETag header, when present.
pub(crate) fn header_etag(headers: &reqwest::header::HeaderMap) -> Option<ETag> {
    headers.get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(|s| ETag(s.to_string()))
}

pub(crate) fn parse_json(body: &str, what: &str) -> Result<Value, FnoError> {
    serde_json::from_str(body)
        .map_err(|e| FnoError::InvalidResponse { context: what.to_string(), reason: format!("not JSON: {e}") })
}

/// A record's fields and ETag; OData annotations (`@odata.*`, `X@odata.*`) are left out.
pub(crate) fn row_from_json(value: &Value, what: &str) -> Result<Row, FnoError> {
    let object = value.as_object().ok_or_else(|| FnoError::InvalidResponse {
        context: what.to_string(),
        reason: "expected a JSON object for the record".into(),
    })?;
    let mut fields = Fields::new();
    let mut etag = None;
    for (name, v) in object {
        if name == "@odata.etag" {
            etag = v.as_str().map(|s| ETag(s.to_string()));
        } else if !name.contains('@') {
            let field = FieldValue::from_json(v)
                .map_err(|reason| FnoError::InvalidResponse { context: format!("{what}, field {name}"), reason })?;
            fields.insert(name.clone(), field);
        }
    }
    Ok(Row { fields, etag })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_encodes_filter_and_flags() {
        let q = Query {
            filter: Some("JournalBatchNumber eq '00461'".into()),
            select: vec!["LineNumber".into(), "DebitAmount".into()],
            top: Some(100),
            count: true,
            cross_company: true,
            ..Default::default()
        };
        assert_eq!(
            q.to_query_string(),
            "$filter=JournalBatchNumber%20eq%20'00461'&$select=LineNumber,DebitAmount&$top=100&$count=true&cross-company=true"
        );
    }

    #[test]
    fn rows_keep_exact_amounts_and_drop_annotations() {
        let v: Value = serde_json::from_str(
            r#"{"@odata.etag":"W/\"JzEsNjg3MTk1MTIyNjEn\"","dataAreaId":"usmf","ImportedAmount":98765432109876543.21,"Vendor@odata.navigationLink":"x"}"#,
        )
        .unwrap();
        let row = row_from_json(&v, "VendorInvoiceHeaders").unwrap();
        assert_eq!(row.etag, Some(ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into())));
        assert_eq!(row.fields["ImportedAmount"].to_string(), "98765432109876543.21");
        assert_eq!(row.fields.len(), 2);
    }
}
