//! How the homeowner would like plumbers to get in touch. Phone unless they say otherwise.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactPreference {
    #[default]
    Phone,
    Sms,
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactPreferenceError {
    #[error("Please choose how plumbers should contact you: phone, text or email.")]
    Unknown,
    /// Raised by [`super::LeadDraft::parse`], which sees the email field too.
    #[error("Add your email address, or choose phone or text.")]
    EmailMissing,
}

impl ContactPreference {
    /// "phone", "sms" (or "text") or "email", ignoring case and surrounding whitespace; empty
    /// means the default, phone.
    pub fn parse(input: &str) -> Result<Self, ContactPreferenceError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "" | "phone" => Ok(Self::Phone),
            "sms" | "text" => Ok(Self::Sms),
            "email" => Ok(Self::Email),
            _ => Err(ContactPreferenceError::Unknown),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_default() {
        assert_eq!(ContactPreference::parse(""), Ok(ContactPreference::Phone));
        assert_eq!(ContactPreference::parse("  "), Ok(ContactPreference::Phone));
        assert_eq!(ContactPreference::parse("phone"), Ok(ContactPreference::Phone));
        assert_eq!(ContactPreference::parse("SMS"), Ok(ContactPreference::Sms));
        assert_eq!(ContactPreference::parse(" text "), Ok(ContactPreference::Sms));
        assert_eq!(ContactPreference::parse("Email"), Ok(ContactPreference::Email));
        assert_eq!(ContactPreference::default(), ContactPreference::Phone);
        assert_eq!(ContactPreference::parse("carrier pigeon"), Err(ContactPreferenceError::Unknown));
    }

    #[test]
    fn serde_is_snake_case() {
        assert_eq!(serde_json::to_string(&ContactPreference::Sms).ok(), Some("\"sms\"".into()));
        for p in [ContactPreference::Phone, ContactPreference::Sms, ContactPreference::Email] {
            assert_eq!(serde_json::to_string(&p).ok(), Some(format!("\"{}\"", p.as_str())));
        }
    }

    #[test]
    fn words() {
        assert_eq!(
            ContactPreferenceError::Unknown.to_string(),
            "Please choose how plumbers should contact you: phone, text or email."
        );
        assert_eq!(
            ContactPreferenceError::EmailMissing.to_string(),
            "Add your email address, or choose phone or text."
        );
    }
}
