//! Partner API keys: `pl_<prefix>_<secret>`. The prefix is stored to find the partner; only a
//! SHA-256 of the secret is stored (the secret has 192 bits of entropy, so a fast hash is right;
//! a password hash would only slow every request). Comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new key: (prefix, secret, full key to show once, hash to store).
pub fn new_key() -> (String, String, String, Vec<u8>) {
    let mut prefix = [0u8; 6];
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut prefix);
    rand::rng().fill_bytes(&mut secret);
    let prefix = hex::encode(prefix);
    let secret = B64.encode(secret);
    let full = format!("pl_{prefix}_{secret}");
    let hash = Sha256::digest(secret.as_bytes()).to_vec();
    (prefix, secret, full, hash)
}

pub fn split_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("pl_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12 && !secret.is_empty()).then_some((prefix, secret))
}

pub fn secret_matches(secret: &str, stored_hash: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    Sha256::digest(secret.as_bytes()).as_slice().ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_and_match_only_their_own_secret() {
        let (prefix, secret, full, hash) = new_key();
        assert_eq!(split_key(&full), Some((prefix.as_str(), secret.as_str())));
        assert!(secret_matches(&secret, &hash));
        assert!(!secret_matches("guess", &hash));
        for bad in ["", "pl_", "pl_abc_x", "sk_live_123", "pl_0123456789ab_"] {
            assert_eq!(split_key(bad), None, "{bad}");
        }
    }
}
