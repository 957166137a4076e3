//! Money is integer cents (USD); floats never touch a balance.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl fmt::Display for Cents {
    /// "$42.00", "-$3.50": the way STYLE.md says money is always shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let dollars = abs / 100;
        let cents = abs % 100;
        let mut grouped = String::new();
        let digits = dollars.to_string();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}${grouped}.{cents:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_currency_and_two_decimals() {
        assert_eq!(Cents(4200).to_string(), "$42.00");
        assert_eq!(Cents(5).to_string(), "$0.05");
        assert_eq!(Cents(-350).to_string(), "-$3.50");
        assert_eq!(Cents(123_456_789).to_string(), "$1,234,567.89");
    }
}
