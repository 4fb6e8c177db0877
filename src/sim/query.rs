//! Query options: `$filter` (the subset F&O supports), `$select`, `$top`, `$skip`, `$count`, `$orderby`,
//! `$skiptoken` and `cross-company`.

use std::cmp::Ordering;

use chrono::DateTime;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::schema::{EntityDef, NAMESPACE, PropType};
use super::state::decimal_field;

/// Parsed query options for one request.
#[derive(Debug, Default)]
pub struct Query {
    pub filter: Option<Expr>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
    pub skiptoken: usize,
    pub cross_company: bool,
    /// Property and whether descending.
    pub orderby: Vec<(String, bool)>,
}

/// A `$filter` expression.
#[derive(Debug)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp { prop: String, op: Op, lit: Lit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug)]
pub enum Lit {
    Str(String),
    Num(Decimal),
    Bool(bool),
    Null,
    Enum { ty: String, member: String },
    Date(String),
}

/// Parse the decoded query pairs against an entity's definition. Errors are OData 400 messages.
pub fn parse(def: &EntityDef, pairs: &[(String, String)]) -> Result<Query, String> {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "$filter" => q.filter = Some(parse_filter(def, v)?),
            "$select" => {
                let names: Vec<String> = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                for n in &names {
                    if n != "*" && def.prop(n).is_none() {
                        return Err(no_property(def, n));
                    }
                }
                q.select = if names.iter().any(|n| n == "*") { None } else { Some(names) };
            }
            "$top" => q.top = Some(v.parse().map_err(|_| format!("Invalid value '{v}' for $top query option found."))?),
            "$skip" => q.skip = v.parse().map_err(|_| format!("Invalid value '{v}' for $skip query option found."))?,
            "$skiptoken" => q.skiptoken = v.parse().map_err(|_| format!("The skip token '{v}' is not valid."))?,
            "$count" => q.count = v.eq_ignore_ascii_case("true"),
            "$orderby" => {
                for part in v.split(',') {
                    let mut words = part.split_whitespace();
                    let name = words.next().unwrap_or("");
                    if def.prop(name).is_none() {
                        return Err(no_property(def, name));
                    }
                    let desc = matches!(words.next(), Some(w) if w.eq_ignore_ascii_case("desc"));
                    q.orderby.push((name.to_string(), desc));
                }
            }
            "$format" | "$expand" => {}
            "cross-company" => q.cross_company = v.eq_ignore_ascii_case("true"),
            other if other.starts_with('$') => {
                return Err(format!("The query parameter '{other}' is not supported."));
            }
            _ => {}
        }
    }
    Ok(q)
}

fn no_property(def: &EntityDef, name: &str) -> String {
    format!("Could not find a property named '{name}' on type '{}'.", def.qualified())
}

// ---- lexer ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    /// A number or an unquoted date.
    Bare(String),
    /// `Namespace.Type'Member'`.
    Enum(String, String),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '\'' {
            let (s, next) = quoted(&chars, i)?;
            out.push(Tok::Str(s));
            i = next;
        } else if c.is_ascii_digit() || c == '-' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | ':' | '-' | '+')) {
                i += 1;
            }
            out.push(Tok::Bare(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.')) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if i < chars.len() && chars[i] == '\'' {
                let (member, next) = quoted(&chars, i)?;
                out.push(Tok::Enum(word, member));
                i = next;
            } else {
                out.push(Tok::Word(word));
            }
        } else {
            return Err(format!("Syntax error: character '{c}' is not valid at position {i} in '{text}'."));
        }
    }
    Ok(out)
}

/// A quoted string starting at `start`, with `''` as an escaped quote; returns it and the next index.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("There is an unterminated string literal in the $filter.".into()),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

// ---- parser ----

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    def: &'a EntityDef,
}

/// Parse a `$filter` value, checking property names and literal types against the entity.
pub fn parse_filter(def: &EntityDef, text: &str) -> Result<Expr, String> {
    let mut p = Parser { toks: lex(text)?, pos: 0, def };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("Syntax error at position {} in '{text}'.", p.pos));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            if self.toks.get(self.pos) != Some(&Tok::Close) {
                return Err("')' or an operator expected in the $filter.".into());
            }
            self.pos += 1;
            return Ok(e);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let prop = match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => w.clone(),
            other => return Err(format!("A property name was expected in the $filter, found {other:?}.")),
        };
        let Some(pdef) = self.def.prop(&prop) else {
            return Err(no_property(self.def, &prop));
        };
        let op = match self.toks.get(self.pos + 1) {
            Some(Tok::Word(w)) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("The operator '{other}' is not supported in the $filter.")),
            },
            _ => return Err(format!("An operator was expected after '{prop}' in the $filter.")),
        };
        let lit = match self.toks.get(self.pos + 2) {
            Some(Tok::Str(s)) => Lit::Str(s.clone()),
            Some(Tok::Enum(ty, m)) => Lit::Enum { ty: ty.clone(), member: m.clone() },
            Some(Tok::Word(w)) if w == "true" || w == "false" => Lit::Bool(w == "true"),
            Some(Tok::Word(w)) if w == "null" => Lit::Null,
            Some(Tok::Bare(b)) if b.contains('T') && DateTime::parse_from_rfc3339(b).is_ok() => Lit::Date(b.clone()),
            Some(Tok::Bare(b)) => Lit::Num(
                Decimal::from_str_exact(b).map_err(|_| format!("'{b}' is not a valid literal in the $filter."))?,
            ),
            _ => return Err(format!("A value was expected after '{prop}' in the $filter.")),
        };
        check_types(self.def, pdef.ty, &prop, op, &lit)?;
        self.pos += 3;
        Ok(Expr::Cmp { prop, op, lit })
    }
}

fn check_types(def: &EntityDef, ty: PropType, prop: &str, op: Op, lit: &Lit) -> Result<(), String> {
    let incompatible = |found: &str| {
        Err(format!(
            "A binary operator with incompatible types was detected. Found operand types '{}' and '{found}' for \
             operator kind '{op:?}'.",
            ty.edm()
        ))
    };
    match (ty, lit) {
        (_, Lit::Null) => Ok(()),
        (PropType::Enum(name), Lit::Enum { ty: lit_ty, member }) => {
            if *lit_ty != format!("{NAMESPACE}.{name}") {
                return incompatible(lit_ty);
            }
            if !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!("The operator '{op:?}' is not supported for the enum property '{prop}'."));
            }
            let known = super::schema::enum_def(name).is_some_and(|e| e.members.contains(&member.as_str()));
            if known { Ok(()) } else { Err(format!("The string '{member}' is not a valid enumeration type constant.")) }
        }
        (PropType::Enum(_), Lit::Str(_)) => incompatible("Edm.String"),
        (PropType::String(_), Lit::Str(_)) => Ok(()),
        (t, Lit::Num(_)) if t.is_numeric() => Ok(()),
        (PropType::Boolean, Lit::Bool(_)) => Ok(()),
        (PropType::DateTime, Lit::Date(_)) => Ok(()),
        (_, Lit::Str(_)) => incompatible("Edm.String"),
        (_, Lit::Num(_)) => incompatible("Edm.Decimal"),
        (_, Lit::Bool(_)) => incompatible("Edm.Boolean"),
        (_, Lit::Date(_)) => incompatible("Edm.DateTimeOffset"),
        (_, Lit::Enum { ty, .. }) => {
            let _ = def;
            incompatible(ty)
        }
    }
}

// ---- evaluation ----

/// Whether a record's fields satisfy the expression.
pub fn matches(expr: &Expr, fields: &Map<String, Value>) -> bool {
    match expr {
        Expr::And(a, b) => matches(a, fields) && matches(b, fields),
        Expr::Or(a, b) => matches(a, fields) || matches(b, fields),
        Expr::Not(a) => !matches(a, fields),
        Expr::Cmp { prop, op, lit } => compare(fields, prop, *op, lit),
    }
}

fn compare(fields: &Map<String, Value>, prop: &str, op: Op, lit: &Lit) -> bool {
    let value = fields.get(prop).unwrap_or(&Value::Null);
    let ord = match lit {
        Lit::Null => {
            let is_null = value.is_null();
            return match op {
                Op::Eq => is_null,
                Op::Ne => !is_null,
                _ => false,
            };
        }
        Lit::Str(s) => {
            let field = value.as_str().unwrap_or("").to_lowercase();
            let wanted = s.to_lowercase();
            if matches!(op, Op::Eq | Op::Ne) && wanted.contains('*') {
                // F&O's "contains": `eq '*x*'` is a wildcard match.
                let hit = wildcard(&wanted, &field);
                return if op == Op::Eq { hit } else { !hit };
            }
            field.cmp(&wanted)
        }
        Lit::Num(n) => decimal_field(fields, prop).cmp(n),
        Lit::Bool(b) => value.as_bool().unwrap_or(false).cmp(b),
        Lit::Enum { member, .. } => {
            let same = value.as_str() == Some(member.as_str());
            return if op == Op::Eq { same } else { !same };
        }
        Lit::Date(d) => {
            let (Ok(field), Ok(wanted)) =
                (DateTime::parse_from_rfc3339(value.as_str().unwrap_or("")), DateTime::parse_from_rfc3339(d))
            else {
                return false;
            };
            field.cmp(&wanted)
        }
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    rest.is_empty()
}

/// Order two records by `$orderby`.
pub fn order(orderby: &[(String, bool)], def: &EntityDef, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
    for (name, desc) in orderby {
        let numeric = def.prop(name).is_some_and(|p| p.ty.is_numeric());
        let ord = if numeric {
            decimal_field(a, name).cmp(&decimal_field(b, name))
        } else {
            let text = |m: &Map<String, Value>| m.get(name).map(|v| v.to_string().to_lowercase()).unwrap_or_default();
            text(a).cmp(&text(b))
        };
        let ord = if *desc { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::super::schema::entity;
    use super::*;

    fn fields(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn enum_literals_strings_and_numbers_combine_with_and_or() {
        let def = entity("LedgerJournalLines").unwrap();
        let e = parse_filter(
            def,
            "JournalBatchNumber eq '00123' and (DebitAmount gt 100.5 or ReverseEntry eq \
             Microsoft.Dynamics.DataEntities.NoYes'Yes')",
        )
        .unwrap();
        assert!(matches(&e, &fields(r#"{"JournalBatchNumber":"00123","DebitAmount":100.51,"ReverseEntry":"No"}"#)));
        assert!(!matches(&e, &fields(r#"{"JournalBatchNumber":"00123","DebitAmount":100.50,"ReverseEntry":"No"}"#)));
        assert!(matches(&e, &fields(r#"{"JournalBatchNumber":"00123","DebitAmount":0,"ReverseEntry":"Yes"}"#)));
    }

    #[test]
    fn a_bare_string_against_an_enum_is_refused() {
        let def = entity("LedgerJournalHeaders").unwrap();
        let err = parse_filter(def, "IsPosted eq 'Yes'").unwrap_err();
        assert!(err.contains("incompatible types"), "{err}");
    }

    #[test]
    fn quoted_strings_unescape_doubled_quotes_and_wildcards_match() {
        let def = entity("VendorsV2").unwrap();
        let e = parse_filter(def, "VendorOrganizationName eq 'O''Brien*'").unwrap();
        assert!(matches(&e, &fields(r#"{"VendorOrganizationName":"O'Brien Supplies"}"#)));
        assert!(!matches(&e, &fields(r#"{"VendorOrganizationName":"Brien"}"#)));
    }

    #[test]
    fn unknown_properties_are_named() {
        let def = entity("VendorsV2").unwrap();
        let err = parse_filter(def, "Colour eq 'red'").unwrap_err();
        assert!(err.contains("'Colour'") && err.contains("Microsoft.Dynamics.DataEntities.VendorV2"), "{err}");
    }
}
