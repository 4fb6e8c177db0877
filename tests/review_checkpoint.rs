//! Signed checkpoints: every decision ends with the decider's signature over the chain's head, and each
//! account remembers the newest checkpoint it saw outside the store. A chain cut short, rewritten, or
//! extended behind a signed decision's back — all of which verify as a chain on their own — is caught.
//! Real ssh-agent, the simulator on loopback, and each store backend (SQLite, PostgreSQL).

use crate::review_support;

use serde_json::json;
use signoff::model::{RunId, RunStatus};
use signoff::review::checkpoint::{self, Memory};
use signoff::review::{DecisionKind, Outcome};
use signoff::sign::{AllowedSigners, CheckpointMessage};

use review_support::agent::{Agent, ssh_keygen_verifies, write_allowed_signers};
use review_support::{APPROVER, Harness, SECOND, chain, propose_vendor_us104};
use review_support::{refusal, signed_harnesses};

fn memory(h: &Harness) -> Memory {
    Memory::in_state_dir(&h.dir.path().join("state"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_ends_with_a_checkpoint_openssh_verifies_and_the_account_remembers_it() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let (harnesses, allowed) =
        signed_harnesses(&agent, "a_decision_ends_with_a_checkpoint_openssh_verifies_and_the_account_remembers_it")
            .await;
    for h in harnesses {
        write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
        propose_vendor_us104(&h, "VND-CP", 1);

        let outcome = h.decide_signed(APPROVER, agent.signer(), "VND-CP", DecisionKind::Approve).await;

        assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
        let store = h.store();
        let checkpoints = store.audit_events_of_kind(checkpoint::KIND).unwrap();
        assert_eq!(checkpoints.len(), 2, "one before the write, one after the outcome");
        let last = checkpoints.last().unwrap();
        assert_eq!(last.actor, APPROVER);
        let (seq, hash) = (last.payload["seq"].as_i64().unwrap(), last.payload["hash"].as_str().unwrap());
        assert_eq!(store.audit_event(seq).unwrap().unwrap().hash, hash, "it signs the head it saw");
        let message = CheckpointMessage::new(seq, hash).to_bytes();
        let signature = last.payload["signature"].as_str().unwrap();
        assert!(ssh_keygen_verifies(agent.dir.path(), &allowed, APPROVER, &message, signature));
        let coverage = checkpoint::verify_all(&store, &AllowedSigners::load(&allowed).unwrap()).unwrap();
        assert!(coverage.uncovered.is_empty(), "{coverage:?}");
        assert_eq!(memory(&h).recalled(&store).map(|p| p.seq), Some(seq));
    }
}

/// Two signed decisions on two runs; returns the seq of the first decision's last checkpoint.
async fn two_signed_decisions(h: &Harness, agent: &Agent) -> i64 {
    propose_vendor_us104(h, "VND-ONE", 2);
    let first = h.decide_signed(APPROVER, agent.signer(), "VND-ONE", DecisionKind::Approve).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { .. }), "{first:?}");
    let cut_after = h.store().audit_head().unwrap().unwrap().0;
    let second = h.decide_signed(SECOND, agent.signer(), "VND-ONE", DecisionKind::Approve).await;
    assert!(matches!(second, Outcome::Executed { .. }), "{second:?}");
    cut_after
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_cut_short_with_its_head_moved_back_is_refused_until_an_operator_acknowledges_it() {
    let agent = Agent::start();
    let (julia, alicia) = (agent.keygen("julia"), agent.keygen("alicia"));
    agent.add(&julia);
    agent.add(&alicia);
    let (harnesses, allowed) = signed_harnesses(
        &agent,
        "a_chain_cut_short_with_its_head_moved_back_is_refused_until_an_operator_acknowledges_it",
    )
    .await;
    for h in harnesses {
        write_allowed_signers(&allowed, &[(APPROVER, &julia), (SECOND, &alicia)]);
        let cut_after = two_signed_decisions(&h, &agent).await;
        propose_vendor_us104(&h, "VND-TWO", 1);
        // Someone deletes the newest events (the execution and its checkpoints) and moves the head back:
        // the chain that is left verifies on its own.
        let mut events = chain::events(&h.db);
        let kept_runs: Vec<_> =
            events.iter().filter(|e| e.seq > cut_after && e.kind == "run.imported").cloned().collect();
        events.retain(|e| e.seq <= cut_after);
        events.extend(kept_runs);
        chain::rewrite(&h.db, events);

        let refused = h.decide_signed(APPROVER, agent.signer(), "VND-TWO", DecisionKind::Approve).await;

        let reason = refusal(&refused);
        assert!(reason.contains("CUT SHORT") || reason.contains("FORKED"), "{reason}");
        assert!(h.writes().iter().all(|w| !w.target.contains("VND-TWO")), "nothing sent");
        // An operator who has looked into it accepts the chain as it is; decisions resume.
        let previous = memory(&h).acknowledge(&h.store()).unwrap();
        assert!(previous.is_some_and(|p| p.seq > cut_after));
        let resumed = h.decide_signed(APPROVER, agent.signer(), "VND-TWO", DecisionKind::Approve).await;
        assert!(matches!(resumed, Outcome::Executed { .. }), "{resumed:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_rewritten_under_a_checkpoint_breaks_its_signature_and_decisions_are_refused() {
    let agent = Agent::start();
    let (julia, alicia) = (agent.keygen("julia"), agent.keygen("alicia"));
    agent.add(&julia);
    agent.add(&alicia);
    let (harnesses, allowed) = signed_harnesses(
        &agent,
        "an_event_rewritten_under_a_checkpoint_breaks_its_signature_and_decisions_are_refused",
    )
    .await;
    for h in harnesses {
        write_allowed_signers(&allowed, &[(APPROVER, &julia), (SECOND, &alicia)]);
        two_signed_decisions(&h, &agent).await;
        propose_vendor_us104(&h, "VND-TWO", 1);
        // History rewritten from an early event on (a reason changed), every hash recomputed.
        let mut events = chain::events(&h.db);
        let approval = events.iter_mut().find(|e| e.kind == "approval.recorded").unwrap();
        approval.payload["reason"] = json!("approved without checking");
        h.db.edit(&format!("UPDATE approvals SET reason = 'approved without checking' WHERE approver = '{APPROVER}'"));
        chain::rewrite(&h.db, events);
        h.store().verify_audit().expect("the rewritten chain and state agree on their own");

        let refused = h.decide_signed(APPROVER, agent.signer(), "VND-TWO", DecisionKind::Approve).await;

        let reason = refusal(&refused);
        assert!(reason.contains("FORKED") || reason.contains("rewritten"), "{reason}");
        let verify = checkpoint::verify_all(&h.store(), &AllowedSigners::load(&allowed).unwrap());
        assert!(verify.is_err(), "the checkpoint signed the old hash: {verify:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_appended_behind_a_signed_decision_with_a_correct_hash_is_refused() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let (harnesses, allowed) =
        signed_harnesses(&agent, "an_event_appended_behind_a_signed_decision_with_a_correct_hash_is_refused").await;
    for h in harnesses {
        write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
        propose_vendor_us104(&h, "VND-REJ", 1);
        let rejected = h.decide_signed(APPROVER, agent.signer(), "VND-REJ", DecisionKind::Reject).await;
        assert!(matches!(rejected, Outcome::Rejected { .. }), "{rejected:?}");
        // Someone with write access re-opens the rejected run through the store's own code: the row, the
        // history and a correctly chained event — everything but a signature.
        let id = RunId::from("VND-REJ");
        h.store().transition(&id, &[RunStatus::Rejected], RunStatus::Pending, "mallory", json!({})).unwrap();
        h.store().verify_audit().expect("a correctly appended event verifies as a chain");

        let refused = h.decide_signed(APPROVER, agent.signer(), "VND-REJ", DecisionKind::Approve).await;

        let reason = refusal(&refused);
        assert!(reason.contains("not covered by any signed checkpoint"), "{reason}");
        assert!(h.writes().is_empty(), "nothing sent: {:?}", h.writes());
        let coverage = checkpoint::verify_all(&h.store(), &AllowedSigners::load(&allowed).unwrap()).unwrap();
        assert_eq!(coverage.uncovered.len(), 1, "audit verify names it: {coverage:?}");
    }
}
