//! The store's tables as `store migrate` copies them (see `copy.rs`), and one stored value.

use Kind::{Int, Text};

/// How a column's values are stored: text (possibly NULL) or a 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
}

/// One table as the copy reads and writes it.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, Kind)],
    /// Its primary key: rows are read in this order.
    pub(crate) order: &'static str,
}

/// Every table of the schema, parents before children (the foreign keys hold at every insert). A test
/// holds this list to the schema, so a migration that adds a column or a table fails it until it is here.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "runs",
        columns: &[
            ("id", Text),
            ("action", Text),
            ("status", Text),
            ("environment", Text),
            ("company", Text),
            ("target", Text),
            ("amount", Text),
            ("currency", Text),
            ("requester", Text),
            ("requested_at", Text),
            ("expires_at", Text),
            ("required_approvals", Int),
            ("digest", Text),
            ("imported_at", Text),
            ("updated_at", Text),
            ("invoice_vendor", Text),
            ("invoice_number", Text),
        ],
        order: "id",
    },
    Table { name: "run_payloads", columns: &[("run_id", Text), ("payload", Text)], order: "run_id" },
    Table {
        name: "status_history",
        columns: &[
            ("id", Int),
            ("run_id", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("actor", Text),
            ("at", Text),
            ("detail", Text),
        ],
        order: "id",
    },
    Table {
        name: "approvals",
        columns: &[
            ("run_id", Text),
            ("approver", Text),
            ("approved_at", Text),
            ("reason", Text),
            ("digest", Text),
            ("policy_version", Text),
            ("signature", Text),
        ],
        order: "run_id, approver",
    },
    Table {
        name: "leases",
        columns: &[("run_id", Text), ("holder", Text), ("acquired_at", Text), ("expires_at", Text)],
        order: "run_id",
    },
    Table { name: "exchanges", columns: &[("id", Int), ("run_id", Text), ("at", Text), ("json", Text)], order: "id" },
    Table { name: "catalog", columns: &[("id", Int), ("json", Text), ("synced_at", Text)], order: "id" },
    Table {
        name: "audit_events",
        columns: &[
            ("seq", Int),
            ("at", Text),
            ("actor", Text),
            ("run_id", Text),
            ("kind", Text),
            ("payload", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        order: "seq",
    },
    Table { name: "audit_head", columns: &[("id", Int), ("seq", Int), ("hash", Text)], order: "id" },
];

impl Table {
    /// `SELECT` of every column in key order.
    pub(crate) fn select(&self) -> String {
        format!("SELECT {} FROM {} ORDER BY {}", self.column_list(), self.name, self.order)
    }

    pub(crate) fn column_list(&self) -> String {
        self.columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// One stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    pub(crate) fn text(value: Option<String>) -> Cell {
        value.map_or(Cell::Null, Cell::Text)
    }

    pub(crate) fn int(value: Option<i64>) -> Cell {
        value.map_or(Cell::Null, Cell::Int)
    }

    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn size(&self) -> usize {
        match self {
            Cell::Text(text) => text.len(),
            _ => 8,
        }
    }
}
