//! `LeadDraft::parse` end to end: what a homeowner's form or a partner's JSON turns into.

use domain::Urgency;
use domain::lead::{ContactPreference, FIELDS, FieldError, LeadDraft, LeadInput};

fn valid() -> LeadInput {
    LeadInput {
        name: "José O'Brien".into(),
        phone: "(612) 555-0123".into(),
        email: Some("Jose@Example.COM".into()),
        zip: "55401".into(),
        category: "drain-cleaning".into(),
        urgency: "within_48h".into(),
        description: "Kitchen sink drains slowly.\r\nStarted last week.".into(),
        contact_preference: None,
        consent: true,
    }
}

fn errors(input: &LeadInput) -> Vec<(&'static str, String)> {
    match LeadDraft::parse(input) {
        Ok(draft) => panic!("expected errors, got {draft:?}"),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

fn fields(input: &LeadInput) -> Vec<&'static str> {
    errors(input).into_iter().map(|(f, _)| f).collect()
}

#[test]
fn a_good_request_parses_and_normalises() {
    let draft = LeadDraft::parse(&valid()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(draft.name.as_str(), "José O'Brien");
    assert_eq!(draft.phone.as_e164(), "+16125550123");
    assert_eq!(draft.phone.masked(), "(•••) •••-0123");
    assert_eq!(draft.email.as_ref().map(|e| e.as_str()), Some("Jose@example.com"));
    assert_eq!(draft.email.as_ref().map(|e| e.domain()), Some("example.com"));
    assert_eq!(draft.zip.as_str(), "55401");
    assert_eq!(draft.category.as_str(), "drain-cleaning");
    assert_eq!(draft.urgency, Urgency::Within48h);
    assert_eq!(draft.description.as_str(), "Kitchen sink drains slowly.\nStarted last week.");
    assert_eq!(draft.contact_preference, ContactPreference::Phone);
}

#[test]
fn an_empty_request_gets_every_message_at_once() {
    let got = errors(&LeadInput::default());
    let want: Vec<(&str, &str)> = vec![
        ("name", "Please tell us your name."),
        ("phone", "Please tell us your phone number, so plumbers can call you back."),
        ("zip", "A ZIP code is 5 digits, like 55401."),
        ("category", "Please choose the kind of job."),
        ("urgency", "Please tell us how soon you need a plumber."),
        ("description", "Tell us a little more — at least 10 characters, like 'kitchen sink drains slowly'."),
        ("consent", "Please tick the box so plumbers may contact you about this job."),
    ];
    let got: Vec<(&str, &str)> = got.iter().map(|(f, m)| (*f, m.as_str())).collect();
    assert_eq!(got, want);
}

#[test]
fn every_field_can_fail_at_once_in_form_order() {
    let input = LeadInput {
        name: "1234".into(),
        phone: "+44 20 7946 0958".into(),
        email: Some("jane@".into()),
        zip: "5540".into(),
        category: "Drain Cleaning!".into(),
        urgency: "whenever".into(),
        description: "leak".into(),
        contact_preference: Some("fax".into()),
        consent: false,
    };
    assert_eq!(fields(&input), FIELDS.to_vec());
    let messages: Vec<String> = errors(&input).into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        messages,
        [
            "Please tell us your name — it needs at least one letter.",
            "Sorry, we can only take US phone numbers for now.",
            "That email address doesn't look right — check for typos?",
            "A ZIP code is 5 digits, like 55401.",
            "Please choose one of the listed jobs.",
            "Please tell us how soon you need a plumber.",
            "Tell us a little more — at least 10 characters, like 'kitchen sink drains slowly'.",
            "Please choose how plumbers should contact you: phone, text or email.",
            "Please tick the box so plumbers may contact you about this job.",
        ]
    );
}

#[test]
fn email_is_optional_and_blank_means_none() {
    for email in [None, Some(""), Some("   ")] {
        let input = LeadInput { email: email.map(String::from), ..valid() };
        let draft = LeadDraft::parse(&input).unwrap_or_else(|e| panic!("{email:?}: {e:?}"));
        assert_eq!(draft.email, None);
    }
}

#[test]
fn contact_by_email_needs_an_email() {
    let input = LeadInput { email: None, contact_preference: Some("email".into()), ..valid() };
    assert_eq!(errors(&input), [("contact_preference", "Add your email address, or choose phone or text.".to_owned())]);
    // A wrong address gets the email message only, not a second one.
    let input = LeadInput { email: Some("jane@example".into()), contact_preference: Some("email".into()), ..valid() };
    assert_eq!(fields(&input), ["email"]);
    let input = LeadInput { contact_preference: Some("email".into()), ..valid() };
    let draft = LeadDraft::parse(&input).map(|d| d.contact_preference);
    assert_eq!(draft, Ok(ContactPreference::Email));
    let input = LeadInput { email: None, contact_preference: Some("text".into()), ..valid() };
    let draft = LeadDraft::parse(&input).map(|d| d.contact_preference);
    assert_eq!(draft, Ok(ContactPreference::Sms));
}

#[test]
fn hidden_characters_are_refused_in_the_field_they_are_in() {
    type Set = fn(&mut LeadInput, &str);
    let cases: [(&str, Set); 5] = [
        ("name", |i, c| i.name = format!("Bob{c}by")),
        ("phone", |i, c| i.phone = format!("612555{c}0123")),
        ("email", |i, c| i.email = Some(format!("bob{c}@example.com"))),
        ("category", |i, c| i.category = format!("drain{c}-cleaning")),
        ("description", |i, c| i.description = format!("Sink drains {c}slowly")),
    ];
    for hidden in [
        "\u{0}", "\u{7}", "\u{1B}", "\u{7F}", "\u{202E}", "\u{202A}", "\u{2066}", "\u{2069}", "\u{200B}", "\u{200C}",
        "\u{200D}", "\u{2060}", "\u{FEFF}",
    ] {
        for (field, set) in cases {
            let mut input = valid();
            set(&mut input, hidden);
            assert_eq!(fields(&input), [field], "{hidden:?} in {field}");
        }
    }
    let mut input = valid();
    input.name = "Bob\u{202E}kcab".into();
    input.description = "Sink\u{200B} drains slowly".into();
    assert_eq!(
        errors(&input),
        [
            ("name", "There's a hidden character in your name we can't use — could you type it again?".to_owned()),
            (
                "description",
                "There's a hidden character in your description we can't use — could you type it again?".to_owned()
            ),
        ]
    );
}

#[test]
fn nfc_normalisation_applies_to_text_fields() {
    let input =
        LeadInput { name: "Jose\u{301}".into(), description: "Cafe\u{301} sink drains slowly".into(), ..valid() };
    let draft = LeadDraft::parse(&input).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(draft.name.as_str(), "José");
    assert_eq!(draft.name.as_str(), "Jos\u{E9}");
    assert_eq!(draft.description.as_str(), "Caf\u{E9} sink drains slowly");
}

#[test]
fn metacharacters_are_stored_verbatim() {
    let input = LeadInput {
        name: "Robert'); DROP TABLE leads;--".into(),
        description: "<script>alert('x')</script> && sink leaks; rm -rf /".into(),
        ..valid()
    };
    let draft = LeadDraft::parse(&input).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(draft.name.as_str(), "Robert'); DROP TABLE leads;--");
    assert_eq!(draft.description.as_str(), "<script>alert('x')</script> && sink leaks; rm -rf /");
}

#[test]
fn json_bodies_map_straight_onto_the_input() {
    let body = r#"{
        "name": "Jane Doe",
        "phone": "612.555.0123",
        "zip": "55401-1234",
        "category": "clogged-toilet",
        "urgency": "EMERGENCY",
        "description": "Toilet overflowing, water on the floor",
        "consent": true,
        "utm_source": "ignored"
    }"#;
    let input: LeadInput = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input.email, None);
    assert_eq!(input.contact_preference, None);
    let draft = LeadDraft::parse(&input).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(draft.urgency, Urgency::Emergency);
    assert_eq!(draft.zip.as_str(), "55401");

    // Missing and null fields become empty ones, so the answer is per-field messages.
    let input: LeadInput = serde_json::from_str(r#"{"name": null, "email": null}"#).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input, LeadInput::default());

    // What an HTML checkbox sends.
    for (consent, want) in [
        (r#""on""#, true),
        (r#""true""#, true),
        ("1", true),
        ("true", true),
        ("false", false),
        (r#""""#, false),
        (r#""off""#, false),
        ("null", false),
        ("0", false),
    ] {
        let input: LeadInput =
            serde_json::from_str(&format!(r#"{{"consent": {consent}}}"#)).unwrap_or_else(|e| panic!("{consent}: {e}"));
        assert_eq!(input.consent, want, "{consent}");
    }
}

#[test]
fn drafts_serialise_as_plain_strings_and_parse_on_the_way_back() {
    let draft = LeadDraft::parse(&valid()).unwrap_or_else(|e| panic!("{e:?}"));
    let json = serde_json::to_value(&draft).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        json,
        serde_json::json!({
            "name": "José O'Brien",
            "phone": "+16125550123",
            "email": "Jose@example.com",
            "zip": "55401",
            "category": "drain-cleaning",
            "urgency": "within_48h",
            "description": "Kitchen sink drains slowly.\nStarted last week.",
            "contact_preference": "phone",
        })
    );
    let back: LeadDraft = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, draft);

    // Field errors serialise as the problem document's `errors` items.
    let error = FieldError { field: "zip", message: "A ZIP code is 5 digits, like 55401.".into() };
    assert_eq!(
        serde_json::to_value(&error).ok(),
        Some(serde_json::json!({"field": "zip", "message": "A ZIP code is 5 digits, like 55401."}))
    );
}

#[test]
fn consent_constants() {
    assert_eq!(domain::lead::CONSENT_TEXT_VERSION, "2026-11-25");
    assert!(domain::lead::CONSENT_TEXT.contains("reply STOP"));
}
