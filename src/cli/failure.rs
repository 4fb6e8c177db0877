//! One shape for every error the CLI reports: a code, the exit code, a one-line message, and the
//! problems behind it, one per line.
//!
//! As text (standard error): `error: MESSAGE`, then each problem on its own indented line. With `--json`
//! (standard output, so a script reads one stream):
//! `{"error": {"code": "no-store", "exit": 1, "message": "…", "problems": ["…", "…"]}}`.
//! A message never carries a newline (it would print as `^J`): the lines after the first become problems.

use serde::Serialize;

use super::exit;
use super::output;

/// What kind of error, stable for scripts (`error.code` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The command line is wrong (exit 2).
    Usage,
    /// A filter expression does not parse (exit 2).
    InvalidFilter,
    /// The store path holds no store; read-only verbs never create one (exit 1).
    NoStore,
    /// No run with that id (exit 1).
    NotFound,
    /// Run files that do not import (exit 1).
    InvalidRun,
    /// A decision refused before anything was sent (exit 4).
    Refused,
    /// Anything else that stopped signoff (exit 1).
    Failed,
}

/// An error as the CLI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: ErrorCode,
    pub exit: u8,
    pub message: String,
    pub problems: Vec<String>,
}

impl Failure {
    /// A failure from (possibly multi-line) text: the first line is the message, every further non-empty
    /// line a problem.
    pub fn new(code: ErrorCode, text: &str) -> Failure {
        let mut lines = text.lines();
        let message = lines.next().unwrap_or_default().trim_end().to_string();
        Failure { code, exit: default_exit(code), message, problems: Vec::new() }.with_problems(lines)
    }

    /// Add problems, one per non-empty line of each item.
    pub fn with_problems<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, problems: I) -> Failure {
        for p in problems {
            self.problems.extend(p.as_ref().lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
        }
        self
    }

    /// The same failure with another exit code.
    pub fn with_exit(mut self, exit: u8) -> Failure {
        self.exit = exit;
        self
    }

    /// The failure behind an error that reached `cli::main`: the [`Failure`] itself, or any other error as
    /// [`ErrorCode::Failed`] with its causes.
    pub fn of(error: &anyhow::Error) -> Failure {
        match error.downcast_ref::<Failure>() {
            Some(f) => f.clone(),
            None => Failure::new(ErrorCode::Failed, &format!("{error:#}")),
        }
    }

    /// Print it: JSON on standard output with `--json`, else text on standard error.
    pub fn report(&self, json: bool) {
        if json {
            #[derive(Serialize)]
            struct Envelope<'a> {
                error: &'a Failure,
            }
            // Nobody is left to tell if standard output is closed too.
            let _ = output::json(&Envelope { error: self });
        } else {
            let mut text = format!("error: {}\n", self.message);
            for p in &self.problems {
                text.push_str(&format!("  {p}\n"));
            }
            output::warn(&text);
        }
    }
}

fn default_exit(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Usage | ErrorCode::InvalidFilter => exit::USAGE,
        ErrorCode::Refused => crate::review::exit::REFUSED,
        ErrorCode::NoStore | ErrorCode::NotFound | ErrorCode::InvalidRun | ErrorCode::Failed => exit::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_after_the_first_become_problems_never_one_joined_message() {
        let f = Failure::new(
            ErrorCode::Refused,
            "bulk approval takes only runs whose verdicts all pass:\n  RUN-1: on hold\n\n  RUN-2: bank account\n",
        );
        assert_eq!(f.message, "bulk approval takes only runs whose verdicts all pass:");
        assert_eq!(f.problems, ["RUN-1: on hold", "RUN-2: bank account"]);
        assert_eq!(f.exit, 4);
    }

    #[test]
    fn the_json_shape_is_code_exit_message_problems() {
        let f = Failure::new(ErrorCode::NoStore, "no store at /tmp/x");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "no-store", "exit": 1, "message": "no store at /tmp/x", "problems": []})
        );
    }
}
