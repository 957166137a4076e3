//! An optional email address. Syntax is the `email_address` crate's (RFC 5321/5322, with a
//! dotted domain required and no display names or IP literals); the domain is lower-cased since
//! it is case-insensitive, the local part is kept as typed since it need not be.
//! Whether the domain is disposable is checked elsewhere.

use super::text;
use email_address::{EmailAddress, Options};

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("That email address doesn't look right — check for typos?")]
    Invalid,
    #[error("That email address is too long — 254 characters at most.")]
    TooLong,
}

impl Email {
    /// RFC 5321's limit on a forward path, less the angle brackets.
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = text::single_line(input).map_err(|_| EmailError::Invalid)?;
        // Inner whitespace is refused, not collapsed: it is only valid in a quoted local part,
        // where collapsing it would change the address (and real addresses don't have one).
        if s.contains(' ') {
            return Err(EmailError::Invalid);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let address = format!("{local}@{}", domain.to_lowercase());
        if address.chars().count() > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        let options = Options::default().with_required_tld().without_domain_literal().without_display_text();
        EmailAddress::parse_with_options(&address, options).map_err(|_| EmailError::Invalid)?;
        Ok(Self(address))
    }

    /// The part after the last `@`, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

super::string_newtype!(Email, EmailError);

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Email::parse(s).map(String::from).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn valid_addresses_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(ok("jane@example.com"), "jane@example.com");
        assert_eq!(ok("  Jane.Doe+pipes@Example.COM "), "Jane.Doe+pipes@example.com");
        assert_eq!(ok("o'brien@mail.example.org"), "o'brien@mail.example.org");
        assert_eq!(ok("josé@exämple.com"), "josé@exämple.com");
        assert_eq!(ok("a@b.co"), "a@b.co");
    }

    #[test]
    fn domain_is_the_lower_case_part_after_the_at() {
        let domain = Email::parse("Bob@MAILINATOR.com").map(|e| e.domain().to_owned());
        assert_eq!(domain, Ok("mailinator.com".into()));
    }

    #[test]
    fn invalid_addresses() {
        for input in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@localhost",
            "jane@@example.com",
            "jane..doe@example.com",
            "jane@example..com",
            "jane@-example.com",
            "jane doe@example.com",
            "\"jane  doe\"@example.com",
            "Jane <jane@example.com>",
            "jane@[192.0.2.1]",
            "jane@example.com\u{200B}",
            "jane\u{202E}@example.com",
            "jane@exa\u{0}mple.com",
            "jane@example.com; DROP TABLE leads",
        ] {
            assert_eq!(Email::parse(input), Err(EmailError::Invalid), "{input:?}");
        }
    }

    #[test]
    fn length_limit() {
        // 64-character local parts (the RFC maximum) and a long domain: exactly 254 is fine.
        let local = "a".repeat(64);
        let labels = format!("{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(57));
        let at_limit = format!("{local}@{labels}.com");
        assert_eq!(at_limit.chars().count(), 254);
        assert_eq!(ok(&at_limit), at_limit);
        let over = format!("{local}@{labels}x.com");
        assert_eq!(Email::parse(&over), Err(EmailError::TooLong));
        assert_eq!(Email::parse(&format!("{}@example.com", "a".repeat(300))), Err(EmailError::TooLong));
    }

    #[test]
    fn words() {
        assert_eq!(EmailError::Invalid.to_string(), "That email address doesn't look right — check for typos?");
        assert_eq!(EmailError::TooLong.to_string(), "That email address is too long — 254 characters at most.");
    }
}
