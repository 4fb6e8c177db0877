//! The ground a judgement stands on, shared by `policy` (the rules) and `rollback` (the compensation
//! planner): the facts besides the run and the config, and the few questions both ask of them.
//!
//! Both depend on this module and neither on the other, so a rule's internals never leak into the
//! planner and the planner's readiness never feeds back into a rule.

mod calendar;
mod catalog;
mod facts;

pub use calendar::{date, period_closed, period_of};
pub use catalog::{NOT_SYNCED, operation_status, record_operation_parameter, record_operation_status};
pub use facts::{ApproverSecurity, Facts, InvoiceKey, OtherInvoice, RecordState};
