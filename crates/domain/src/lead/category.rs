//! Which kind of job: a category slug like `drain-cleaning`. Whether it is one we offer is
//! checked against the database elsewhere; here only its shape.

use super::text;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategorySlug(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CategorySlugError {
    #[error("Please choose the kind of job.")]
    Missing,
    #[error("Please choose one of the listed jobs.")]
    NotListed,
}

impl CategorySlug {
    pub const MAX_CHARS: usize = 64;

    /// `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 64 characters. Upper-case ASCII is lowered first, so a
    /// partner's "Drain-Cleaning" still finds its category.
    pub fn parse(input: &str) -> Result<Self, CategorySlugError> {
        let s = text::single_line(input).map_err(|_| CategorySlugError::NotListed)?.to_ascii_lowercase();
        if s.is_empty() {
            return Err(CategorySlugError::Missing);
        }
        let well_formed = s.len() <= Self::MAX_CHARS
            && s.split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if well_formed { Ok(Self(s)) } else { Err(CategorySlugError::NotListed) }
    }
}

super::string_newtype!(CategorySlug, CategorySlugError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for (input, out) in [
            ("drain-cleaning", "drain-cleaning"),
            (" water-heater-install ", "water-heater-install"),
            ("Sump-Pump", "sump-pump"),
            ("repiping", "repiping"),
            ("a1-2b", "a1-2b"),
        ] {
            assert_eq!(CategorySlug::parse(input).map(String::from), Ok(out.into()), "{input:?}");
        }
        assert!(CategorySlug::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn refusals_and_their_words() {
        assert_eq!(CategorySlug::parse(""), Err(CategorySlugError::Missing));
        assert_eq!(CategorySlug::parse("  "), Err(CategorySlugError::Missing));
        for input in [
            "-drain",
            "drain-",
            "drain--cleaning",
            "drain cleaning",
            "drain_cleaning",
            "drain/cleaning",
            "dräin",
            "drain\u{200B}",
            "'; DROP TABLE categories;--",
            &"a".repeat(65),
        ] {
            assert_eq!(CategorySlug::parse(input), Err(CategorySlugError::NotListed), "{input:?}");
        }
        assert_eq!(CategorySlugError::Missing.to_string(), "Please choose the kind of job.");
        assert_eq!(CategorySlugError::NotListed.to_string(), "Please choose one of the listed jobs.");
    }
}
