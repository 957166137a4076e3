//! A new password, checked the way NIST SP 800-63B and OWASP ASVS 2.1 ask: at least 12
//! characters, up to 256 taken (nothing is ever cut off), any characters people can type (spaces
//! and emoji too), no composition rules, and refused when it is common or easy to guess. "Common"
//! is zxcvbn's bundled list of the most used passwords and words; "easy to guess" is its score
//! below 3 of 4, counting the account's own name, e-mail and business as known to an attacker.
//! The message says why in plain words.

use crate::lead::text;
use unicode_normalization::UnicodeNormalization;

/// Never printed: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Please choose a password.")]
    Missing,
    #[error("Use at least 12 characters — a few unrelated words together work well.")]
    TooShort,
    #[error("That password is too long — 256 characters at most.")]
    TooLong,
    #[error("There's a hidden character in that password we can't use — could you type it again?")]
    Hidden,
    /// The reason, in plain words.
    #[error("{0}")]
    Guessable(String),
}

/// Strength estimation looks at this many characters at most: beyond it a password that passed
/// so far is not made weaker, and zxcvbn's work grows quickly with length.
const SCORED_CHARS: usize = 100;
/// zxcvbn's score (0–4) a password must reach: "safely unguessable" (≥ 10^8 guesses).
const MIN_SCORE: u8 = 3;
/// Words about us that an attacker would try first.
const SITE_WORDS: [&str; 4] = ["plumberleads", "plumber", "plumbing", "leads"];

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    /// A password being set. `known` are the account's own details (e-mail, names), which an
    /// attacker would try first.
    pub fn parse_new(input: &str, known: &[&str]) -> Result<Self, PasswordError> {
        let pw = Self::normalise(input)?;
        let chars = pw.chars().count();
        if chars == 0 {
            return Err(PasswordError::Missing);
        }
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let scored: String = pw.chars().take(SCORED_CHARS).collect();
        let mut inputs: Vec<&str> = SITE_WORDS.to_vec();
        // zxcvbn matches whole inputs; the parts of an address or name are guesses too.
        let parts: Vec<&str> =
            known.iter().flat_map(|k| k.split(|c: char| !c.is_alphanumeric())).filter(|p| p.len() >= 3).collect();
        // …and so are the whole of them run together ("Acme Plumbing" → "acmeplumbing").
        let joined: Vec<String> = known
            .iter()
            .map(|k| k.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
            .collect();
        inputs.extend(known.iter().copied());
        inputs.extend(parts);
        inputs.extend(joined.iter().map(String::as_str));
        let estimate = zxcvbn::zxcvbn(&scored, &inputs);
        if u8::from(estimate.score()) < MIN_SCORE {
            let lower = scored.to_lowercase();
            let uses_known = inputs.iter().any(|k| k.len() >= 4 && lower.contains(&k.to_lowercase()));
            return Err(PasswordError::Guessable(explain(&estimate, uses_known)));
        }
        Ok(Self(pw))
    }

    /// A password being presented at login: only normalised, never judged (old rules may
    /// have let it in, and judging would tell an attacker something).
    pub fn presented(input: &str) -> Self {
        Self(input.nfc().collect())
    }

    fn normalise(input: &str) -> Result<String, PasswordError> {
        // NFC so the same password typed on two keyboards is the same bytes. No trimming:
        // spaces are part of it.
        let pw: String = input.nfc().collect();
        if pw.chars().any(|c| text::is_forbidden(c) && c != ' ') {
            return Err(PasswordError::Hidden);
        }
        Ok(pw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn explain(estimate: &zxcvbn::Entropy, uses_known: bool) -> String {
    use zxcvbn::feedback::Warning;
    let why = match estimate.feedback().and_then(|f| f.warning()) {
        Some(Warning::ThisIsATop10Password | Warning::ThisIsATop100Password | Warning::ThisIsACommonPassword) => {
            "That is one of the most common passwords, so it is among the first an attacker tries."
        }
        Some(Warning::ThisIsSimilarToACommonlyUsedPassword) => {
            "That is too close to a very common password, so it is among the first an attacker tries."
        }
        Some(
            Warning::AWordByItselfIsEasyToGuess
            | Warning::NamesAndSurnamesByThemselvesAreEasyToGuess
            | Warning::CommonNamesAndSurnamesAreEasyToGuess,
        ) => "A single word or name is easy to guess, even with a few changes.",
        Some(Warning::RepeatsLikeAaaAreEasyToGuess | Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => {
            "Repeated letters or words are easy to guess."
        }
        Some(
            Warning::SequencesLikeAbcAreEasyToGuess
            | Warning::StraightRowsOfKeysAreEasyToGuess
            | Warning::ShortKeyboardPatternsAreEasyToGuess,
        ) => "Sequences like abc or 1234 and rows of keys are easy to guess.",
        Some(Warning::RecentYearsAreEasyToGuess | Warning::DatesAreOftenEasyToGuess) => {
            "Years and dates are easy to guess."
        }
        _ if uses_known => "It is built from your name, e-mail or business name, which an attacker would try first.",
        _ => "That password would be too easy to guess.",
    };
    format!("{why} Try a few unrelated words together.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(pw: &str) -> PasswordError {
        match Password::parse_new(pw, &["jane@example.com", "Jane Doe", "Acme Plumbing"]) {
            Ok(_) => panic!("{pw:?} was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn long_unguessable_passwords_of_any_characters_are_accepted_whole() {
        for pw in [
            "correct horse battery staple",
            "tangerine voltage marmot 42",
            "   spaces  count   as well  ",
            "ünïcödé-päßwörd-wörks-fine",
            "🔧💧 wrench drip bucket gasket",
            &long_random(),
        ] {
            let p = Password::parse_new(pw, &[]).unwrap_or_else(|e| panic!("{pw:?}: {e}"));
            // Nothing is trimmed or cut off.
            assert_eq!(p.expose(), pw.nfc().collect::<String>());
        }
    }

    /// 256 characters with no pattern zxcvbn knows.
    fn long_random() -> String {
        let alphabet: Vec<char> =
            "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*+-=?@".chars().collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..256)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn length_limits_count_characters() {
        assert_eq!(err(""), PasswordError::Missing);
        assert_eq!(err("x7#Rq2!vL9z"), PasswordError::TooShort);
        assert_eq!(err(&"é".repeat(11)), PasswordError::TooShort);
        assert_eq!(err(&"Zq7!".repeat(64).add_char('x')), PasswordError::TooLong);
        assert_eq!(
            PasswordError::TooShort.to_string(),
            "Use at least 12 characters — a few unrelated words together work well."
        );
    }

    trait AddChar {
        fn add_char(&self, c: char) -> String;
    }
    impl AddChar for String {
        fn add_char(&self, c: char) -> String {
            format!("{self}{c}")
        }
    }

    #[test]
    fn common_and_guessable_passwords_are_refused_with_the_reason() {
        let common = err("password1234");
        assert!(common.to_string().contains("most common passwords"), "{common}");
        assert!(matches!(err("qwertyuiopasdf"), PasswordError::Guessable(_)));
        assert!(matches!(err("aaaaaaaaaaaaaaaa"), PasswordError::Guessable(_)));
        let own = err("acmeplumbing2024");
        assert!(matches!(own, PasswordError::Guessable(_)), "{own}");
        let site = err("plumberleads123");
        assert!(matches!(site, PasswordError::Guessable(_)), "{site}");
        assert!(common.to_string().ends_with("Try a few unrelated words together."));
    }

    #[test]
    fn control_characters_are_refused_but_presented_passwords_are_never_judged() {
        assert_eq!(err("correct horse\u{0}battery"), PasswordError::Hidden);
        assert_eq!(err("correct horse\u{202E}battery"), PasswordError::Hidden);
        assert_eq!(Password::presented("short").expose(), "short");
        assert_eq!(format!("{:?}", Password::presented("secret")), "Password(..)");
    }
}
