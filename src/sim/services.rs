//! JSON custom services under `/api/services`: listing, describe (`GET`) and invoke (`POST`).
//!
//! The decision services are the dialect's (`dialect.rs`); the user-session service is always there.
//! Their effects are `ops::perform`'s, the same as the bound actions'.

use serde_json::{Map, Value, json};

use super::dialect::{Param, Role, Service, ServiceOp};
use super::odata::Ctx;
use super::ops;
use super::reply::Reply;
use super::state::Data;

const USER_SESSION_GROUP: &str = "UserSessionService";
const USER_SESSION_SERVICE: &str = "AifUserSessionService";
const USER_SESSION_OP: &str = "GetUserSessionInfo";

/// One operation as the router finds it: a dialect's decision operation or the session check.
enum Found {
    Decision(&'static ServiceOp),
    UserSession,
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> Vec<Value> {
    let mut v: Vec<&str> = items.collect();
    v.dedup();
    v.into_iter().map(|n| json!({"Name": n})).collect()
}

fn json_reply(status: u16, body: &Value) -> Reply {
    Reply::text(status, "application/json; charset=utf-8", serde_json::to_vec(body).unwrap_or_default())
}

/// An unhandled X++ exception in a service operation: always 500, in the AIF fault shape (FNO.md §6),
/// the business message in `Message`.
pub fn failure(message: &str) -> Reply {
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
    let services = ctx.dialect.services();
    match (method, parts.as_slice()) {
        ("GET", []) => {
            let groups = services.iter().map(|s| s.group).chain([USER_SESSION_GROUP]);
            json_reply(200, &json!({"ServiceGroups": names(groups)}))
        }
        ("GET", [group]) if *group == USER_SESSION_GROUP => {
            json_reply(200, &json!({"Services": names([USER_SESSION_SERVICE].into_iter())}))
        }
        ("GET", [group]) => match services.iter().filter(|s| s.group == *group).map(|s| s.name).collect::<Vec<_>>() {
            found if found.is_empty() => not_found(),
            found => json_reply(200, &json!({"Services": names(found.into_iter())})),
        },
        ("GET", [group, service]) if *group == USER_SESSION_GROUP && *service == USER_SESSION_SERVICE => {
            json_reply(200, &json!({"Operations": names([USER_SESSION_OP].into_iter())}))
        }
        ("GET", [group, service]) => match services.iter().find(|s| s.group == *group && s.name == *service) {
            Some(s) => json_reply(200, &json!({"Operations": names(s.ops.iter().map(|o| o.name))})),
            None => not_found(),
        },
        (m, [group, service, op]) => {
            let Some(found) = find(services, group, service, op) else {
                return not_found();
            };
            match (m, found) {
                ("GET", Found::Decision(o)) => describe(o.params, "String"),
                ("GET", Found::UserSession) => describe(&[], "UserSessionInfo"),
                ("POST", Found::Decision(o)) => invoke(data, ctx, service, o, body),
                ("POST", Found::UserSession) => session_info(ctx),
                _ => json_reply(
                    405,
                    &json!({"Message": format!("The requested resource does not support http method '{m}'.")}),
                ),
            }
        }
        _ => not_found(),
    }
}

fn find(services: &'static [Service], group: &str, service: &str, op: &str) -> Option<Found> {
    if (group, service, op) == (USER_SESSION_GROUP, USER_SESSION_SERVICE, USER_SESSION_OP) {
        return Some(Found::UserSession);
    }
    services
        .iter()
        .find(|s| s.group == group && s.name == service)
        .and_then(|s| s.ops.iter().find(|o| o.name == op))
        .map(Found::Decision)
}

fn describe(params: &[Param], returns: &str) -> Reply {
    let params: Vec<Value> = params.iter().map(|p| json!({"Name": p.name, "Type": p.service_type()})).collect();
    json_reply(200, &json!({"Parameters": params, "Return": {"Name": "return", "Type": returns}}))
}

fn session_info(ctx: &Ctx) -> Reply {
    json_reply(
        200,
        &json!({"$id": "1", "AOSLocaleName": "en-US", "AXLanguage": "EN-US", "Company": ctx.company.to_uppercase(),
            "CompanyTimeZone": 58, "CurrencyInfo": {"$id": "2", "CurrencyCode": "USD", "Description": "US Dollar"},
            "IsSysAdmin": false, "UserId": ctx.user, "UserPreferredCalendarType": 0, "UserPreferredTimeZone": 18}),
    )
}

fn invoke(data: &mut Data, ctx: &Ctx, service: &str, op: &ServiceOp, body: &[u8]) -> Reply {
    let params: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => return failure("the request body must be a JSON object of parameters."),
        }
    };
    for k in params.keys() {
        if !op.params.iter().any(|p| p.name == k) {
            return failure(&format!("'{k}' is not a parameter of {service}.{}.", op.name));
        }
    }
    let args = ops::Args::from_params(op.params, &params);
    let company = match args.get(Role::Company) {
        "" => ctx.company.clone(),
        c => c.to_lowercase(),
    };
    let key = ops::header_key(&company, args.get(Role::Journal));
    match ops::perform(data, ctx, op.op, &key, &args) {
        Ok(v) => json_reply(200, &Value::String(v)),
        Err(m) => failure(&m),
    }
}
