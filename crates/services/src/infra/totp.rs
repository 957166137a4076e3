//! The second factor: TOTP as RFC 6238 and Google Authenticator have it (SHA-1, 6 digits,
//! 30-second steps, one step of drift either way), each code usable once; and recovery codes
//! for a lost phone, each usable once.

use rand::{Rng, RngCore};

use crate::infra::signing::Signer;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
const ISSUER: &str = "PlumberLeads";
pub const RECOVERY_CODES: usize = 10;

/// 160 random bits, as RFC 4226 recommends.
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::rng().fill_bytes(&mut s);
    s
}

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, secret.to_vec(), Some(ISSUER.into()), account.into()).ok()
}

/// `otpauth://totp/…` for authenticator apps.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    totp(secret, account).map(|t| t.get_url()).unwrap_or_default()
}

/// The secret as people type it into an app that cannot scan: base32, in groups of four.
pub fn secret_text(secret: &[u8]) -> String {
    let b32 = base32_encode(secret);
    b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ALPHABET[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The time step `code` is valid for at `now` (allowing one step of drift), if any.
pub fn matching_step(secret: &[u8], code: &str, now: OffsetDateTime) -> Option<i64> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != DIGITS {
        return None;
    }
    let t = totp(secret, "x")?;
    let now_step = u64::try_from(now.unix_timestamp()).ok()? / STEP_SECONDS;
    [now_step.saturating_sub(1), now_step, now_step + 1].into_iter().find_map(|step| {
        let expected = t.generate(step * STEP_SECONDS);
        bool::from(expected.as_bytes().ct_eq(code.as_bytes())).then(|| i64::try_from(step).ok()).flatten()
    })
}

/// The current code (for tests and the CLI's self-check).
pub fn code_at(secret: &[u8], now: OffsetDateTime) -> String {
    totp(secret, "x").map(|t| t.generate(u64::try_from(now.unix_timestamp()).unwrap_or(0))).unwrap_or_default()
}

/// Ten recovery codes like `k7qm-2xwd` (40 bits each) and the hashes to store.
/// Ten codes of 8 characters from a 31-letter alphabet (~40 bits each): typed by hand, guessed
/// only online, where sign-in throttling holds; stored only as keyed hashes
/// ([`recovery_hash`]), so a copy of the database alone cannot test guesses.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut s: String = (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
            s.insert(4, '-');
            s
        })
        .collect();
    codes
}

/// A recovery code's stored form: HMAC with the deployment's secret key, bound to its account;
/// compared without case, spaces or dashes, as people type them. After a key rotation, every
/// accepted key's hash (newest first), to look up.
pub fn recovery_hashes(signer: &Signer, user: Uuid, code: &str) -> Vec<Vec<u8>> {
    signer.code_hashes(&format!("recovery:{user}"), &clean_recovery(code))
}

/// The hash a new recovery code is stored under (the current key's).
pub fn recovery_hash(signer: &Signer, user: Uuid, code: &str) -> Vec<u8> {
    signer.code_hash(&format!("recovery:{user}"), &clean_recovery(code))
}

fn clean_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase()
}

/// Whether `input` looks like a recovery code rather than a 6-digit TOTP code.
pub fn is_recovery_code(input: &str) -> bool {
    input.chars().filter(char::is_ascii_alphanumeric).count() == 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, at(59)), "287082");
        assert_eq!(code_at(secret, at(1_111_111_109)), "081804");
    }

    #[test]
    fn codes_match_their_step_with_one_step_of_drift_either_way() {
        use time::Duration;
        // Fixed secrets, so "another secret's code does not match" is a fact of this test, not luck.
        let secret = b"12345678901234567890".to_vec();
        let other = b"09876543210987654321".to_vec();
        let now = at(1_800_000_000);
        let code = code_at(&secret, now);
        let step = 1_800_000_000 / 30;
        assert_eq!(matching_step(&secret, &code, now), Some(step));
        // The phone is behind: its code is one step old (accepted), two steps old (refused).
        assert_eq!(matching_step(&secret, &code, now + Duration::seconds(30)), Some(step));
        assert_eq!(matching_step(&secret, &code, now + Duration::seconds(60)), None);
        // The phone is ahead: its code is one step early (accepted), two steps early (refused).
        assert_eq!(matching_step(&secret, &code, now - Duration::seconds(30)), Some(step));
        assert_eq!(matching_step(&secret, &code, now - Duration::seconds(60)), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        let others: Vec<String> = (-1..=1).map(|d| code_at(&other, now + Duration::seconds(30 * d))).collect();
        assert!(!others.contains(&code), "the two fixed secrets share no code around now: {others:?}");
        assert_eq!(matching_step(&other, &code, now), None, "another secret's codes are not this one's");
    }

    #[test]
    fn secrets_read_as_base32_and_urls_name_the_issuer() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        let url = otpauth_url(&new_secret(), "ops@plumberleads.example");
        assert!(url.starts_with("otpauth://totp/PlumberLeads:ops%40plumberleads.example?secret="), "{url}");
        assert!(url.contains("issuer=PlumberLeads"));
    }

    use sha2::{Digest, Sha256};

    #[test]
    fn recovery_codes_are_ten_distinct_forgiving_to_type_and_hashed_with_the_key_and_account() {
        use crate::infra::signing::SecretKeys;
        let signer = |k: &str| Signer::new(SecretKeys::new(secrecy::SecretString::from(k.repeat(32))));
        let (ours, other_key) = (signer("a"), signer("b"));
        let (user, other_user) = (Uuid::now_v7(), Uuid::now_v7());
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let hashes: std::collections::HashSet<_> = codes.iter().map(|c| recovery_hash(&ours, user, c)).collect();
        assert_eq!(hashes.len(), 10);
        let typed = codes[0].to_uppercase().replace('-', " ");
        let stored = recovery_hash(&ours, user, &codes[0]);
        assert_eq!(recovery_hashes(&ours, user, &typed), vec![stored.clone()]);
        // Not the unkeyed SHA-256 it used to be; not the same for another key or another account.
        let clean = codes[0].replace('-', "");
        assert_ne!(stored, Sha256::digest(format!("recovery:{clean}").as_bytes()).to_vec());
        assert_ne!(stored, recovery_hash(&other_key, user, &codes[0]));
        assert_ne!(stored, recovery_hash(&ours, other_user, &codes[0]));
        assert!(is_recovery_code(&codes[0]) && !is_recovery_code("123456"));
    }
}
