//! Integration tests of the judgement: diff, policy, queue, rollback.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "store_common/mod.rs"]
mod common;
#[path = "judgement_common/mod.rs"]
mod judgement_common;

#[path = "judgement_diff.rs"]
mod judgement_diff;
#[path = "judgement_duplicates.rs"]
mod judgement_duplicates;
#[path = "judgement_policy.rs"]
mod judgement_policy;
#[path = "judgement_queue.rs"]
mod judgement_queue;
#[path = "judgement_rollback.rs"]
mod judgement_rollback;
