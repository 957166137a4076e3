//! API access tokens: JWTs signed with HS256 (the one algorithm accepted: `alg: none` and
//! every other algorithm are refused), carrying a `kid` so keys can be rotated, an audience and
//! an issuer that must match, and an expiry checked against the platform clock. Each token
//! names its session, which must still be open: logging out ends a token at once.

use crate::infra::signing::SecretKeys;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use settings::Settings;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub const AUDIENCE: &str = "plumberleads-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The session (refresh-token family) this token belongs to.
    pub sid: Uuid,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    signing_kid: String,
    signing: Arc<EncodingKey>,
    verifying: Arc<HashMap<String, DecodingKey>>,
    issuer: String,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").field("signing_kid", &self.signing_kid).finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn from_settings(settings: &Settings, secrets: &SecretKeys) -> Self {
        let keys: Vec<(String, Vec<u8>)> = if settings.auth.jwt_keys.is_empty() {
            // A key derived from the secret key, so a fresh install needs no extra setting; after
            // a rotation, the previous secret's key still verifies (it signs nothing).
            // Each is named by a fingerprint of itself, so a token says which key signed it.
            let derive = |k| {
                let key = crate::infra::signing::derive_key(k, b"jwt-signing-key");
                (format!("k{}", hex::encode(&Sha256::digest(&key)[..6])), key)
            };
            std::iter::once(derive(&secrets.current)).chain(secrets.previous.as_ref().map(derive)).collect()
        } else {
            settings.auth.jwt_keys.iter().map(|(kid, s)| (kid.clone(), s.expose_secret().as_bytes().to_vec())).collect()
        };
        let (signing_kid, signing_secret) = keys[0].clone();
        Self {
            signing_kid,
            signing: Arc::new(EncodingKey::from_secret(&signing_secret)),
            verifying: Arc::new(keys.iter().map(|(k, s)| (k.clone(), DecodingKey::from_secret(s))).collect()),
            issuer: settings.http.public_url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    pub fn issue(
        &self,
        user: Uuid,
        session: Uuid,
        role: &str,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: user,
            sid: session,
            role: role.into(),
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.signing)?)
    }

    /// The claims, if the token is ours, unaltered, for this audience, and unexpired at `now`.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let key = self.verifying.get(header.kid.as_deref()?)?;
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[AUDIENCE]);
        v.set_issuer(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // Expiry is checked against the platform clock below (tests move it).
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &v).ok()?.claims;
        (now.unix_timestamp() < claims.exp).then_some(claims)
    }
}

/// A random secret (256 bits, URL-safe) and the SHA-256 that is stored in its place. Secrets
/// this long need no slow hash.
pub fn new_secret() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = B64.encode(bytes);
    let hash = secret_hash(&secret);
    (secret, hash)
}

pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(vars: &[(&str, &str)]) -> TokenKeys {
        let map = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        match Settings::from_map(&map) {
            Ok(s) => {
                let secret = s.secret_key.clone().unwrap_or_else(|| secrecy::SecretString::from("t".repeat(32)));
                TokenKeys::from_settings(&s, &SecretKeys::new(secret))
            }
            Err(e) => panic!("{e}"),
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn tokens_verify_until_they_expire() -> anyhow::Result<()> {
        let k = keys(&[]);
        let (u, s) = (Uuid::now_v7(), Uuid::now_v7());
        let t = k.issue(u, s, "pro", now(), time::Duration::minutes(15))?;
        let c = k.verify(&t, now()).ok_or_else(|| anyhow::anyhow!("refused"))?;
        assert_eq!((c.sub, c.sid, c.role.as_str()), (u, s, "pro"));
        assert!(k.verify(&t, now() + time::Duration::minutes(15)).is_none(), "expired");
        Ok(())
    }

    #[test]
    fn tampered_unsigned_foreign_and_misaddressed_tokens_are_refused() -> anyhow::Result<()> {
        let k = keys(&[]);
        let t = k.issue(Uuid::now_v7(), Uuid::now_v7(), "pro", now(), time::Duration::minutes(15))?;
        let parts: Vec<&str> = t.split('.').collect();
        // alg: none, no signature.
        let none_header = B64.encode(br#"{"alg":"none","typ":"JWT","kid":"default"}"#);
        assert!(k.verify(&format!("{none_header}.{}.", parts[1]), now()).is_none());
        // Claims changed (role raised), signature kept.
        let claims: serde_json::Value = serde_json::from_slice(&B64.decode(parts[1])?)?;
        let mut raised = claims.clone();
        raised["role"] = "admin".into();
        let forged = format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(&raised)?), parts[2]);
        assert!(k.verify(&forged, now()).is_none());
        // Signed with another key under the same kid.
        let other = keys(&[("PLUMBERLEADS_SECRET_KEY", &"z".repeat(40))]);
        let foreign = other.issue(Uuid::now_v7(), Uuid::now_v7(), "pro", now(), time::Duration::minutes(15))?;
        assert!(k.verify(&foreign, now()).is_none());
        // Another audience, properly signed.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("default".into());
        let mut wrong_aud = claims;
        wrong_aud["aud"] = "someone-else".into();
        let t2 = jsonwebtoken::encode(&header, &wrong_aud, &k.signing)?;
        assert!(k.verify(&t2, now()).is_none());
        // HS512 with the right secret is still not HS256.
        let mut hs512 = Header::new(Algorithm::HS512);
        hs512.kid = Some("default".into());
        let right_aud: serde_json::Value = serde_json::from_slice(&B64.decode(parts[1])?)?;
        assert!(k.verify(&jsonwebtoken::encode(&hs512, &right_aud, &k.signing)?, now()).is_none());
        for junk in ["", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9.e30."] {
            assert!(k.verify(junk, now()).is_none(), "{junk}");
        }
        Ok(())
    }

    #[test]
    fn keys_rotate_by_kid() -> anyhow::Result<()> {
        let (a, b) = ("a".repeat(32), "b".repeat(32));
        let old = keys(&[("PLUMBERLEADS_JWT_KEYS", &format!("k1:{a}"))]);
        let both = keys(&[("PLUMBERLEADS_JWT_KEYS", &format!("k2:{b},k1:{a}"))]);
        let new_only = keys(&[("PLUMBERLEADS_JWT_KEYS", &format!("k2:{b}"))]);
        let t_old = old.issue(Uuid::now_v7(), Uuid::now_v7(), "pro", now(), time::Duration::minutes(15))?;
        let t_new = both.issue(Uuid::now_v7(), Uuid::now_v7(), "pro", now(), time::Duration::minutes(15))?;
        assert!(both.verify(&t_old, now()).is_some(), "old tokens still work during the rotation");
        assert!(new_only.verify(&t_new, now()).is_some());
        assert!(new_only.verify(&t_old, now()).is_none(), "the retired key no longer verifies");
        Ok(())
    }
}
