//! Field rows: one per field, with before, proposed and (three-way) live cells, made visible here.

use std::borrow::Cow;
use std::cmp::Ordering;

use rust_decimal::Decimal;
use serde::Serialize;

use super::inline::{Span, emphasis, mode_for};
use crate::model::{FieldValue, Fields};
use crate::text::visible;

/// How a row (or line) changes under the proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Unchanged,
    Changed,
    Added,
    Removed,
}

impl ChangeKind {
    /// The marker that works without colour: `~` changed, `+` added, `-` removed, space unchanged.
    pub fn marker(self) -> char {
        match self {
            ChangeKind::Unchanged => ' ',
            ChangeKind::Changed => '~',
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
        }
    }
}

/// One value as shown: visible-escaped text and the spans to emphasise in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emphasis: Vec<Span>,
}

impl Cell {
    /// The cell of a value, and whether escaping changed it (the raw value held invisible characters).
    fn of(value: &FieldValue) -> (Cell, bool) {
        let (text, hostile) = match value {
            FieldValue::Text(s) => match visible(s) {
                Cow::Borrowed(b) => (b.to_string(), false),
                Cow::Owned(o) => (o, true),
            },
            other => (other.to_string(), false),
        };
        (Cell { text, emphasis: Vec::new() }, hostile)
    }
}

/// One field across the states. A `None` cell means the field is absent from that state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The field name, visible-escaped.
    pub field: String,
    pub kind: ChangeKind,
    pub before: Option<Cell>,
    pub proposed: Option<Cell>,
    /// Only in a three-way diff; emphasis is against `before`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Cell>,
    /// The live value differs from the reviewed one (three-way only).
    pub drift: bool,
    /// A raw value or the field name held control, bidi or zero-width characters (shown escaped). Such
    /// rows never fold, so an approver always sees them.
    pub hostile: bool,
    /// Numbers (right-aligned in views).
    pub numeric: bool,
    /// proposed − before, exact, when both are numbers and differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Decimal>,
}

impl Row {
    /// Whether a view folds this row by default (unchanged and not drifted).
    pub fn folds(&self) -> bool {
        self.kind == ChangeKind::Unchanged && !self.drift && !self.hostile
    }
}

/// A set of rows with their counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub rows: Vec<Row>,
    pub changed: usize,
    /// Rows a view folds (unchanged, not drifted), kept so a view can expand them.
    pub folded: usize,
    pub drifted: usize,
}

impl Section {
    pub(crate) fn new(rows: Vec<Row>) -> Section {
        let changed = rows.iter().filter(|r| r.kind != ChangeKind::Unchanged).count();
        let folded = rows.iter().filter(|r| r.folds()).count();
        let drifted = rows.iter().filter(|r| r.drift).count();
        Section { rows, changed, folded, drifted }
    }
}

/// The row of one field. `kind` is forced for whole-line additions and removals.
pub(crate) fn row(
    name: &str,
    before: Option<&FieldValue>,
    proposed: Option<&FieldValue>,
    live: Option<Option<&FieldValue>>,
    forced: Option<ChangeKind>,
) -> Row {
    let kind = forced.unwrap_or(match (before, proposed) {
        (Some(b), Some(p)) if b == p => ChangeKind::Unchanged,
        (Some(_), Some(_)) => ChangeKind::Changed,
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        (None, None) => ChangeKind::Unchanged,
    });
    let (field, mut hostile) = match visible(name) {
        Cow::Borrowed(b) => (b.to_string(), false),
        Cow::Owned(o) => (o, true),
    };
    let mut cell = |v: Option<&FieldValue>| {
        v.map(|v| {
            let (c, h) = Cell::of(v);
            hostile |= h;
            c
        })
    };
    let mut before_cell = cell(before);
    // Unchanged values are escaped once.
    let mut proposed_cell = match (&before_cell, kind) {
        (Some(b), ChangeKind::Unchanged) if proposed.is_some() => Some(b.clone()),
        _ => cell(proposed),
    };
    let live_raw = live.map(|l| (l, cell(l)));
    if kind == ChangeKind::Changed
        && let (Some(b), Some(p)) = (before_cell.as_mut(), proposed_cell.as_mut())
    {
        let (old, new) = emphasis(&b.text, &p.text, mode_for(name, &b.text, &p.text));
        b.emphasis = old;
        p.emphasis = new;
    }
    let drift = live.is_some_and(|l| l != before);
    let live_cell = live_raw.and_then(|(_, cell)| {
        let mut cell = cell?;
        if drift && let Some(b) = &before_cell {
            cell.emphasis = emphasis(&b.text, &cell.text, mode_for(name, &b.text, &cell.text)).1;
        }
        Some(cell)
    });
    let is_number = |v: Option<&FieldValue>| matches!(v, Some(FieldValue::Number(_)));
    let numeric = (is_number(before) || before.is_none())
        && (is_number(proposed) || proposed.is_none())
        && (is_number(before) || is_number(proposed));
    let delta = match (before, proposed) {
        (Some(FieldValue::Number(b)), Some(FieldValue::Number(p))) if b != p => Some(p - b),
        _ => None,
    };
    Row { field, kind, before: before_cell, proposed: proposed_cell, live: live_cell, drift, hostile, numeric, delta }
}

/// Rows for every field of `before` and `proposed` (name order). `live` is `Some` in a three-way diff.
pub(crate) fn rows(
    before: Option<&Fields>,
    proposed: Option<&Fields>,
    live: Option<Option<&Fields>>,
    forced: Option<ChangeKind>,
) -> Vec<Row> {
    let row_of = |name: &str, b: Option<&FieldValue>, p: Option<&FieldValue>| {
        row(name, b, p, live.map(|l| l.and_then(|f| f.get(name))), forced)
    };
    let (Some(b), Some(p)) = (before, proposed) else {
        // One side only (a whole added or removed line, or a line only the live record has).
        let only = before.or(proposed).or(live.flatten());
        return only
            .into_iter()
            .flatten()
            .map(|(name, v)| {
                let b = before.map(|_| v);
                let p = proposed.map(|_| v);
                row_of(name, b, p)
            })
            .collect();
    };
    // Both maps are sorted by name: walk them together instead of looking every name up.
    let mut out = Vec::with_capacity(b.len().max(p.len()));
    let (mut bi, mut pi) = (b.iter().peekable(), p.iter().peekable());
    loop {
        let next = match (bi.peek(), pi.peek()) {
            (None, None) => break,
            (Some((bn, _)), Some((pn, _))) => bn.cmp(pn),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
        };
        match next {
            Ordering::Less => {
                if let Some((name, bv)) = bi.next() {
                    out.push(row_of(name, Some(bv), None));
                }
            }
            Ordering::Greater => {
                if let Some((name, pv)) = pi.next() {
                    out.push(row_of(name, None, Some(pv)));
                }
            }
            Ordering::Equal => {
                if let (Some((name, bv)), Some((_, pv))) = (bi.next(), pi.next()) {
                    out.push(row_of(name, Some(bv), Some(pv)));
                }
            }
        }
    }
    out
}
