//! What signing adds to a decision, to set beside an F&O round trip (typically 50–300 ms):
//!
//! - `memory/sign_and_verify`: an Ed25519 SSHSIG over a decision message made in memory
//!   (`sign_armored`) and verified against a parsed allowed-signers file of 50 principals (`verify`).
//! - `agent/sign_and_verify`: the same through a real ssh-agent (`AgentSigner`, the signer a decision
//!   uses): one connection to the agent's socket, one sign request, then the verify.
//! - `agent/approval`: everything an approval adds, as the pipeline does it (see `review::identity`):
//!   proving who decides (load the allowed signers, list the agent's keys, sign, verify), signing the
//!   approval (load, sign, verify), and before the write verifying the two approvals counted (load,
//!   verify twice).
//!
//! The agent is `ssh-agent -D -a <tempdir>/agent.sock` with an `ssh-keygen -t ed25519` key `ssh-add`ed,
//! as the signed-identity tests start it; it is killed when the bench ends.

#[path = "../tests/review_support/agent.rs"]
#[allow(dead_code)]
mod agent;

use std::hint::black_box;
use std::path::Path;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use signoff::sign::{self, AgentSigner, AllowedSigners, DecisionMessage, KeySigner, PublicKey, Signer};

const PRINCIPALS: usize = 50;
const APPROVER: &str = "julia.funderburk@contoso.com";

/// An allowed-signers file of `PRINCIPALS` entries, `key` listed last (every lookup scans them all).
fn write_allowed(path: &Path, key: &PublicKey) {
    let mut text = String::from("# approvers of the USMF sandbox\n");
    for n in 1..PRINCIPALS {
        let other = KeySigner::generate().keys().expect("key").remove(0);
        text.push_str(&format!("approver{n:02}@contoso.com {}\n", other.to_openssh().expect("openssh")));
    }
    text.push_str(&format!("{APPROVER} {} julia's laptop\n", key.to_openssh().expect("openssh")));
    std::fs::write(path, text).expect("write allowed signers");
}

fn message() -> Vec<u8> {
    let digest = "9f2c4e1a7b3d5f60812a4c6e8b0d2f4153759ab1cde2f3a4b5c6d7e8f9012345";
    let reason = "Matched to receipt and PO; coding corrected as agreed with the supplier.";
    DecisionMessage::new("run-inv-usmf-apinv-000123", "approve", APPROVER, reason, digest, Utc::now()).to_bytes()
}

/// One signature over `bytes`, verified and proving the approver, as `sign_and_check` does.
fn sign_and_verify(signer: &dyn Signer, key: &PublicKey, allowed: &AllowedSigners, bytes: &[u8]) -> String {
    let signature = sign::sign_armored(signer, key, bytes).expect("sign");
    let verified = sign::verify(allowed, bytes, &signature, Utc::now()).expect("verify");
    assert!(verified.proves(APPROVER));
    signature
}

fn memory(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let signer = KeySigner::generate();
    let key = signer.keys().expect("key").remove(0);
    let path = dir.path().join("allowed_signers");
    write_allowed(&path, &key);
    let allowed = AllowedSigners::load(&path).expect("load allowed signers");
    assert_eq!(allowed.entries.len(), PRINCIPALS);
    let bytes = message();

    let mut group = c.benchmark_group("sign/memory");
    group.bench_function("sign_and_verify", |b| b.iter(|| sign_and_verify(&signer, &key, &allowed, black_box(&bytes))));
    group.bench_function("load_allowed_signers_50", |b| b.iter(|| AllowedSigners::load(black_box(&path))));
    group.finish();
}

fn through_agent(c: &mut Criterion) {
    let agent = agent::Agent::start();
    let generated = agent.keygen("julia");
    agent.add(&generated);
    let signer = AgentSigner::at(&agent.socket);
    let key = PublicKey::from_openssh(&generated.public).expect("public key");
    let path = agent.dir.path().join("allowed_signers");
    write_allowed(&path, &key);
    let allowed = AllowedSigners::load(&path).expect("load allowed signers");
    let bytes = message();

    let mut group = c.benchmark_group("sign/agent");
    group.bench_function("sign_and_verify", |b| b.iter(|| sign_and_verify(&signer, &key, &allowed, black_box(&bytes))));
    group.bench_function("approval", |b| {
        b.iter(|| {
            // Prove who decides: the agent's keys against the allowed signers, then a signed decision.
            let allowed = AllowedSigners::load(&path).expect("load");
            let keys = signer.keys().expect("agent keys");
            let key = keys
                .iter()
                .find(|k| allowed.principals_for(k, sign::NAMESPACE, Utc::now()).iter().any(|p| p == APPROVER))
                .expect("the agent holds the approver's key");
            sign_and_verify(&signer, key, &allowed, &bytes);
            // Sign the approval itself.
            let allowed = AllowedSigners::load(&path).expect("load");
            let signature = sign_and_verify(&signer, key, &allowed, &bytes);
            // Before the write: every counted approval verifies again (a quorum of two).
            let allowed = AllowedSigners::load(&path).expect("load");
            for _ in 0..2 {
                black_box(sign::verify(&allowed, &bytes, &signature, Utc::now()).expect("verify"));
            }
        });
    });
    group.finish();
    // `agent` is dropped here: the ssh-agent is killed and its tempdir removed.
}

criterion_group!(benches, memory, through_agent);
criterion_main!(benches);
