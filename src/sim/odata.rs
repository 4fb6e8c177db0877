//! `/data/`: routing of OData requests, and the reads (single entity, collections with paging).

use serde_json::{Map, Value, json};

use super::dialect::{Dialect, NextLink};
use super::reply::Reply;
use super::schema::{ENTITIES, EntityDef, NAMESPACE, entity};
use super::state::{Data, Record};
use super::{keys, metadata, ops, query, writes};

/// What a request may see and do: the caller's identity and the environment's settings.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The environment URL (no trailing slash).
    pub base: String,
    /// The mapped F&O user.
    pub user: String,
    /// The user's default company, lowercase.
    pub company: String,
    pub page_size: usize,
    /// Closed periods, `YYYY-MM`.
    pub closed_periods: Vec<String>,
    /// How this environment names its decision operations and pages.
    pub dialect: Dialect,
}

/// An OData request, decoded.
#[derive(Debug)]
pub struct Req<'a> {
    pub method: &'a str,
    /// The path after `/data/`, percent-decoded.
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub if_match: Option<&'a str>,
    pub prefer_representation: bool,
    pub body: &'a [u8],
}

impl Req<'_> {
    pub fn cross_company(&self) -> bool {
        self.query.iter().any(|(k, v)| k == "cross-company" && v.eq_ignore_ascii_case("true"))
    }
}

/// Answer one OData request (not `$batch`, which is split up before it gets here).
pub fn handle(data: &mut Data, ctx: &Ctx, req: &Req) -> Reply {
    match req.path {
        "" => return service_document(ctx),
        "$metadata" => return Reply::text(200, "application/xml", metadata::csdl(ctx.dialect)),
        _ => {}
    }
    let path = match keys::split(req.path) {
        Ok(p) => p,
        Err(m) => return Reply::odata_error(400, &m),
    };
    let Some(def) = entity(&path.set) else {
        return Reply::odata_error(
            404,
            &format!("No HTTP resource was found that matches the request URI '{}/data/{}'.", ctx.base, req.path),
        );
    };
    let key = match path.keys.as_deref().map(|k| keys::parse(def, k)).transpose() {
        Ok(k) => k,
        Err(m) => return Reply::odata_error(400, &m),
    };
    match (key, path.tail.as_deref(), req.method) {
        (None, None, "GET") => read_collection(data, ctx, def, req),
        (None, Some("$count"), "GET") => count(data, ctx, def, req),
        (None, None, "POST") => writes::create(data, ctx, def, req),
        (None, Some(action), "POST") if def.set == super::workflow::SET => {
            let names = ctx.dialect.work_items();
            match action.strip_prefix(&format!("{NAMESPACE}.")) {
                Some(name) if name == names.validate || name == names.complete => {
                    super::workflow::collection_action(data, ctx, name, req)
                }
                _ => Reply::not_found(action),
            }
        }
        (Some(k), None, "GET") => read_single(data, ctx, def, &k, req),
        (Some(k), None, "PATCH" | "PUT" | "MERGE") => writes::update(data, ctx, def, &k, req),
        (Some(k), None, "DELETE") => writes::delete(data, ctx, def, &k, req),
        (Some(k), Some(action), "POST") => match action.strip_prefix(&format!("{NAMESPACE}.")) {
            Some(name) if ctx.dialect.bound_action(def.set, name).is_some() => {
                ops::bound_action(data, ctx, def, &k, name, req)
            }
            _ => Reply::not_found(action),
        },
        (_, Some(tail), _) if tail.starts_with(NAMESPACE) => {
            Reply::odata_error(405, &format!("The requested resource does not support http method '{}'.", req.method))
        }
        (_, Some(tail), _) => Reply::not_found(tail),
        _ => Reply::odata_error(405, &format!("The requested resource does not support http method '{}'.", req.method)),
    }
}

fn service_document(ctx: &Ctx) -> Reply {
    let sets: Vec<Value> = ENTITIES.iter().map(|e| json!({"name": e.set, "kind": "EntitySet", "url": e.set})).collect();
    Reply::json(200, &json!({"@odata.context": format!("{}/data/$metadata", ctx.base), "value": sets}))
}

/// Whether the caller sees this record without or with `cross-company=true`.
pub fn visible(def: &EntityDef, ctx: &Ctx, fields: &Map<String, Value>, cross_company: bool) -> bool {
    !def.company_scoped()
        || cross_company
        || fields.get("dataAreaId").and_then(Value::as_str).is_some_and(|c| c.eq_ignore_ascii_case(&ctx.company))
}

/// A visible record by key, or a 404 reply.
pub fn find_visible<'a>(
    data: &'a Data,
    ctx: &Ctx,
    def: &EntityDef,
    key: &Map<String, Value>,
    req: &Req,
) -> Result<&'a Record, Reply> {
    data.table(def.set)
        .and_then(|t| t.get(key))
        .filter(|r| visible(def, ctx, &r.fields, req.cross_company()))
        .ok_or_else(|| Reply::not_found(def.set))
}

/// The entity as F&O serialises it: `@odata.etag` plus the (selected) properties.
pub fn render(record: &Record, select: Option<&[String]>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), Value::String(record.etag()));
    for (k, v) in &record.fields {
        if select.is_none_or(|s| s.iter().any(|n| n == k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

fn context_url(ctx: &Ctx, def: &EntityDef, select: Option<&[String]>, single: bool) -> String {
    let mut url = format!("{}/data/$metadata#{}", ctx.base, def.set);
    if let Some(s) = select {
        url.push_str(&format!("({})", s.join(",")));
    }
    if single {
        url.push_str("/$entity");
    }
    url
}

fn read_single(data: &Data, ctx: &Ctx, def: &EntityDef, key: &Map<String, Value>, req: &Req) -> Reply {
    let q = match query::parse(def, req.query) {
        Ok(q) => q,
        Err(m) => return Reply::odata_error(400, &m),
    };
    let record = match find_visible(data, ctx, def, key, req) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    let mut body = render(record, q.select.as_deref());
    body.insert("@odata.context".into(), Value::String(context_url(ctx, def, q.select.as_deref(), true)));
    Reply::json(200, &Value::Object(body)).with_header("etag", record.etag())
}

/// The records a collection query selects, filtered and ordered, before paging.
fn selected<'a>(data: &'a Data, ctx: &Ctx, def: &EntityDef, q: &query::Query) -> Vec<&'a Record> {
    let Some(table) = data.table(def.set) else { return Vec::new() };
    let mut rows: Vec<&Record> = table
        .rows
        .values()
        .filter(|r| visible(def, ctx, &r.fields, q.cross_company))
        .filter(|r| q.filter.as_ref().is_none_or(|f| query::matches(f, &r.fields)))
        .collect();
    if !q.orderby.is_empty() {
        rows.sort_by(|a, b| query::order(&q.orderby, def, &a.fields, &b.fields));
    }
    rows
}

fn read_collection(data: &Data, ctx: &Ctx, def: &EntityDef, req: &Req) -> Reply {
    let q = match query::parse(def, req.query) {
        Ok(q) => q,
        Err(m) => return Reply::odata_error(400, &m),
    };
    let rows = selected(data, ctx, def, &q);
    let total = rows.len();
    let after_skip = total.saturating_sub(q.skip);
    let wanted = q.top.map_or(after_skip, |t| t.min(after_skip));
    let remaining = wanted.saturating_sub(q.skiptoken);
    let page = remaining.min(ctx.page_size.max(1));
    let start = q.skip + q.skiptoken;
    let value: Vec<Value> =
        rows.iter().skip(start).take(page).map(|r| Value::Object(render(r, q.select.as_deref()))).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context_url(ctx, def, q.select.as_deref(), false)));
    if q.count {
        body.insert("@odata.count".into(), Value::from(total));
    }
    body.insert("value".into(), Value::Array(value));
    if remaining > page {
        let next = match ctx.dialect.next_link() {
            NextLink::SkipToken => next_link(ctx, def, req.query, &[], &[("$skiptoken", q.skiptoken + page)]),
            // An absolute link: the next page starts at `$skip`, and `$top` keeps only what is left.
            NextLink::Skip => {
                let mut set = vec![("$skip", start + page)];
                if q.top.is_some() {
                    set.push(("$top", wanted - (q.skiptoken + page)));
                }
                next_link(ctx, def, req.query, &["$skiptoken"], &set)
            }
        };
        body.insert("@odata.nextLink".into(), Value::String(next));
    }
    Reply::json(200, &Value::Object(body))
}

/// The same query without `drop`, with each of `set` replaced (or added) at the end.
fn next_link(ctx: &Ctx, def: &EntityDef, pairs: &[(String, String)], drop: &[&str], set: &[(&str, usize)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    let replaced = |k: &str| drop.contains(&k) || set.iter().any(|(n, _)| *n == k);
    for (k, v) in pairs.iter().filter(|(k, _)| !replaced(k)) {
        ser.append_pair(k, v);
    }
    for (k, v) in set {
        ser.append_pair(k, &v.to_string());
    }
    let query = ser.finish().replace('+', "%20").replace("%24", "$");
    format!("{}/data/{}?{query}", ctx.base, def.set)
}

fn count(data: &Data, ctx: &Ctx, def: &EntityDef, req: &Req) -> Reply {
    match query::parse(def, req.query) {
        Ok(q) => Reply::text(200, "text/plain; charset=utf-8", selected(data, ctx, def, &q).len().to_string())
            .with_header("odata-version", "4.0"),
        Err(m) => Reply::odata_error(400, &m),
    }
}
