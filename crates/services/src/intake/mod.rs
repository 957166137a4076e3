//! Homeowner lead intake: a submission becomes a lead (`submit`), its phone is confirmed by a
//! texted code (`verify`); the form's `funnel` counts how far people get. Shared by the request form and the partner API.

pub mod funnel;
mod repeat;
mod submit;
mod verify;

pub use repeat::{Earlier, add_note, follow_up};
pub use submit::{reject_unparsed, submit};
pub use verify::{Verified, change_phone, resend, verify};

use crate::Ctx;
use crate::jobs::SendSms;
use domain::lead::LeadInput;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Our own form; `funnel_id` ties the submission to its form view for the funnel.
    Web {
        funnel_id: Option<Uuid>,
    },
    Partner {
        id: Uuid,
    },
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Web { .. } => "web",
            Source::Partner { .. } => "partner",
        }
    }

    fn partner_id(self) -> Option<Uuid> {
        match self {
            Source::Partner { id } => Some(id),
            Source::Web { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Submission {
    pub input: LeadInput,
    pub source: Source,
    /// utm_source, utm_medium, utm_campaign, utm_term, utm_content (others are dropped).
    pub utm: BTreeMap<String, String>,
    pub referrer: Option<String>,
    pub client_ip: IpAddr,
}

/// An `Idempotency-Key` and what it is bound to.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub principal: String,
    pub key: String,
    pub request_hash: Vec<u8>,
}

/// What a submission came to. Kept as the idempotency record (JSON), so each surface renders a
/// replay the way it rendered the first answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Created {
        lead_id: Uuid,
        verified: bool,
        #[serde(with = "time::serde::rfc3339::option")]
        code_expires_at: Option<OffsetDateTime>,
    },
    /// Same phone and job recently: not a new lead.
    Duplicate { existing: Uuid },
}

#[derive(Debug)]
pub enum Submitted {
    Fresh(Outcome),
    /// The first outcome for this idempotency key, again.
    Replayed(Outcome),
}

const UTM_KEYS: [&str; 5] = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
/// Longest UTM value or referrer we keep; longer ones are cut, not refused (they are ours to record).
const ATTRIBUTION_MAX_CHARS: usize = 500;

pub fn clean_utm(pairs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter(|(k, v)| UTM_KEYS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k, clean_attribution(&v)))
        .collect()
}

pub fn clean_attribution(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).take(ATTRIBUTION_MAX_CHARS).collect::<String>().trim().to_owned()
}

/// How many plumbers take `category` jobs in `zip` now (0 for a ZIP or category we don't know):
/// the homeowner is told before sending, and after, whether anyone is likely to call.
pub fn coverage<'a>(ctx: &'a Ctx, zip: &'a str, category: &'a str) -> BoxFuture<'a, Result<i64, crate::ServiceError>> {
    Box::pin(coverage_inner(ctx, zip, category))
}

async fn coverage_inner(ctx: &Ctx, zip: &str, category: &str) -> Result<i64, crate::ServiceError> {
    let Ok(zip) = domain::Zip::parse(zip) else { return Ok(0) };
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::matching::taking(&mut conn, zip.as_str(), category).await?)
}

/// The text that carries a verification code.
pub(crate) fn code_sms(ctx: &Ctx, phone: &str, code: &str) -> SendSms {
    let minutes = ctx.settings.intake.code_ttl.as_secs() / 60;
    let body = format!(
        "PlumberLeads: your code is {code}. It works for {minutes} minutes. Didn't ask for a plumber? Ignore this text."
    );
    SendSms::requested(phone.to_owned(), body)
}

/// The signed, expiring link to a lead's status page.
pub fn status_url(ctx: &Ctx, lead_id: Uuid, now: OffsetDateTime) -> String {
    let token = ctx.signer.sign("status", &lead_id.to_string(), now + ttl(ctx.settings.intake.status_link_ttl));
    ctx.public_link(&format!("/r/{token}"))
}

pub(crate) fn ttl(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}
