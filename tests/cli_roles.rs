//! Security roles as governed runs, and segregation of duties from F&O's own roles, through the real
//! binary against the simulator in both dialects. Every write is judged by the simulator's state and
//! request log.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use signoff::sim::{Dialect, Fault};

use crate::cli_propose::{approve, config_of, json_of, signoff, text};
use crate::cli_records::{outcome, propose_because, rollback_because, writes_since};
use crate::review_support::{APPROVER, Harness, SECOND};

const JUSTIFICATION: &str = "Access review AR-2026-11: role change agreed with the finance controller";

fn propose(h: &Harness, config: &Path, args: &[&str]) -> String {
    propose_because(h, config, JUSTIFICATION, args)
}

fn approve_as(h: &Harness, config: &Path, who: &str, id: &str) -> Output {
    signoff(h, config, who, &["--json", "approve", id, "--reason", "Checked against the access review"])
}

fn rollback(h: &Harness, config: &Path, id: &str) -> Output {
    rollback_because(h, config, "Undo: access review reversed", id)
}

/// The user's enabled role names in the simulator, sorted.
fn enabled_roles(h: &Harness, user: &str) -> Vec<String> {
    let mut roles: Vec<String> = h
        .sim
        .records("SecurityUserRoles")
        .into_iter()
        .filter(|r| r["UserId"] == user && r["AssignmentStatus"] == "Enabled")
        .map(|r| r["SecurityRoleName"].as_str().unwrap().to_string())
        .collect();
    roles.sort();
    roles
}

fn row(user: &str, role: &str) -> Value {
    json!({"UserId": user, "SecurityRoleIdentifier": role})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigning_system_administrator_needs_two_approvers_and_rolls_back() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        assert_eq!(enabled_roles(&h, "april"), ["Accounts payable clerk", "System user"]);
        let id = propose(&h, &config, &["assign-role", "april", "--role", "System administrator"]);
        let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id]));
        let run = &shown["run"];
        assert_eq!(run["target"]["keys"], json!({"UserId": "april", "SecurityRoleIdentifier": "-SYSADMIN-"}));
        assert_eq!(run["before"]["absent"], true);
        assert_eq!(run["before"]["enabled_roles"], json!(["Accounts payable clerk", "System user"]));
        let plain = text(&signoff(&h, &config, APPROVER, &["runs", "show", &id]));
        assert!(plain.contains("(enabled roles)"), "the diff lists the user's roles: {plain}");
        assert!(plain.contains("administrator; System user"), "the roles after the assignment: {plain}");

        // The first approval is recorded; nothing is written until a second, distinct approver agrees.
        let out = approve_as(&h, &config, APPROVER, &id);
        assert_eq!(outcome(&out), "approval-recorded", "{}", text(&out));
        assert!(h.writes().is_empty(), "{:?}", h.writes());
        let out = approve_as(&h, &config, APPROVER, &id);
        assert_ne!(outcome(&out), "executed", "the same approver is not counted twice: {}", text(&out));
        assert!(h.writes().is_empty());
        let out = approve_as(&h, &config, SECOND, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        let (method, target, _, body) = &writes[0];
        assert_eq!((method.as_str(), target.as_str()), ("POST", "/data/SecurityUserRoleAssociations"));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["UserId"], "april");
        assert_eq!(body["SecurityRoleIdentifier"], "-SYSADMIN-");
        assert_eq!(body["SecurityRoleName"], "System administrator");
        assert_eq!(enabled_roles(&h, "april"), ["Accounts payable clerk", "System administrator", "System user"]);
        let etag = h.sim.record("SecurityUserRoles", &row("april", "-SYSADMIN-")).unwrap()["@odata.etag"]
            .as_str()
            .unwrap()
            .to_string();

        // The rollback revokes exactly the assigned role, under the ETag the assignment returned.
        let out = rollback(&h, &config, &id);
        assert_eq!(outcome(&out), "rolled-back", "{}", text(&out));
        let writes = writes_since(&h, 1);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, "DELETE");
        assert!(
            writes[0].1.starts_with("/data/SecurityUserRoles(") && writes[0].1.contains("-SYSADMIN-"),
            "{writes:?}"
        );
        assert_eq!(writes[0].2.as_deref(), Some(etag.as_str()));
        assert_eq!(enabled_roles(&h, "april"), ["Accounts payable clerk", "System user"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_role_deletes_the_row_and_its_rollback_restores_the_role_set() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        let prior = enabled_roles(&h, "benjamin");
        assert_eq!(prior, ["Accountant", "System administrator"]);
        let etag = h.sim.record("SecurityUserRoles", &row("benjamin", "-SYSADMIN-")).unwrap()["@odata.etag"]
            .as_str()
            .unwrap()
            .to_string();
        let id = propose(&h, &config, &["revoke-role", "benjamin", "--role", "System administrator"]);
        assert_eq!(outcome(&approve_as(&h, &config, APPROVER, &id)), "approval-recorded");
        let out = approve_as(&h, &config, SECOND, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
        let writes = writes_since(&h, 0);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, "DELETE");
        assert!(writes[0].1.starts_with("/data/SecurityUserRoles("), "{writes:?}");
        assert_eq!(writes[0].2.as_deref(), Some(etag.as_str()), "the DELETE carries the reviewed row's ETag");
        assert_eq!(enabled_roles(&h, "benjamin"), ["Accountant"]);

        let out = rollback(&h, &config, &id);
        assert_eq!(outcome(&out), "rolled-back", "{}", text(&out));
        let writes = writes_since(&h, 1);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!((writes[0].0.as_str(), writes[0].1.as_str()), ("POST", "/data/SecurityUserRoleAssociations"));
        assert_eq!(enabled_roles(&h, "benjamin"), prior, "the prior role set is restored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_run_is_stale_when_the_users_roles_drifted_and_nothing_is_written() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let assign = propose(&h, &config, &["assign-role", "april", "--role", "Accountant"]);
    let revoke = propose(&h, &config, &["revoke-role", "april", "--role", "Accounts payable clerk"]);
    // Someone disables april's clerk assignment in F&O after review.
    h.sim
        .edit_record(
            "SecurityUserRoles",
            &row("april", "VendAccountsPayableClerk"),
            json!({"AssignmentStatus": "Disabled"}),
        )
        .unwrap();
    for id in [&assign, &revoke] {
        let out = approve(&h, &config, id);
        assert_eq!(outcome(&out), "stale", "{}", text(&out));
    }
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_eq!(enabled_roles(&h, "april"), ["System user"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_run_says_the_entra_account_and_licence_are_unchanged() {
    let h = Harness::start_dialect(Dialect::Signoff).await;
    let config = config_of(&h);
    let id = propose(&h, &config, &["disable-user", "april"]);
    let shown = json_of(&signoff(&h, &config, APPROVER, &["--json", "runs", "show", &id])).to_string();
    assert!(shown.contains("(Entra account and licence)"), "{shown}");
    assert!(shown.contains("the Microsoft Entra ID account and its licence stay as they are"), "{shown}");
}

/// The SoD rules from F&O, on: who may approve invoices, a conflicting pair, and approver mappings.
fn with_fno_roles(h: &Harness, mapping: &[(&str, &str)]) {
    let path = config_of(h);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n[approver.fno_users]\n");
    for (who, user) in mapping {
        text.push_str(&format!("\"{who}\" = \"{user}\"\n"));
    }
    text.push_str(
        "\n[approver.roles]\ninvoice = [\"Accounts payable manager\"]\n\n[[approver.role_conflicts]]\nrequester = \
         \"Accounts payable clerk\"\napprover = \"Accounts payable manager\"\n",
    );
    std::fs::write(&path, text).unwrap();
}

fn propose_invoice(h: &Harness, config: &Path) -> String {
    propose(h, config, &["approve-invoice", "APINV-000123", "--company", "usmf", "--set", "DueDate=2026-12-20"])
}

fn assert_refused_before_writing(h: &Harness, out: &Output, names: &[&str]) {
    assert_eq!(outcome(out), "refused", "{}", text(out));
    for name in names {
        assert!(text(out).contains(name), "the refusal names {name}: {}", text(out));
    }
    assert!(h.writes().is_empty(), "nothing is written: {:?}", h.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvers_are_checked_against_their_fno_user_and_roles() {
    for dialect in Dialect::ALL {
        let h = Harness::start_dialect(dialect).await;
        let config = config_of(&h);
        // julia → demoapprover (the workflow inbox's mapping), alicia → alicia, the second → a disabled user.
        with_fno_roles(
            &h,
            &[("alicia.thornber@contoso.com", "alicia"), ("benjamin.martin@contoso.com", "tcontractor")],
        );
        let id = propose_invoice(&h, &config);

        // Alicia's F&O user is enabled but holds no Accounts payable manager role.
        let out = approve_as(&h, &config, SECOND, &id);
        assert_refused_before_writing(&h, &out, &["Accounts payable manager", "alicia"]);
        // tcontractor holds the role, but the F&O user is disabled.
        let out = approve_as(&h, &config, "benjamin.martin@contoso.com", &id);
        assert_refused_before_writing(&h, &out, &["tcontractor", "disabled"]);
        // Nobody maps an unknown approver to an F&O user: never guessed.
        let out = approve_as(&h, &config, "april.meyer@contoso.com", &id);
        assert_refused_before_writing(&h, &out, &["no F&O user is mapped"]);

        // F&O's security data cannot be read: fail closed.
        h.sim.inject(Fault::Refuse {
            path_contains: "SecurityUserRoles".into(),
            message: "Security data is temporarily unavailable".into(),
            times: 10,
        });
        let out = approve_as(&h, &config, APPROVER, &id);
        assert_refused_before_writing(&h, &out, &["could not be read"]);
        h.sim.clear_faults();

        // demoapprover also holds the clerk role in usmf: a conflicting pair.
        h.sim
            .insert_record(
                "SecurityUserRoleAssociations",
                json!({"UserId": "demoapprover", "SecurityRoleIdentifier": "VendAccountsPayableClerk",
                       "SecurityRoleName": "Accounts payable clerk", "AssignmentStatus": "Enabled",
                       "AssignmentMode": "Manual", "Company": "usmf"}),
            )
            .unwrap();
        let out = approve_as(&h, &config, APPROVER, &id);
        assert_refused_before_writing(&h, &out, &["Accounts payable clerk", "Accounts payable manager"]);

        // Without the conflict, demoapprover's enabled usmf manager role lets the approval through.
        h.sim
            .edit_record(
                "SecurityUserRoles",
                &row("demoapprover", "VendAccountsPayableClerk"),
                json!({"AssignmentStatus": "Disabled"}),
            )
            .unwrap();
        let out = approve_as(&h, &config, APPROVER, &id);
        assert_eq!(outcome(&out), "executed", "{}", text(&out));
    }
}
