//! The changes a proposal asks for, from the command line (`--set FIELD=VALUE`, `--line N:FIELD=VALUE`)
//! and from a patch file (JSON or TOML, for automations), gathered into one [`Patch`].
//!
//! A patch file mirrors the run format's `proposed` section, with lines named by their line number:
//!
//! ```json
//! { "fields": { "DueDate": "2026-12-20" },
//!   "lines": [ { "line": 2, "fields": { "Text": "Accrued expenses, corrected" } } ] }
//! ```
//!
//! Values keep their JSON type (text, exact numbers, booleans, `null`); each is read by its property's
//! `$metadata` type later. TOML has no exact decimals, so a TOML float is refused: write amounts as
//! strings (`DebitAmount = "1240.00"`), which are read as the property's decimal type.

use serde_json::Value;

use crate::model::{FieldValue, Fields};
use crate::text::visible;

/// Header values and line changes to propose.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch {
    pub fields: Vec<(String, FieldValue)>,
    pub lines: Vec<PatchLine>,
}

/// Changes to one line, named by its line number (`InvoiceLineNumber`, `LineNumber`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchLine {
    pub line: FieldValue,
    pub fields: Fields,
    pub remove: bool,
}

/// A patch file or option that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

impl Patch {
    /// Read a patch file's text: TOML when `toml` is true, else JSON. `origin` names it in errors.
    pub fn parse(text: &str, toml: bool, origin: &str) -> Result<Patch, PatchError> {
        let origin = visible(origin).into_owned();
        let value = if toml {
            let table: toml::Table =
                toml::from_str(text).map_err(|e| PatchError(format!("{origin}: not valid TOML: {}", e.message())))?;
            toml_to_json(toml::Value::Table(table), "").map_err(|e| PatchError(format!("{origin}: {e}")))?
        } else {
            serde_json::from_str(text).map_err(|e| PatchError(format!("{origin}: not valid JSON: {e}")))?
        };
        Patch::from_json(&value).map_err(|e| PatchError(format!("{origin}: {e}")))
    }

    fn from_json(value: &Value) -> Result<Patch, String> {
        let object = value.as_object().ok_or("expected an object with `fields` and `lines`")?;
        let mut patch = Patch::default();
        for (key, v) in object {
            match key.as_str() {
                "fields" => patch.fields = fields_of(v, "fields")?.into_iter().collect(),
                "lines" => {
                    let lines = v.as_array().ok_or("`lines` must be an array of { line, fields, remove }")?;
                    for (i, line) in lines.iter().enumerate() {
                        patch.lines.push(line_of(line, i)?);
                    }
                }
                other => return Err(format!("unknown key `{}`; a patch has `fields` and `lines`", visible(other))),
            }
        }
        Ok(patch)
    }

    /// Add `--set FIELD=VALUE` (the value is text, read by the field's type later).
    pub fn set(&mut self, assignment: &str) -> Result<(), PatchError> {
        let (name, value) = split_assignment(assignment, "--set FIELD=VALUE")?;
        self.fields.push((name, FieldValue::Text(value)));
        Ok(())
    }

    /// Add `--line N:FIELD=VALUE`: a change to line N (its line number).
    pub fn line(&mut self, change: &str) -> Result<(), PatchError> {
        let usage = "--line N:FIELD=VALUE, N the line number";
        let (number, assignment) =
            change.split_once(':').ok_or_else(|| PatchError(format!("'{}' is not {usage}", visible(change))))?;
        let (name, value) = split_assignment(assignment, usage)?;
        let number = FieldValue::Text(number.trim().to_string());
        match self.lines.iter_mut().find(|l| l.line.same_value(&number)) {
            Some(line) => {
                line.fields.insert(name, FieldValue::Text(value));
            }
            None => self.lines.push(PatchLine {
                line: number,
                fields: [(name, FieldValue::Text(value))].into_iter().collect(),
                remove: false,
            }),
        }
        Ok(())
    }

    /// Everything in `other` after this patch's own changes (the command line after the file).
    pub fn extend(&mut self, other: Patch) {
        self.fields.extend(other.fields);
        self.lines.extend(other.lines);
    }
}

/// `FIELD=VALUE` → (FIELD, VALUE); the value may contain `=`.
pub fn split_assignment(text: &str, usage: &str) -> Result<(String, String), PatchError> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(PatchError(format!("'{}' is not {usage}", visible(text)))),
    }
}

fn fields_of(value: &Value, at: &str) -> Result<Fields, String> {
    let object = value.as_object().ok_or_else(|| format!("`{at}` must be an object of FIELD: VALUE"))?;
    object
        .iter()
        .map(|(name, v)| {
            FieldValue::from_json(v).map(|f| (name.clone(), f)).map_err(|e| format!("{at}.{}: {e}", visible(name)))
        })
        .collect()
}

fn line_of(value: &Value, i: usize) -> Result<PatchLine, String> {
    let at = format!("lines[{i}]");
    let object = value.as_object().ok_or_else(|| format!("{at} must be an object {{ line, fields, remove }}"))?;
    let mut line = None;
    let mut fields = Fields::new();
    let mut remove = false;
    for (key, v) in object {
        match key.as_str() {
            "line" => line = Some(FieldValue::from_json(v).map_err(|e| format!("{at}.line: {e}"))?),
            "fields" => fields = fields_of(v, &format!("{at}.fields"))?,
            "remove" => remove = v.as_bool().ok_or_else(|| format!("{at}.remove must be true or false"))?,
            other => return Err(format!("{at}: unknown key `{}`; expected line, fields, remove", visible(other))),
        }
    }
    let line = line.ok_or_else(|| format!("{at}: missing `line`, the line number"))?;
    Ok(PatchLine { line, fields, remove })
}

/// TOML as JSON; floats are refused (binary, so `1240.10` may not be what was typed).
fn toml_to_json(value: toml::Value, at: &str) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => {
            return Err(format!(
                "{at} = {f}: TOML floats are binary and may not keep every digit; write the amount as a string \
                 (\"{f}\"), it is read as the field's decimal type"
            ));
        }
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| toml_to_json(v, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => {
            let mut map = serde_json::Map::new();
            for (k, v) in table {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                map.insert(k, toml_to_json(v, &path)?);
            }
            Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_toml_patches_read_the_same() {
        let json = r#"{"fields": {"DueDate": "2026-12-20"}, "lines": [{"line": 2, "fields": {"Text": "Accrual"}}]}"#;
        let toml = "[fields]\nDueDate = \"2026-12-20\"\n\n[[lines]]\nline = 2\nfields = { Text = \"Accrual\" }\n";
        let a = Patch::parse(json, false, "p.json").unwrap();
        let b = Patch::parse(toml, true, "p.toml").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.lines[0].line, FieldValue::Number(2.into()));
    }

    #[test]
    fn a_toml_float_is_refused_with_the_string_form_to_write() {
        let err = Patch::parse("[fields]\nDebitAmount = 1240.10\n", true, "p.toml").unwrap_err();
        assert!(err.0.contains("fields.DebitAmount = 1240.1: TOML floats are binary"), "{err}");
    }

    #[test]
    fn command_line_changes_gather_per_line() {
        let mut patch = Patch::default();
        patch.set("DueDate=2026-12-20").unwrap();
        patch.line("2:Text=a=b").unwrap();
        patch.line("2:AccountDisplayValue=605140-001-022").unwrap();
        assert_eq!(patch.lines.len(), 1);
        assert_eq!(patch.lines[0].fields["Text"], FieldValue::Text("a=b".into()));
        assert!(patch.set("=x").is_err());
        assert!(patch.line("Text=x").unwrap_err().0.contains("--line N:FIELD=VALUE"));
        let err = Patch::parse(r#"{"feilds": {}}"#, false, "p.json").unwrap_err();
        assert_eq!(err.0, "p.json: unknown key `feilds`; a patch has `fields` and `lines`");
    }
}
