//! The homeowner's callback number, as E.164 (`+16125550123`). Parsing is libphonenumber's
//! (via `phonenumber`), with the US as the default region so "(612) 555-0123" works.
//!
//! The range 555-0100…555-0199 is reserved for fiction in every area code, so tests and demo
//! data use it (+1 612 555 0123). phonenumber accepts it in most US area codes, but not in a few
//! whose metadata lists only the exchanges assigned so far (274, 472, 523, 524 and 983 with
//! metadata 9.0.33) nor in American Samoa (684); there we accept it ourselves, see
//! [`fictional_region`].

use super::text;
use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber, Type};

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UsPhone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsPhoneError {
    #[error("Please tell us your phone number, so plumbers can call you back.")]
    Missing,
    #[error("That doesn't look like a US phone number — check the 10 digits?")]
    Invalid,
    #[error("Please leave out the extension — plumbers need a number that reaches you directly.")]
    Extension,
    #[error("Sorry, we can only take US phone numbers for now.")]
    NotUs,
    #[error("We can't accept premium-rate numbers — please give your mobile or home number.")]
    PremiumRate,
    #[error("Toll-free numbers often don't reach a person directly — please give your mobile or home number.")]
    TollFree,
}

/// The US and the territories that share its numbering plan and regulation.
const US_REGIONS: [Id; 6] = [Id::US, Id::PR, Id::GU, Id::VI, Id::AS, Id::MP];

/// NANP toll-free area codes. Refused even if the metadata should lag behind: a homeowner's
/// callback number has to reach the homeowner, and toll-free lines usually reach a switchboard.
const TOLL_FREE_AREA_CODES: [u64; 7] = [800, 833, 844, 855, 866, 877, 888];

/// NANP premium-rate area code; the caller pays per minute.
const PREMIUM_AREA_CODE: u64 = 900;

/// Longer input than this is not a phone number; refusing early keeps the parser's work bounded.
const MAX_INPUT_CHARS: usize = 40;

/// For a number phonenumber calls invalid: if it is NPA-555-0100…0199 and the area code NPA is
/// in use (phonenumber knows a valid number in it), the region of that area code. The search
/// runs only for numbers in the fictional range, and stops at the first valid exchange.
fn fictional_region(number: &PhoneNumber) -> Option<Id> {
    let national = number.national().value();
    let area_code = national / 10_000_000;
    if number.code().value() != 1
        || number.extension().is_some()
        || !(200..1_000).contains(&area_code)
        || !(5_550_100..=5_550_199).contains(&(national % 10_000_000))
    {
        return None;
    }
    (200..1_000).find_map(|exchange| {
        let probe = phonenumber::parse(Some(Id::US), format!("+1{area_code}{exchange}0100")).ok()?;
        if probe.is_valid() { probe.country().id() } else { None }
    })
}

impl UsPhone {
    pub fn parse(input: &str) -> Result<Self, UsPhoneError> {
        let s = text::single_line(input).map_err(|_| UsPhoneError::Invalid)?;
        if s.is_empty() {
            return Err(UsPhoneError::Missing);
        }
        if s.chars().count() > MAX_INPUT_CHARS {
            return Err(UsPhoneError::Invalid);
        }
        let number = phonenumber::parse(Some(Id::US), &s).map_err(|_| UsPhoneError::Invalid)?;
        let region = if number.is_valid() {
            number.country().id()
        } else {
            Some(fictional_region(&number).ok_or(UsPhoneError::Invalid)?)
        };
        if number.extension().is_some() {
            return Err(UsPhoneError::Extension);
        }
        if number.code().value() != 1 {
            return Err(UsPhoneError::NotUs);
        }
        // Checked before the region so the reason given is the real one, whichever NANP region
        // the metadata files these shared area codes under.
        let area_code = number.national().value() / 10_000_000;
        let kind = number.number_type(&phonenumber::metadata::DATABASE);
        if area_code == PREMIUM_AREA_CODE || kind == Type::PremiumRate {
            return Err(UsPhoneError::PremiumRate);
        }
        if TOLL_FREE_AREA_CODES.contains(&area_code) || kind == Type::TollFree {
            return Err(UsPhoneError::TollFree);
        }
        match region {
            Some(id) if US_REGIONS.contains(&id) => Ok(Self(number.format().mode(Mode::E164).to_string())),
            _ => Err(UsPhoneError::NotUs),
        }
    }

    /// `+16125550123`: what SMS providers and the database take.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// "(612) 555-0123": how a US number is read and dialled by people.
    pub fn national(&self) -> String {
        let d = self.0.trim_start_matches("+1");
        match (d.get(0..3), d.get(3..6), d.get(6..)) {
            (Some(a), Some(b), Some(c)) => format!("({a}) {b}-{c}"),
            _ => self.0.clone(),
        }
    }

    /// "(•••) •••-0123": enough for the homeowner to recognise their number on screen, and
    /// nothing for anyone looking over their shoulder.
    pub fn masked(&self) -> String {
        let last4 = self.0.get(self.0.len().saturating_sub(4)..).unwrap_or_default();
        format!("(•••) •••-{last4}")
    }
}

super::string_newtype!(UsPhone, UsPhoneError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_people_dial_it() {
        assert_eq!(UsPhone::parse("612 555 0123").map(|p| p.national()).ok(), Some("(612) 555-0123".to_owned()));
    }

    fn e164(s: &str) -> Result<String, UsPhoneError> {
        UsPhone::parse(s).map(String::from)
    }

    #[test]
    fn common_us_formats_give_e164() {
        for input in [
            "(612) 555-0123",
            "612.555.0123",
            "612-555-0123",
            "612 555 0123",
            "6125550123",
            "+1 612 555 0123",
            "+1 (612) 555-0123",
            "1-612-555-0123",
            "1 612 555 0123",
            "16125550123",
            "+16125550123",
            "  (612)555-0123 ",
            "tel:+1-612-555-0123",
        ] {
            assert_eq!(e164(input), Ok("+16125550123".into()), "{input:?}");
        }
    }

    #[test]
    fn the_fictional_555_01xx_range_is_valid() {
        // phonenumber (libphonenumber metadata) treats these as ordinary valid US numbers.
        for line in ["0100", "0123", "0199"] {
            for area in ["612", "212", "415", "312"] {
                let input = format!("({area}) 555-{line}");
                assert_eq!(e164(&input), Ok(format!("+1{area}555{line}")));
            }
        }
    }

    #[test]
    fn the_fictional_range_is_ours_where_the_metadata_lacks_it() {
        // Area codes where phonenumber itself refuses 555-01XX (metadata 9.0.33).
        for area in ["274", "472", "523", "524", "983", "684"] {
            for line in ["0100", "0150", "0199"] {
                let input = format!("({area}) 555-{line}");
                assert_eq!(e164(&input), Ok(format!("+1{area}555{line}")), "{input}");
            }
            // Only the fictional range: the rest of 555 stays as the metadata says.
            assert_eq!(e164(&format!("({area}) 555-0200")), Err(UsPhoneError::Invalid));
            assert_eq!(e164(&format!("({area}) 555-0099")), Err(UsPhoneError::Invalid));
        }
        // An area code not in use, or outside the US, gets no exception.
        assert_eq!(e164("(222) 555-0123"), Err(UsPhoneError::Invalid));
        assert_eq!(e164("(242) 555-0123"), Err(UsPhoneError::NotUs)); // Bahamas
        assert_eq!(e164("(416) 555-0123"), Err(UsPhoneError::NotUs)); // Toronto
        assert_eq!(e164("+44 555 0123"), Err(UsPhoneError::Invalid));
        // Round trip through E.164 takes the same path.
        let phone = UsPhone::parse("(472) 555-0123");
        let again = phone.as_ref().map(|p| UsPhone::parse(p.as_e164()));
        assert_eq!(again, Ok(phone.clone()));
    }

    #[test]
    fn us_territories_are_accepted() {
        for (input, out) in [
            ("+1 787 555 0123", "+17875550123"), // Puerto Rico
            ("+1 939 234 5678", "+19392345678"), // Puerto Rico
            ("+1 671 472 1234", "+16714721234"), // Guam
            ("+1 340 773 1234", "+13407731234"), // US Virgin Islands
            ("+1 684 633 1234", "+16846331234"), // American Samoa
            ("+1 670 234 5678", "+16702345678"), // Northern Mariana Islands
        ] {
            assert_eq!(e164(input), Ok(out.into()), "{input:?}");
        }
    }

    #[test]
    fn e164_round_trips() {
        let phone = UsPhone::parse("(612) 555-0123");
        let again = phone.as_ref().map(|p| UsPhone::parse(p.as_e164()));
        assert_eq!(again, Ok(phone.clone()));
    }

    #[test]
    fn invalid_numbers() {
        for input in [
            "123",
            "555-0123",
            "612 555 012",
            "612 555 01234",
            "(012) 555-0123",
            "(612) 055-0123",
            "+1 555 555 0123",
            "phone",
            "+",
            "612\u{0}5550123",
            "612\u{202E}5550123",
            "６１２５５５０１２３",
            &"6".repeat(41),
        ] {
            assert_eq!(e164(input), Err(UsPhoneError::Invalid), "{input:?}");
        }
        // An invalid number gets the digits message even with another country code: "+612 555
        // 0123" (the 1 forgotten) reads as Australia, but the fix is to check the digits.
        assert_eq!(e164("+612 555 0123"), Err(UsPhoneError::Invalid));
        assert_eq!(e164(""), Err(UsPhoneError::Missing));
        assert_eq!(e164("   "), Err(UsPhoneError::Missing));
    }

    #[test]
    fn outside_the_us() {
        for input in [
            "+44 20 7946 0958",  // London (a number reserved for drama)
            "+33 6 12 34 56 78", // French mobile
            "+52 55 1234 5678",
            "+1 416 555 0123", // Toronto: same +1, but Canada
            "+1 876 234 5678", // Jamaica
        ] {
            assert_eq!(e164(input), Err(UsPhoneError::NotUs), "{input:?}");
        }
    }

    #[test]
    fn premium_rate_and_toll_free() {
        assert_eq!(e164("+1 900 555 0123"), Err(UsPhoneError::PremiumRate));
        assert_eq!(e164("1-900-234-5678"), Err(UsPhoneError::PremiumRate));
        for area in ["800", "833", "844", "855", "866", "877", "888"] {
            let input = format!("1-{area}-234-5678");
            assert_eq!(e164(&input), Err(UsPhoneError::TollFree), "{input:?}");
        }
    }

    #[test]
    fn extensions_are_refused() {
        assert_eq!(e164("612-555-0123 ext. 12"), Err(UsPhoneError::Extension));
        assert_eq!(e164("+16125550123x5"), Err(UsPhoneError::Extension));
    }

    #[test]
    fn masked_shows_only_the_last_four() {
        let masked = UsPhone::parse("612.555.0123").map(|p| p.masked());
        assert_eq!(masked, Ok("(•••) •••-0123".into()));
    }

    #[test]
    fn serde_uses_the_e164_string_and_parses_on_the_way_in() {
        let phone = UsPhone::parse("612.555.0123").map(|p| serde_json::to_string(&p).ok());
        assert_eq!(phone, Ok(Some("\"+16125550123\"".into())));
        let back: Result<UsPhone, _> = serde_json::from_str("\"(612) 555-0123\"");
        assert_eq!(back.ok().map(String::from), Some("+16125550123".into()));
        assert!(serde_json::from_str::<UsPhone>("\"+1 900 555 0123\"").is_err());
    }

    #[test]
    fn words() {
        use UsPhoneError::*;
        let words = [
            (Missing, "Please tell us your phone number, so plumbers can call you back."),
            (Invalid, "That doesn't look like a US phone number — check the 10 digits?"),
            (Extension, "Please leave out the extension — plumbers need a number that reaches you directly."),
            (NotUs, "Sorry, we can only take US phone numbers for now."),
            (PremiumRate, "We can't accept premium-rate numbers — please give your mobile or home number."),
            (
                TollFree,
                "Toll-free numbers often don't reach a person directly — please give your mobile or home number.",
            ),
        ];
        for (err, msg) in words {
            assert_eq!(err.to_string(), msg);
        }
    }
}
