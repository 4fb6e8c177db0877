//! Dialects: how one customer's F&O names its decision operations, what their parameters are called, and
//! how it pages. A dialect is only tables; the effects of every operation live once, in `ops.rs`.
//!
//! Real customers expose approve/reject/post as their own bound actions or JSON custom services (FNO.md
//! §6, §8), so the pipeline is tested against more than one naming: `Signoff` (the names signoff's own
//! demo ships) and `Contoso` (a customer that names everything differently, posts journals through a
//! custom service and pages with absolute `$skip=` links).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::schema::PropType;
use crate::config::{Operation as ConfigOperation, OperationKind, OperationReturns};

/// A naming of the decision operations, parameters and paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// signoff's own names: `signoff*` bound actions for invoices and journals, plus the
    /// `SignoffServices/SignoffJournalService` custom service; 1,000 per page, `$skiptoken=` links.
    #[default]
    Signoff,
    /// A customer's names: `*InvoiceWF` bound actions, journals only through
    /// `ContosoLedger/ContosoJournalService`; 250 per page, absolute `$skip=` links.
    Contoso,
}

/// A decision operation, whatever a dialect calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    InvoiceApprove,
    InvoiceReject,
    InvoiceRecall,
    JournalPost,
    JournalReject,
    JournalReverse,
    /// Put a customer on hold (`OnHoldStatus` to the hold level given): a record operation, which
    /// `signoff`'s generic `execute-operation` runs and compensates with [`Operation::CustomerRelease`].
    CustomerHold,
    /// Release a customer's hold (`OnHoldStatus` back to `No`).
    CustomerRelease,
}

impl Operation {
    pub const ALL: [Operation; 6] = [
        Operation::InvoiceApprove,
        Operation::InvoiceReject,
        Operation::InvoiceRecall,
        Operation::JournalPost,
        Operation::JournalReject,
        Operation::JournalReverse,
    ];

    /// The `[operations.<name>]` a signoff config configures it under.
    pub fn config_name(self) -> &'static str {
        match self {
            Operation::InvoiceApprove => "invoice_approve",
            Operation::InvoiceReject => "invoice_reject",
            Operation::InvoiceRecall => "invoice_recall",
            Operation::JournalPost => "journal_post",
            Operation::JournalReject => "journal_reject",
            Operation::JournalReverse => "journal_reverse",
            Operation::CustomerHold => "place_on_hold",
            Operation::CustomerRelease => "release_hold",
        }
    }
}

/// What a parameter carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Comment,
    /// The reason for a rejection (the effect refuses an empty one where F&O would).
    Reason,
    ReversalDate,
    /// The legal entity (`dataAreaId`) of a custom-service call.
    Company,
    /// The journal batch number of a custom-service call.
    Journal,
    /// How far a customer hold goes (a `CustVendorBlocked` member: `Invoice`, `All`, …).
    HoldLevel,
}

impl Role {
    /// The name signoff's config uses for it in `parameters`: a logical name, or the target key the
    /// client copies into the body (see `review::execute::call_operation`).
    pub fn config_key(self) -> &'static str {
        match self {
            Role::Comment => "comment",
            Role::Reason => "reason",
            Role::ReversalDate => "reversal_date",
            Role::Company => "dataAreaId",
            Role::Journal => "JournalBatchNumber",
            Role::HoldLevel => "hold",
        }
    }
}

/// One X++ parameter.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub role: Role,
    pub ty: PropType,
}

impl Param {
    /// The type a custom service's describe call shows (`String`, `Date`).
    pub fn service_type(&self) -> &'static str {
        match self.ty {
            PropType::DateTime => "Date",
            _ => "String",
        }
    }
}

/// An instance-bound action: `POST /data/<set>(<keys>)/Microsoft.Dynamics.DataEntities.<name>`.
#[derive(Debug)]
pub struct BoundAction {
    pub set: &'static str,
    pub name: &'static str,
    pub op: Operation,
    pub params: &'static [Param],
}

/// One operation of a JSON custom service.
#[derive(Debug)]
pub struct ServiceOp {
    pub name: &'static str,
    pub op: Operation,
    pub params: &'static [Param],
}

/// A JSON custom service: `/api/services/<group>/<name>/<op>`.
#[derive(Debug)]
pub struct Service {
    pub group: &'static str,
    pub name: &'static str,
    pub ops: &'static [ServiceOp],
}

/// How `@odata.nextLink` continues a collection (FNO.md §2 leaves the real form open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextLink {
    /// `…?$skiptoken=<rows served so far>`.
    SkipToken,
    /// `…?$skip=<absolute offset>` (and `$top` reduced by what was served).
    Skip,
}

/// How a dialect names the `WorkflowWorkItems` collection-bound actions, their parameters and the
/// outcomes complete takes (FNO.md §7: Microsoft documents the route, not every name).
#[derive(Debug)]
pub struct WorkItemNames {
    pub validate: &'static str,
    pub complete: &'static str,
    /// The work item instance id (both actions).
    pub work_item: &'static str,
    /// The F&O user acting (both actions).
    pub user: &'static str,
    pub outcome: &'static str,
    pub comment: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
}

struct Table {
    name: &'static str,
    work_items: WorkItemNames,
    bound_actions: &'static [BoundAction],
    services: &'static [Service],
    page_size: usize,
    next_link: NextLink,
}

const fn p(name: &'static str, role: Role) -> Param {
    Param { name, role, ty: PropType::String(0) }
}

const fn date(name: &'static str, role: Role) -> Param {
    Param { name, role, ty: PropType::DateTime }
}

const INVOICES: &str = "VendorInvoiceHeaders";
const JOURNALS: &str = "LedgerJournalHeaders";
const CUSTOMERS: &str = "CustomersV3";

const SIGNOFF: Table = Table {
    name: "signoff",
    // The documented names, signoff's defaults (docs/config.md).
    work_items: WorkItemNames {
        validate: "validate",
        complete: "complete",
        work_item: "_workItemInstanceId",
        user: "_userId",
        outcome: "_outcome",
        comment: "_comment",
        approve: "Approve",
        reject: "Reject",
    },
    bound_actions: &[
        BoundAction {
            set: INVOICES,
            name: "signoffApprove",
            op: Operation::InvoiceApprove,
            params: &[p("_comment", Role::Comment)],
        },
        BoundAction {
            set: INVOICES,
            name: "signoffReject",
            op: Operation::InvoiceReject,
            params: &[p("_comment", Role::Reason)],
        },
        BoundAction {
            set: INVOICES,
            name: "signoffRecall",
            op: Operation::InvoiceRecall,
            params: &[p("_comment", Role::Comment)],
        },
        BoundAction {
            set: JOURNALS,
            name: "signoffPost",
            op: Operation::JournalPost,
            params: &[p("_comment", Role::Comment)],
        },
        BoundAction {
            set: JOURNALS,
            name: "signoffReject",
            op: Operation::JournalReject,
            params: &[p("_comment", Role::Reason)],
        },
        BoundAction {
            set: JOURNALS,
            name: "signoffReverse",
            op: Operation::JournalReverse,
            params: &[date("_reversalDate", Role::ReversalDate), p("_comment", Role::Comment)],
        },
        BoundAction {
            set: CUSTOMERS,
            name: "signoffPlaceOnHold",
            op: Operation::CustomerHold,
            params: &[p("_holdLevel", Role::HoldLevel), p("_reason", Role::Reason)],
        },
        BoundAction {
            set: CUSTOMERS,
            name: "signoffReleaseHold",
            op: Operation::CustomerRelease,
            params: &[p("_reason", Role::Reason)],
        },
    ],
    services: &[Service {
        group: "SignoffServices",
        name: "SignoffJournalService",
        ops: &[
            ServiceOp {
                name: "post",
                op: Operation::JournalPost,
                params: &[
                    p("_dataAreaId", Role::Company),
                    p("_journalBatchNumber", Role::Journal),
                    p("_comment", Role::Comment),
                ],
            },
            ServiceOp {
                name: "reject",
                op: Operation::JournalReject,
                params: &[
                    p("_dataAreaId", Role::Company),
                    p("_journalBatchNumber", Role::Journal),
                    p("_comment", Role::Reason),
                ],
            },
            ServiceOp {
                name: "reverse",
                op: Operation::JournalReverse,
                params: &[
                    p("_dataAreaId", Role::Company),
                    p("_journalBatchNumber", Role::Journal),
                    date("_reversalDate", Role::ReversalDate),
                    p("_comment", Role::Comment),
                ],
            },
        ],
    }],
    page_size: 1_000,
    next_link: NextLink::SkipToken,
};

const CONTOSO: Table = Table {
    name: "contoso",
    work_items: WorkItemNames {
        validate: "validateWorkItem",
        complete: "completeWorkItem",
        work_item: "_instanceId",
        user: "_user",
        outcome: "_workflowOutcome",
        comment: "_note",
        approve: "Approved",
        reject: "Rejected",
    },
    bound_actions: &[
        BoundAction {
            set: INVOICES,
            name: "approveInvoiceWF",
            op: Operation::InvoiceApprove,
            params: &[p("_note", Role::Comment)],
        },
        BoundAction {
            set: INVOICES,
            name: "rejectInvoiceWF",
            op: Operation::InvoiceReject,
            params: &[p("_rejectionReason", Role::Reason)],
        },
        BoundAction {
            set: INVOICES,
            name: "recallInvoiceWF",
            op: Operation::InvoiceRecall,
            params: &[p("_note", Role::Comment)],
        },
        BoundAction {
            set: CUSTOMERS,
            name: "blockCustomer",
            op: Operation::CustomerHold,
            params: &[p("_blockLevel", Role::HoldLevel), p("_note", Role::Comment)],
        },
        BoundAction {
            set: CUSTOMERS,
            name: "unblockCustomer",
            op: Operation::CustomerRelease,
            params: &[p("_note", Role::Comment)],
        },
    ],
    services: &[Service {
        group: "ContosoLedger",
        name: "ContosoJournalService",
        ops: &[
            ServiceOp {
                name: "postJournal",
                op: Operation::JournalPost,
                params: &[p("_legalEntity", Role::Company), p("_journalNum", Role::Journal), p("_note", Role::Comment)],
            },
            ServiceOp {
                name: "rejectJournal",
                op: Operation::JournalReject,
                params: &[
                    p("_legalEntity", Role::Company),
                    p("_journalNum", Role::Journal),
                    p("_rejectionReason", Role::Reason),
                ],
            },
            ServiceOp {
                name: "reverseJournal",
                op: Operation::JournalReverse,
                params: &[
                    p("_legalEntity", Role::Company),
                    p("_journalNum", Role::Journal),
                    date("_reverseOn", Role::ReversalDate),
                    p("_note", Role::Comment),
                ],
            },
        ],
    }],
    page_size: 250,
    next_link: NextLink::Skip,
};

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Signoff, Dialect::Contoso];

    fn table(self) -> &'static Table {
        match self {
            Dialect::Signoff => &SIGNOFF,
            Dialect::Contoso => &CONTOSO,
        }
    }

    /// The name `signoff sim --dialect` takes (`signoff`, `contoso`).
    pub fn name(self) -> &'static str {
        self.table().name
    }

    /// Every bound action this dialect's `$metadata` lists.
    pub fn bound_actions(self) -> &'static [BoundAction] {
        self.table().bound_actions
    }

    /// The bound action `name` on entity set `set`, if this dialect has one.
    pub fn bound_action(self, set: &str, name: &str) -> Option<&'static BoundAction> {
        self.bound_actions().iter().find(|a| a.set == set && a.name == name)
    }

    /// How this dialect names the work item actions.
    pub fn work_items(self) -> &'static WorkItemNames {
        &self.table().work_items
    }

    /// The `[intake.workflow]` TOML a customer of this dialect writes (enabled; the field names are
    /// the documented defaults in every dialect).
    pub fn intake_toml(self) -> String {
        let w = self.work_items();
        format!(
            "[intake.workflow]\nenabled = true\nvalidate_action = \"{}\"\ncomplete_action = \"{}\"\n\
             parameters = {{ work_item = \"{}\", user = \"{}\", outcome = \"{}\", comment = \"{}\" }}\n\
             outcomes = {{ approve = \"{}\", reject = \"{}\" }}",
            w.validate, w.complete, w.work_item, w.user, w.outcome, w.comment, w.approve, w.reject
        )
    }

    /// The decision services under `/api/services` (the user-session service is always there too).
    pub fn services(self) -> &'static [Service] {
        self.table().services
    }

    /// The server page size a simulator of this dialect starts with.
    pub fn page_size(self) -> usize {
        self.table().page_size
    }

    pub fn next_link(self) -> NextLink {
        self.table().next_link
    }

    /// The configuration a customer of this dialect writes: each operation as its bound action when
    /// there is one, else as its custom service, with every parameter mapped.
    pub fn config_operations(self) -> BTreeMap<String, ConfigOperation> {
        let mut out = BTreeMap::new();
        for op in Operation::ALL {
            let parameters =
                |params: &[Param]| params.iter().map(|p| (p.role.config_key().into(), p.name.into())).collect();
            let configured = if let Some(a) = self.bound_actions().iter().find(|a| a.op == op) {
                ConfigOperation {
                    kind: OperationKind::BoundAction,
                    entity_set: Some(a.set.into()),
                    action: Some(a.name.into()),
                    service: None,
                    parameters: parameters(a.params),
                    returns: None,
                    mode: None,
                    handover_fields: None,
                }
            } else if let Some((s, o)) =
                self.services().iter().find_map(|s| s.ops.iter().find(|o| o.op == op).map(|o| (s, o)))
            {
                ConfigOperation {
                    kind: OperationKind::CustomService,
                    entity_set: None,
                    action: None,
                    service: Some(format!("{}/{}/{}", s.group, s.name, o.name)),
                    parameters: parameters(o.params),
                    returns: None,
                    mode: None,
                    handover_fields: None,
                }
            } else {
                continue;
            };
            // Both dialects' post answers with the vouchers it posted; the customer says so.
            let returns = (op == Operation::JournalPost).then_some(OperationReturns::Vouchers);
            out.insert(op.config_name().to_string(), ConfigOperation { returns, ..configured });
        }
        out
    }

    /// [`Dialect::config_operations`] as the `[operations.*]` TOML a customer pastes.
    pub fn operations_toml(self) -> String {
        let mut out = String::new();
        for (name, op) in self.config_operations() {
            let _ = writeln!(out, "[operations.{name}]");
            match op.kind {
                OperationKind::BoundAction => {
                    let _ = writeln!(out, "kind = \"bound-action\"");
                    let _ = writeln!(out, "entity_set = \"{}\"", op.entity_set.unwrap_or_default());
                    let _ = writeln!(out, "action = \"{}\"", op.action.unwrap_or_default());
                }
                OperationKind::CustomService => {
                    let _ = writeln!(out, "kind = \"custom-service\"");
                    let _ = writeln!(out, "service = \"{}\"", op.service.unwrap_or_default());
                }
            }
            let params: Vec<String> = op.parameters.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
            let _ = writeln!(out, "parameters = {{ {} }}", params.join(", "));
            if op.returns == Some(OperationReturns::Vouchers) {
                let _ = writeln!(out, "returns = \"vouchers\"");
            }
            out.push('\n');
        }
        out.trim_end().to_string()
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL.into_iter().find(|d| d.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
            format!("unknown dialect '{s}' (expected one of: {})", known.join(", "))
        })
    }
}

/// A date parameter as the effects take it: a date-only `2026-03-01` (how an X++ `date` may be sent to a
/// custom service; unverified) becomes F&O's date-at-noon form `2026-03-01T12:00:00Z`.
pub fn normalise_date(text: &str) -> String {
    if text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        format!("{text}T12:00:00Z")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_names_every_operation_exactly_once_in_its_config() {
        for d in Dialect::ALL {
            let ops = d.config_operations();
            assert_eq!(ops.len(), Operation::ALL.len(), "{d}");
        }
    }

    #[test]
    fn contoso_posts_journals_only_through_its_custom_service() {
        assert!(Dialect::Contoso.bound_actions().iter().all(|a| a.set != JOURNALS));
        let post = &Dialect::Contoso.config_operations()["journal_post"];
        assert_eq!(post.kind, OperationKind::CustomService);
        assert_eq!(post.service.as_deref(), Some("ContosoLedger/ContosoJournalService/postJournal"));
        assert_eq!(post.parameters["JournalBatchNumber"], "_journalNum");
        assert_eq!(post.parameters["dataAreaId"], "_legalEntity");
    }

    #[test]
    fn dialects_parse_by_name_and_refuse_others() {
        assert_eq!("Contoso".parse::<Dialect>(), Ok(Dialect::Contoso));
        assert!("fabrikam".parse::<Dialect>().unwrap_err().contains("signoff, contoso"));
    }

    #[test]
    fn a_date_only_parameter_becomes_noon_utc() {
        assert_eq!(normalise_date("2026-03-01"), "2026-03-01T12:00:00Z");
        assert_eq!(normalise_date("2026-03-01T12:00:00Z"), "2026-03-01T12:00:00Z");
    }
}
