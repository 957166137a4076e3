//! A homeowner's plumbing request, parsed from what the form or API sent ("parse, don't
//! validate"): [`LeadInput`] holds the raw strings, [`LeadDraft::parse`] turns them into typed
//! fields or a list of every problem at once, each in words the homeowner can act on.

mod category;
mod consent;
mod contact;
mod description;
mod email;
mod name;
mod phone;
mod status;
pub mod text;
mod urgency;

pub use category::{CategorySlug, CategorySlugError};
pub use consent::{CONSENT_TEXT, CONSENT_TEXT_VERSION, ConsentError, require_consent};
pub use contact::{ContactPreference, ContactPreferenceError};
pub use description::{Description, DescriptionError};
pub use email::{Email, EmailError};
pub use name::{PersonName, PersonNameError};
pub use phone::{UsPhone, UsPhoneError};
pub use status::{LeadEvent, LeadStatus};
pub use urgency::UrgencyError;

use crate::{Urgency, Zip};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt::Display;

/// The usual impls of a string newtype whose only constructor is `parse`: serde goes through
/// `parse` on the way in and the string on the way out.
macro_rules! string_newtype {
    ($ty:ident, $err:ty) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, $err> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
    };
}
use string_newtype;

/// The request as received. Every field has a default, so a JSON body or form with fields left
/// out still parses into this and [`LeadDraft::parse`] can say what is missing, field by field.
///
/// The `schema` attributes describe, for the API document, what a *valid* request looks like
/// (anything else is answered 422 with every field's problem).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LeadInput {
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 100, example = "Dana Whitfield"))]
    pub name: String,
    /// A US number, any common way of writing it.
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 40, example = "(612) 555-0142"))]
    pub phone: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email, example = "dana@example.com"))]
    pub email: Option<String>,
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(feature = "openapi", schema(required = true, pattern = "^[0-9]{5}$", example = "55401"))]
    pub zip: String,
    /// A `slug` from `GET /api/v1/categories`.
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 64, example = "drain-cleaning"))]
    pub category: String,
    /// `emergency`, `within_48h` or `flexible`.
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(feature = "openapi", schema(required = true, example = "within_48h"))]
    pub urgency: String,
    #[serde(deserialize_with = "string_or_null")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            min_length = 10,
            max_length = 2000,
            example = "Kitchen sink drains slowly, worse since Monday."
        )
    )]
    pub description: String,
    /// `phone` (the default), `sms` or `email` (then `email` is needed).
    #[cfg_attr(feature = "openapi", schema(example = "phone"))]
    pub contact_preference: Option<String>,
    /// The homeowner agrees to be contacted about this request (must be `true`).
    #[serde(deserialize_with = "checkbox")]
    #[cfg_attr(feature = "openapi", schema(required = true, example = true))]
    pub consent: bool,
}

/// A request whose every field is well-formed. Whether the ZIP and category exist, and whether
/// the request is a duplicate or spam, is decided elsewhere, with the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadDraft {
    pub name: PersonName,
    pub phone: UsPhone,
    pub email: Option<Email>,
    pub zip: Zip,
    pub category: CategorySlug,
    pub urgency: Urgency,
    pub description: Description,
    pub contact_preference: ContactPreference,
}

/// One problem with one field, for `errors: [{"field", "message"}]` in a 422 problem and for
/// showing next to the field on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The field names [`FieldError::field`] uses, in form order.
pub const FIELDS: [&str; 9] =
    ["name", "phone", "email", "zip", "category", "urgency", "description", "contact_preference", "consent"];

impl LeadDraft {
    /// Every field is checked, so the homeowner sees all problems at once, in form order.
    pub fn parse(input: &LeadInput) -> Result<LeadDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut check = |field: &'static str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push(FieldError { field, message });
            }
        };
        let mut name = None;
        let mut phone = None;
        let mut email = None;
        let mut zip = None;
        let mut category = None;
        let mut urgency = None;
        let mut description = None;
        let mut contact_preference = None;

        check("name", keep(PersonName::parse(&input.name), &mut name));
        check("phone", keep(UsPhone::parse(&input.phone), &mut phone));
        let email_given = input.email.as_deref().filter(|s| !s.trim().is_empty());
        match email_given {
            None => email = Some(None),
            Some(s) => check("email", keep(Email::parse(s).map(Some), &mut email)),
        }
        check("zip", keep(Zip::parse(&input.zip), &mut zip));
        check("category", keep(CategorySlug::parse(&input.category), &mut category));
        check("urgency", keep(Urgency::parse(&input.urgency), &mut urgency));
        check("description", keep(Description::parse(&input.description), &mut description));
        let preference = ContactPreference::parse(input.contact_preference.as_deref().unwrap_or("")).and_then(|p| {
            match (p, email_given) {
                // A wrong address already has its own message; only a missing one is said here.
                (ContactPreference::Email, None) => Err(ContactPreferenceError::EmailMissing),
                _ => Ok(p),
            }
        });
        check("contact_preference", keep(preference, &mut contact_preference));
        check("consent", require_consent(input.consent).map_err(|e| e.to_string()));

        match (name, phone, email, zip, category, urgency, description, contact_preference) {
            (
                Some(name),
                Some(phone),
                Some(email),
                Some(zip),
                Some(category),
                Some(urgency),
                Some(description),
                Some(contact_preference),
            ) if errors.is_empty() => {
                Ok(LeadDraft { name, phone, email, zip, category, urgency, description, contact_preference })
            }
            _ => Err(errors),
        }
    }
}

/// Stores a parsed value in `slot`, or gives back the homeowner-facing message.
fn keep<T, E: Display>(result: Result<T, E>, slot: &mut Option<T>) -> Result<(), String> {
    result.map(|v| *slot = Some(v)).map_err(|e| e.to_string())
}

/// `null` reads as an empty field, so it gets the field's own message rather than a type error.
fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Option::<String>::deserialize(d).map(Option::unwrap_or_default)
}

/// A JSON boolean, or what an HTML checkbox sends: "on" (or "true", "yes", "1") when ticked,
/// nothing when not. Anything unrecognised is no, since consent must be an explicit yes.
fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Bool(b)) => b,
        Some(Raw::Number(n)) => n == 1,
        Some(Raw::Text(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "on" | "true" | "yes" | "1"),
        None => false,
    })
}
