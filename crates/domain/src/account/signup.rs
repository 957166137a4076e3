//! A plumber's sign-up, parsed field by field so the form can show every problem at once.

use super::{BusinessName, Password};
use crate::lead::{Email, FieldError, PersonName, UsPhone};
use serde::Deserialize;

/// As received from the form or the API; missing fields are empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SignupInput {
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 120, example = "Ace Plumbing"))]
    pub business_name: String,
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 100, example = "Sam Ortega"))]
    pub owner_name: String,
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 254, format = Email, example = "sam@ace.example"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 40, example = "(612) 555-0199"))]
    pub phone: String,
    /// 12 to 256 characters, not easy to guess.
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 12, max_length = 256, format = Password))]
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct SignupDraft {
    pub business_name: BusinessName,
    pub owner_name: PersonName,
    pub email: Email,
    pub phone: UsPhone,
    pub password: Password,
}

impl SignupDraft {
    pub fn parse(input: &SignupInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut field = |name: &'static str, message: String| errors.push(FieldError { field: name, message });
        let business_name =
            BusinessName::parse(&input.business_name).map_err(|e| field("business_name", e.to_string()));
        let owner_name = PersonName::parse(&input.owner_name).map_err(|e| field("owner_name", e.to_string()));
        let email = if input.email.trim().is_empty() {
            field("email", "Please give your e-mail address — we send your leads' receipts there.".into());
            Err(())
        } else {
            Email::parse(&input.email).map_err(|e| field("email", e.to_string()))
        };
        let phone = UsPhone::parse(&input.phone).map_err(|e| {
            field("phone", e.to_string().replace("plumbers can call you back", "we can text you new leads"))
        });
        let known = [input.email.as_str(), input.owner_name.as_str(), input.business_name.as_str()];
        let password = Password::parse_new(&input.password, &known).map_err(|e| field("password", e.to_string()));
        match (business_name, owner_name, email, phone, password) {
            (Ok(business_name), Ok(owner_name), Ok(email), Ok(phone), Ok(password)) if errors.is_empty() => {
                Ok(Self { business_name, owner_name, email, phone, password })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once_in_form_order() {
        let errors = SignupDraft::parse(&SignupInput::default()).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["business_name", "owner_name", "email", "phone", "password"]);
        assert_eq!(errors[3].message, "Please tell us your phone number, so we can text you new leads.");
    }

    #[test]
    fn a_good_sign_up_parses() {
        let input = SignupInput {
            business_name: "Acme Plumbing".into(),
            owner_name: "Jane Doe".into(),
            email: "Jane@Example.COM".into(),
            phone: "(612) 555-0123".into(),
            password: "tangerine voltage marmot 42".into(),
        };
        let draft = SignupDraft::parse(&input).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(draft.email.as_str(), "Jane@example.com");
        assert_eq!(draft.phone.as_e164(), "+16125550123");
    }
}
