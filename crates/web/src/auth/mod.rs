//! Accounts and logins: pages, API, sessions, tokens. The rules themselves are in
//! `domain::account`; storage in `store`.

pub mod api;
pub mod pages;
mod passwords;
pub mod service;
pub mod sessions;
pub mod tokens;
