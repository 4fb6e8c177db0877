//! F&O's own posting of journals left to it: the batch job that posts the journals flagged for batch
//! posting, and a person posting one journal by hand. Neither is a request: they stand for what happens
//! inside F&O after signoff handed a journal over (`[operations.journal_post] mode`), so a test can
//! observe what reconciliation later reads.
//!
//! Real F&O has no standard per-journal batch-posting field (FNO.md §8); the simulator's journals carry
//! `PostInBatch` (NoYes) as a customer's extension would, and its batch posts every unposted, unrejected
//! journal with `PostInBatch = Yes`. The posting itself is the post operation's effect (`ops::journal_post`):
//! the same checks and the same final voucher numbers, in every dialect.

use serde_json::{Map, Value};

use super::odata::Ctx;
use super::ops::journal_post;
use super::state::{Data, text_field};

/// The header field the simulated batch job selects on.
pub const BATCH_FLAG: &str = "PostInBatch";

/// What one run of the batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchRun {
    /// `(company, journal, vouchers)` for each journal posted, in RecId order.
    pub posted: Vec<(String, String, Vec<String>)>,
    /// `(company, journal, Infolog message)` for each flagged journal whose posting F&O refused (it stays
    /// unposted, as F&O's batch leaves a journal that fails to post).
    pub failed: Vec<(String, String, String)>,
}

/// Post every unposted, unrejected journal flagged `PostInBatch = Yes`.
pub fn run_batch(data: &mut Data, ctx: &Ctx) -> BatchRun {
    let waiting: Vec<(String, String)> = data
        .table("LedgerJournalHeaders")
        .map(|t| {
            t.rows
                .values()
                .filter(|r| flagged(&r.fields))
                .map(|r| (text_field(&r.fields, "dataAreaId").to_lowercase(), journal_number(&r.fields)))
                .collect()
        })
        .unwrap_or_default();
    let mut run = BatchRun::default();
    for (company, journal) in waiting {
        match journal_post(data, ctx, &company, &journal) {
            Ok(vouchers) => run.posted.push((company, journal, split(&vouchers))),
            Err(message) => run.failed.push((company, journal, message)),
        }
    }
    run
}

/// A person posts one journal in F&O (the approve-only hand-over's manual review ends so).
pub fn post_one(data: &mut Data, ctx: &Ctx, company: &str, journal: &str) -> Result<Vec<String>, String> {
    journal_post(data, ctx, &company.to_lowercase(), journal).map(|v| split(&v))
}

fn flagged(fields: &Map<String, Value>) -> bool {
    text_field(fields, BATCH_FLAG) == "Yes"
        && text_field(fields, "IsPosted") != "Yes"
        && text_field(fields, "WorkflowApprovalStatus") != "Rejected"
}

fn journal_number(fields: &Map<String, Value>) -> String {
    text_field(fields, "JournalBatchNumber").to_string()
}

fn split(vouchers: &str) -> Vec<String> {
    vouchers.split(',').filter(|v| !v.is_empty()).map(str::to_string).collect()
}
