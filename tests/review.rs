//! Integration tests of the decision pipeline and its evidence.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "review_support/mod.rs"]
mod review_support;

#[path = "bundle_signed.rs"]
mod bundle_signed;
#[path = "review_actions.rs"]
mod review_actions;
#[path = "review_bulk.rs"]
mod review_bulk;
#[path = "review_checkpoint.rs"]
mod review_checkpoint;
#[path = "review_cli.rs"]
mod review_cli;
#[path = "review_dialects.rs"]
mod review_dialects;
#[path = "review_evidence.rs"]
mod review_evidence;
#[path = "review_expire.rs"]
mod review_expire;
#[path = "review_faults.rs"]
mod review_faults;
#[path = "review_guarded.rs"]
mod review_guarded;
#[path = "review_identity.rs"]
mod review_identity;
#[path = "review_inbox.rs"]
mod review_inbox;
#[path = "review_journal.rs"]
mod review_journal;
#[path = "review_posting.rs"]
mod review_posting;
#[path = "review_quorum.rs"]
mod review_quorum;
#[path = "review_reset.rs"]
mod review_reset;
#[path = "review_rollback.rs"]
mod review_rollback;
#[path = "review_tamper.rs"]
mod review_tamper;
#[path = "review_types.rs"]
mod review_types;
