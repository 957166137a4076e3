//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: the argon2 crate's defaults),
//! off the async threads. A login for an address nobody has still verifies against a hash, so
//! the answer takes as long as for a wrong password.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::account::Password;
use std::sync::OnceLock;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

pub async fn hash(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// A hash of a random password nobody knows, made once per process.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let random = uuid::Uuid::new_v4().to_string();
        argon2().hash_password(random.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// True if `password` matches `stored`; with no stored hash, spends the same time and says no.
pub async fn verify(password: Password, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok() && known
    })
    .await
    .context("password verification task")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify_only_their_password() -> anyhow::Result<()> {
        let pw = Password::presented("tangerine voltage marmot 42");
        let h = hash(pw.clone()).await?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(pw.clone(), Some(h.clone())).await?);
        assert!(!verify(Password::presented("tangerine voltage marmot 43"), Some(h.clone())).await?);
        // No truncation: a long password differing only at its end is a different password.
        let long = "x".repeat(200);
        let long_hash = hash(Password::presented(&long)).await?;
        assert!(!verify(Password::presented(&format!("{}y", &long[..199])), Some(long_hash)).await?);
        assert!(!verify(pw, None).await?, "no account: always no");
        Ok(())
    }
}
