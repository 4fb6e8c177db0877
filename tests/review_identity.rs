//! Who decides is proven, not claimed: decisions are signed by the approver's own key through a real
//! ssh-agent started by each test, and verified against an allowed-signers file in git's format.

use crate::review_support;

use std::sync::Arc;

use serde_json::Value;
use signoff::model::RunId;
use signoff::review::{DecisionKind, Outcome};
use signoff::sign::{DecisionMessage, KeySigner, PublicKey, SignError, Signer, SshSig};

use review_support::agent::{Agent, ssh_keygen_verifies, write_allowed_signers};
use review_support::{APPROVER, Harness, SECOND, propose_journal_00123, propose_vendor_us104};
use review_support::{refusal, signed_harness};

const MALLORY: &str = "mallory.kent@contoso.com";

fn event(h: &Harness, id: &str, kind: &str, to: Option<&str>) -> Value {
    let events = h.store().audit_events(&RunId::from(id)).unwrap();
    let found = events
        .into_iter()
        .filter(|e| e.kind == kind)
        .find(|e| to.is_none_or(|t| e.payload["to"] == t))
        .unwrap_or_else(|| panic!("no {kind} event for {id}"));
    found.payload
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_approval_verifies_with_ssh_keygen_as_git_verifies_signatures() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
    propose_vendor_us104(&h, "VND-SIGNED", 2);

    let outcome = h.decide_signed(APPROVER, agent.signer(), "VND-SIGNED", DecisionKind::Approve).await;
    assert!(matches!(outcome, Outcome::ApprovalRecorded { approvals: 1, required: 2, .. }), "{outcome:?}");

    let approvals = h.store().approvals(&RunId::from("VND-SIGNED")).unwrap();
    let a = &approvals[0];
    assert_eq!(a.approver, APPROVER);
    let signature = a.signature.as_deref().expect("the approval is stored with its signature");
    assert!(signature.starts_with("-----BEGIN SSH SIGNATURE-----"), "{signature}");
    let message = DecisionMessage::new("VND-SIGNED", "approve", APPROVER, &a.reason, &a.digest, a.approved_at);
    let dir = agent.dir.path();
    assert!(ssh_keygen_verifies(dir, &allowed, APPROVER, &message.to_bytes(), signature));
    // The same signature proves neither another principal nor the approval under another name.
    assert!(!ssh_keygen_verifies(dir, &allowed, SECOND, &message.to_bytes(), signature));
    let renamed = DecisionMessage::new("VND-SIGNED", "approve", SECOND, &a.reason, &a.digest, a.approved_at);
    assert!(!ssh_keygen_verifies(dir, &allowed, APPROVER, &renamed.to_bytes(), signature));

    let recorded = event(&h, "VND-SIGNED", "approval.recorded", None);
    assert_eq!(recorded["signature"], signature);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejection_is_signed_and_its_audit_event_carries_the_signature() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia)]);
    propose_journal_00123(&h, "JE-REJECT-SIGNED");

    let outcome = h.decide_signed(APPROVER, agent.signer(), "JE-REJECT-SIGNED", DecisionKind::Reject).await;
    assert!(matches!(outcome, Outcome::Rejected { .. }), "{outcome:?}");

    let detail = &event(&h, "JE-REJECT-SIGNED", "run.status", Some("executing"))["detail"];
    let signature = detail["signature"].as_str().expect("the decision's audit event carries its signature");
    let at = chrono::DateTime::parse_from_rfc3339(detail["signed_at"].as_str().unwrap()).unwrap().to_utc();
    let stored = h.store().get(&RunId::from("JE-REJECT-SIGNED")).unwrap().unwrap();
    assert_eq!(detail["signed_digest"], stored.digest.as_str());
    let reason = detail["reason"].as_str().unwrap();
    let message = DecisionMessage::new("JE-REJECT-SIGNED", "reject", APPROVER, reason, &stored.digest, at);
    assert!(ssh_keygen_verifies(agent.dir.path(), &allowed, APPROVER, &message.to_bytes(), signature));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_not_in_the_allowed_signers_is_refused_before_anything_is_read_from_fno() {
    let agent = Agent::start();
    let listed = agent.keygen("julia-laptop");
    let other = agent.keygen("julia-old-desktop");
    agent.add(&other);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &listed)]);
    propose_vendor_us104(&h, "VND-WRONG-KEY", 1);

    let outcome = h.decide_signed(APPROVER, agent.signer(), "VND-WRONG-KEY", DecisionKind::Approve).await;
    let reason = refusal(&outcome);
    assert!(reason.contains("no key in your ssh-agent is in the allowed signers file"), "{reason}");
    assert!(reason.contains("nothing was read from F&O"), "{reason}");
    assert!(h.data_requests().is_empty(), "{:?}", h.data_requests());
    assert!(h.store().approvals(&RunId::from("VND-WRONG-KEY")).unwrap().is_empty());
    assert_eq!(h.status("VND-WRONG-KEY"), "pending");
}

/// A signer that offers the listed key but signs other bytes than it is given: its signature never
/// verifies over the decision.
#[derive(Debug)]
struct SignsOtherBytes(KeySigner);

impl Signer for SignsOtherBytes {
    fn keys(&self) -> Result<Vec<PublicKey>, SignError> {
        self.0.keys()
    }

    fn sign(&self, key: &PublicKey, _message: &[u8]) -> Result<SshSig, SignError> {
        self.0.sign(key, b"something else entirely")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_that_does_not_verify_is_refused_before_anything_is_read_from_fno() {
    let agent = Agent::start();
    let (h, allowed) = signed_harness(&agent).await;
    let keys = KeySigner::generate();
    let public = keys.keys().unwrap()[0].to_openssh().unwrap();
    std::fs::write(&allowed, format!("{APPROVER} {public}\n")).unwrap();
    propose_vendor_us104(&h, "VND-BAD-SIG", 1);

    let outcome =
        h.decide_signed(APPROVER, Arc::new(SignsOtherBytes(keys)), "VND-BAD-SIG", DecisionKind::Approve).await;
    let reason = refusal(&outcome);
    assert!(reason.contains("does not verify"), "{reason}");
    assert!(h.data_requests().is_empty(), "{:?}", h.data_requests());
    assert_eq!(h.status("VND-BAD-SIG"), "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approver_id_the_agent_cannot_prove_is_refused() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    let alicia = agent.keygen("alicia");
    agent.add(&julia);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia), (SECOND, &alicia)]);
    propose_vendor_us104(&h, "VND-CLAIM", 2);

    // Julia's agent asked to act as Alicia (SIGNOFF_APPROVER / approver.id choose, never invent).
    let outcome = h.decide_signed(SECOND, agent.signer(), "VND-CLAIM", DecisionKind::Approve).await;
    let reason = refusal(&outcome);
    assert!(reason.contains(&format!("names '{SECOND}'")), "{reason}");
    assert!(reason.contains(&format!("it can prove: {APPROVER}")), "{reason}");
    assert!(h.data_requests().is_empty(), "{:?}", h.data_requests());

    // As herself, the same agent is accepted.
    let outcome = h.decide_signed(APPROVER, agent.signer(), "VND-CLAIM", DecisionKind::Approve).await;
    assert!(matches!(outcome, Outcome::ApprovalRecorded { approvals: 1, .. }), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_person_under_two_approver_ids_cannot_meet_a_quorum_of_two() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    agent.add(&julia);
    let (h, allowed) = signed_harness(&agent).await;
    // A careless file gives one key two names: the key, not the name, is the person.
    write_allowed_signers(&allowed, &[(&format!("{APPROVER},{SECOND}"), &julia)]);
    propose_vendor_us104(&h, "VND-TWO-NAMES", 2);

    let first = h.decide_signed(APPROVER, agent.signer(), "VND-TWO-NAMES", DecisionKind::Approve).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { approvals: 1, required: 2, .. }), "{first:?}");
    let second = h.decide_signed(SECOND, agent.signer(), "VND-TWO-NAMES", DecisionKind::Approve).await;
    let reason = refusal(&second);
    assert!(reason.contains(&format!("already approved this run as {APPROVER}")), "{reason}");
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_eq!(h.store().approvals(&RunId::from("VND-TWO-NAMES")).unwrap().len(), 1);
    assert_eq!(h.status("VND-TWO-NAMES"), "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_renamed_in_the_store_refuses_execution_with_nothing_sent() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    let alicia = agent.keygen("alicia");
    let mallory = agent.keygen("mallory");
    agent.add(&julia);
    agent.add(&alicia);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia), (SECOND, &alicia), (MALLORY, &mallory)]);
    propose_vendor_us104(&h, "VND-RENAMED", 2);

    let first = h.decide_signed(APPROVER, agent.signer(), "VND-RENAMED", DecisionKind::Approve).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { approvals: 1, .. }), "{first:?}");
    // Someone with write access to the database edits who approved.
    let conn = rusqlite::Connection::open(&h.store_path).unwrap();
    let changed = conn.execute("UPDATE approvals SET approver = ?1 WHERE run_id = 'VND-RENAMED'", [MALLORY]).unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let second = h.decide_signed(SECOND, agent.signer(), "VND-RENAMED", DecisionKind::Approve).await;
    // The approvals table no longer matches its audit event: refused before anything is read.
    let reason = refusal(&second);
    assert!(reason.contains(&format!("approval by '{MALLORY}' has no approval.recorded event")), "{reason}");
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_ne!(h.status("VND-RENAMED"), "executed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_renamed_in_the_store_and_in_a_rewritten_chain_is_refused_and_its_signature_betrays_it() {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    let alicia = agent.keygen("alicia");
    let mallory = agent.keygen("mallory");
    agent.add(&julia);
    agent.add(&alicia);
    let (h, allowed) = signed_harness(&agent).await;
    write_allowed_signers(&allowed, &[(APPROVER, &julia), (SECOND, &alicia), (MALLORY, &mallory)]);
    propose_vendor_us104(&h, "VND-RENAMED", 2);

    let first = h.decide_signed(APPROVER, agent.signer(), "VND-RENAMED", DecisionKind::Approve).await;
    assert!(matches!(first, Outcome::ApprovalRecorded { approvals: 1, .. }), "{first:?}");
    // Someone with write access to the database edits who approved.
    let conn = rusqlite::Connection::open(&h.store_path).unwrap();
    let changed = conn.execute("UPDATE approvals SET approver = ?1 WHERE run_id = 'VND-RENAMED'", [MALLORY]).unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    // ... and rewrites history to match: the approval event's actor, every hash after it, the head.
    let mut events = review_support::chain::events(&h.db);
    for e in events.iter_mut().filter(|e| e.kind == "approval.recorded") {
        e.actor = MALLORY.to_string();
    }
    // Even the signed checkpoint of the first decision is dropped, so no checkpoint can betray the rewrite.
    events.retain(|e| e.kind != "checkpoint.signed");
    review_support::chain::rewrite(&h.db, events);
    h.store().verify_audit().expect("the rewritten chain verifies on its own");

    // The account that decided remembers the checkpoint it saw: the chain forked.
    let second = h.decide_signed(SECOND, agent.signer(), "VND-RENAMED", DecisionKind::Approve).await;
    let reason = refusal(&second);
    assert!(reason.contains("FORKED") || reason.contains("CUT SHORT"), "{reason}");
    // Another account, that never saw a checkpoint: the renamed approval is covered by no signature.
    let fresh = signoff::review::checkpoint::Memory::in_state_dir(&h.dir.path().join("other-account"));
    let reviewer = h.signed_reviewer(SECOND, agent.signer()).with_memory(fresh);
    let request = signoff::review::DecisionRequest {
        run_id: RunId::from("VND-RENAMED"),
        kind: DecisionKind::Approve,
        reason: "second approval".into(),
        dry_run: false,
        confirm_environment: None,
        reviewed_digest: h.digest_of("VND-RENAMED"),
    };
    let progress = signoff::review::no_progress();
    let third = reviewer.decide(&request, &progress, &signoff::review::Cancel::new()).await.unwrap();
    let reason = refusal(&third);
    assert!(reason.contains("not covered by any signed checkpoint"), "{reason}");
    assert!(h.writes().is_empty(), "{:?}", h.writes());
    assert_ne!(h.status("VND-RENAMED"), "executed");
    // And the approval's own signature no longer proves its (renamed) approver.
    let approvals = h.store().approvals(&RunId::from("VND-RENAMED")).unwrap();
    let a = &approvals[0];
    let message = DecisionMessage::new("VND-RENAMED", "approve", &a.approver, &a.reason, &a.digest, a.approved_at);
    let allowed = signoff::sign::AllowedSigners::load(&allowed).unwrap();
    let verified = signoff::sign::verify(&allowed, &message.to_bytes(), a.signature.as_deref().unwrap(), a.approved_at);
    assert!(verified.is_err(), "signed as julia, renamed to mallory: {verified:?}");
}
