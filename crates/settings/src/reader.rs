//! Reads typed values out of a string map, remembering which keys it has seen so that a
//! misspelt `PLUMBERLEADS_*` setting is refused instead of silently ignored.

use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// One line: the setting's name and what is wrong with it. Never contains a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct SettingError {
    pub key: String,
    pub problem: String,
}

impl SettingError {
    pub fn new(key: &str, problem: impl Into<String>) -> Self {
        Self { key: key.to_owned(), problem: problem.into() }
    }
}

const PREFIX: &str = "PLUMBERLEADS_";

pub(crate) struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    seen: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(vars: &'a HashMap<String, String>) -> Self {
        Self { vars, seen: Vec::new() }
    }

    pub(crate) fn seen(self) -> Vec<&'static str> {
        self.seen
    }

    /// The value if set and not blank; blank counts as unset, as in most `.env` tooling.
    fn raw(&mut self, key: &'static str) -> Option<&'a str> {
        self.seen.push(key);
        self.vars.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub(crate) fn string(&mut self, key: &'static str, default: &str) -> String {
        self.raw(key).unwrap_or(default).to_owned()
    }

    pub(crate) fn parse<T: FromStr>(
        &mut self,
        key: &'static str,
        default: &str,
        what: &str,
    ) -> Result<T, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        value.parse().map_err(|_| SettingError::new(key, format!("expected {what}, got {value:?}")))
    }

    pub(crate) fn duration(&mut self, key: &'static str, default: &str) -> Result<Duration, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        let d = humantime::parse_duration(value)
            .map_err(|_| SettingError::new(key, format!("expected a duration like 30s, 5m or 12h, got {value:?}")))?;
        if d.is_zero() {
            return Err(SettingError::new(key, "must be longer than zero"));
        }
        Ok(d)
    }

    pub(crate) fn list<T: FromStr>(
        &mut self,
        key: &'static str,
        default: &str,
        what: &str,
    ) -> Result<Vec<T>, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|item| item.parse().map_err(|_| SettingError::new(key, format!("expected {what}, got {item:?}"))))
            .collect()
    }

    pub(crate) fn choice<T: Copy>(
        &mut self,
        key: &'static str,
        default: &str,
        options: &[(&str, T)],
    ) -> Result<T, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        options.iter().find(|(name, _)| name.eq_ignore_ascii_case(value)).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<_> = options.iter().map(|(n, _)| *n).collect();
            SettingError::new(key, format!("expected one of {}, got {value:?}", names.join(", ")))
        })
    }

    pub(crate) fn url(&mut self, key: &'static str, default: &str) -> Result<url::Url, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        let url = url::Url::parse(value).map_err(|e| SettingError::new(key, format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SettingError::new(key, "must start with http:// or https://"));
        }
        Ok(url)
    }

    /// A URL that may hold a password: errors describe it without ever echoing it.
    pub(crate) fn secret_url(
        &mut self,
        key: &'static str,
        default: &str,
        schemes: &[&str],
    ) -> Result<SecretString, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        check_secret_url(key, value, schemes)?;
        Ok(SecretString::from(value.to_owned()))
    }

    pub(crate) fn optional_secret_url(
        &mut self,
        key: &'static str,
        schemes: &[&str],
    ) -> Result<Option<SecretString>, SettingError> {
        match self.raw(key) {
            None => Ok(None),
            Some(value) => {
                check_secret_url(key, value, schemes)?;
                Ok(Some(SecretString::from(value.to_owned())))
            }
        }
    }

    /// "20/1h": at most 20 per hour.
    pub(crate) fn rate(&mut self, key: &'static str, default: &str) -> Result<crate::RateLimit, SettingError> {
        let value = self.raw(key).unwrap_or(default);
        let bad = || SettingError::new(key, format!("expected a limit like 20/1h, got {value:?}"));
        let (max, window) = value.split_once('/').ok_or_else(bad)?;
        let max: u32 = max.trim().parse().map_err(|_| bad())?;
        let window = humantime::parse_duration(window.trim()).map_err(|_| bad())?;
        if max == 0 || window.is_zero() {
            return Err(SettingError::new(key, "must allow at least 1 per a non-zero time"));
        }
        Ok(crate::RateLimit { max, window })
    }

    /// A provider's secret (an API token), or unset (`None`).
    pub(crate) fn optional_secret(&mut self, key: &'static str) -> Option<SecretString> {
        self.raw(key).map(|v| SecretString::from(v.to_owned()))
    }

    /// A signing key: at least 32 bytes, or unset (`None`). There is no built-in key.
    pub(crate) fn secret_key(&mut self, key: &'static str) -> Result<Option<SecretString>, SettingError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) if v.len() >= 32 => Ok(Some(SecretString::from(v.to_owned()))),
            Some(_) => Err(SettingError::new(key, "must be at least 32 bytes (e.g. `openssl rand -hex 32`)")),
        }
    }

    /// "kid1:secret1,kid2:secret2": signing keys by id, each secret at least 32 characters.
    /// Errors name the key id, never a secret.
    pub(crate) fn key_list(&mut self, key: &'static str) -> Result<Vec<(String, SecretString)>, SettingError> {
        let Some(value) = self.raw(key) else { return Ok(Vec::new()) };
        let mut keys: Vec<(String, SecretString)> = Vec::new();
        for (i, item) in value.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
            let Some((kid, secret)) = item.split_once(':') else {
                return Err(SettingError::new(key, format!("entry {} is not `key-id:secret`", i + 1)));
            };
            let kid = kid.trim();
            if kid.is_empty() || !kid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(SettingError::new(key, format!("entry {}: a key id is letters, digits, - and _", i + 1)));
            }
            if secret.trim().chars().count() < 32 {
                return Err(SettingError::new(key, format!("key {kid:?}: the secret must be at least 32 characters")));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(SettingError::new(key, format!("key id {kid:?} appears twice")));
            }
            keys.push((kid.to_owned(), SecretString::from(secret.trim().to_owned())));
        }
        Ok(keys)
    }

    /// A `PLUMBERLEADS_*` variable nobody read is almost always a typo.
    pub(crate) fn reject_unknown(&self) -> Result<(), SettingError> {
        let mut unknown: Vec<_> =
            self.vars.keys().filter(|k| k.starts_with(PREFIX) && !self.seen.contains(&k.as_str())).collect();
        unknown.sort();
        match unknown.first() {
            None => Ok(()),
            Some(k) => Err(SettingError::new(k, "is not a setting (see .env.sample for the list)")),
        }
    }
}

fn check_secret_url(key: &str, value: &str, schemes: &[&str]) -> Result<(), SettingError> {
    let url =
        url::Url::parse(value).map_err(|e| SettingError::new(key, format!("is not a valid URL ({})", describe(e))))?;
    if !schemes.contains(&url.scheme()) {
        return Err(SettingError::new(key, format!("must start with {}://", schemes.join(":// or "))));
    }
    Ok(())
}

/// url's parse errors describe the problem, never the input, so they are safe to show.
fn describe(e: impl Display) -> String {
    e.to_string()
}
