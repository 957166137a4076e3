//! Accounts and logins: pages, API, sessions, tokens. The rules themselves are in
//! `domain::account`; storage in `store`.

pub mod api;
pub mod cache;
pub mod mfa;
pub mod pages;
mod passwords;
pub mod service;
pub mod sessions;
pub mod staff_pages;
pub mod tokens;
