//! Lead price = base(category) × urgency × exclusivity (PRODUCT.md). Multipliers are stored in
//! basis points (1.5 → 15_000) so the arithmetic stays in integers.

use crate::Cents;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Emergency,
    // snake_case alone would give "within48h"; the API, forms and database say "within_48h".
    #[serde(rename = "within_48h")]
    Within48h,
    Flexible,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Emergency, Urgency::Within48h, Urgency::Flexible];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Emergency => "emergency",
            Urgency::Within48h => "within_48h",
            Urgency::Flexible => "flexible",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusivity {
    Shared,
    Exclusive,
}

/// One ten-thousandth: 10_000 basis points = ×1.
pub const BPS_ONE: i64 = 10_000;

/// Price multipliers, editable by staff; defaults are PRODUCT.md's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Multipliers {
    pub emergency_bps: i64,
    pub within_48h_bps: i64,
    pub flexible_bps: i64,
    pub exclusive_bps: i64,
}

impl Default for Multipliers {
    fn default() -> Self {
        Self { emergency_bps: 15_000, within_48h_bps: 10_000, flexible_bps: 8_000, exclusive_bps: 25_000 }
    }
}

impl Multipliers {
    pub fn urgency_bps(&self, urgency: Urgency) -> i64 {
        match urgency {
            Urgency::Emergency => self.emergency_bps,
            Urgency::Within48h => self.within_48h_bps,
            Urgency::Flexible => self.flexible_bps,
        }
    }

    /// The price of one lead, rounded half up to the cent.
    pub fn price(&self, base: Cents, urgency: Urgency, exclusivity: Exclusivity) -> Cents {
        let excl = match exclusivity {
            Exclusivity::Shared => BPS_ONE,
            Exclusivity::Exclusive => self.exclusive_bps,
        };
        let scale = i128::from(BPS_ONE) * i128::from(BPS_ONE);
        let raw = i128::from(base.0) * i128::from(self.urgency_bps(urgency)) * i128::from(excl);
        let rounded = (raw + scale / 2) / scale;
        Cents(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

/// A multiplier as staff type it ("1.5", "×1.5", "0.8") → basis points; between ×0.1 and ×10.
pub fn parse_multiplier(input: &str) -> Option<i64> {
    let s = input.trim().trim_start_matches(['×', 'x', 'X']).trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 4
        || whole.len() > 3
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<4}").parse().ok()? };
    let bps = whole * BPS_ONE + frac;
    (1_000..=100_000).contains(&bps).then_some(bps)
}

/// Basis points as staff read them: 15000 → "1.5".
pub fn show_multiplier(bps: i64) -> String {
    let s = format!("{}.{:04}", bps / BPS_ONE, bps % BPS_ONE);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgency_serde_matches_as_str() {
        for u in Urgency::ALL {
            let json = format!("\"{}\"", u.as_str());
            assert_eq!(serde_json::to_string(&u).ok(), Some(json.clone()));
            assert_eq!(serde_json::from_str::<Urgency>(&json).ok(), Some(u));
        }
    }

    #[test]
    fn multipliers_are_typed_as_decimals_within_limits() {
        assert_eq!(parse_multiplier("1.5"), Some(15_000));
        assert_eq!(parse_multiplier(" ×2.5 "), Some(25_000));
        assert_eq!(parse_multiplier("0.8"), Some(8_000));
        assert_eq!(parse_multiplier("1"), Some(10_000));
        assert_eq!(parse_multiplier("0.1"), Some(1_000));
        assert_eq!(parse_multiplier("0.0999"), None);
        assert_eq!(parse_multiplier("10"), Some(100_000));
        assert_eq!(parse_multiplier("10.0001"), None);
        for bad in ["", ".", "-1", "1,5", "abc", "1.23456", "1e3"] {
            assert_eq!(parse_multiplier(bad), None, "{bad}");
        }
        assert_eq!(show_multiplier(15_000), "1.5");
        assert_eq!(show_multiplier(10_000), "1");
        assert_eq!(show_multiplier(8_000), "0.8");
    }

    #[test]
    fn product_md_multipliers() {
        let m = Multipliers::default();
        let base = Cents(4_000);
        assert_eq!(m.price(base, Urgency::Emergency, Exclusivity::Shared), Cents(6_000));
        assert_eq!(m.price(base, Urgency::Within48h, Exclusivity::Shared), Cents(4_000));
        assert_eq!(m.price(base, Urgency::Flexible, Exclusivity::Shared), Cents(3_200));
        assert_eq!(m.price(base, Urgency::Emergency, Exclusivity::Exclusive), Cents(15_000));
        // Rounds half up: 3.33 × 1.5 = 4.995 → $5.00.
        assert_eq!(m.price(Cents(333), Urgency::Emergency, Exclusivity::Shared), Cents(500));
    }
}
