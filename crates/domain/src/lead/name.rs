//! The homeowner's name, as they write it: any script, any punctuation. Escaping is the
//! renderer's job, so `<b>Bob</b>` or `O'Brien` are stored exactly as typed.

use super::text;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("Please tell us your name.")]
    Missing,
    #[error("That name is too long — 100 characters at most.")]
    TooLong,
    #[error("Please tell us your name — it needs at least one letter.")]
    NoLetter,
    #[error("There's a hidden character in your name we can't use — could you type it again?")]
    Hidden,
}

impl PersonName {
    /// Counted in characters, not bytes, so 李小龙 is 3.
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, PersonNameError> {
        let s = text::single_line(input).map_err(|_| PersonNameError::Hidden)?;
        match s.chars().count() {
            0 => Err(PersonNameError::Missing),
            n if n > Self::MAX_CHARS => Err(PersonNameError::TooLong),
            _ if !s.chars().any(char::is_alphabetic) => Err(PersonNameError::NoLetter),
            _ => Ok(Self(s)),
        }
    }
}

super::string_newtype!(PersonName, PersonNameError);

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        PersonName::parse(s).map(String::from).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn any_script_and_punctuation_is_kept_verbatim() {
        for name in [
            "José Álvarez",
            "李小龙",
            "O'Brien-Smith",
            "Zoë",
            "Мария",
            "محمد",
            "Robert'); DROP TABLE leads;--",
            "<b>Bob</b>",
            "<script>alert(1)</script>",
            "A",
            "J. R. R. Tolkien",
        ] {
            assert_eq!(ok(name), name);
        }
    }

    #[test]
    fn normalises_whitespace_and_composition() {
        assert_eq!(ok("  Jane   Doe \n"), "Jane Doe");
        let composed = ok("Jose\u{301}");
        assert_eq!(composed, "José");
        assert_eq!(composed.chars().count(), 4);
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(ok(&"é".repeat(100)).chars().count(), 100);
        assert_eq!(ok(&"李".repeat(100)).chars().count(), 100);
        assert_eq!(PersonName::parse(&"é".repeat(101)), Err(PersonNameError::TooLong));
        // 100 é spelled decomposed is 200 code points in, 100 characters after NFC.
        assert_eq!(ok(&"e\u{301}".repeat(100)).chars().count(), 100);
    }

    #[test]
    fn refusals_and_their_words() {
        let cases = [
            ("", PersonNameError::Missing, "Please tell us your name."),
            (" \t ", PersonNameError::Missing, "Please tell us your name."),
            ("12345", PersonNameError::NoLetter, "Please tell us your name — it needs at least one letter."),
            (
                "Bob\u{202E}",
                PersonNameError::Hidden,
                "There's a hidden character in your name we can't use — could you type it again?",
            ),
        ];
        for (input, err, msg) in cases {
            assert_eq!(PersonName::parse(input), Err(err), "{input:?}");
            assert_eq!(err.to_string(), msg);
        }
        assert_eq!(PersonNameError::TooLong.to_string(), "That name is too long — 100 characters at most.");
    }
}
