//! The homeowner's permission to be called and texted about their request. The exact wording is
//! versioned: each lead stores the version it was given under (PRODUCT.md, "consent stored with
//! its time and text version"), so change the version whenever the text changes.

/// The date [`CONSENT_TEXT`] last changed.
pub const CONSENT_TEXT_VERSION: &str = "2026-11-25";

/// Shown next to the consent checkbox on every lead form.
pub const CONSENT_TEXT: &str = "I agree that PlumberLeads and the local plumbers matched to my \
request may call or text me about it at the number I gave, including automated texts; consent \
is not a condition of any purchase, msg & data rates may apply, and I can reply STOP to opt out \
at any time.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Please tick the box so plumbers may contact you about this job.")]
pub struct ConsentError;

/// Consent is only ever an explicit yes.
pub fn require_consent(given: bool) -> Result<(), ConsentError> {
    if given { Ok(()) } else { Err(ConsentError) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_sentence_with_what_the_law_asks() {
        assert_eq!(CONSENT_TEXT.matches(". ").count(), 0);
        assert!(CONSENT_TEXT.ends_with('.'));
        for needed in [
            "call or text",
            "automated texts",
            "not a condition of any purchase",
            "msg & data rates may apply",
            "reply STOP",
        ] {
            assert!(CONSENT_TEXT.contains(needed), "{needed}");
        }
        assert!(!CONSENT_TEXT.contains("  "));
    }

    #[test]
    fn only_an_explicit_yes() {
        assert_eq!(require_consent(true), Ok(()));
        assert_eq!(require_consent(false), Err(ConsentError));
        assert_eq!(ConsentError.to_string(), "Please tick the box so plumbers may contact you about this job.");
    }
}
