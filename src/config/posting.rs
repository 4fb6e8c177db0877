//! How an approved journal is posted: `[operations.journal_post] mode` and the hand-over's header fields.
//!
//! F&O has no standard OData operation that posts a journal, queues it for batch posting or marks it
//! approved (FNO.md §8, open question 9), so a hand-over is the one write OData does define: the run's
//! corrections and a guarded header `PATCH` of fields the customer names (`handover_fields`), e.g. the
//! flag their batch-posting job selects on. See docs/pipeline.md, "Journal posting mode".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::load::Problem;
use super::{Config, Operation, OperationName};
use crate::model::{FieldValue, Fields};

/// How approving a journal posts it (`[operations.journal_post] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostingMode {
    /// The configured post operation posts it now (the default).
    #[default]
    Post,
    /// The journal is handed to F&O's batch posting: corrections and `handover_fields`, nothing posted.
    LeaveForBatch,
    /// The journal is approved (or marked ready for manual review) and left unposted for a person.
    ApproveOnly,
}

impl PostingMode {
    /// The config spelling (`leave-for-batch`).
    pub fn as_str(self) -> &'static str {
        match self {
            PostingMode::Post => "post",
            PostingMode::LeaveForBatch => "leave-for-batch",
            PostingMode::ApproveOnly => "approve-only",
        }
    }

    /// Who posts the journal after a hand-over, for messages.
    pub fn who_posts(self) -> &'static str {
        match self {
            PostingMode::Post => "signoff's post operation",
            PostingMode::LeaveForBatch => "F&O's batch posting",
            PostingMode::ApproveOnly => "a person in F&O (manual posting)",
        }
    }
}

impl std::fmt::Display for PostingMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Config {
    /// The journal posting mode in force: `[operations.journal_post] mode`, else `post`.
    pub fn posting_mode(&self) -> PostingMode {
        self.operation(OperationName::JournalPost).and_then(|op| op.mode).unwrap_or_default()
    }

    /// The header fields a hand-over writes (empty for `post`, or when the customer writes none).
    pub fn handover_fields(&self) -> Fields {
        let Some(fields) = self.operation(OperationName::JournalPost).and_then(|op| op.handover_fields.as_ref()) else {
            return Fields::new();
        };
        fields.iter().filter_map(|(name, value)| Some((name.clone(), field_value(value)?))).collect()
    }
}

/// A TOML value as a field value: text (enum names included), a boolean or an integer.
fn field_value(value: &toml::Value) -> Option<FieldValue> {
    match value {
        toml::Value::String(s) => Some(FieldValue::Text(s.clone())),
        toml::Value::Boolean(b) => Some(FieldValue::Bool(*b)),
        toml::Value::Integer(i) => Some(FieldValue::Number((*i).into())),
        _ => None,
    }
}

/// Fields the hand-over may never write: posting is F&O's to record (reconciliation reads `IsPosted` as
/// the evidence), and the keys name the journal.
const NOT_WRITABLE: &[&str] = &["IsPosted", "dataAreaId", "JournalBatchNumber"];

/// The `mode` and `handover_fields` checks of `[operations.<name>]`.
pub(super) fn check(name: &str, op: &Operation, out: &mut Vec<Problem>) {
    let key = format!("operations.{name}");
    let is_post = name == OperationName::JournalPost.as_str();
    if !is_post {
        for (field, set) in [("mode", op.mode.is_some()), ("handover_fields", op.handover_fields.is_some())] {
            if set {
                out.push(Problem::at(
                    format!("{key}.{field}"),
                    format!("{key}.{field} is only for journal_post: it says how an approved journal is posted"),
                ));
            }
        }
        return;
    }
    let mode = op.mode.unwrap_or_default();
    match (mode, &op.handover_fields) {
        (PostingMode::Post, Some(_)) => out.push(Problem::at(
            format!("{key}.handover_fields"),
            format!(
                "{key}.handover_fields is written only when mode = \"leave-for-batch\" or \"approve-only\"; with \
                 mode = \"post\" the post operation posts the journal: remove handover_fields or set the mode"
            ),
        )),
        (PostingMode::Post, None) => {}
        (_, None) => out.push(Problem::at(
            format!("{key}.mode"),
            format!(
                "{key}.mode = \"{mode}\" needs handover_fields: the journal header field(s) that hand the journal \
                 over (F&O has no standard one), e.g. handover_fields = {{ PostInBatch = \"Yes\" }} for a \
                 batch-posting flag or {{ WorkflowApprovalStatus = \"Approved\" }}; handover_fields = {{}} sends \
                 nothing but the run's corrections"
            ),
        )),
        (_, Some(fields)) => check_fields(&key, fields, out),
    }
}

fn check_fields(key: &str, fields: &BTreeMap<String, toml::Value>, out: &mut Vec<Problem>) {
    for (name, value) in fields {
        let at = format!("{key}.handover_fields.{name}");
        if !super::validate::is_identifier(name) {
            out.push(Problem::at(&at, format!("{at}: '{name}' is not a field name")));
        } else if NOT_WRITABLE.contains(&name.as_str()) {
            out.push(Problem::at(
                &at,
                format!(
                    "{at}: the hand-over may not write {name}; posting is F&O's to record (reconciliation reads \
                     IsPosted as the evidence) and the keys name the journal"
                ),
            ));
        }
        if field_value(value).is_none() {
            out.push(Problem::at(
                &at,
                format!("{at} must be text (an enum value's name, e.g. \"Yes\"), true/false or an integer"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post_op(mode: Option<PostingMode>, fields: Option<&[(&str, toml::Value)]>) -> Operation {
        Operation {
            kind: super::super::OperationKind::BoundAction,
            entity_set: Some("LedgerJournalHeaders".into()),
            action: Some("signoffPost".into()),
            service: None,
            parameters: BTreeMap::new(),
            returns: None,
            mode,
            handover_fields: fields.map(|f| f.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()),
        }
    }

    fn problems(name: &str, op: &Operation) -> Vec<String> {
        let mut out = Vec::new();
        check(name, op, &mut out);
        out.into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn a_hand_over_needs_its_fields_named_and_may_not_claim_the_posting() {
        let missing = problems("journal_post", &post_op(Some(PostingMode::LeaveForBatch), None));
        assert!(missing[0].contains("needs handover_fields"), "{missing:?}");
        let posted = [("IsPosted", toml::Value::String("Yes".into()))];
        let claims = problems("journal_post", &post_op(Some(PostingMode::ApproveOnly), Some(&posted)));
        assert!(claims[0].contains("may not write IsPosted"), "{claims:?}");
        let flag = [("PostInBatch", toml::Value::String("Yes".into()))];
        assert!(problems("journal_post", &post_op(Some(PostingMode::LeaveForBatch), Some(&flag))).is_empty());
        assert!(problems("journal_post", &post_op(Some(PostingMode::LeaveForBatch), Some(&[]))).is_empty());
    }

    #[test]
    fn mode_belongs_to_journal_post_and_handover_fields_to_a_hand_over() {
        let elsewhere = problems("invoice_approve", &post_op(Some(PostingMode::ApproveOnly), None));
        assert!(elsewhere[0].contains("only for journal_post"), "{elsewhere:?}");
        let flag = [("PostInBatch", toml::Value::String("Yes".into()))];
        let unused = problems("journal_post", &post_op(None, Some(&flag)));
        assert!(unused[0].contains("only when mode"), "{unused:?}");
        let float = [("Weight", toml::Value::Float(1.5))];
        let typed = problems("journal_post", &post_op(Some(PostingMode::LeaveForBatch), Some(&float)));
        assert!(typed[0].contains("must be text"), "{typed:?}");
    }
}
