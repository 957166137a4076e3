//! A plumbing business's trading name, as homeowners will see it.

use crate::lead::text;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BusinessNameError {
    #[error("Please tell us your business name — homeowners will see it.")]
    Missing,
    #[error("That business name is too long — 120 characters at most.")]
    TooLong,
    #[error("There's a hidden character in your business name we can't use — could you type it again?")]
    Hidden,
}

impl BusinessName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(input: &str) -> Result<Self, BusinessNameError> {
        let s = text::single_line(input).map_err(|_| BusinessNameError::Hidden)?;
        if !s.chars().any(char::is_alphanumeric) {
            return Err(BusinessNameError::Missing);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(BusinessNameError::TooLong);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BusinessName {
    type Error = BusinessNameError;
    fn try_from(s: String) -> Result<Self, BusinessNameError> {
        Self::parse(&s)
    }
}

impl From<BusinessName> for String {
    fn from(v: BusinessName) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tidied_and_limited() {
        assert_eq!(
            BusinessName::parse("  Acme   Plumbing & Sons ").map(String::from).as_deref(),
            Ok("Acme Plumbing & Sons")
        );
        assert_eq!(BusinessName::parse(" - "), Err(BusinessNameError::Missing));
        assert_eq!(BusinessName::parse(""), Err(BusinessNameError::Missing));
        assert_eq!(BusinessName::parse(&"a".repeat(121)), Err(BusinessNameError::TooLong));
        assert!(BusinessName::parse(&"a".repeat(120)).is_ok());
        assert_eq!(BusinessName::parse("Acme\u{202E}"), Err(BusinessNameError::Hidden));
    }
}
