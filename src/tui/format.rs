//! How the TUI writes amounts: exact, with thousands separators (`1,250,000.00 USD`), in every view.

use rust_decimal::Decimal;

use crate::model::RunSummary;
use crate::text::visible;

/// `1250000.00` → `1,250,000.00`; the digits and the scale are kept exactly as stored.
pub fn grouped(amount: Decimal) -> String {
    let text = amount.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A run's amount with its currency (`12,500.00 USD`), or `—` when it has none.
pub fn amount(s: &RunSummary) -> String {
    match (&s.amount, &s.currency) {
        (Some(a), Some(c)) => format!("{} {}", grouped(*a), visible(c)),
        (Some(a), None) => grouped(*a),
        (None, _) => "—".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_get_thousands_separators_and_keep_their_scale_and_sign() {
        let cases = [
            ("1250000.00", "1,250,000.00"),
            ("12.50", "12.50"),
            ("999.99", "999.99"),
            ("1000", "1,000"),
            ("-81047.5", "-81,047.5"),
            ("100000.000", "100,000.000"),
            ("0.00", "0.00"),
        ];
        for (raw, shown) in cases {
            assert_eq!(grouped(Decimal::from_str(raw).unwrap()), shown, "{raw}");
        }
    }
}
