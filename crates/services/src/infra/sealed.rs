//! Staff TOTP secrets at rest: XChaCha20-Poly1305 under a key derived from the deployment's
//! secret key, with the account's id as associated data (a sealed secret copied onto another
//! account opens nothing). A copy of the database alone no longer yields the codes.
//! Stored form: version byte, 24-byte random nonce, ciphertext and tag.

use crate::infra::signing::Signer;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;

const VERSION: u8 = 1;
const LABEL: &[u8] = b"totp-secret-at-rest";

fn cipher(key: &[u8]) -> Option<XChaCha20Poly1305> {
    XChaCha20Poly1305::new_from_slice(key).ok()
}

/// The stored form of `secret` for `user`, under the current key.
pub fn seal(signer: &Signer, user: Uuid, secret: &[u8]) -> Option<Vec<u8>> {
    let nonce: [u8; 24] = rand::random();
    let aad = user.as_bytes();
    let sealed =
        cipher(&signer.derive_key(LABEL))?.encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad }).ok()?;
    Some([&[VERSION][..], &nonce, &sealed].concat())
}

/// The secret, if `stored` was sealed for `user` under a key still accepted (after a rotation,
/// the previous one too).
pub fn open(signer: &Signer, user: Uuid, stored: &[u8]) -> Option<Vec<u8>> {
    let (&version, rest) = stored.split_first()?;
    if version != VERSION || rest.len() < 24 {
        return None;
    }
    let (nonce, sealed) = rest.split_at(24);
    let aad = user.as_bytes();
    signer
        .derived_keys(LABEL)
        .iter()
        .find_map(|key| cipher(key)?.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad }).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::signing::SecretKeys;
    use secrecy::SecretString;

    fn signer(current: &str, previous: Option<&str>) -> Signer {
        Signer::new(SecretKeys {
            current: SecretString::from(current.repeat(32)),
            previous: previous.map(|p| SecretString::from(p.repeat(32))),
        })
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_under_an_accepted_key() {
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let secret = b"12345678901234567890";
        let stored = seal(&signer("a", None), user, secret).unwrap_or_default();
        assert!(!stored.windows(secret.len()).any(|w| w == secret), "not in the clear");
        assert_eq!(open(&signer("a", None), user, &stored).as_deref(), Some(&secret[..]));
        assert_eq!(open(&signer("a", None), other, &stored), None, "another account");
        assert_eq!(open(&signer("b", None), user, &stored), None, "another key");
        assert_eq!(open(&signer("b", Some("a")), user, &stored).as_deref(), Some(&secret[..]), "after a rotation");
        let mut tampered = stored.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(open(&signer("a", None), user, &tampered), None);
        assert_eq!(open(&signer("a", None), user, secret), None, "a secret stored in the clear is not accepted");
        assert_ne!(seal(&signer("a", None), user, secret), Some(stored), "a fresh nonce each time");
    }
}
