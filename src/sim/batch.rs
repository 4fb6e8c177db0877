//! `$batch`: multipart/mixed requests with atomic changesets, answered as F&O does (FNO.md §4).

use super::odata::{self, Ctx, Req};
use super::reply::Reply;
use super::state::Data;

/// One operation inside a batch.
#[derive(Debug)]
struct Op {
    content_id: Option<String>,
    method: String,
    /// Path after `/data/`, decoded.
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Debug)]
enum Part {
    Changeset(Vec<Op>),
    Single(Op),
}

/// The boundary parameter of a multipart content type.
pub fn boundary(content_type: &str) -> Option<String> {
    if !content_type.trim_start().to_ascii_lowercase().starts_with("multipart/mixed") {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The bodies between `--boundary` lines, up to `--boundary--`.
fn split_parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    let Some(first) = rest.find(&delimiter) else { return parts };
    rest = &rest[first + delimiter.len()..];
    loop {
        if rest.starts_with("--") {
            break;
        }
        let Some(end) = rest.find(&delimiter) else { break };
        let part = rest[..end].trim_start_matches([' ', '\t']);
        let part = part.strip_prefix("\r\n").or_else(|| part.strip_prefix('\n')).unwrap_or(part);
        let part = part.strip_suffix("\r\n").or_else(|| part.strip_suffix('\n')).unwrap_or(part);
        parts.push(part);
        rest = &rest[end + delimiter.len()..];
    }
    parts
}

/// Headers up to the first blank line, and what follows.
fn split_head(text: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = match (text.find("\r\n\r\n"), text.find("\n\n")) {
        (Some(a), Some(b)) if b < a => (&text[..b], &text[b + 2..]),
        (Some(a), _) => (&text[..a], &text[a + 4..]),
        (None, Some(b)) => (&text[..b], &text[b + 2..]),
        (None, None) => (text, ""),
    };
    let headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// One `application/http` part: its MIME headers, then the embedded request.
fn parse_op(part: &str) -> Result<Op, String> {
    let (mime, http) = split_head(part);
    let content_id = header(&mime, "content-id").map(str::to_string);
    let http = http.trim_start_matches(['\r', '\n']);
    let (line, rest) = http.split_once('\n').unwrap_or((http, ""));
    let mut words = line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!("The batch request line '{}' is not valid.", line.trim()));
    };
    let (headers, body) = split_head(rest);
    let (path, query) = data_path(url).ok_or_else(|| format!("The batch request URL '{url}' is not under /data/."))?;
    let body = body.strip_suffix("\r\n").or_else(|| body.strip_suffix('\n')).unwrap_or(body);
    Ok(Op { content_id, method: method.to_string(), path, query, headers, body: body.as_bytes().to_vec() })
}

/// The decoded path after `/data/` and the query pairs of an absolute or relative URL.
fn data_path(url: &str) -> Option<(String, Vec<(String, String)>)> {
    let without_host = match url.find("://") {
        Some(i) => &url[i + 3..][url[i + 3..].find('/').unwrap_or(url.len() - i - 3)..],
        None => url,
    };
    let (path, query) = without_host.split_once('?').unwrap_or((without_host, ""));
    let path =
        path.strip_prefix("/data/").or_else(|| path.strip_prefix("data/")).unwrap_or(path).trim_start_matches('/');
    let decoded = percent_decode(path);
    let pairs = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    Some((decoded, pairs))
}

/// Percent-decode a path (a `+` stays a `+` in a path).
pub fn percent_decode(path: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse(body: &str, boundary: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    for part in split_parts(body, boundary) {
        let (mime, content) = split_head(part);
        match header(&mime, "content-type").and_then(self::boundary) {
            Some(cs) => {
                let ops = split_parts(content, &cs).into_iter().map(parse_op).collect::<Result<Vec<_>, _>>()?;
                parts.push(Part::Changeset(ops));
            }
            None => parts.push(Part::Single(parse_op(part)?)),
        }
    }
    Ok(parts)
}

fn run_op(data: &mut Data, ctx: &Ctx, op: &Op) -> Reply {
    let prefer = header(&op.headers, "prefer").is_some_and(|p| p.contains("return=representation"));
    let req = Req {
        method: &op.method,
        path: &op.path,
        query: &op.query,
        if_match: header(&op.headers, "if-match"),
        prefer_representation: prefer,
        body: &op.body,
    };
    odata::handle(data, ctx, &req)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        412 => "Precondition Failed",
        _ => "Internal Server Error",
    }
}

/// One `application/http` response part.
fn http_part(out: &mut String, content_id: Option<&str>, reply: &Reply) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\nHTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)));
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&String::from_utf8_lossy(&reply.body));
    out.push_str("\r\n");
}

/// Run a `$batch`: each changeset all-or-nothing; 200 overall even when a changeset fails.
pub fn handle(data: &mut Data, ctx: &Ctx, content_type: Option<&str>, body: &[u8]) -> Reply {
    let Some(boundary) = content_type.and_then(boundary) else {
        return Reply::odata_error(
            400,
            "The content type of a $batch request must be multipart/mixed with a boundary.",
        );
    };
    let text = String::from_utf8_lossy(body);
    let parts = match parse(&text, &boundary) {
        Ok(p) => p,
        Err(m) => return Reply::odata_error(400, &m),
    };
    let outer = format!("batchresponse_{}", uuid::Uuid::new_v4());
    super::writes::defer_totals(data);
    let mut out = String::new();
    for part in parts {
        out.push_str(&format!("--{outer}\r\n"));
        match part {
            Part::Single(op) => {
                let reply = run_op(data, ctx, &op);
                http_part(&mut out, op.content_id.as_deref(), &reply);
            }
            Part::Changeset(ops) => {
                let backup = data.clone();
                let mut replies = Vec::new();
                let mut failed = None;
                for op in &ops {
                    let reply = run_op(data, ctx, op);
                    if reply.status >= 400 {
                        failed = Some(reply);
                        break;
                    }
                    replies.push(reply);
                }
                if let Some(reply) = failed {
                    *data = backup;
                    let first_id = ops.first().and_then(|o| o.content_id.as_deref());
                    http_part(&mut out, first_id, &reply);
                    continue;
                }
                let inner = format!("changesetresponse_{}", uuid::Uuid::new_v4());
                out.push_str(&format!("Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"));
                for (op, reply) in ops.iter().zip(&replies) {
                    out.push_str(&format!("--{inner}\r\n"));
                    http_part(&mut out, op.content_id.as_deref(), reply);
                }
                out.push_str(&format!("--{inner}--\r\n"));
            }
        }
    }
    out.push_str(&format!("--{outer}--\r\n"));
    super::writes::finish_deferred(data);
    Reply::text(200, &format!("multipart/mixed; boundary={outer}"), out).with_header("odata-version", "4.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changeset_parses_into_its_operations() {
        let body = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_2\r\n\r\n--changeset_2\r\n\
            Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
            PATCH https://env.example/data/LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00123',LineNumber=1) HTTP/1.1\r\n\
            Content-Type: application/json\r\nIf-Match: W/\"x\"\r\n\r\n{\"Text\":\"a\"}\r\n--changeset_2--\r\n--batch_1--\r\n";
        let parts = parse(body, "batch_1").unwrap();
        let Part::Changeset(ops) = &parts[0] else { panic!("expected a changeset") };
        assert_eq!(ops[0].method, "PATCH");
        assert_eq!(ops[0].path, "LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00123',LineNumber=1)");
        assert_eq!(header(&ops[0].headers, "if-match"), Some("W/\"x\""));
        assert_eq!(ops[0].body, b"{\"Text\":\"a\"}");
    }
}
