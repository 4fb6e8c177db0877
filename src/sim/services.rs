//! JSON custom services under `/api/services`: listing, describe (`GET`) and invoke (`POST`).

use serde_json::{Map, Value, json};

use super::odata::Ctx;
use super::ops;
use super::reply::Reply;
use super::state::Data;

struct Op {
    name: &'static str,
    params: &'static [(&'static str, &'static str)],
    returns: &'static str,
}

struct Service {
    group: &'static str,
    name: &'static str,
    ops: &'static [Op],
}

const JOURNAL_PARAMS: &[(&str, &str)] =
    &[("_dataAreaId", "String"), ("_journalBatchNumber", "String"), ("_comment", "String")];

const SERVICES: &[Service] = &[
    Service {
        group: "SignoffServices",
        name: "SignoffJournalService",
        ops: &[
            Op { name: "post", params: JOURNAL_PARAMS, returns: "String" },
            Op { name: "reject", params: JOURNAL_PARAMS, returns: "String" },
            Op {
                name: "reverse",
                params: &[
                    ("_dataAreaId", "String"),
                    ("_journalBatchNumber", "String"),
                    ("_reversalDate", "Date"),
                    ("_comment", "String"),
                ],
                returns: "String",
            },
        ],
    },
    Service {
        group: "UserSessionService",
        name: "AifUserSessionService",
        ops: &[Op { name: "GetUserSessionInfo", params: &[], returns: "UserSessionInfo" }],
    },
];

fn names<'a>(items: impl Iterator<Item = &'a str>) -> Vec<Value> {
    let mut v: Vec<&str> = items.collect();
    v.dedup();
    v.into_iter().map(|n| json!({"Name": n})).collect()
}

fn json_reply(status: u16, body: &Value) -> Reply {
    Reply::text(status, "application/json; charset=utf-8", serde_json::to_vec(body).unwrap_or_default())
}

/// An unhandled X++ exception in a service operation: always 500.
fn failure(message: &str) -> Reply {
    json_reply(
        500,
        &json!({"Message": format!("An exception occured when invoking the operation - {message}"),
            "ExceptionType": "XppServicesException", "ActivityId": uuid::Uuid::new_v4().to_string()}),
    )
}

/// Handle `/api/services[/…]` (the path after `/api/services`, without leading `/`).
pub fn handle(data: &mut Data, ctx: &Ctx, method: &str, rest: &str, body: &[u8]) -> Reply {
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let not_found = || json_reply(404, &json!({"Message": format!("No service was found at /api/services/{rest}.")}));
    match (method, parts.as_slice()) {
        ("GET", []) => json_reply(200, &json!({"ServiceGroups": names(SERVICES.iter().map(|s| s.group))})),
        ("GET", [group]) => {
            let services: Vec<&Service> = SERVICES.iter().filter(|s| s.group == *group).collect();
            if services.is_empty() {
                return not_found();
            }
            json_reply(200, &json!({"Services": names(services.iter().map(|s| s.name))}))
        }
        ("GET", [group, service]) => match SERVICES.iter().find(|s| s.group == *group && s.name == *service) {
            Some(s) => json_reply(200, &json!({"Operations": names(s.ops.iter().map(|o| o.name))})),
            None => not_found(),
        },
        (m, [group, service, op]) => {
            let Some(op) = SERVICES
                .iter()
                .find(|s| s.group == *group && s.name == *service)
                .and_then(|s| s.ops.iter().find(|o| o.name == *op))
            else {
                return not_found();
            };
            match m {
                "GET" => describe(op),
                "POST" => invoke(data, ctx, service, op, body),
                _ => json_reply(
                    405,
                    &json!({"Message": format!("The requested resource does not support http method '{m}'.")}),
                ),
            }
        }
        _ => not_found(),
    }
}

fn describe(op: &Op) -> Reply {
    let params: Vec<Value> = op.params.iter().map(|(n, t)| json!({"Name": n, "Type": t})).collect();
    json_reply(200, &json!({"Parameters": params, "Return": {"Name": "return", "Type": op.returns}}))
}

fn invoke(data: &mut Data, ctx: &Ctx, service: &str, op: &Op, body: &[u8]) -> Reply {
    let params: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => return failure("the request body must be a JSON object of parameters."),
        }
    };
    for k in params.keys() {
        if !op.params.iter().any(|(n, _)| n == k) {
            return failure(&format!("'{k}' is not a parameter of {service}.{}.", op.name));
        }
    }
    let text = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if op.name == "GetUserSessionInfo" {
        return json_reply(
            200,
            &json!({"$id": "1", "AOSLocaleName": "en-US", "AXLanguage": "EN-US", "Company": ctx.company.to_uppercase(),
                "CompanyTimeZone": 58, "CurrencyInfo": {"$id": "2", "CurrencyCode": "USD", "Description": "US Dollar"},
                "IsSysAdmin": false, "UserId": ctx.user, "UserPreferredCalendarType": 0, "UserPreferredTimeZone": 18}),
        );
    }
    let company = match text("_dataAreaId") {
        c if c.is_empty() => ctx.company.clone(),
        c => c.to_lowercase(),
    };
    let journal = text("_journalBatchNumber");
    let result = match op.name {
        "post" => ops::journal_post(data, ctx, &company, &journal),
        "reject" => ops::journal_reject(data, &company, &journal),
        "reverse" => ops::journal_reverse(data, ctx, &company, &journal, &text("_reversalDate"), &text("_comment")),
        _ => Err(format!("the operation {} is not implemented.", op.name)),
    };
    match result {
        Ok(v) => json_reply(200, &Value::String(v)),
        Err(m) => failure(&m),
    }
}
