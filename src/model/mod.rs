//! Plain data: governed runs, their values and the run file format. No I/O here.

mod action;
mod encoding;
pub mod filter;
mod ids;
mod judged;
pub mod locate;
pub mod parse;
mod run;
mod strict;
mod summary;
mod validate;
mod value;

pub use action::Action;
pub use ids::{ActorId, DataAreaId, ETag, RunId};
pub use judged::{Level, QueueJudgement, Readiness};
pub use parse::{Problem, RunFileError, parse_run, parse_run_bytes};
pub use run::{
    Evidence, GovernedRun, LineSnapshot, Proposed, ProposedLine, RUN_FORMAT, Requester, RequesterKind, Route,
    RunStatus, Snapshot, Target, WorkItem,
};
pub use summary::RunSummary;
pub use validate::{MONEY_FIELDS, record_key};
pub use value::{FieldValue, Fields, Money, parse_decimal};
