//! Every problem type the API can answer (RFC 9457 `type`), each explained at `/problems/{slug}`
//! for the developer who meets it. A problem document can only name a type listed here, so no
//! `type` ever points at a page that does not exist.

use crate::AppState;
use crate::html::{self, Chrome};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    ValidationError,
    DuplicateLead,
    IdempotencyKeyReused,
    EmailTaken,
    SecondFactorRequired,
    SecondFactorFailed,
    LinkExpired,
    VerificationFailed,
    VerificationCodeWrong,
    VerificationCodeExpired,
    VerificationAttemptsExhausted,
    VerificationSendsExhausted,
    DatabaseUnavailable,
    OfferSoldOut,
    OfferExpired,
    OfferDeclined,
    OfferClaimed,
    CapReached,
    InsufficientBalance,
    InvalidTransition,
    DisputeWindowClosed,
    AlreadyDisputed,
}

/// What the page about one type says.
pub struct Entry {
    pub slug: &'static str,
    pub title: &'static str,
    /// The statuses it comes with.
    pub statuses: &'static [u16],
    /// When it happens and what a client should do, in plain words.
    pub explanation: &'static str,
}

impl Entry {
    /// The explanation in runs of prose and `code` (between backticks), for the page to set apart.
    pub fn explanation_runs(&self) -> Vec<(bool, &'static str)> {
        self.explanation.split('`').enumerate().map(|(i, run)| (i % 2 == 1, run)).collect()
    }
}

impl ProblemType {
    pub const ALL: [ProblemType; 22] = [
        ProblemType::ValidationError,
        ProblemType::DuplicateLead,
        ProblemType::IdempotencyKeyReused,
        ProblemType::EmailTaken,
        ProblemType::SecondFactorRequired,
        ProblemType::SecondFactorFailed,
        ProblemType::LinkExpired,
        ProblemType::VerificationFailed,
        ProblemType::VerificationCodeWrong,
        ProblemType::VerificationCodeExpired,
        ProblemType::VerificationAttemptsExhausted,
        ProblemType::VerificationSendsExhausted,
        ProblemType::DatabaseUnavailable,
        ProblemType::OfferSoldOut,
        ProblemType::OfferExpired,
        ProblemType::OfferDeclined,
        ProblemType::OfferClaimed,
        ProblemType::CapReached,
        ProblemType::InsufficientBalance,
        ProblemType::InvalidTransition,
        ProblemType::DisputeWindowClosed,
        ProblemType::AlreadyDisputed,
    ];

    pub fn uri(self) -> String {
        format!("/problems/{}", self.entry().slug)
    }

    pub fn title(self) -> &'static str {
        self.entry().title
    }

    pub fn entry(self) -> Entry {
        let (slug, title, statuses, explanation): (_, _, &[u16], _) = match self {
            ProblemType::ValidationError => (
                "validation-error",
                "Some details need another look",
                &[422],
                "The request was well-formed JSON but some fields are missing or not acceptable. \
                 `errors` lists every one at once as `{\"field\", \"message\"}`; the message is written \
                 for the person who typed the value, so show it next to that field. Fix them and send \
                 the request again: nothing was stored.",
            ),
            ProblemType::DuplicateLead => (
                "duplicate-lead",
                "This request is already with plumbers",
                &[409],
                "The same phone number asked for the same kind of job in the last 7 days, so this is \
                 not a new lead and nobody is charged for it twice. Do not retry; tell the homeowner \
                 their earlier request is still open.",
            ),
            ProblemType::IdempotencyKeyReused => (
                "idempotency-key-reused",
                "Idempotency-Key reused",
                &[422],
                "This `Idempotency-Key` was first used with a different request body. A key stands for \
                 one request: retry with the same key and the same body to get the first answer again \
                 (marked `Idempotent-Replayed: true`), or use a new key for a new request. Keys are \
                 kept for at least 24 hours.",
            ),
            ProblemType::EmailTaken => (
                "email-taken",
                "That e-mail already has an account",
                &[409],
                "Sign-up was refused because the address already belongs to an account. Log in with it, \
                 or ask for a password reset.",
            ),
            ProblemType::SecondFactorRequired => (
                "second-factor-required",
                "A second factor is required",
                &[403],
                "Staff accounts sign in with a one-time code from an authenticator app as well as the \
                 password. Send the login again with `totp` set to the current six-digit code (or a \
                 recovery code).",
            ),
            ProblemType::SecondFactorFailed => (
                "second-factor-failed",
                "That code was not accepted",
                &[401],
                "The one-time code was wrong, already used or too old. Use the current code from the \
                 authenticator app (each works once) or an unused recovery code. Repeated failures are \
                 throttled (429 with `Retry-After`).",
            ),
            ProblemType::LinkExpired => (
                "link-expired",
                "That link has expired or was already used",
                &[400],
                "E-mail verification and password-reset tokens work once and for a limited time (a day \
                 for verification, an hour for a reset); only the newest one sent is valid. Ask for a \
                 new one.",
            ),
            ProblemType::VerificationFailed => (
                "verification-failed",
                "The code was not accepted",
                &[422, 429],
                "The mobile number's text-message code was wrong, expired or tried too often (422, \
                 with the reason in `errors` under `code`), or no more codes can be sent for now (429). \
                 Ask for a new code once `Retry-After` has passed.",
            ),
            ProblemType::VerificationCodeWrong => (
                "verification-code-wrong",
                "The code was not accepted",
                &[422],
                "The six-digit code sent to the homeowner's phone does not match (or none was sent). \
                 They can try again a few times; `errors[0].message` says how many tries remain.",
            ),
            ProblemType::VerificationCodeExpired => (
                "verification-code-expired",
                "The code was not accepted",
                &[422],
                "The code is older than its 10 minutes. Ask for a new one with \
                 `POST /api/v1/leads/{id}/verification/resend`.",
            ),
            ProblemType::VerificationAttemptsExhausted => (
                "verification-attempts-exhausted",
                "The code was not accepted",
                &[422],
                "Too many wrong codes: this code no longer works. Ask for a new one with \
                 `POST /api/v1/leads/{id}/verification/resend`.",
            ),
            ProblemType::VerificationSendsExhausted => (
                "verification-sends-exhausted",
                "No more codes",
                &[429],
                "The most codes a request may be sent have been sent. The homeowner can start the \
                 request again later, or call us.",
            ),
            ProblemType::DatabaseUnavailable => (
                "database-unavailable",
                "Temporarily unavailable",
                &[503],
                "Our database is not answering for the moment (a restart or an outage). Nothing was \
                 changed by this request. Wait the `Retry-After` seconds and send it again; with an \
                 `Idempotency-Key` a retry is always safe.",
            ),
            ProblemType::OfferSoldOut => (
                "offer-sold-out",
                "Other plumbers bought this lead first",
                &[409],
                "Every buyer place on this lead was taken before your claim arrived. Nothing was \
                 charged. The offer leaves your inbox; new offers arrive on `/api/v1/pro/stream`.",
            ),
            ProblemType::OfferExpired => (
                "offer-expired",
                "This offer has expired",
                &[409],
                "The time to claim this offer ran out (15 minutes, 5 for an emergency or an exclusive \
                 lead), or the lead's sale has closed. Nothing was charged.",
            ),
            ProblemType::OfferDeclined => (
                "offer-declined",
                "You passed on this offer",
                &[409],
                "This offer was declined, so it can no longer be claimed. Nothing was charged.",
            ),
            ProblemType::OfferClaimed => (
                "offer-claimed",
                "You already bought this lead",
                &[409],
                "A claimed offer cannot be declined. The lead is in `/api/v1/pro/leads`; if it is not \
                 a real job, open a dispute there.",
            ),
            ProblemType::CapReached => (
                "cap-reached",
                "Your daily cap or weekly budget is reached",
                &[409],
                "Buying this lead would go past the daily number of leads or the weekly budget set in \
                 your preferences. Nothing was charged. Raise the cap or budget in your profile, or \
                 wait for the next day or week (in your own time zone).",
            ),
            ProblemType::InsufficientBalance => (
                "insufficient-balance",
                "Your wallet balance is too low",
                &[402],
                "The lead costs more than your wallet holds. Nothing was charged. Top up with \
                 `POST /api/v1/pro/wallet/top-ups` and claim again while the offer is live.",
            ),
            ProblemType::InvalidTransition => (
                "invalid-transition",
                "That status change is not possible",
                &[409],
                "A bought lead moves forwards only: `new`, `contacted`, `quoted`, then `won` or \
                 `lost`. A disputed lead waits for our decision.",
            ),
            ProblemType::DisputeWindowClosed => (
                "dispute-window-closed",
                "The time to dispute this lead has passed",
                &[409],
                "A bought lead can be disputed within 14 days of its purchase. For anything older, \
                 write to us and we will look at it.",
            ),
            ProblemType::AlreadyDisputed => (
                "already-disputed",
                "This lead is already disputed",
                &[409],
                "A bought lead is disputed once. Its dispute, with our decision when made, is in \
                 `dispute` on `GET /api/v1/pro/leads`.",
            ),
        };
        Entry { slug, title, statuses, explanation }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.entry().slug == slug)
    }
}

#[derive(Template)]
#[template(path = "problem_type.html")]
struct ProblemPage<'a> {
    chrome: Chrome<'a>,
    entry: Option<Entry>,
    all: Vec<Entry>,
}

fn page(state: &AppState, entry: Option<Entry>) -> Response {
    let all = ProblemType::ALL.into_iter().map(ProblemType::entry).collect();
    html::public(&ProblemPage { chrome: Chrome::of(state), entry, all }, "public, max-age=3600")
}

/// `/problems`: the list.
pub async fn index(State(state): State<AppState>) -> Response {
    page(&state, None)
}

/// `/problems/{slug}`: one type explained (404 for a type we never send).
pub async fn show(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    match ProblemType::from_slug(&slug) {
        Some(t) => page(&state, Some(t.entry())),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_own_slug_a_title_and_a_status() {
        let mut slugs: Vec<_> = ProblemType::ALL.iter().map(|t| t.entry().slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        for t in ProblemType::ALL {
            let e = t.entry();
            assert_eq!(ProblemType::from_slug(e.slug), Some(t));
            assert!(!e.title.is_empty() && !e.statuses.is_empty() && e.explanation.len() > 40, "{}", e.slug);
        }
    }
}
