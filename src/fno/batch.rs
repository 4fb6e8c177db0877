//! `$batch` as multipart/mixed with one atomic changeset (FNO.md §4): building the request, reading the answer.

use crate::model::{ETag, Fields};

use super::encode::{EncodeError, Encoder};
use super::keys::{EntityKey, encode_path, entity_path};

/// One operation inside the changeset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOp {
    pub method: &'static str,
    /// The entity set written; its `$metadata` types encode `fields`.
    pub entity_set: String,
    /// Relative to `/data/`, percent-encoded: `VendorInvoiceLines(dataAreaId='usmf',…)`.
    pub path: String,
    pub if_match: Option<ETag>,
    /// The fields to send (PATCH, POST); the body is encoded from them when the request is built.
    pub fields: Option<Fields>,
    /// A bound action's parameters, sent as they are: X++ parameters, not entity properties.
    pub parameters: Option<serde_json::Value>,
    /// The record, for messages.
    pub what: String,
}

impl BatchOp {
    /// PATCH the given fields under `If-Match`.
    pub fn patch(set: &str, key: &EntityKey, fields: &Fields, if_match: &ETag) -> Self {
        BatchOp {
            method: "PATCH",
            entity_set: set.into(),
            path: keyed_path(set, key),
            if_match: Some(if_match.clone()),
            fields: Some(fields.clone()),
            parameters: None,
            what: format!("{set}{}", key.odata()),
        }
    }

    /// POST a new record.
    pub fn post(set: &str, fields: &Fields) -> Self {
        BatchOp {
            method: "POST",
            entity_set: set.into(),
            path: encode_path(set),
            if_match: None,
            fields: Some(fields.clone()),
            parameters: None,
            what: set.into(),
        }
    }

    /// DELETE a record under `If-Match`.
    pub fn delete(set: &str, key: &EntityKey, if_match: &ETag) -> Self {
        BatchOp {
            method: "DELETE",
            entity_set: set.into(),
            path: keyed_path(set, key),
            if_match: Some(if_match.clone()),
            fields: None,
            parameters: None,
            what: format!("{set}{}", key.odata()),
        }
    }
}

impl BatchOp {
    /// POST an instance-bound action on the record, inside the changeset so it commits or fails together
    /// with the corrections before it. `if_match` guards its binding record when no earlier part of the
    /// changeset changes that record (an earlier guarded PATCH of it already binds the changeset).
    pub fn action(
        set: &str,
        key: &EntityKey,
        action: &str,
        parameters: &serde_json::Value,
        if_match: Option<&ETag>,
    ) -> Self {
        let keyed = entity_path(set, key);
        let suffix = if key.has_company() { "?cross-company=true" } else { "" };
        BatchOp {
            method: "POST",
            entity_set: set.into(),
            path: format!("{keyed}/{}.{}{suffix}", super::operations::NAMESPACE, encode_path(action)),
            if_match: if_match.cloned(),
            fields: None,
            parameters: Some(parameters.clone()),
            what: format!("{set}{} action {action}", key.odata()),
        }
    }
}

fn keyed_path(set: &str, key: &EntityKey) -> String {
    let suffix = if key.has_company() { "?cross-company=true" } else { "" };
    format!("{}{suffix}", entity_path(set, key))
}

/// One operation's answer inside the changeset response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPart {
    pub content_id: Option<String>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The multipart body for one changeset holding `ops`, each body encoded by `encoder`; returns
/// (Content-Type, body). `data_url` is the absolute `…/data` URL operations are addressed under.
pub fn build(data_url: &str, ops: &[BatchOp], id: &str, encoder: Encoder<'_>) -> Result<(String, String), EncodeError> {
    let batch = format!("batch_{id}");
    let changeset = format!("changeset_{id}");
    let mut out = String::new();
    out.push_str(&format!("--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"));
    for (i, op) in ops.iter().enumerate() {
        out.push_str(&format!(
            "--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n",
            i + 1
        ));
        out.push_str(&format!("{} {}/{} HTTP/1.1\r\n", op.method, data_url.trim_end_matches('/'), op.path));
        out.push_str("OData-Version: 4.0\r\nOData-MaxVersion: 4.0\r\n");
        out.push_str(&format!("Accept: {}\r\n", super::client::JSON_MINIMAL));
        if let Some(etag) = &op.if_match {
            out.push_str(&format!("If-Match: {}\r\n", etag.as_str()));
        }
        match &op.fields {
            Some(fields) => {
                let body = encoder.body(&op.entity_set, fields)?;
                out.push_str(&format!("Content-Type: {}\r\n\r\n{body}\r\n", super::client::JSON_MINIMAL));
            }
            None => match &op.parameters {
                Some(parameters) => {
                    out.push_str(&format!("Content-Type: {}\r\n\r\n{parameters}\r\n", super::client::JSON_MINIMAL))
                }
                None => out.push_str("\r\n"),
            },
        }
    }
    out.push_str(&format!("--{changeset}--\r\n--{batch}--\r\n"));
    Ok((format!("multipart/mixed; boundary={batch}"), out))
}

/// Read a `$batch` answer into its operation parts (changesets flattened, in order).
pub fn parse(content_type: &str, body: &str) -> Result<Vec<BatchPart>, String> {
    let boundary = boundary_of(content_type)
        .ok_or_else(|| format!("the $batch answer is not multipart (Content-Type: {content_type})"))?;
    let mut parts = Vec::new();
    parse_multipart(&boundary, body, &mut parts, 0)?;
    Ok(parts)
}

fn boundary_of(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.trim_start().starts_with("multipart/") {
        return None;
    }
    content_type.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

fn parse_multipart(boundary: &str, body: &str, out: &mut Vec<BatchPart>, depth: u8) -> Result<(), String> {
    if depth > 2 {
        return Err("the $batch answer nests too deeply".into());
    }
    let delimiter = format!("--{boundary}");
    let mut found_close = false;
    for segment in body.split(delimiter.as_str()).skip(1) {
        if segment.starts_with("--") {
            found_close = true;
            break;
        }
        let segment = segment.strip_prefix("\r\n").or_else(|| segment.strip_prefix('\n')).unwrap_or(segment);
        let (headers, content) = split_head(segment);
        let headers = header_lines(headers);
        let part_type = header(&headers, "content-type").unwrap_or_default();
        if let Some(inner) = boundary_of(&part_type) {
            parse_multipart(&inner, content, out, depth + 1)?;
        } else {
            out.push(parse_http_response(content, header(&headers, "content-id"))?);
        }
    }
    if !found_close {
        return Err(format!("the $batch answer has no closing boundary --{boundary}--"));
    }
    Ok(())
}

/// `HTTP/1.1 204 No Content\r\nHeaders\r\n\r\nbody`.
fn parse_http_response(text: &str, mime_content_id: Option<String>) -> Result<BatchPart, String> {
    let (head, body) = split_head(text);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("").trim();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("a $batch part has no HTTP status line (found `{status_line}`)"))?;
    let headers = header_lines(&lines.collect::<Vec<_>>().join("\n"));
    let content_id = mime_content_id.or_else(|| header(&headers, "content-id"));
    Ok(BatchPart { content_id, status, headers, body: body.trim_end_matches(['\r', '\n']).to_string() })
}

fn split_head(text: &str) -> (&str, &str) {
    let crlf = text.find("\r\n\r\n").map(|i| (i, 4));
    let lf = text.find("\n\n").map(|i| (i, 2));
    match [crlf, lf].into_iter().flatten().min_by_key(|(i, _)| *i) {
        Some((i, n)) => (&text[..i], &text[i + n..]),
        None => (text, ""),
    }
}

fn header_lines(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::model::FieldValue;

    #[test]
    fn request_holds_one_changeset_with_numbered_operations() {
        let mut fields = Fields::new();
        fields.insert("DebitAmount".into(), FieldValue::Number(Decimal::new(125050, 2)));
        let key = EntityKey::new()
            .text("dataAreaId", "usmf")
            .text("JournalBatchNumber", "00461")
            .number("LineNumber", 1.into());
        let ops = vec![
            BatchOp::patch("LedgerJournalLines", &key, &fields, &ETag("W/\"JzEsNjg3MTk1MTIyNjEn\"".into())),
            BatchOp::delete("LedgerJournalLines", &key, &ETag("W/\"x\"".into())),
        ];
        let (ct, body) =
            build("https://usmf.sandbox.operations.dynamics.com/data", &ops, "b1", Encoder::default()).unwrap();
        assert_eq!(ct, "multipart/mixed; boundary=batch_b1");
        assert!(body.starts_with("--batch_b1\r\nContent-Type: multipart/mixed; boundary=changeset_b1\r\n\r\n"));
        assert!(body.contains("Content-ID: 1\r\n\r\nPATCH https://usmf.sandbox.operations.dynamics.com/data/LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00461',LineNumber=1)?cross-company=true HTTP/1.1\r\n"));
        assert!(body.contains("If-Match: W/\"JzEsNjg3MTk1MTIyNjEn\"\r\n"));
        assert!(body.contains("{\"DebitAmount\":1250.50}"));
        assert!(body.contains("Content-ID: 2\r\n"));
        assert!(body.ends_with("--changeset_b1--\r\n--batch_b1--\r\n"));
    }

    #[test]
    fn with_a_catalog_each_part_is_encoded_by_its_property_types() {
        let csdl = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
            <Schema Namespace="Microsoft.Dynamics.DataEntities" xmlns="http://docs.oasis-open.org/odata/ns/edm">
              <EntityType Name="SystemUser"><Key><PropertyRef Name="UserID"/></Key>
                <Property Name="UserID" Type="Edm.String" Nullable="false" MaxLength="20"/>
                <Property Name="Enabled" Type="Edm.Boolean" Nullable="false"/></EntityType>
              <EntityContainer Name="Resources">
                <EntitySet Name="SystemUsers" EntityType="Microsoft.Dynamics.DataEntities.SystemUser"/>
              </EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#;
        let catalog = crate::fno::parse_csdl(csdl).unwrap();
        let key = EntityKey::new().text("UserID", "jmorales");
        let mut fields = Fields::new();
        fields.insert("Enabled".into(), FieldValue::Text("No".into()));
        let ops = vec![BatchOp::patch("SystemUsers", &key, &fields, &ETag("W/\"x\"".into()))];
        let data = "https://usmf.sandbox.operations.dynamics.com/data";
        let (_, body) = build(data, &ops, "b2", Encoder::new(Some(&catalog))).unwrap();
        assert!(body.contains("\r\n\r\n{\"Enabled\":false}\r\n"), "{body}");
        fields.insert("Enabled".into(), FieldValue::Text("Perhaps".into()));
        let ops = vec![BatchOp::patch("SystemUsers", &key, &fields, &ETag("W/\"x\"".into()))];
        let err = build(data, &ops, "b3", Encoder::new(Some(&catalog))).unwrap_err();
        assert!(err.to_string().starts_with("Enabled is Edm.Boolean"), "{err}");
    }

    #[test]
    fn a_successful_changeset_answer_gives_every_part() {
        let body = "--batchresponse_9\r\nContent-Type: multipart/mixed; boundary=changesetresponse_7\r\n\r\n\
            --changesetresponse_7\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
            HTTP/1.1 204 No Content\r\nETag: W/\"new1\"\r\n\r\n\r\n\
            --changesetresponse_7\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
            HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{\"LineNumber\":3}\r\n\
            --changesetresponse_7--\r\n--batchresponse_9--\r\n";
        let parts = parse("multipart/mixed; boundary=batchresponse_9", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].status, parts[0].content_id.as_deref()), (204, Some("1")));
        assert_eq!(header(&parts[0].headers, "etag").as_deref(), Some("W/\"new1\""));
        assert_eq!((parts[1].status, parts[1].body.as_str()), (201, "{\"LineNumber\":3}"));
    }

    #[test]
    fn a_failed_changeset_answer_is_one_error_part() {
        let body = "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n\
            --changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
            HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n\
            {\"error\":{\"code\":\"\",\"message\":\"An error has occurred.\",\"innererror\":{\"message\":\"Journal is out of balance.\"}}}\r\n\
            --changesetresponse_2--\r\n--batchresponse_1--";
        let parts = parse("multipart/mixed; boundary=batchresponse_1", body).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].status, 500);
        assert!(parts[0].body.contains("out of balance"));
    }

    #[test]
    fn a_truncated_answer_is_an_error() {
        let err = parse(
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        );
        assert!(err.unwrap_err().contains("closing boundary"));
        assert!(parse("application/json", "{}").is_err());
    }
}
