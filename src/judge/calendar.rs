//! Dates as F&O writes them, and whether the config closes their posting period.

use chrono::{Datelike, NaiveDate};

use crate::config::Config;
use crate::model::FieldValue;

/// The calendar date of an F&O date or datetime (`2026-03-31T12:00:00Z`, `2026-03-31`). F&O's empty date
/// (`1900-01-01`) is no date.
pub fn date(value: Option<&FieldValue>) -> Option<NaiveDate> {
    let text = value?.as_text()?;
    let day = NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()?;
    (day > NaiveDate::from_ymd_opt(1900, 1, 1)?).then_some(day)
}

/// The posting period of `day`, as `policy.closed_periods` names it (`YYYY-MM`).
pub fn period_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// Whether the period of `day` is closed for `company` in the config.
pub fn period_closed(config: &Config, company: &str, day: NaiveDate) -> bool {
    let period = period_of(day);
    config
        .policy
        .closed_periods
        .iter()
        .any(|p| p.period == period && (p.company == "*" || p.company.eq_ignore_ascii_case(company)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fno_date_is_no_date() {
        assert_eq!(date(Some(&FieldValue::from("1900-01-01T12:00:00Z"))), None);
        assert_eq!(date(Some(&FieldValue::from("2026-03-31T12:00:00Z"))), NaiveDate::from_ymd_opt(2026, 3, 31));
    }
}
