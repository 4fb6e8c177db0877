//! Parsing and validating `signoff.run/v1` files, with errors that name the file, position and field.

use std::fmt;

use super::GovernedRun;

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

/// Parse and validate one run file's text. `origin` names it in errors.
pub fn parse_run(source: &str, origin: &str) -> Result<GovernedRun, RunFileError> {
    serde_json::from_str(source).map_err(|e| RunFileError {
        origin: origin.to_string(),
        problems: vec![Problem {
            line: e.line(),
            column: e.column(),
            field: "(document)".into(),
            message: e.to_string(),
        }],
    })
}
