//! Parsing and validating `signoff.run/v1` files, with errors that name the file, position and field.
//!
//! Three passes, each reporting every problem it can find: JSON syntax (serde's own position, and
//! any key an object repeats), the shape of each top-level section (types, unknown and missing
//! fields), then the meaning of the whole run ([`super::validate`]). Later passes run only when the
//! earlier ones left usable data.

use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde_json::{Map, Value};

use super::encoding;
use super::locate::{Locator, Position, child};
use super::strict::Strict;
use super::{Action, GovernedRun, RUN_FORMAT, validate};
use crate::text::visible;

/// One thing wrong with a run file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the offending value (or of the enclosing object when a field is missing).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted path of the field, e.g. `target.keys.dataAreaId` or `proposed.lines[2].keys`.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Everything wrong with one run file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFileError {
    /// The file name (or other origin) as the user gave it.
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for RunFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}: {}", self.origin, p.line, p.column, p.field, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for RunFileError {}

/// Parse and validate one run file's bytes: UTF-8 (a byte-order mark is skipped); another encoding is
/// refused with a message naming it. `origin` names the file in errors.
pub fn parse_run_bytes(bytes: &[u8], origin: &str) -> Result<GovernedRun, RunFileError> {
    match encoding::decode(bytes) {
        Ok(source) => parse_run(source, origin),
        Err(e) => Err(RunFileError {
            origin: origin.to_string(),
            problems: vec![Problem {
                line: e.at.line,
                column: e.at.column,
                field: "(document)".into(),
                message: e.message,
            }],
        }),
    }
}

/// Parse and validate one run file's text. `origin` names it in errors.
pub fn parse_run(source: &str, origin: &str) -> Result<GovernedRun, RunFileError> {
    let fail = |problems| RunFileError { origin: origin.to_string(), problems };
    let mut duplicate = false;
    let mut track = serde_path_to_error::Track::new();
    let mut de = serde_json::Deserializer::from_str(source);
    let parsed = Strict { duplicate: &mut duplicate }
        .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .and_then(|root| de.end().map(|()| root));
    let root = match parsed {
        Ok(root) => root,
        Err(e) => return Err(fail(vec![syntax_problem(source, &serde_path_to_error::Error::new(track.path(), e))])),
    };
    let mut report = Report::default();
    let run = read_sections(&root, &mut report);
    if let Some(run) = &run {
        validate::check(run, &mut report);
    }
    match run {
        Some(run) if report.is_empty() && !duplicate => Ok(run),
        _ => {
            let locator = Locator::new(source);
            let mut problems = duplicate_problems(&locator, origin);
            problems.extend(report.finish(&locator));
            problems.sort_by_key(|p| (p.line, p.column));
            Err(fail(problems))
        }
    }
}

/// Each repeated key, placed at its repetition and naming its first place too. The rest of the file is
/// still checked (with the value a JSON reader keeps, the last), so one pass lists everything.
fn duplicate_problems(locator: &Locator, origin: &str) -> Vec<Problem> {
    let at = |p: Position| format!("{}:{}:{}", visible(origin), p.line, p.column);
    locator
        .duplicates()
        .iter()
        .map(|d| {
            let name = d.path.rsplit('.').next().unwrap_or(&d.path);
            Problem {
                line: d.again.line,
                column: d.again.column,
                field: visible(&d.path).into_owned(),
                message: format!(
                    "duplicate key `{}`: first at {}, again at {}; a JSON reader keeps only one of the two values, \
                     so what a reviewer reads might not be what signoff holds: remove one",
                    visible(name),
                    at(d.first),
                    at(d.again)
                ),
            }
        })
        .collect()
}

/// Collects problems by field path; positions are looked up only when there is something to report,
/// so a valid file (the common case, thousands per import) is never scanned twice.
#[derive(Default)]
pub(crate) struct Report {
    pending: Vec<Pending>,
}

struct Pending {
    path: String,
    /// Point at the member name rather than its value (an unknown field).
    at_key: bool,
    message: String,
}

impl Report {
    /// A problem with the value at `path` (or, if it is missing, with its enclosing object).
    pub(crate) fn value(&mut self, path: &str, message: impl Into<String>) {
        self.pending.push(Pending { path: path.to_string(), at_key: false, message: message.into() });
    }

    /// A problem with the member name at `path` itself (an unknown field).
    pub(crate) fn key(&mut self, path: &str, message: impl Into<String>) {
        self.pending.push(Pending { path: path.to_string(), at_key: true, message: message.into() });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The problems placed through `locator`, in source order so a long list reads like the file.
    pub(crate) fn finish(self, locator: &Locator) -> Vec<Problem> {
        let mut problems: Vec<Problem> = self
            .pending
            .into_iter()
            .map(|p| {
                let key = if p.at_key { locator.key(&p.path) } else { None };
                let at = key.unwrap_or_else(|| locator.nearest(&p.path));
                // Messages quote the file's own text, and they end up on a terminal: make hostile characters visible.
                let field = if p.path.is_empty() { "(document)".to_string() } else { visible(&p.path).into_owned() };
                Problem { line: at.line, column: at.column, field, message: visible(&p.message).into_owned() }
            })
            .collect();
        problems.sort_by_key(|p| (p.line, p.column));
        problems
    }
}

fn syntax_problem(source: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let inner = e.inner();
    // serde_json appends " at line L column C"; the position is reported in its own fields.
    let text = inner.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text).to_string();
    let path = render_path(e.path());
    Problem {
        line: inner.line().max(1),
        column: char_column(source, inner.line(), inner.column()),
        field: if path.is_empty() { "(document)".into() } else { visible(&path).into_owned() },
        message: format!(
            "{}; the file is not valid JSON (check quotes, commas and brackets near here)",
            visible(&message)
        ),
    }
}

/// serde_json counts columns in bytes; editors and the locator count characters. Convert, so a
/// line with CJK or other multi-byte text before the fault still points at the right place.
fn char_column(source: &str, line: usize, byte_column: usize) -> usize {
    let Some(text) = source.split('\n').nth(line.saturating_sub(1)) else {
        return byte_column.max(1);
    };
    let mut end = byte_column.saturating_sub(1).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].chars().count() + 1
}

/// The top-level fields in document order, as the format defines them.
const TOP_LEVEL: [&str; 16] = [
    "format",
    "id",
    "action",
    "environment",
    "requester",
    "requested_at",
    "expires_at",
    "justification",
    "target",
    "before",
    "proposed",
    "evidence",
    "route",
    "rollback_hint",
    "work_item",
    "supersedes",
];

/// Read every top-level section into its type, reporting each section's first shape error.
fn read_sections(root: &Value, report: &mut Report) -> Option<GovernedRun> {
    let Value::Object(map) = root else {
        report.value("", format!("expected a JSON object (a {RUN_FORMAT} run), found {}", kind(root)));
        return None;
    };
    match map.get("format") {
        Some(Value::String(f)) if f != RUN_FORMAT => {
            // Another version's fields may mean other things: checking them against v1 would mislead.
            report.value(
                "format",
                format!("unsupported format '{f}'; this build reads only \"{RUN_FORMAT}\" (supported versions: {RUN_FORMAT})"),
            );
            return None;
        }
        _ => {}
    }
    for key in map.keys().filter(|k| !TOP_LEVEL.contains(&k.as_str())) {
        report.key(key, format!("unknown field `{key}`; expected one of: {}", TOP_LEVEL.join(", ")));
    }
    let mut s = Sections { map, report, ok: true };
    let format = s.required("format", "\"signoff.run/v1\"");
    let id = s.required("id", "the run id, e.g. \"RUN-2026-000123\"");
    let action = s.action();
    let environment = s.required("environment", "the environment name, e.g. \"usmf-sandbox\"");
    let requester = s.required("requester", "an object with `id` and `kind`");
    let requested_at = s.required("requested_at", "an RFC 3339 time");
    let expires_at = s.required("expires_at", "an RFC 3339 time");
    let justification = s.required("justification", "why the change is needed");
    let target = s.required("target", "an object with `entity_set`, `managed_object` and `keys`");
    // `etag` may be left out only by a snapshot of an absent record (a create's before state).
    if let Some(Value::Object(before)) = map.get("before")
        && !before.contains_key("etag")
        && before.get("absent") != Some(&Value::Bool(true))
    {
        s.ok = false;
        s.report.value("before.etag", "missing required field `etag`");
    }
    let before = s.required("before", "the snapshot: `etag`, `captured_at`, `fields` (and `lines`)");
    let proposed = s.required("proposed", "an object with the proposed `fields` (and `lines`)");
    let evidence = s.optional("evidence").unwrap_or_default();
    let route = s.required("route", "an object with `required_approvals` and `eligible_groups`");
    let rollback_hint = s.optional("rollback_hint");
    let work_item = s.optional("work_item");
    let supersedes = s.optional("supersedes");
    if !s.ok {
        return None;
    }
    Some(GovernedRun {
        format: format?,
        id: id?,
        action: action?,
        environment: environment?,
        requester: requester?,
        requested_at: requested_at?,
        expires_at: expires_at?,
        justification: justification?,
        target: target?,
        before: before?,
        proposed: proposed?,
        evidence,
        route: route?,
        rollback_hint,
        work_item,
        supersedes,
    })
}

struct Sections<'m, 'r> {
    map: &'m Map<String, Value>,
    report: &'r mut Report,
    ok: bool,
}

impl Sections<'_, '_> {
    fn required<T: DeserializeOwned>(&mut self, name: &str, expected: &str) -> Option<T> {
        if !self.map.contains_key(name) {
            self.ok = false;
            self.report.value(name, format!("missing required field `{name}`; expected {expected}"));
            return None;
        }
        self.optional(name)
    }

    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        let value = self.map.get(name)?;
        match serde_path_to_error::deserialize(value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.ok = false;
                shape_problem(name, &e, self.report);
                None
            }
        }
    }

    /// The action, with a message that lists the five instead of serde's generic one.
    fn action(&mut self) -> Option<Action> {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        let found = match self.map.get("action") {
            None => {
                self.ok = false;
                self.report
                    .value("action", format!("missing required field `action`; expected one of: {}", names.join(", ")));
                return None;
            }
            Some(Value::String(s)) => s,
            Some(other) => {
                self.ok = false;
                self.report.value("action", format!("expected the action name as a string, found {}", kind(other)));
                return None;
            }
        };
        if let Some(action) = Action::ALL.into_iter().find(|a| a.as_str() == found) {
            return Some(action);
        }
        self.ok = false;
        let hint = match Action::ALL.into_iter().find(|a| a.short() == found) {
            Some(a) => format!("; run files use the full name \"{}\"", a.as_str()),
            None => String::new(),
        };
        self.report.value("action", format!("unknown action '{found}'; expected one of: {}{hint}", names.join(", ")));
        None
    }
}

/// Turn a serde error inside a section into a problem at the right field.
fn shape_problem(section: &str, e: &serde_path_to_error::Error<serde_json::Error>, report: &mut Report) {
    let inner = render_path(e.path());
    let path = if inner.is_empty() { section.to_string() } else { format!("{section}.{inner}") };
    let path = path.replace(".[", "[");
    let message = e.inner().to_string();
    if let Some(field) = quoted(&message, "missing field `") {
        report.value(&child(&path, field), format!("missing required field `{field}`"));
    } else if let Some(field) = quoted(&message, "unknown field `") {
        let expected =
            message.split_once(", expected ").map_or(String::new(), |(_, rest)| format!("; expected {rest}"));
        // serde_path_to_error has usually already stepped into the unknown member; do not name it twice.
        let at = if path.ends_with(&format!(".{field}")) { path.clone() } else { child(&path, field) };
        report.key(&at, format!("unknown field `{field}`{expected}"));
    } else if path.ends_with("_at") {
        report.value(&path, format!("{message}; expected an RFC 3339 time such as \"2026-11-18T09:12:00Z\""));
    } else {
        // serde names Rust types; say what a run file author writes instead.
        let message = message.replace("expected u32", "expected a whole number such as 2");
        report.value(&path, message);
    }
}

/// The text between `prefix` and the next backquote, if `message` starts with `prefix`.
fn quoted<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.split('`').next()
}

fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// The JSON type of a value, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
