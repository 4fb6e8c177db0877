//! Evidence bundles are proof, not files: each carries the audit chain segment around its run, closed by
//! a checkpoint signed through a real ssh-agent, and every file is checked against it. A forger who
//! edits a file and recomputes the manifest (the manifest is unkeyed: anyone can) is caught, naming the
//! file and what disagrees.

use crate::review_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use signoff::model::RunId;
use signoff::review::checkpoint_sign::sign_checkpoint;
use signoff::review::evidence::{BUNDLE_FILES, BundleFile, CHAIN_FILE, verify_bundle, write_bundle};
use signoff::review::{DecisionKind, Outcome, ReviewError};
use signoff::sign::{AllowedSigners, CheckpointMessage, KeySigner, Signer, sign_armored};
use signoff::sim::SimOptions;
use signoff::store::AuditEvent;

use review_support::agent::{Agent, write_allowed_signers};
use review_support::{APPROVER, Harness, propose_vendor_us104};

const MALLORY: &str = "mallory.kent@contoso.com";

/// A run approved and executed by Julia's signed decision, a checkpoint she signed after it, and the
/// exported bundle. Mallory is an allowed signer too (a colleague gone bad), with her own key.
struct Signed {
    agent: Agent,
    h: Harness,
    allowed: AllowedSigners,
    bundle: PathBuf,
}

async fn signed_bundle(id: &str) -> Signed {
    let agent = Agent::start();
    let julia = agent.keygen("julia");
    let mallory = agent.keygen("mallory");
    agent.add(&julia);
    let allowed_path = agent.dir.path().join("allowed_signers");
    let path = allowed_path.clone();
    let h = Harness::start_with(SimOptions::default(), move |c| c.approver.allowed_signers = Some(path)).await;
    write_allowed_signers(&allowed_path, &[(APPROVER, &julia), (MALLORY, &mallory)]);
    propose_vendor_us104(&h, id, 1);
    let outcome = h.decide_signed(APPROVER, agent.signer(), id, DecisionKind::Approve).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    let signer = agent.signer();
    let key = signer.keys().unwrap().remove(0);
    sign_checkpoint(&h.store(), signer.as_ref(), &key, APPROVER).unwrap();
    let bundle = h.dir.path().join("bundle");
    h.reviewer(APPROVER).export_evidence(&RunId::from(id), &bundle).unwrap();
    let allowed = AllowedSigners::load(&allowed_path).unwrap();
    Signed { agent, h, allowed, bundle }
}

/// The bundle's files by name.
fn files(dir: &Path) -> BTreeMap<&'static str, Value> {
    BUNDLE_FILES
        .iter()
        .map(|name| (*name, serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()))
        .collect()
}

/// What a forger does with the public code: write the edited files as a new bundle, manifest and all.
fn forge(s: &Signed, name: &str, files: &BTreeMap<&'static str, Value>) -> PathBuf {
    let out = s.h.dir.path().join(name);
    let files: Vec<BundleFile> = files
        .iter()
        .map(|(name, value)| BundleFile { name, bytes: serde_json::to_vec_pretty(value).unwrap() })
        .collect();
    write_bundle(&out, "RUN-VND-SIGNED", APPROVER, &files).unwrap();
    out
}

fn refusal(dir: &Path, allowed: &AllowedSigners) -> String {
    match verify_bundle(dir, allowed) {
        Ok(v) => panic!("a forged bundle verified: {:?}", v.proof),
        Err(e) => e.to_string(),
    }
}

fn chain(files: &BTreeMap<&'static str, Value>) -> Vec<AuditEvent> {
    serde_json::from_value(files[CHAIN_FILE].clone()).unwrap()
}

/// Recompute every hash from `from` on, as someone rewriting history would.
fn rehash(events: &mut [AuditEvent], from: usize) {
    for i in from..events.len() {
        if i > 0 {
            events[i].prev_hash = events[i - 1].hash.clone();
        }
        events[i].hash = events[i].compute_hash();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_honest_signed_bundle_verifies_and_names_who_signed_its_checkpoint() {
    let s = signed_bundle("RUN-VND-SIGNED").await;

    let verified = verify_bundle(&s.bundle, &s.allowed).unwrap();

    let names: Vec<&str> = verified.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, BUNDLE_FILES);
    assert_eq!(verified.proof.signed_by, APPROVER);
    let chain = chain(&files(&s.bundle));
    assert_eq!(verified.proof.first, 1, "no checkpoint before the run: the segment starts at event #1");
    assert_eq!(verified.proof.last, chain.last().unwrap().seq);
    assert_eq!(chain.last().unwrap().kind, "checkpoint.signed");
    assert!(chain.iter().any(|e| e.run_id.is_none()), "events of no run in between are carried too: {chain:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_runs_segment_starts_at_the_checkpoint_before_it() {
    let s = signed_bundle("RUN-VND-SIGNED").await;
    let checkpoint_seq = verify_bundle(&s.bundle, &s.allowed).unwrap().proof.last;
    propose_vendor_us104(&s.h, "RUN-VND-LATER", 1);
    let later = s.h.dir.path().join("later");
    // Imported after the newest checkpoint: no signature covers the run yet.
    let err = s.h.reviewer(APPROVER).export_evidence(&RunId::from("RUN-VND-LATER"), &later).unwrap_err();
    assert!(matches!(err, ReviewError::NoCheckpoint { .. }), "{err}");
    assert!(err.to_string().contains("run `signoff audit checkpoint`"), "{err}");
    // A signed decision ends under its decider's checkpoint, so its run can be exported at once.
    let outcome = s.h.decide_signed(APPROVER, s.agent.signer(), "RUN-VND-LATER", DecisionKind::Approve).await;
    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");

    s.h.reviewer(APPROVER).export_evidence(&RunId::from("RUN-VND-LATER"), &later).unwrap();

    let proof = verify_bundle(&later, &s.allowed).unwrap().proof;
    assert!(proof.first >= checkpoint_seq, "{proof:?} starts after the checkpoint #{checkpoint_seq}");
    assert_eq!(chain(&files(&later))[0].kind, "checkpoint.signed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_bundle_does_not_verify() {
    let s = signed_bundle("RUN-VND-SIGNED").await;
    let empty = s.h.dir.path().join("empty");
    write_bundle(&empty, "RUN-VND-SIGNED", APPROVER, &[]).unwrap();

    let reason = refusal(&empty, &s.allowed);

    assert!(reason.contains("the bundle has no run.json"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_chain_segment_does_not_verify() {
    let s = signed_bundle("RUN-VND-SIGNED").await;

    let mut without_checkpoint = files(&s.bundle);
    let mut events = chain(&without_checkpoint);
    let closing = events.pop().unwrap();
    without_checkpoint.insert(CHAIN_FILE, json!(events));
    let reason = refusal(&forge(&s, "no-checkpoint", &without_checkpoint), &s.allowed);
    assert!(reason.contains(&format!("{CHAIN_FILE} ends at event #{}", closing.seq - 1)), "{reason}");
    assert!(reason.contains("not a signed checkpoint"), "{reason}");

    let mut gap = files(&s.bundle);
    let mut events = chain(&gap);
    let removed = events.remove(3);
    gap.insert(CHAIN_FILE, json!(events));
    let reason = refusal(&forge(&s, "gap", &gap), &s.allowed);
    assert!(reason.contains(&format!("event #{} follows #{}", removed.seq + 1, removed.seq - 1)), "{reason}");

    let mut headless = files(&s.bundle);
    let events = chain(&headless);
    headless.insert(CHAIN_FILE, json!(events[2..]));
    let reason = refusal(&forge(&s, "headless", &headless), &s.allowed);
    assert!(reason.contains("starts at event #3"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_approvals_file_with_a_recomputed_manifest_does_not_verify() {
    let s = signed_bundle("RUN-VND-SIGNED").await;

    let mut edited = files(&s.bundle);
    edited.get_mut("approvals.json").unwrap()[0]["reason"] = json!("Approved by the CFO in person");
    let reason = refusal(&forge(&s, "reason", &edited), &s.allowed);
    assert!(reason.contains("approvals.json: the approval by 'julia.funderburk@contoso.com' has a reason"), "{reason}");
    assert!(reason.contains("approval.recorded event #"), "{reason}");

    let mut renamed = files(&s.bundle);
    renamed.get_mut("approvals.json").unwrap()[0]["approver"] = json!(MALLORY);
    let reason = refusal(&forge(&s, "renamed", &renamed), &s.allowed);
    assert!(
        reason.contains(&format!("approvals.json: the approval by '{MALLORY}' has no approval.recorded event")),
        "{reason}"
    );

    let mut dropped = files(&s.bundle);
    dropped.insert("approvals.json", json!([]));
    let reason = refusal(&forge(&s, "dropped", &dropped), &s.allowed);
    assert!(reason.contains(&format!("approvals.json leaves out the approval by '{APPROVER}'")), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_renamed_in_a_rewritten_chain_breaks_the_checkpoint() {
    let s = signed_bundle("RUN-VND-SIGNED").await;
    let mut forged = files(&s.bundle);
    forged.get_mut("approvals.json").unwrap()[0]["approver"] = json!(MALLORY);
    let mut events = chain(&forged);
    let at = events.iter().position(|e| e.kind == "approval.recorded").unwrap();
    events[at].actor = MALLORY.to_string();
    rehash(&mut events, at);
    let audit: Vec<&AuditEvent> = events.iter().filter(|e| e.run_id.is_some()).collect();
    forged.insert("audit.json", json!(audit));
    forged.insert(CHAIN_FILE, json!(events));

    let reason = refusal(&forge(&s, "rechained", &forged), &s.allowed);

    assert!(reason.contains(&format!("{CHAIN_FILE}: the closing checkpoint #")), "{reason}");
    assert!(reason.contains("which is not an event of the segment"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_re_signed_by_a_key_not_in_the_allowed_signers_does_not_verify() {
    let s = signed_bundle("RUN-VND-SIGNED").await;
    let mut forged = files(&s.bundle);
    forged.get_mut("run.json").unwrap()["status"] = json!("rejected");
    let mut events = chain(&forged);
    let at = events.iter().rposition(|e| e.kind == "run.status").unwrap();
    events[at].payload["to"] = json!("rejected");
    rehash(&mut events, at);
    // The forger signs the rewritten chain with a key of their own.
    let own = KeySigner::generate();
    let last = events.len() - 1;
    let signs = events[last - 1].clone();
    let key = own.keys().unwrap().remove(0);
    let signature = sign_armored(&own, &key, &CheckpointMessage::new(signs.seq, &signs.hash).to_bytes()).unwrap();
    events[last].payload["hash"] = json!(signs.hash);
    events[last].payload["seq"] = json!(signs.seq);
    events[last].payload["key"] = json!(signoff::sign::fingerprint(&key));
    events[last].payload["signature"] = json!(signature);
    rehash(&mut events, last);
    forged.insert("audit.json", json!(events.iter().filter(|e| e.run_id.is_some()).collect::<Vec<_>>()));
    forged.insert(CHAIN_FILE, json!(events));

    let reason = refusal(&forge(&s, "own-key", &forged), &s.allowed);

    assert!(reason.contains("the closing checkpoint #"), "{reason}");
    assert!(reason.contains("is not in the allowed signers"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_checkpoint_signature_does_not_verify() {
    let s = signed_bundle("RUN-VND-SIGNED").await;

    let mut garbled = files(&s.bundle);
    let mut events = chain(&garbled);
    let last = events.len() - 1;
    // Julia's real signature of another checkpoint, copied over this one.
    let signer = s.agent.signer();
    let julia = signer.keys().unwrap().remove(0);
    let other = sign_armored(signer.as_ref(), &julia, &CheckpointMessage::new(1, &events[0].hash).to_bytes()).unwrap();
    events[last].payload["signature"] = json!(other);
    rehash(&mut events, last);
    garbled.insert(CHAIN_FILE, json!(events));
    let reason = refusal(&forge(&s, "copied", &garbled), &s.allowed);
    assert!(reason.contains("signature does not prove it"), "{reason}");
    assert!(reason.contains("does not verify over this decision"), "{reason}");

    // Mallory's key is allowed, but only as Mallory: she cannot sign a checkpoint in Julia's name.
    let mallory = s.agent.keygen("mallory-2");
    s.agent.add(&mallory);
    let mut as_julia = files(&s.bundle);
    let mut events = chain(&as_julia);
    let key = signer.keys().unwrap().into_iter().find(|k| *k != julia).unwrap();
    let p = events[last].payload.clone();
    let sig = sign_armored(
        signer.as_ref(),
        &key,
        &CheckpointMessage::new(p["seq"].as_i64().unwrap(), p["hash"].as_str().unwrap()).to_bytes(),
    )
    .unwrap();
    events[last].payload["signature"] = json!(sig);
    events[last].payload["key"] = json!(signoff::sign::fingerprint(&key));
    rehash(&mut events, last);
    as_julia.insert(CHAIN_FILE, json!(events));
    let allowed = AllowedSigners::parse(&format!(
        "{APPROVER} {}\n{MALLORY} {}\n",
        julia.to_openssh().unwrap(),
        key.to_openssh().unwrap()
    ))
    .unwrap();
    let reason = refusal(&forge(&s, "as-julia", &as_julia), &allowed);
    assert!(reason.contains(&format!("is by '{APPROVER}', but its key")), "{reason}");
    assert!(reason.contains(&format!("is allowed only as {MALLORY}")), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn edited_run_and_exchange_files_name_what_disagrees() {
    let s = signed_bundle("RUN-VND-SIGNED").await;

    let mut status = files(&s.bundle);
    status.get_mut("run.json").unwrap()["status"] = json!("pending");
    let reason = refusal(&forge(&s, "status", &status), &s.allowed);
    assert!(reason.contains("run.json: status 'pending' is not 'executed'"), "{reason}");

    let mut document = files(&s.bundle);
    document.get_mut("run.json").unwrap()["run"]["justification"] = json!("Nothing to see here");
    let reason = refusal(&forge(&s, "document", &document), &s.allowed);
    assert!(reason.contains("run.json: the run document was altered"), "{reason}");

    let mut exchange = files(&s.bundle);
    // The PATCH that set the payment terms now says it set others.
    let list = exchange["exchanges.json"].as_array().unwrap();
    let patch = list.iter().position(|x| x["stored"].as_str().unwrap().contains("Net30")).unwrap();
    let stored = list[patch]["stored"].as_str().unwrap().replace("Net30", "Net90");
    exchange.get_mut("exchanges.json").unwrap()[patch]["stored"] = json!(stored);
    let reason = refusal(&forge(&s, "exchange", &exchange), &s.allowed);
    assert!(reason.contains("exchanges.json: exchange "), "{reason}");
    assert!(reason.contains("was altered: its sha256"), "{reason}");

    let mut audit = files(&s.bundle);
    audit.get_mut("audit.json").unwrap()[0]["actor"] = json!(MALLORY);
    let reason = refusal(&forge(&s, "audit", &audit), &s.allowed);
    assert!(reason.contains("audit.json: event #"), "{reason}");
    assert!(reason.contains("differs from event #"), "{reason}");
}
