//! Executing role runs: an assignment is one POST to the association entity, a revocation one DELETE of
//! the user-role row under its live ETag; each one's rollback is the other (the pipeline checked the
//! row is where the run left it).

use crate::fno::{FnoError, Sent};
use crate::model::Action;
use crate::rollback::roles::{assignment, reassignment};
use crate::text::visible;

use super::execute::{Execution, StepFailure};
use super::outcome::FnoAnswer;
use super::revalidate::target_key;

fn failed(error: FnoError) -> StepFailure {
    StepFailure { error, written: Vec::new() }
}

/// Approve a role run (`None`: not one).
pub(super) async fn approve(x: &Execution<'_>) -> Option<Result<FnoAnswer, StepFailure>> {
    Some(match x.run.action {
        Action::AssignRole => assign(x, assignment(x.run), "assigned").await,
        Action::RevokeRole => revoke(x, "revoked").await,
        _ => return None,
    })
}

/// Roll back a role run (`None`: not one).
pub(super) async fn rollback(x: &Execution<'_>) -> Option<Result<FnoAnswer, StepFailure>> {
    Some(match x.run.action {
        Action::AssignRole => revoke(x, "revoked the assigned role").await,
        Action::RevokeRole => assign(x, reassignment(x.run, x.config), "assigned the revoked role again").await,
        _ => return None,
    })
}

/// POST the user-role row to the association entity.
async fn assign(x: &Execution<'_>, fields: crate::model::Fields, done: &str) -> Result<FnoAnswer, StepFailure> {
    let set = &x.config.security.role_associations;
    (x.note)(format!("POST {set} {}", x.run.target.label()));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(created) = x.client.post(set, &fields).await.map_err(failed)? {
        answer.new_etag = Some(created.etag.0);
        answer.messages.push(format!("{done}: {}", visible(&x.run.target.label())));
    }
    Ok(answer)
}

/// DELETE the user-role row under its live ETag.
async fn revoke(x: &Execution<'_>, done: &str) -> Result<FnoAnswer, StepFailure> {
    let set = &x.config.security.user_roles;
    let key = target_key(x.run).map_err(failed)?;
    (x.note)(format!("DELETE {set} with If-Match {}", x.live.etag));
    let mut answer = FnoAnswer::default();
    if let Sent::Done(()) = x.client.delete(set, &key, &x.live.etag).await.map_err(failed)? {
        answer.messages.push(format!("{done}: {}", visible(&x.run.target.label())));
    }
    Ok(answer)
}
