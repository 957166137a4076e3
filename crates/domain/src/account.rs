//! Accounts of plumbers and staff: who they are, what a password must be, how failed logins
//! slow down. Pure rules; hashing, storage and sessions live in `services` and `store`.

mod business;
mod password;
pub mod profile;
mod role;
mod signup;
pub mod throttle;
mod vocabulary;

pub use business::{BusinessName, BusinessNameError};
pub use password::{Password, PasswordError};
pub use role::Role;
pub use signup::{SignupDraft, SignupInput};
pub use vocabulary::{ProStatus, SessionEnd, TokenPurpose};
