//! What follows the request form: the code page (confirm the phone, a new code, a corrected
//! number), the confirmation, and the status link's page. Links carry signed, expiring tokens.

use crate::AppState;
use crate::html::{Chrome, html, message};
use crate::problem::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::lead::{LeadStatus, UsPhone};
use serde::Deserialize;
use services::intake;
use services::{CodeError, ServiceError};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    chrome: Chrome<'a>,
    token: &'a str,
    masked_phone: &'a str,
    shown: Shown<'a>,
    minutes: u64,
}

/// What the code page says besides its form: the code's error, a notice (a new code sent, a
/// resend refused and for how long), and the corrected number as typed with its error.
#[derive(Debug, Default, Clone, Copy)]
struct Shown<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
    phone: &'a str,
    phone_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    chrome: Chrome<'a>,
    token: &'a str,
    lead: &'a store::leads::Lead,
    status_text: &'a str,
    buyers: Vec<Buyer>,
    /// Added to the request, oldest first.
    added: Vec<String>,
    /// Kept from a repeat, waiting for "Add this".
    waiting: Vec<store::lead_notes::Note>,
    notice: Option<&'static str>,
}

/// A plumber who bought the request, as its homeowner sees them.
struct Buyer {
    name: String,
    /// E.164, for the `tel:` link.
    tel: Option<String>,
    /// "(612) 555-0100".
    phone: Option<String>,
}

/// A day is plenty to type a code in, and short enough not to matter if the link leaks.
const VERIFY_LINK_DAYS: i64 = 1;

/// Carries the funnel id too, so the funnel's "verified" step can be counted without linking
/// the funnel to the lead anywhere else.
pub(super) fn verify_token(state: &AppState, lead_id: Uuid, funnel: Uuid, now: OffsetDateTime) -> String {
    state.signer.sign("verify", &format!("{lead_id}:{funnel}"), now + time::Duration::days(VERIFY_LINK_DAYS))
}

fn verify_link(state: &AppState, token: &str) -> Option<(Uuid, Uuid)> {
    let payload = state.signer.verify("verify", token, state.clock.now())?;
    let (lead, funnel) = payload.split_once(':')?;
    Some((Uuid::parse_str(lead).ok()?, Uuid::parse_str(funnel).ok()?))
}

pub(super) fn done_path(state: &AppState, lead_id: Uuid, now: OffsetDateTime) -> String {
    let t = state.signer.sign("done", &lead_id.to_string(), now + time::Duration::days(VERIFY_LINK_DAYS));
    format!("/request/done?t={t}")
}

fn lead_from(state: &AppState, purpose: &str, token: &str) -> Option<Uuid> {
    Uuid::parse_str(&state.signer.verify(purpose, token, state.clock.now())?).ok()
}

fn link_expired(state: &AppState) -> Response {
    message(
        state,
        StatusCode::NOT_FOUND,
        "This link has expired",
        &["For your privacy, these links only work for a while.".into(), "You can send a new request any time.".into()],
        Some(("/request", "Start a new request")),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    t: String,
}

async fn verify_page(state: &AppState, token: &str, lead_id: Uuid, shown: Shown<'_>, status: StatusCode) -> Response {
    let mut conn = match state.pool.acquire().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let lead = match store::leads::get(&mut conn, lead_id).await {
        Ok(Some(l)) => l,
        Ok(None) => return link_expired(state),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let masked = UsPhone::parse(&lead.phone).map(|p| p.masked()).unwrap_or_default();
    let chrome = Chrome::of(state);
    let minutes = state.settings.intake.code_ttl.as_secs() / 60;
    html(&VerifyPage { chrome, token, masked_phone: &masked, shown, minutes }, status)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerifyQuery {
    t: String,
    /// Set when a repeat of an unconfirmed request brought the person back here.
    again: Option<String>,
}

pub async fn show_verify(State(state): State<AppState>, Query(q): Query<VerifyQuery>) -> Response {
    let notice = q.again.is_some().then_some(
        "You started this request earlier, and your phone isn't confirmed yet. Type the code we texted you and it goes to plumbers.",
    );
    match verify_link(&state, &q.t) {
        Some((lead_id, _)) => {
            verify_page(&state, &q.t, lead_id, Shown { notice, ..Shown::default() }, StatusCode::OK).await
        }
        None => link_expired(&state),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    t: String,
    code: String,
}

pub async fn check_code(State(state): State<AppState>, Form(f): Form<CodeForm>) -> Response {
    let Some((lead_id, funnel)) = verify_link(&state, &f.t) else { return link_expired(&state) };
    match intake::verify(&state, lead_id, &f.code, Some(funnel)).await {
        Ok(_) => Redirect::to(&done_path(&state, lead_id, state.clock.now())).into_response(),
        Err(ServiceError::NotFound) => link_expired(&state),
        Err(ServiceError::Code(e)) => {
            let error = super::code_message(e);
            let shown = Shown { error: Some(&error), ..Shown::default() };
            verify_page(&state, &f.t, lead_id, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn resend_code(State(state): State<AppState>, Form(f): Form<TokenQuery>) -> Response {
    let Some((lead_id, _)) = verify_link(&state, &f.t) else { return link_expired(&state) };
    match intake::resend(&state, lead_id).await {
        Ok(_) => {
            let shown =
                Shown { notice: Some("We've texted you a new code. The old one no longer works."), ..Shown::default() };
            verify_page(&state, &f.t, lead_id, shown, StatusCode::OK).await
        }
        Err(ServiceError::NotFound) => link_expired(&state),
        // A refused resend is about the button, not the code box: said above the form, with
        // how long to wait.
        Err(ServiceError::Code(e)) => {
            let said = resend_refused(e);
            let shown = Shown { notice: Some(&said), ..Shown::default() };
            let mut res = verify_page(&state, &f.t, lead_id, shown, StatusCode::TOO_MANY_REQUESTS).await;
            if let CodeError::ResendTooSoon { retry_after } = e {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            }
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Why no new code was sent, and when one can be.
fn resend_refused(e: CodeError) -> String {
    match e {
        CodeError::ResendTooSoon { retry_after } => {
            let secs = retry_after.as_secs().max(1);
            let wait = match secs {
                1 => "1 second".to_owned(),
                2..90 => format!("{secs} seconds"),
                _ => format!("{} minutes", secs.div_ceil(60)),
            };
            format!("We just texted you a code. You can ask for another one in {wait}; the last one still works.")
        }
        other => super::code_message(other),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhoneForm {
    t: String,
    phone: String,
}

/// "Wrong number?": the request takes the corrected number and a code goes there.
pub async fn change_phone(State(state): State<AppState>, Form(f): Form<PhoneForm>) -> Response {
    let Some((lead_id, _)) = verify_link(&state, &f.t) else { return link_expired(&state) };
    match intake::change_phone(&state, lead_id, &f.phone).await {
        Ok(masked) => {
            let said = format!("Thanks — we've texted a new code to {masked}.");
            verify_page(&state, &f.t, lead_id, Shown { notice: Some(&said), ..Shown::default() }, StatusCode::OK).await
        }
        Err(ServiceError::NotFound) => link_expired(&state),
        Err(ServiceError::Invalid(errors)) => {
            let said = errors.first().map(|e| e.message.clone()).unwrap_or_default();
            let shown = Shown { phone: &f.phone, phone_error: Some(&said), ..Shown::default() };
            verify_page(&state, &f.t, lead_id, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ServiceError::Code(e)) => {
            let said = super::code_message(e);
            let shown = Shown { phone: &f.phone, phone_error: Some(&said), ..Shown::default() };
            verify_page(&state, &f.t, lead_id, shown, StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn done(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(lead_id) = lead_from(&state, "done", &q.t) else { return link_expired(&state) };
    let status_link = intake::status_url(&state, lead_id, state.clock.now());
    let lead = match state.pool.acquire().await {
        Ok(mut conn) => store::leads::get(&mut conn, lead_id).await,
        Err(e) => Err(e),
    };
    let lead = match lead {
        Ok(Some(l)) => l,
        Ok(None) => return link_expired(&state),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let taking = match intake::coverage(&state, &lead.zip, &lead.category).await {
        Ok(n) => n,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut lines: Vec<String> = if taking > 0 {
        vec![
            "Thanks — your phone is confirmed and your request is on its way to up to 3 local plumbers.".into(),
            "Expect a call soon. We've also texted you a link to see which plumbers took your request.".into(),
        ]
    } else {
        // Said plainly: "expect a call" would be a promise nobody is there to keep.
        vec![
            "Thanks — your phone is confirmed and we've kept your request.".into(),
            format!(
                "No plumber on PlumberLeads takes {} jobs around {} yet, so nobody may call. Please call a local plumber too; we'll keep offering it for a while in case one joins.",
                lead.category_name.to_lowercase(),
                lead.zip
            ),
        ]
    };
    if taking == 0 && lead.urgency == "emergency" {
        lines.push(
            "Water coming in? Turn off your main water valve now: turn the handle clockwise until it stops.".into(),
        );
    }
    let label = if taking > 0 { "See who's taking my request" } else { "See my request" };
    message(&state, StatusCode::OK, "You're all set", &lines, Some((&status_link, label)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusQuery {
    /// Set after "Add this" added a note.
    added: Option<String>,
}

pub async fn status(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    Query(q): Query<StatusQuery>,
) -> Response {
    let Some(lead_id) = lead_from(&state, "status", &token) else { return link_expired(&state) };
    let mut conn = match state.pool.acquire().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let lead = match store::leads::get(&mut conn, lead_id).await {
        Ok(Some(l)) => l,
        Ok(None) => return link_expired(&state),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let status_text = match lead.status {
        LeadStatus::PendingVerification => "Waiting for you to confirm your phone number.",
        LeadStatus::Verified | LeadStatus::Offered => {
            "Confirmed. We're offering it to local plumbers now — none has taken it yet."
        }
        LeadStatus::Sold => "Taken by local plumbers. Expect their calls.",
        LeadStatus::Unsold => {
            "No plumber could take it this time. We're sorry — please try again or call a plumber directly."
        }
        LeadStatus::Received | LeadStatus::Rejected => "We couldn't send this request to plumbers.",
    };
    let buyers: Vec<Buyer> = match store::purchases::buyers_of(&mut conn, lead_id).await {
        Ok(b) => b
            .into_iter()
            .map(|b| {
                let phone = b.phone.as_deref().and_then(|p| UsPhone::parse(p).ok());
                Buyer {
                    name: b.business_name,
                    tel: phone.as_ref().map(|p| p.as_e164().to_owned()),
                    phone: phone.map(|p| p.national()),
                }
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let taken_so_far;
    let status_text = if lead.status == LeadStatus::Offered && !buyers.is_empty() {
        taken_so_far = format!(
            "Taken by {} so far — expect their call. We're still offering it to others.",
            if buyers.len() == 1 { "one plumber".to_owned() } else { format!("{} plumbers", buyers.len()) }
        );
        taken_so_far.as_str()
    } else {
        status_text
    };
    let (added, waiting) = match store::lead_notes::of(&mut conn, lead_id).await {
        Ok(notes) => notes.into_iter().partition::<Vec<_>, _>(|n| n.added_at.is_some()),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let added = added.into_iter().map(|n| n.body).collect();
    let notice = q.added.is_some().then_some("Added to your request. The plumbers who take it see it.");
    let chrome = Chrome::of(&state);
    let page = StatusPage { chrome, token: &token, lead: &lead, status_text, buyers, added, waiting, notice };
    html(&page, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    note: i64,
}

/// "Add this": the status link's holder (the request's phone) adds a kept note; a second tap
/// finds it added already and shows the same page.
pub async fn add_note(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    let Some(lead_id) = lead_from(&state, "status", &token) else { return link_expired(&state) };
    match intake::add_note(&state, lead_id, f.note).await {
        Ok(_) => Redirect::to(&format!("/r/{token}?added=1#notes")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
