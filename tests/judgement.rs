//! Integration tests of the judgement: diff, policy, queue, rollback: one test binary for the layer (each module is one file of
//! tests/), so two cores link a few binaries instead of fifty.

#[path = "judgement_diff.rs"]
mod judgement_diff;
#[path = "judgement_policy.rs"]
mod judgement_policy;
#[path = "judgement_queue.rs"]
mod judgement_queue;
#[path = "judgement_rollback.rs"]
mod judgement_rollback;
