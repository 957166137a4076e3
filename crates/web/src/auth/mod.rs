//! Accounts and logins over HTTP: pages, API, the session extractors. The rules are
//! `services::accounts`; storage is `store`.

pub mod api;
pub mod close_pages;
pub mod pages;
pub mod portal_pages;
mod qr;
pub mod sessions;
pub mod staff_pages;
pub mod staff_review;

use services::CodeError;

/// What a pro is told when their SMS code is not taken (the pages and the API say the same).
pub fn code_message(e: CodeError) -> String {
    match e {
        CodeError::Wrong { attempts_left } => {
            format!("That code doesn't match. You have {attempts_left} more tries — or we can text you a new one.")
        }
        CodeError::Expired => "That code has expired. We can text you a new one.".into(),
        CodeError::TooManyAttempts => "That was too many tries. We can text you a new code.".into(),
        CodeError::NoCode => "Ask for a code first — we'll text it to your mobile.".into(),
        CodeError::ResendTooSoon { retry_after } => {
            format!("We just sent a code. You can ask for another in {} seconds.", retry_after.as_secs().max(1))
        }
        CodeError::TooManySends => "We've sent as many codes as we can for now. Please contact us.".into(),
    }
}
