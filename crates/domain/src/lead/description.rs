//! What the job is, in the homeowner's words. Line breaks are kept (people list symptoms);
//! everything else follows the same text rules as the other fields.

use super::text;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("Tell us a little more — at least 10 characters, like 'kitchen sink drains slowly'.")]
    TooShort,
    #[error("That's a lot of detail — please keep it under 2,000 characters.")]
    TooLong,
    #[error("There's a hidden character in your description we can't use — could you type it again?")]
    Hidden,
}

impl Description {
    /// Enough for a plumber to know what to bring.
    pub const MIN_CHARS: usize = 10;
    /// Enough for any real job; more is usually a paste gone wrong.
    pub const MAX_CHARS: usize = 2_000;

    pub fn parse(input: &str) -> Result<Self, DescriptionError> {
        let s = text::multi_line(input).map_err(|_| DescriptionError::Hidden)?;
        match s.chars().count() {
            n if n < Self::MIN_CHARS => Err(DescriptionError::TooShort),
            n if n > Self::MAX_CHARS => Err(DescriptionError::TooLong),
            _ => Ok(Self(s)),
        }
    }
}

super::string_newtype!(Description, DescriptionError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_line_breaks_and_normalises_them() {
        let d = Description::parse("Kitchen sink:\r\n- drains slowly\r\n\r\n\r\n\r\n\r\n- smells\t bad ");
        assert_eq!(d.map(String::from), Ok("Kitchen sink:\n- drains slowly\n\n\n- smells  bad".into()));
    }

    #[test]
    fn limits_are_in_characters_after_normalisation() {
        // 10 characters but 20 bytes.
        assert!(Description::parse("ééééééééé é").is_ok());
        assert_eq!(Description::parse("ééééééééé"), Err(DescriptionError::TooShort));
        // Surrounding whitespace does not count towards the minimum.
        assert_eq!(Description::parse("   leaky    "), Err(DescriptionError::TooShort));
        // 2,000 three-byte characters (6,000 bytes) are fine; one more is not.
        assert!(Description::parse(&"水".repeat(2_000)).is_ok());
        assert_eq!(Description::parse(&"水".repeat(2_001)), Err(DescriptionError::TooLong));
        // Decomposed input is counted after NFC: 2,000 é from 4,000 code points.
        assert!(Description::parse(&"e\u{301}".repeat(2_000)).is_ok());
        // Collapsed blank lines do not count.
        let padded = format!("{}\n\n\n\n\n\n{}", "a".repeat(997), "b".repeat(1_000));
        assert_eq!(Description::parse(&padded).map(|d| d.as_str().len()), Ok(2_000));
    }

    #[test]
    fn refusals_and_their_words() {
        assert_eq!(Description::parse(""), Err(DescriptionError::TooShort));
        assert_eq!(Description::parse("Sink leaks\u{200B} under the cabinet"), Err(DescriptionError::Hidden));
        assert_eq!(
            DescriptionError::TooShort.to_string(),
            "Tell us a little more — at least 10 characters, like 'kitchen sink drains slowly'."
        );
        assert_eq!(
            DescriptionError::TooLong.to_string(),
            "That's a lot of detail — please keep it under 2,000 characters."
        );
        assert_eq!(
            DescriptionError::Hidden.to_string(),
            "There's a hidden character in your description we can't use — could you type it again?"
        );
    }
}
