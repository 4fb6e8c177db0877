//! The store's state is bound to its audit chain: a row edited with plain SQL, as an attacker with the
//! file would edit it, is named by `verify_audit` (every run) and `verify_run` (one run), and a stored
//! payload or event whose bytes are not their canonical form is reported as altered even when it parses
//! to the same value.

use crate::common;

use common::backends::TestDb;
use common::mixed_runs;
use serde_json::json;
use signoff::model::{RunId, RunStatus};
use signoff::store::{Store, StoreError};

const REQUESTER: &str = "tony.krijnen@contoso.com";
const APPROVER: &str = "julia.funderburk@contoso.com";
const INVOICE: &str = "RUN-TP-000001";
/// A journal needing two approvals, approved once (event #5).
const JOURNAL: &str = "RUN-TP-000002";
/// A vendor bank-account change to FAB-CHK-0046, with one recorded exchange (event #7).
const VENDOR: &str = "RUN-TP-000003";
/// A user disablement, rejected (event #6).
const USER: &str = "RUN-TP-000004";

/// Run `case` on each backend's store holding four imported runs (events #1–#4), an approval (#5), a
/// rejection (#6) and an exchange (#7).
fn each_store(test: &str, case: impl Fn(&TestDb, &Store)) {
    for db in TestDb::all(test) {
        let store = seeded(&db);
        case(&db, &store);
    }
}

fn seeded(db: &TestDb) -> Store {
    let store = db.open();
    store.import(&mixed_runs("TP", 4), REQUESTER).unwrap();
    store
        .record_approval(
            &RunId::from(JOURNAL),
            APPROVER,
            "Coding checked against the GL plan",
            &"ab".repeat(32),
            "2026.03",
        )
        .unwrap();
    store
        .transition(
            &RunId::from(USER),
            &[RunStatus::Pending],
            RunStatus::Rejected,
            "alicia.thornber@contoso.com",
            json!({ "reason": "The contractor is still on site until Friday" }),
        )
        .unwrap();
    store
        .record_exchange(
            &RunId::from(VENDOR),
            r#"{"method":"GET","url":"https://usmf.sandbox.operations.dynamics.com/data/VendorsV2","status":200}"#,
            APPROVER,
        )
        .unwrap();
    assert_eq!(store.verify_audit().unwrap().events, 7, "the untouched store verifies");
    store
}

/// Both verifications name `run`; returns what they say disagrees.
fn state_mismatch(store: &Store, run: &str) -> String {
    let what = match store.verify_audit() {
        Err(StoreError::StateMismatch { run: named, what }) => {
            assert_eq!(named.as_str(), run, "{what}");
            what
        }
        other => panic!("expected audit verify to name run {run}, got {other:?}"),
    };
    match store.verify_run(&RunId::from(run)) {
        Err(e @ StoreError::StateMismatch { .. }) => {
            let message = e.to_string();
            assert!(message.starts_with(&format!("run {run}: {what}")), "{message}");
        }
        other => panic!("expected verify_run to refuse {run}, got {other:?}"),
    }
    what
}

/// `audit verify` names event `seq` as altered, and `verify_run` of the run it belongs to refuses it.
fn altered_event(store: &Store, seq: i64, run: &str) -> String {
    let reason = match store.verify_audit() {
        Err(StoreError::AuditBroken { seq: named, reason }) => {
            assert_eq!(named, seq, "{reason}");
            reason
        }
        other => panic!("expected event #{seq} to be named, got {other:?}"),
    };
    match store.verify_run(&RunId::from(run)) {
        Err(StoreError::StateMismatch { run: named, what }) => {
            assert_eq!(named.as_str(), run);
            assert!(what.contains(&format!("its audit event #{seq} is broken")), "{what}");
        }
        other => panic!("expected verify_run to refuse {run}, got {other:?}"),
    }
    reason
}

#[test]
fn an_untouched_store_verifies_run_by_run() {
    each_store("an_untouched_store_verifies_run_by_run", |_db, store| {
        for run in [INVOICE, JOURNAL, VENDOR, USER] {
            store.verify_run(&RunId::from(run)).unwrap_or_else(|e| panic!("{e}"));
        }
        let unknown = store.verify_run(&RunId::from("RUN-TP-999999")).unwrap_err();
        assert!(matches!(unknown, StoreError::UnknownRun { .. }), "{unknown}");
    });
}

#[test]
fn a_renamed_approver_has_no_approval_event() {
    each_store("a_renamed_approver_has_no_approval_event", |db, store| {
        db.edit("UPDATE approvals SET approver = 'bob.kelly@contoso.com'");
        let what = state_mismatch(store, JOURNAL);
        assert!(what.contains("approval by 'bob.kelly@contoso.com' has no approval.recorded event"), "{what}");
        assert!(what.contains("approvals table was edited"), "{what}");
    });
}

#[test]
fn a_deleted_approval_is_missing_from_the_table() {
    each_store("a_deleted_approval_is_missing_from_the_table", |db, store| {
        db.edit("DELETE FROM approvals");
        let what = state_mismatch(store, JOURNAL);
        assert!(what.contains(&format!("approval by '{APPROVER}' recorded in event #5 is missing")), "{what}");
    });
}

#[test]
fn every_approval_column_is_compared_with_its_event_including_columns_added_later() {
    each_store("every_approval_column_is_compared_with_its_event_including_columns_added_later", |db, store| {
        db.edit("UPDATE approvals SET policy_version = '2025.01'");
        assert!(state_mismatch(store, JOURNAL).contains("policy_version \"2025.01\""));
    });
    each_store("every_approval_column_is_compared_with_its_event_including_columns_added_later", |db, store| {
        // The signature column (added by a later migration): a signature forged into the table disagrees with
        // the event that recorded none.
        store.verify_audit().unwrap();
        db.edit("UPDATE approvals SET signature = 'sshsig-forged'");
        let what = state_mismatch(store, JOURNAL);
        assert!(what.contains("signature \"sshsig-forged\"") && what.contains("event #5 says null"), "{what}");
    });
}

#[test]
fn required_approvals_lowered_in_the_runs_table_disagrees_with_the_payload() {
    each_store("required_approvals_lowered_in_the_runs_table_disagrees_with_the_payload", |db, store| {
        db.edit(&format!("UPDATE runs SET required_approvals = 1 WHERE id = '{JOURNAL}'"));
        let what = state_mismatch(store, JOURNAL);
        assert!(what.contains("runs.required_approvals is '1' but its payload says '2'"), "{what}");
    });
}

#[test]
fn required_approvals_lowered_in_the_payload_does_not_hash_to_the_imported_digest() {
    each_store("required_approvals_lowered_in_the_payload_does_not_hash_to_the_imported_digest", |db, store| {
        db.rewrite_payload(JOURNAL, |p| p.replace("\"required_approvals\":2", "\"required_approvals\":1"));
        db.edit(&format!("UPDATE runs SET required_approvals = 1 WHERE id = '{JOURNAL}'"));
        let what = state_mismatch(store, JOURNAL);
        assert!(what.contains("does not hash to the digest in its run.imported event #2"), "{what}");
    });
}

#[test]
fn a_proposed_value_changed_in_the_payload_is_detected() {
    each_store("a_proposed_value_changed_in_the_payload_is_detected", |db, store| {
        db.rewrite_payload(VENDOR, |p| p.replace("\"FAB-CHK-0046\"", "\"ATTACKER-IBAN-0001\""));
        let what = state_mismatch(store, VENDOR);
        assert!(what.contains("does not hash to the digest in its run.imported event #3"), "{what}");
    });
}

#[test]
fn a_rejected_run_set_back_to_pending_disagrees_with_its_last_status_event() {
    each_store("a_rejected_run_set_back_to_pending_disagrees_with_its_last_status_event", |db, store| {
        db.edit(&format!("UPDATE runs SET status = 'pending' WHERE id = '{USER}'"));
        db.edit(&format!("DELETE FROM status_history WHERE run_id = '{USER}' AND to_status = 'rejected'"));
        let what = state_mismatch(store, USER);
        assert!(what.contains("runs.status is 'pending' but its last run.status event #6 says 'rejected'"), "{what}");
    });
}

#[test]
fn a_rejection_rewritten_in_the_status_history_disagrees_with_its_event() {
    each_store("a_rejection_rewritten_in_the_status_history_disagrees_with_its_event", |db, store| {
        db.edit(&format!(
            "UPDATE status_history SET to_status = 'approved' WHERE run_id = '{USER}' AND to_status = 'rejected'"
        ));
        let what = state_mismatch(store, USER);
        assert!(what.contains("status_history row 2") && what.contains("differs from event #6"), "{what}");
    });
    each_store("a_rejection_rewritten_in_the_status_history_disagrees_with_its_event", |db, store| {
        db.edit(&format!("DELETE FROM status_history WHERE run_id = '{USER}' AND to_status = 'rejected'"));
        let what = state_mismatch(store, USER);
        assert!(what.contains("status_history holds 1 row(s) but the chain records 2"), "{what}");
    });
}

#[test]
fn a_run_payload_with_a_duplicate_key_is_not_canonical() {
    each_store("a_run_payload_with_a_duplicate_key_is_not_canonical", |db, store| {
        // The last of two equal keys wins in serde_json: the payload parses to the same run.
        db.rewrite_payload(VENDOR, |p| {
            p.replace(
                "\"BankAccountId\":\"FAB-CHK-0046\"",
                "\"BankAccountId\":\"ATTACKER-IBAN-0001\",\"BankAccountId\":\"FAB-CHK-0046\"",
            )
        });
        let what = state_mismatch(store, VENDOR);
        assert!(what.contains("run_payloads table was edited"), "{what}");
    });
}

#[test]
fn a_run_payload_with_a_re_escaped_key_or_whitespace_is_not_canonical() {
    each_store("a_run_payload_with_a_re_escaped_key_or_whitespace_is_not_canonical", |db, store| {
        db.edit(
            &format!(
                "UPDATE run_payloads SET payload = replace(payload, '\"action\":', '\"\\u0061ction\":') WHERE run_id = '{INVOICE}'"
            ),
        );
        let what = state_mismatch(store, INVOICE);
        assert!(what.contains("not in canonical form"), "{what}");
    });
    each_store("a_run_payload_with_a_re_escaped_key_or_whitespace_is_not_canonical", |db, store| {
        db.edit(&format!(
            "UPDATE run_payloads SET payload = replace(payload, '\",\"', '\", \"') WHERE run_id = '{INVOICE}'"
        ));
        let what = state_mismatch(store, INVOICE);
        assert!(what.contains("not in canonical form"), "{what}");
    });
}

#[test]
fn an_event_payload_with_a_duplicate_key_is_named_by_its_seq() {
    each_store("an_event_payload_with_a_duplicate_key_is_named_by_its_seq", |db, store| {
        db.edit(
            "UPDATE audit_events SET payload = replace(payload, '{\"action\":', '{\"action\":\"dynamicsfinance.disable-user\",\"action\":') WHERE seq = 1",
        );
        let reason = altered_event(store, 1, INVOICE);
        assert!(reason.contains("not in canonical form"), "{reason}");
    });
}

#[test]
fn an_event_payload_with_a_re_escaped_key_is_named_by_its_seq() {
    each_store("an_event_payload_with_a_re_escaped_key_is_named_by_its_seq", |db, store| {
        db.edit("UPDATE audit_events SET payload = replace(payload, '\"digest\"', '\"\\u0064igest\"') WHERE seq = 5");
        let reason = altered_event(store, 5, JOURNAL);
        assert!(reason.contains("not in canonical form"), "{reason}");
    });
}

#[test]
fn an_event_payload_with_whitespace_is_named_by_its_seq() {
    each_store("an_event_payload_with_whitespace_is_named_by_its_seq", |db, store| {
        db.edit("UPDATE audit_events SET payload = replace(payload, ',', ', ') WHERE seq = 6");
        let reason = altered_event(store, 6, USER);
        assert!(reason.contains("not in canonical form"), "{reason}");
    });
}

#[test]
fn an_event_time_in_another_format_is_named_by_its_seq() {
    each_store("an_event_time_in_another_format_is_named_by_its_seq", |db, store| {
        // The same instant, spelled with an offset instead of Z.
        db.edit("UPDATE audit_events SET at = substr(at, 1, 29) || '+00:00' WHERE seq = 5");
        let reason = altered_event(store, 5, JOURNAL);
        assert!(reason.contains("is not in the stored form"), "{reason}");
    });
}

#[test]
fn an_exchange_whose_bytes_changed_does_not_hash_to_its_event() {
    each_store("an_exchange_whose_bytes_changed_does_not_hash_to_its_event", |db, store| {
        db.edit("UPDATE exchanges SET json = replace(json, '200', '412')");
        let what = state_mismatch(store, VENDOR);
        assert!(
            what.contains("exchange 1's stored bytes do not hash to the sha256 in its exchange.recorded event #7"),
            "{what}"
        );
    });
}
