//! Signed, expiring tokens for links we hand out (a homeowner's status page) and for forms we
//! render (when the form was shown). HMAC-SHA256 with the deployment's secret key; the purpose
//! is part of what is signed, so a token for one use never works for another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use time::OffsetDateTime;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Signer {
    key: SecretString,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    fn mac(&self, purpose: &str, body: &str) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.key.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable_mac());
        mac.update(purpose.as_bytes());
        mac.update(b"\x00");
        mac.update(body.as_bytes());
        mac
    }

    /// `payload` must not contain '.'; it is carried in the clear (sign, don't hide).
    pub fn sign(&self, purpose: &str, payload: &str, expires: OffsetDateTime) -> String {
        let body = format!("{payload}.{}", expires.unix_timestamp());
        let tag = self.mac(purpose, &body).finalize().into_bytes();
        format!("{body}.{}", B64.encode(tag))
    }

    /// The payload, if the token is ours, for this purpose, and not expired at `now`.
    pub fn verify(&self, purpose: &str, token: &str, now: OffsetDateTime) -> Option<String> {
        let (body, tag) = token.rsplit_once('.')?;
        let tag = B64.decode(tag).ok()?;
        self.mac(purpose, body).verify_slice(&tag).ok()?;
        let (payload, expires) = body.rsplit_once('.')?;
        let expires = OffsetDateTime::from_unix_timestamp(expires.parse().ok()?).ok()?;
        (now < expires).then(|| payload.to_owned())
    }

    /// A keyed hash of a one-time code, bound to what it verifies.
    pub fn code_hash(&self, subject: &str, code: &str) -> Vec<u8> {
        self.mac("code", &format!("{subject}:{code}")).finalize().into_bytes().to_vec()
    }

    pub fn code_matches(&self, subject: &str, code: &str, hash: &[u8]) -> bool {
        self.mac("code", &format!("{subject}:{code}")).verify_slice(hash).is_ok()
    }

    /// A key for one use (`label`), derived from the deployment's secret.
    pub fn derive_key(&self, label: &[u8]) -> Vec<u8> {
        derive_key(&self.key, label)
    }
}

/// A key for one use (`label`), derived from `secret`: HMAC-SHA256(secret, label).
pub fn derive_key(secret: &SecretString, label: &[u8]) -> Vec<u8> {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(secret.expose_secret().as_bytes()).unwrap_or_else(|_| unreachable_mac());
    mac.update(label);
    mac.finalize().into_bytes().to_vec()
}

/// A six-digit one-time code from the OS's CSPRNG (texted to a homeowner or a pro).
pub fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn unreachable_mac() -> HmacSha256 {
    // `new_from_slice` only fails for fixed-size-key MACs; HMAC accepts any length.
    match <HmacSha256 as Mac>::new_from_slice(b"k") {
        Ok(m) => m,
        Err(_) => std::process::abort(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn signer(k: &str) -> Signer {
        Signer::new(SecretString::from(k.to_owned()))
    }

    #[test]
    fn tokens_verify_until_they_expire_and_only_for_their_purpose_and_key() {
        let s = signer("k".repeat(32).as_str());
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let t = s.sign("status", "lead-123", now + Duration::days(30));
        assert_eq!(s.verify("status", &t, now).as_deref(), Some("lead-123"));
        assert_eq!(s.verify("status", &t, now + Duration::days(30)), None, "expired");
        assert_eq!(s.verify("form", &t, now), None, "other purpose");
        assert_eq!(signer(&"x".repeat(32)).verify("status", &t, now), None, "other key");
        let tampered = t.replacen("lead-123", "lead-124", 1);
        assert_eq!(s.verify("status", &tampered, now), None);
        let later = t.replace(&format!(".{}.", (now + Duration::days(30)).unix_timestamp()), ".9999999999.");
        assert_eq!(s.verify("status", &later, now), None, "expiry is signed too");
        for junk in ["", ".", "a.b", "a.b.c", "💧.1.x"] {
            assert_eq!(s.verify("status", junk, now), None);
        }
    }

    #[test]
    fn code_hashes_are_bound_to_their_subject() {
        let s = signer(&"k".repeat(32));
        let h = s.code_hash("lead-1", "123456");
        assert!(s.code_matches("lead-1", "123456", &h));
        assert!(!s.code_matches("lead-1", "123457", &h));
        assert!(!s.code_matches("lead-2", "123456", &h));
    }
}
