//! Properties of lead parsing over arbitrary input: nothing panics, phones round-trip, and
//! normalised text never carries a forbidden character.

use domain::Urgency;
use domain::lead::text::{is_forbidden, multi_line, single_line};
use domain::lead::{CategorySlug, ContactPreference, Description, Email, LeadDraft, LeadInput, PersonName, UsPhone};
use proptest::prelude::*;

/// Arbitrary text, weighted towards the characters the rules are about.
fn text() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '\0',
        '\t',
        '\n',
        '\r',
        '\u{B}',
        '\u{C}',
        '\u{1F}',
        '\u{7F}',
        '\u{85}',
        '\u{9F}',
        ' ',
        '\u{A0}',
        '\u{2000}',
        '\u{2028}',
        '\u{2029}',
        '\u{3000}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{202A}',
        '\u{202E}',
        '\u{2066}',
        '\u{2069}',
        '\u{301}',
        '\u{308}',
        '\u{327}',
        'e',
        'E',
        'é',
        'A',
        '李',
        '1',
        '5',
        '+',
        '-',
        '(',
        ')',
        '@',
        '.',
        '\'',
        '<',
        '"',
        '_',
        'x',
        '\u{FF15}',
        '\u{10FFFF}',
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(tricky, 0..40).prop_map(|v| v.into_iter().collect()),
        "[ -~]{0,30}",
    ]
}

/// Area codes in service in the US (a sample from several states).
const REAL_AREA_CODES: [u32; 10] = [212, 312, 415, 612, 651, 718, 303, 206, 617, 713];

/// Characters a pasted name or description may hold that are not hidden ones.
const ALLOWED: [char; 16] = [
    'a', 'Z', 'é', '李', '\u{301}', '\u{308}', ' ', '\t', '\n', '\r', '\u{A0}', '\u{2000}', '\u{3000}', '\u{2028}',
    '\u{85}', '.',
];

/// A US number written one of the six usual ways.
fn written(style: usize, area: u32, exchange: u32, line: u32) -> String {
    match style {
        0 => format!("({area}) {exchange}-{line:04}"),
        1 => format!("{area}.{exchange}.{line:04}"),
        2 => format!("+1 {area} {exchange} {line:04}"),
        3 => format!("1-{area}-{exchange}-{line:04}"),
        4 => format!("{area}{exchange}{line:04}"),
        _ => format!("+1{area}{exchange}{line:04}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics(s in text()) {
        let _ = PersonName::parse(&s);
        let _ = UsPhone::parse(&s);
        let _ = Email::parse(&s);
        let _ = domain::Zip::parse(&s);
        let _ = CategorySlug::parse(&s);
        let _ = Urgency::parse(&s);
        let _ = Description::parse(&s);
        let _ = ContactPreference::parse(&s);
    }

    #[test]
    fn lead_parsing_never_panics(
        name in text(), phone in text(), email in proptest::option::of(text()), zip in text(),
        category in text(), urgency in text(), description in text(),
        contact_preference in proptest::option::of(text()), consent in any::<bool>(),
    ) {
        let input = LeadInput {
            name, phone, email, zip, category, urgency, description, contact_preference, consent,
        };
        if let Err(errors) = LeadDraft::parse(&input) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| !e.message.is_empty()));
        }
    }

    #[test]
    fn normalised_text_has_no_forbidden_characters_and_is_nfc(s in text()) {
        use unicode_normalization::is_nfc;
        if let Ok(out) = single_line(&s) {
            prop_assert!(!out.chars().any(is_forbidden), "{out:?}");
            prop_assert!(!out.contains("  ") && out.trim() == out, "{out:?}");
            prop_assert!(is_nfc(&out), "{out:?}");
        }
        if let Ok(out) = multi_line(&s) {
            prop_assert!(!out.chars().any(|c| is_forbidden(c) && c != '\n'), "{out:?}");
            prop_assert!(!out.contains('\r') && !out.contains('\t'), "{out:?}");
            prop_assert!(!out.contains("\n\n\n\n") && out.trim() == out, "{out:?}");
            prop_assert!(is_nfc(&out), "{out:?}");
        }
        // What the parsed types hold obeys the same rules.
        if let Ok(name) = PersonName::parse(&s) {
            prop_assert!(!name.as_str().chars().any(is_forbidden));
        }
        if let Ok(description) = Description::parse(&s) {
            prop_assert!(!description.as_str().chars().any(|c| is_forbidden(c) && c != '\n'));
        }
    }

    #[test]
    fn a_parsed_phone_reparses_from_e164_to_the_same_value(
        area in 200_u32..1000, exchange in 200_u32..1000, line in 0_u32..10_000,
        style in 0_usize..6,
    ) {
        let input = written(style, area, exchange, line);
        if let Ok(phone) = UsPhone::parse(&input) {
            prop_assert_eq!(phone.as_e164(), format!("+1{area}{exchange}{line:04}"));
            prop_assert_eq!(UsPhone::parse(phone.as_e164()), Ok(phone.clone()));
            let last4 = format!("-{line:04}");
            prop_assert!(phone.masked().ends_with(&last4));
        }
    }

    /// The property above only speaks of numbers that parse; this one says which must: any
    /// ordinary number in real US area codes, written any of the usual ways.
    #[test]
    fn ordinary_numbers_in_real_area_codes_parse_however_they_are_written(
        area in prop::sample::select(REAL_AREA_CODES.to_vec()), exchange in 200_u32..1000,
        line in 0_u32..10_000, style in 0_usize..6,
    ) {
        prop_assume!(exchange % 100 != 11 && exchange != 555 && exchange != 950 && exchange != 958 && exchange != 959 && exchange != 976);
        let input = written(style, area, exchange, line);
        let phone = UsPhone::parse(&input);
        prop_assert!(phone.is_ok(), "{input}: {phone:?}");
    }

    /// Text made of what people really paste — letters, accents as combining marks, every kind
    /// of space and line break — always normalises, and what comes out keeps the rules the
    /// `if let Ok` properties above check (which would pass vacuously if nothing ever parsed).
    #[test]
    fn pasted_text_without_hidden_characters_always_normalises_by_the_rules(
        s in prop::collection::vec(prop::sample::select(ALLOWED.to_vec()), 1..60)
            .prop_map(|v| v.into_iter().collect::<String>()),
    ) {
        use unicode_normalization::is_nfc;
        let one = single_line(&s);
        prop_assert!(one.is_ok(), "{s:?}: {one:?}");
        let one = one.unwrap_or_default();
        prop_assert!(!one.chars().any(is_forbidden) && !one.contains("  ") && one.trim() == one, "{one:?}");
        prop_assert!(is_nfc(&one), "{one:?}");
        let many = multi_line(&s);
        prop_assert!(many.is_ok(), "{s:?}: {many:?}");
        let many = many.unwrap_or_default();
        prop_assert!(!many.contains('\r') && !many.contains('\t') && !many.contains("\n\n\n\n"), "{many:?}");
        prop_assert!(many.trim() == many && is_nfc(&many), "{many:?}");
    }

    /// A lead a person would really send parses, whatever its wording.
    #[test]
    fn a_well_formed_lead_always_parses(
        first in "[A-Z][a-z]{1,12}", last in "[A-Z][a-z]{1,12}",
        area in prop::sample::select(REAL_AREA_CODES.to_vec()), line in 0_u32..10_000,
        zip in "[0-9]{5}", urgency in prop::sample::select(vec!["emergency", "within_48h", "flexible"]),
        words in prop::collection::vec("[a-z]{3,9}", 3..30), email in proptest::option::of("[a-z]{1,10}@[a-z]{2,10}\\.com"),
    ) {
        let input = LeadInput {
            name: format!(" {first}\u{A0}{last} "),
            phone: format!("({area}) 234-{line:04}"),
            email,
            zip,
            category: "drain-cleaning".into(),
            urgency: urgency.into(),
            description: words.join(" "),
            contact_preference: None,
            consent: true,
        };
        let draft = LeadDraft::parse(&input);
        prop_assert!(draft.is_ok(), "{input:?}: {:?}", draft.err());
    }

    #[test]
    fn the_fictional_555_01xx_range_is_all_or_nothing_per_area_code(
        area in 200_u32..1000, a in 100_u32..200, b in 100_u32..200,
    ) {
        let first = UsPhone::parse(&format!("({area}) 555-{a:04}"));
        let second = UsPhone::parse(&format!("({area}) 555-{b:04}"));
        prop_assert_eq!(first.is_ok(), second.is_ok(), "{} {} {}", area, a, b);
        prop_assert_eq!(first.err(), second.err());
    }
}
