//! How soon the homeowner needs a plumber, from the form's value. The type itself lives in
//! [`crate::pricing`], since it prices the lead.

use crate::pricing::Urgency;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Please tell us how soon you need a plumber.")]
pub struct UrgencyError;

impl Urgency {
    /// "emergency", "within_48h" or "flexible", ignoring case and surrounding whitespace.
    pub fn parse(input: &str) -> Result<Self, UrgencyError> {
        let s = input.trim();
        Urgency::ALL.into_iter().find(|u| u.as_str().eq_ignore_ascii_case(s)).ok_or(UrgencyError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_values_in_any_case() {
        assert_eq!(Urgency::parse("emergency"), Ok(Urgency::Emergency));
        assert_eq!(Urgency::parse(" EMERGENCY\n"), Ok(Urgency::Emergency));
        assert_eq!(Urgency::parse("within_48h"), Ok(Urgency::Within48h));
        assert_eq!(Urgency::parse("Within_48H"), Ok(Urgency::Within48h));
        assert_eq!(Urgency::parse("flexible"), Ok(Urgency::Flexible));
    }

    #[test]
    fn anything_else_is_refused_kindly() {
        for input in ["", "soon", "within 48h", "within-48h", "urgent", "emergency!", "ｅｍｅｒｇｅｎｃｙ"] {
            assert_eq!(Urgency::parse(input), Err(UrgencyError), "{input:?}");
        }
        assert_eq!(UrgencyError.to_string(), "Please tell us how soon you need a plumber.");
    }
}
