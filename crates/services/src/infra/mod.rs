//! What the use cases stand on that is not a rule of ours: hashing, signing, tokens, TOTP,
//! rate limits and the Redis copies. Generic work is done by well-kept crates; these wrap them
//! in the platform's settings.

pub mod partner_keys;
pub mod passwords;
pub mod rate_limit;
pub mod redis_check;
pub mod sealed;
pub mod session_cache;
pub mod signing;
pub mod tokens;
pub mod totp;
pub mod twilio_signature;
