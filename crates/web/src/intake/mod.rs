//! Homeowner lead intake over HTTP: the request form (`form`) and the partner API (`api`). The
//! rules are `services::intake`.

pub mod api;
pub mod follow;
pub mod form;
pub mod zip_step;

use services::CodeError;

/// What a homeowner is told when their code is not taken (the pages and the API say the same).
pub fn code_message(e: CodeError) -> String {
    match e {
        CodeError::Wrong { attempts_left } => format!("That code didn't match. You have {attempts_left} more tries."),
        CodeError::Expired => "That code has expired. We can text you a new one.".into(),
        CodeError::TooManyAttempts => "Too many wrong codes. We can text you a new one.".into(),
        CodeError::NoCode => "Ask for a code first — we'll text it to your phone.".into(),
        CodeError::ResendTooSoon { .. } => "Please wait a moment before asking for another code.".into(),
        CodeError::TooManySends => {
            "We've sent as many codes as we can for this request. Please start a new request later.".into()
        }
    }
}
