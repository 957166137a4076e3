//! The pro portal's own pages: its home (the onboarding checklist and the mobile-number check),
//! and the account page (devices and password). The profile form is `pro_profile`.

use super::pages::page_error;
use super::sessions::ProPage;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, CodeForm, CsrfForm, CsrfToken, DoneQuery, FieldErrors, Moment, SignedForm, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::account::{ProStatus, SessionEnd};
use serde::Deserialize;
use services::ServiceError;
use services::accounts::{self, SignedIn};
use uuid::Uuid;

type Errors = Vec<FieldError>;

// ---------------------------------------------------------------- the portal's home

#[derive(Template)]
#[template(path = "pro_home.html")]
struct ProHome<'a> {
    chrome: Chrome<'a>,
    business: &'a str,
    name: &'a str,
    email: &'a str,
    masked_phone: &'a str,
    email_verified: bool,
    phone_verified: bool,
    /// (title, section, done)
    steps: Vec<(&'static str, &'static str, bool)>,
    approved: bool,
    in_review: bool,
    ready: bool,
    turned_down: bool,
    /// Staff's word on the last review: what to change, or why not.
    review_message: Option<String>,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for ProHome<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("welcome") => Some("Welcome! Your account is ready. A few steps remain before leads reach you."),
        Some("email_sent") => Some("We sent the link again. It can take a minute to arrive."),
        Some("email_limit") => Some("We've sent several links already. Please check your spam folder."),
        Some("code_sent") => Some("We texted you a new code."),
        Some("phone_verified") => Some("Your mobile number is confirmed."),
        Some("password_changed") => Some("Your password is changed. Every other device was logged out."),
        Some("session_ended") => Some("That device is logged out."),
        Some("submitted") => Some("Thank you! We'll check your licence and insurance and let you know."),
        Some("not_ready") => Some("A few steps are still open — finish them first."),
        _ => None,
    }
}

async fn pro_home_page(
    state: &AppState,
    s: &SignedIn,
    errors: &Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let (progress, profile) = match services::pros::onboarding::progress(state, &s.user).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (business, pro_status, review_message) =
        profile.map(|p| (p.business_name, Some(p.status), p.review_message)).unwrap_or_default();
    let steps = vec![
        ("Business details and licence", "business", progress.licence),
        ("Insurance certificate", "insurance", progress.insurance),
        ("Where you work", "area", progress.service_area),
        ("What you do", "services", progress.services),
        ("When you take jobs", "hours", progress.hours),
        ("Which leads you want", "preferences", progress.preferences),
    ];
    let masked = s
        .user
        .phone
        .as_deref()
        .and_then(|p| domain::lead::UsPhone::parse(p).ok())
        .map(|p| p.masked())
        .unwrap_or_default();
    let chrome = Chrome::signed_in(state, s);
    html(
        &ProHome {
            chrome,
            business: &business,
            name: &s.user.name,
            email: &s.user.email,
            masked_phone: &masked,
            email_verified: s.user.email_verified_at.is_some(),
            phone_verified: s.user.phone_verified_at.is_some(),
            steps,
            approved: pro_status == Some(ProStatus::Active),
            in_review: pro_status == Some(ProStatus::PendingApproval),
            ready: progress.ready_for_review(),
            turned_down: pro_status == Some(ProStatus::Suspended),
            review_message,
            csrf: &s.session.csrf_token,
            errors,
            notice,
        },
        status,
    )
}

pub async fn pro_home(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    // Once approved, home is the working view: offers, wallet, bought leads.
    if q.done().is_none()
        && let Ok((_, Some(profile))) = services::pros::onboarding::progress(&state, &s.user).await
        && profile.status == ProStatus::Active
    {
        return Redirect::to("/pro/offers").into_response();
    }
    pro_home_page(&state, &s, &Vec::new(), notice_for(q.done()), StatusCode::OK).await
}

pub async fn verify_phone(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(form): SignedForm<CodeForm>,
) -> Response {
    match accounts::verify_phone(&state, s.user.id, &form.code, &ip.to_string()).await {
        Ok(()) => Redirect::to("/pro?done=phone_verified").into_response(),
        Err(e) => phone_code_refused(&state, &s, e, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

pub async fn resend_phone_code(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match accounts::resend_phone_code(&state, s.user.id).await {
        Ok(()) => Redirect::to("/pro?done=code_sent").into_response(),
        Err(e) => phone_code_refused(&state, &s, e, StatusCode::TOO_MANY_REQUESTS).await,
    }
}

/// A code that was not taken (or not sent) shows beside the code field; anything else as usual.
async fn phone_code_refused(state: &AppState, s: &SignedIn, e: ServiceError, status: StatusCode) -> Response {
    match e {
        ServiceError::Code(c) => {
            pro_home_page(state, s, &vec![FieldError { field: "code", message: super::code_message(c) }], None, status)
                .await
        }
        e => page_error(e),
    }
}

// ---------------------------------------------------------------- devices and password

struct SessionRow {
    id: Uuid,
    current: bool,
    device: String,
    ip: String,
    since: Moment,
    last_seen: Moment,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    chrome: Chrome<'a>,
    sessions: &'a [SessionRow],
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for AccountPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

/// A short description of a browser from its User-Agent, for people to recognise their devices.
fn device(ua: Option<&str>, kind: &str) -> String {
    let ua = ua.unwrap_or("");
    let browser = ["Edg", "Firefox", "Chrome", "Safari"]
        .into_iter()
        .find(|b| ua.contains(b))
        .map(|b| if b == "Edg" { "Edge" } else { b });
    let os =
        [("iPhone", "iPhone"), ("Android", "Android"), ("Mac OS", "Mac"), ("Windows", "Windows"), ("Linux", "Linux")]
            .into_iter()
            .find(|(k, _)| ua.contains(k))
            .map(|(_, v)| v);
    match (browser, os, kind) {
        (_, _, "api") => "The PlumberLeads app or an API client".to_owned(),
        (Some(b), Some(o), _) => format!("{b} on {o}"),
        (Some(b), None, _) => b.to_owned(),
        _ => "A web browser".to_owned(),
    }
}

async fn account_page(
    state: &AppState,
    s: &SignedIn,
    errors: &Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let list = async {
        let mut conn = state.pool.acquire().await?;
        Ok::<_, ApiError>(store::sessions::list_open(&mut conn, s.user.id).await?)
    }
    .await;
    let now = state.clock.now();
    let rows: Vec<SessionRow> = match list {
        Ok(list) => list
            .into_iter()
            .filter(|x| accounts::is_live(state, x, now))
            .map(|x| SessionRow {
                id: x.id,
                current: x.id == s.session.id,
                device: device(x.user_agent.as_deref(), &x.kind),
                ip: x.ip.unwrap_or_default(),
                since: Moment::new(x.created_at),
                last_seen: Moment::new(x.last_seen_at),
            })
            .collect(),
        Err(e) => return e.into_response(),
    };
    let chrome = Chrome::signed_in(state, s);
    html(&AccountPage { chrome, sessions: &rows, csrf: &s.session.csrf_token, errors, notice }, status)
}

pub async fn account(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    account_page(&state, &s, &Vec::new(), notice_for(q.done()), StatusCode::OK).await
}

pub async fn end_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    Path(id): Path<Uuid>,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match accounts::end_session(&state, s.user.id, id, SessionEnd::EndedByOwner, &ip.to_string()).await {
        Ok(true) => Redirect::to("/pro/account?done=session_ended").into_response(),
        // Another account's session, or one already ended: nothing to say about it.
        Ok(false) => ApiError::NotFound.into_response(),
        Err(e) => page_error(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    password: String,
}

impl CsrfToken for PasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(form): SignedForm<PasswordForm>,
) -> Response {
    match accounts::change_password(
        &state,
        s.user.id,
        s.session.id,
        &form.current_password,
        &form.password,
        &ip.to_string(),
    )
    .await
    {
        Ok(()) => Redirect::to("/pro/account?done=password_changed").into_response(),
        Err(ServiceError::Invalid(errors)) => {
            account_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(e),
    }
}
