//! A US ZIP code as the homeowner types it: five digits, optionally ZIP+4 (the +4 is dropped).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zip(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("A ZIP code is 5 digits, like 55401.")]
pub struct ZipError;

impl Zip {
    pub fn parse(input: &str) -> Result<Self, ZipError> {
        let s = input.trim();
        let five = match s.len() {
            5 => s,
            // ZIP+4 as "55401-1234" or "55401 1234".
            10 if matches!(s.as_bytes()[5], b'-' | b' ') && s[6..].bytes().all(|b| b.is_ascii_digit()) => &s[..5],
            9 if s.bytes().all(|b| b.is_ascii_digit()) => &s[..5],
            _ => return Err(ZipError),
        };
        if five.bytes().all(|b| b.is_ascii_digit()) { Ok(Self(five.to_owned())) } else { Err(ZipError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Zip {
    type Error = ZipError;
    fn try_from(s: String) -> Result<Self, ZipError> {
        Zip::parse(&s)
    }
}

impl From<Zip> for String {
    fn from(z: Zip) -> String {
        z.0
    }
}

impl fmt::Display for Zip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_five_digits_and_zip_plus_four() {
        assert_eq!(Zip::parse("55401").map(|z| z.0), Ok("55401".into()));
        assert_eq!(Zip::parse(" 02134 ").map(|z| z.0), Ok("02134".into()));
        assert_eq!(Zip::parse("55401-1234").map(|z| z.0), Ok("55401".into()));
        assert_eq!(Zip::parse("554011234").map(|z| z.0), Ok("55401".into()));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in ["", "5540", "554012", "5540a", "55401-12", "５５４０１", "55401-abcd", "'; drop"] {
            assert_eq!(Zip::parse(bad), Err(ZipError), "{bad:?}");
        }
    }
}
