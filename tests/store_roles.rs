//! The least-privilege role set-up docs/store.md gives a database administrator, run literally on the
//! test cluster: signoff works as an approver's login role with only those grants (claim, approve, move
//! through execution, record an exchange, sync metadata, verify), and that role cannot rewrite the
//! evidence by hand — the database refuses it.

use crate::common;

use std::time::Duration;

use common::backends::{pg_server, pg_try};
use common::journal;
use signoff::config::secret::Secret;
use signoff::model::RunStatus::{Approved, Executed, Executing, Pending};
use signoff::store::Store;
use signoff::store::pg::PgTarget;

/// The SQL of the block between `<!-- pg-roles:NAME -->` markers in docs/store.md.
fn documented_sql(name: &str) -> String {
    let doc = include_str!("../docs/store.md");
    let start = doc.find(&format!("<!-- pg-roles:{name} -->")).unwrap_or_else(|| panic!("no pg-roles:{name} block"));
    let end = doc.find(&format!("<!-- /pg-roles:{name} -->")).unwrap();
    let block = &doc[start..end];
    let sql = block.split("```sql").nth(1).and_then(|b| b.split("```").next()).unwrap();
    sql.to_string()
}

/// The documented names made unique to this test (roles are cluster-wide), the passwords generated.
fn instantiate(sql: &str, suffix: &str, password: &str) -> String {
    // The schema `signoff` as a whole word; `signoff_owner` and `signoff_app` are renamed below.
    let mut renamed = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("signoff") {
        let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let before = if at > 0 { rest[..at].chars().last() } else { renamed.chars().last() };
        let after = rest[at + "signoff".len()..].chars().next();
        renamed.push_str(&rest[..at]);
        if before.is_some_and(word_char) || after.is_some_and(word_char) {
            renamed.push_str("signoff");
        } else {
            renamed.push_str(&format!("signoff_{suffix}"));
        }
        rest = &rest[at + "signoff".len()..];
    }
    renamed.push_str(rest);
    renamed
        .replace("signoff_owner", &format!("signoff_owner_{suffix}"))
        .replace("signoff_app", &format!("signoff_app_{suffix}"))
        .replace("julia_funderburk", &format!("julia_{suffix}"))
        .replace("'choose-a-long-one'", &format!("'{password}'"))
        .replace("'her-own'", &format!("'{password}'"))
}

#[test]
fn the_documented_roles_let_an_approver_decide_and_refuse_rewriting_the_evidence() {
    let Some((url, admin_password)) = pg_server("the_documented_roles_let_an_approver_decide") else { return };
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let password = uuid::Uuid::new_v4().simple().to_string();
    let schema = format!("signoff_{suffix}");
    let admin = PgTarget { url: url.clone(), password: Some(admin_password), trust: Default::default() };
    let login = |role: &str| {
        let user = url.split_once("://").and_then(|(_, rest)| rest.split_once('@')).map(|(user, _)| user).unwrap();
        let with_role = url.replacen(&format!("{user}@"), &format!("{role}@"), 1);
        let separator = if with_role.contains('?') { '&' } else { '?' };
        PgTarget {
            url: format!("{with_role}{separator}options=-c%20search_path%3D{schema}"),
            password: Some(Secret::new(password.clone())),
            trust: Default::default(),
        }
    };
    let sql = |name: &str| instantiate(&documented_sql(name), &suffix, &password);

    pg_try(&admin, &sql("owner"), true).expect("the owner block runs as an administrator");
    // The owner's first start creates the tables.
    let owner = Store::open_postgres(&login(&format!("signoff_owner_{suffix}"))).unwrap();
    drop(owner);
    pg_try(&admin, &sql("grants"), true).expect("the grants block runs");
    pg_try(&admin, &sql("approver"), true).expect("the approver block runs");

    let julia = login(&format!("julia_{suffix}"));
    let store = Store::open_postgres(&julia).expect("an approver's role opens a current store");
    let run = journal("RUN-R-000001", 1, "usmf", "1250.00");
    store.import(std::slice::from_ref(&run), "april.meyer@contoso.com").unwrap();
    let id = &run.id;
    store.save_catalog(r#"{"entities":[]}"#, "julia").unwrap();
    store.acquire_lease(id, "julia#1", Duration::from_secs(60)).unwrap();
    store.renew_lease(id, "julia#1", Duration::from_secs(60)).unwrap();
    store.record_approval(id, "julia", "matches the PO", "d1", "v1").unwrap();
    let detail = serde_json::json!({});
    for (from, to) in [(Pending, Approved), (Approved, Executing), (Executing, Executed)] {
        store.transition(id, &[from], to, "julia", detail.clone()).unwrap();
    }
    store.record_exchange(id, r#"{"request":"PATCH"}"#, "julia").unwrap();
    assert!(store.release_lease(id, "julia#1").unwrap());
    store.verify_run(id).unwrap();
    let verified = store.verify_audit().unwrap();

    for tamper in [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)",
        "DELETE FROM approvals",
        "UPDATE approvals SET approver = 'mallory'",
        "UPDATE status_history SET actor = 'mallory'",
        "UPDATE run_payloads SET payload = '{}'",
        "UPDATE runs SET amount = '1.00'",
        "UPDATE runs SET required_approvals = 0",
        "DELETE FROM runs",
        "DELETE FROM exchanges",
        "TRUNCATE audit_events",
        "DROP INDEX one_execution_per_run",
    ] {
        let refused = pg_try(&julia, tamper, false).expect_err(tamper);
        assert!(refused.contains("permission denied") || refused.contains("must be owner"), "{tamper}: {refused}");
    }
    assert_eq!(store.verify_audit().unwrap().events, verified.events, "nothing changed");

    pg_try(
        &admin,
        &format!(
            "DROP SCHEMA signoff_{suffix} CASCADE; DROP ROLE julia_{suffix}; DROP ROLE signoff_app_{suffix}; \
             DROP ROLE signoff_owner_{suffix};"
        ),
        true,
    )
    .unwrap();
}
