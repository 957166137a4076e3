//! Accounts, start to finish, for the pages, the API and the CLI alike: sign up, confirm the
//! e-mail and the mobile number, log in (throttled, without telling "no such account" from
//! "wrong password"), sessions and refresh tokens, password change and reset, the staff's second
//! factor. Every deed and its audit entry, e-mails and texts commit in one transaction.

mod close;
mod login;
mod mfa;
mod notices;
mod password;
mod sessions;
mod signup;
mod staff;
mod verify;

pub use close::close_account;
pub use login::{access_token_ttl, login};
pub use mfa::{
    SecondFactorStep, SteppedUp, keep_pending_secret, reauthenticate, recently_confirmed, second_factor_step,
    totp_secrets, verify_second_factor,
};
pub use password::{SendResetLink, change_password, request_reset, reset_password};
pub use sessions::{SessionKey, SignedIn, end_session, find_session, is_live, live_until, refresh, still_open};
pub use signup::{signup, start_session};
pub use staff::{create_staff, reset_second_factor, staff_address};
pub use verify::{resend_email_link, resend_phone_code, verify_email, verify_phone};

use crate::ServiceError;
use domain::account::Role;
use std::time::Duration;
use uuid::Uuid;

pub(crate) fn dur(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
}

/// Where a request comes from, as sessions and the audit log record it.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub ip: std::net::IpAddr,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Browser,
    Api,
}

#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    /// The cookie value (browser) or the refresh token (API).
    pub secret: String,
    /// API only.
    pub access_token: Option<String>,
}

/// The account's role; a role the code does not know is an error, never a guess.
fn role_of(user: &store::accounts::User) -> Result<Role, ServiceError> {
    Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", user.role).into())
}
