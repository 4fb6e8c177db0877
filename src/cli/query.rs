//! `signoff query ENTITYSET`: read-only exploration of an environment, the way integration tools do —
//! through the same client, paging and URL encoding `propose` and the decision pipeline use. Every
//! cell is made visible (`text::visible`), every JSON string escaped (`text::terminal_safe_json`).

use serde::Serialize;

use super::failure::{ErrorCode, Failure};
use super::output::{self, say};
use super::runs::table::{self, Align};
use super::{Context, Globals, exit};
use crate::fno::keys::string_literal;
use crate::fno::{FnoClient, Query, QueryResult};
use crate::model::{FieldValue, Fields};

/// A cell wider than this is cut with `…` in the table; `--json` has every value whole.
const MAX_CELL: usize = 40;

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The entity set, exactly as F&O names it (case-sensitive), e.g. VendorsV2.
    pub entity_set: String,
    /// An OData $filter, e.g. "VendorGroupId eq '10'" (enums: Microsoft.Dynamics.DataEntities.NoYes'Yes').
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// The fields to show, comma-separated ($select); the table's columns in this order.
    #[arg(long, value_name = "F,G", value_delimiter = ',')]
    pub select: Vec<String>,
    /// At most N records ($top); without it every page is read.
    #[arg(long, value_name = "N")]
    pub top: Option<u32>,
    /// Only this legal entity (dataAreaId), whatever the integration user's default company is.
    #[arg(long, value_name = "C", conflicts_with = "cross_company")]
    pub company: Option<String>,
    /// Every company the integration user can access (cross-company=true).
    #[arg(long)]
    pub cross_company: bool,
}

/// `query --json`: the rows as F&O sent them (annotations but the ETag left out) and the pages read.
#[derive(Debug, Serialize)]
struct QueryEnvelope<'a> {
    entity_set: &'a str,
    count: usize,
    pages: u32,
    rows: Vec<JsonRow<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    #[serde(rename = "@odata.etag", skip_serializing_if = "Option::is_none")]
    etag: Option<&'a str>,
    #[serde(flatten)]
    fields: &'a Fields,
}

/// The query `args` ask for: `--company` is a `dataAreaId` filter across companies, as F&O wants it.
pub fn query_of(args: &QueryArgs) -> Query {
    let mut filters: Vec<String> = args.filter.iter().map(|f| format!("({f})")).collect();
    if let Some(company) = &args.company {
        filters.push(format!("dataAreaId eq {}", string_literal(&company.to_ascii_lowercase())));
    }
    let filter = match filters.len() {
        0 => None,
        1 if args.company.is_none() => args.filter.clone(),
        _ => Some(filters.join(" and ")),
    };
    Query {
        filter,
        select: args.select.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        top: args.top,
        cross_company: args.cross_company || args.company.is_some(),
        ..Default::default()
    }
}

pub fn run(globals: &Globals, args: QueryArgs) -> anyhow::Result<u8> {
    let ctx = Context::load(globals)?;
    let client = super::connector::client_for(&ctx.loaded.config).map_err(|e| Failure::new(ErrorCode::Failed, &e))?;
    let result = read(&client, &args.entity_set, &query_of(&args))?;
    if ctx.globals.json {
        let rows = result
            .rows
            .iter()
            .map(|r| JsonRow { etag: r.etag.as_ref().map(|e| e.as_str()), fields: &r.fields })
            .collect();
        output::json(&QueryEnvelope {
            entity_set: &args.entity_set,
            count: result.rows.len(),
            pages: result.pages,
            rows,
        })?;
    } else if result.rows.is_empty() {
        say!("no {} records match", args.entity_set)?;
    } else {
        output::text(&render(&result, &args.select))?;
        say!("{} record(s), {} page(s)", result.rows.len(), result.pages)?;
    }
    Ok(exit::OK)
}

/// Every page of the query, or a failure saying what F&O answered.
fn read(client: &FnoClient, set: &str, query: &Query) -> anyhow::Result<QueryResult> {
    let runtime = super::decide::runtime()?;
    runtime.block_on(client.query(set, query)).map_err(|e| Failure::new(ErrorCode::Failed, &e.to_string()).into())
}

/// The rows as a table: the selected columns in order, else every field any row has, keys first.
fn render(result: &QueryResult, select: &[String]) -> String {
    let columns: Vec<String> = if select.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for row in &result.rows {
            for name in row.fields.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        // dataAreaId first, as F&O's own grids show the company first.
        names.sort_by_key(|n| n != "dataAreaId");
        names
    } else {
        select.to_vec()
    };
    let header: Vec<String> = columns.iter().map(|c| table::cell(c, MAX_CELL)).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let align: Vec<Align> = columns
        .iter()
        .map(|c| match result.rows.iter().find_map(|r| r.fields.get(c)) {
            Some(FieldValue::Number(_)) => Align::Right,
            _ => Align::Left,
        })
        .collect();
    let rows: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|r| {
            columns.iter().map(|c| table::cell(&r.fields.get(c).map(show).unwrap_or_default(), MAX_CELL)).collect()
        })
        .collect();
    table::render(&header, &align, &rows)
}

fn show(value: &FieldValue) -> String {
    match value {
        FieldValue::Null => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(filter: Option<&str>, company: Option<&str>) -> QueryArgs {
        QueryArgs {
            entity_set: "VendorsV2".into(),
            filter: filter.map(str::to_string),
            select: vec![],
            top: None,
            company: company.map(str::to_string),
            cross_company: false,
        }
    }

    #[test]
    fn a_company_is_a_data_area_filter_across_companies() {
        let q = query_of(&args(Some("VendorGroupId eq '10'"), Some("USMF")));
        assert_eq!(q.filter.as_deref(), Some("(VendorGroupId eq '10') and dataAreaId eq 'usmf'"));
        assert!(q.cross_company);
        let q = query_of(&args(Some("VendorGroupId eq '10'"), None));
        assert_eq!(q.filter.as_deref(), Some("VendorGroupId eq '10'"));
        assert!(!q.cross_company);
        let q = query_of(&args(None, Some("o'x")));
        assert_eq!(q.filter.as_deref(), Some("dataAreaId eq 'o''x'"));
    }
}
