//! Rollback readiness: for each action, the compensation recipe as concrete requests, and whether it can
//! actually be carried out. Computed, never asserted; anything unknown makes it not ready.

mod recipes;
pub mod records;
mod request;
pub mod roles;

use serde::Serialize;

use crate::config::Config;
use crate::judge::Facts;
use crate::model::GovernedRun;

pub use request::{PlannedRequest, date_parameter};

/// Whether the compensation can be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "kebab-case")]
pub enum Readiness {
    Ready,
    /// Possible if the named condition holds when the rollback is sent.
    Conditional(String),
    /// Not possible, with why.
    NotReady(String),
}

impl Readiness {
    /// The readiness without its reason, as the queue and the dialogs show it.
    pub fn kind(&self) -> crate::model::Readiness {
        match self {
            Readiness::Ready => crate::model::Readiness::Ready,
            Readiness::Conditional(_) => crate::model::Readiness::Conditional,
            Readiness::NotReady(_) => crate::model::Readiness::NotReady,
        }
    }

    /// A short label for a queue column (`ready`, `conditional`, `not ready`).
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// A marker that carries the meaning without colour.
    pub fn symbol(&self) -> &'static str {
        self.kind().symbol()
    }
}

/// The compensation plan of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackPlan {
    pub readiness: Readiness,
    /// The requests that compensate the write, in order.
    pub recipe: Vec<PlannedRequest>,
    /// How the compensation works for this action, for the approver.
    pub explanation: String,
    /// For a journal: the reversal date the plan names, which is the date the rollback sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_date: Option<chrono::NaiveDate>,
}

impl RollbackPlan {
    /// A plain-text rendering for `runs show`.
    pub fn render_text(&self) -> String {
        let mut out = format!("rollback {} {}", self.readiness.symbol(), self.readiness.label());
        match &self.readiness {
            Readiness::Ready => out.push('\n'),
            Readiness::Conditional(why) | Readiness::NotReady(why) => out.push_str(&format!(": {why}\n")),
        }
        out.push_str(&format!("  {}\n", self.explanation));
        for (i, r) in self.recipe.iter().enumerate() {
            out.push_str(&format!("  {}. {} {}\n", i + 1, r.method, r.path));
            if let Some(etag) = &r.if_match {
                out.push_str(&format!("     If-Match: {etag}\n"));
            }
            if !r.body.is_empty() {
                out.push_str(&format!("     body: {}\n", r.body));
            }
            out.push_str(&format!("     purpose: {}\n", r.purpose));
        }
        out
    }
}

/// Why a handed-over journal cannot be rolled back yet.
pub const NOT_POSTED_YET: &str = "F&O has not posted the journal yet (it was handed over, and signoff posted \
     nothing), so there is no voucher to reverse; once F&O has posted it, `signoff reconcile` records the posting \
     and the reversal becomes possible. Until then the journal is F&O's to change or delete";

/// The plan of a run handed over to F&O's posting: the reversal it will need, not ready until posted.
pub fn handed_over(plan: RollbackPlan) -> RollbackPlan {
    RollbackPlan { readiness: Readiness::NotReady(NOT_POSTED_YET.into()), ..plan }
}

/// Plan the compensation of `run` on the state in `facts` (live when re-validated, else the snapshot).
pub fn plan(run: &GovernedRun, config: &Config, facts: &Facts<'_>) -> RollbackPlan {
    let mut plan = recipes::recipe(run, config, facts);
    if !run.before.absent && run.before.etag.as_str().trim().is_empty() {
        plan.readiness = Readiness::NotReady(
            "the before snapshot has no ETag: the record cannot be restored safely under If-Match".into(),
        );
    }
    plan
}
