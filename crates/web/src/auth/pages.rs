//! Getting in: sign up, log in and out, the e-mailed links (confirm the address, reset a
//! forgotten password). The portal's own pages are `portal_pages`. Server-rendered,
//! no JavaScript needed. Every form that changes something checks the request came from our own
//! pages (Origin / Sec-Fetch-Site), and signed-in forms also carry the session's CSRF token.

use super::sessions::{self, MaybeSignedIn, ProPage};
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, home_of, html, message};
use crate::html::{CsrfForm, FieldErrors, OurForm, SignedForm, csrf_ok, forbidden_cross_site, user_agent};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::FieldError;
use domain::account::SessionEnd;
use domain::account::SignupInput;
use serde::Deserialize;
use services::accounts::{self, Client};
use services::{Conflict, ServiceError};

type Errors = Vec<FieldError>;

fn with_cookie(jar: CookieJar, res: Response) -> Response {
    (jar, res).into_response()
}

// ---------------------------------------------------------------- sign up

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    chrome: Chrome<'a>,
    form: &'a SignupInput,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for SignupPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

fn signup_page(
    state: &AppState,
    form: &SignupInput,
    errors: &Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::of(state);
    html(&SignupPage { chrome, form, errors, notice }, status)
}

pub async fn show_signup(State(state): State<AppState>, MaybeSignedIn(who): MaybeSignedIn) -> Response {
    if let Some(who) = &who {
        return Redirect::to(home_of(who)).into_response();
    }
    signup_page(&state, &SignupInput::default(), &Vec::new(), None, StatusCode::OK)
}

pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    OurForm(mut form): OurForm<SignupInput>,
) -> Response {
    let result = accounts::signup(&state, &form, &ip.to_string()).await;
    // The password is never sent back into the page.
    let password = std::mem::take(&mut form.password);
    let errors: Errors = match result {
        Ok(id) => {
            let caller = accounts::Caller { ip, user_agent: user_agent(&headers) };
            return match accounts::start_session(&state, id, Client::Browser, caller).await {
                Ok(l) => {
                    with_cookie(jar.add(sessions::cookie(l.secret)), Redirect::to("/pro?done=welcome").into_response())
                }
                Err(e) => page_error(e),
            };
        }
        Err(ServiceError::Invalid(errors)) => errors,
        Err(ServiceError::Conflict(Conflict::EmailTaken)) => vec![FieldError {
            field: "email",
            message: "That e-mail already has an account — log in, or reset the password if you've forgotten it."
                .into(),
        }],
        Err(e) => return page_error(e),
    };
    drop(password);
    signup_page(&state, &form, &errors, None, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Errors a page cannot show next to a field.
pub(super) fn page_error(e: ServiceError) -> Response {
    ApiError::from(e).into_response()
}

// ---------------------------------------------------------------- log in and out

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Chrome<'a>,
    email: &'a str,
    next: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

pub async fn show_login(
    State(state): State<AppState>,
    MaybeSignedIn(who): MaybeSignedIn,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = sessions::safe_next(q.next.as_deref());
    // Already signed in: on to where they were going, or to their own home (staff have no /pro).
    if let Some(who) = &who {
        return Redirect::to(if q.next.is_some() { next } else { home_of(who) }).into_response();
    }
    let notice = match q.done.as_deref() {
        Some("password_reset") => Some("Your password is changed. Log in with the new one."),
        Some("logged_out") => Some("You're logged out."),
        _ => None,
    };
    let chrome = Chrome::of(&state);
    html(&LoginPage { chrome, email: "", next, errors: &Vec::new(), notice }, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    OurForm(form): OurForm<LoginForm>,
) -> Response {
    let next = sessions::safe_next(Some(&form.next)).to_owned();
    let caller = accounts::Caller { ip, user_agent: user_agent(&headers) };
    let (status, message) =
        match accounts::login(&state, &form.email, &form.password, None, Client::Browser, caller).await {
            Ok(l) => {
                // A new session id at every login: a planted cookie (session fixation) is dropped.
                // Staff go on to their second factor; the session opens nothing else until then.
                let target = if l.role.is_staff() { "/staff/mfa".to_owned() } else { next.clone() };
                return with_cookie(jar.add(sessions::cookie(l.secret)), Redirect::to(&target).into_response());
            }
            Err(ServiceError::BadCredentials) => (
                StatusCode::UNAUTHORIZED,
                "That e-mail and password don't match an account. Check both and try again.".to_owned(),
            ),
            Err(ServiceError::Throttled { retry_after }) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many tries. For your account's safety, please wait {} and try again — or reset your password.",
                    wait_words(retry_after)
                ),
            ),
            Err(ServiceError::StaffNotAllowedHere) => {
                (StatusCode::FORBIDDEN, "Staff accounts can only sign in from the office network.".to_owned())
            }
            Err(ServiceError::AccountClosed) => (
                StatusCode::FORBIDDEN,
                format!("This account was closed. To open it again, write to {}.", crate::info_pages::contact(&state)),
            ),
            Err(e) => return page_error(e),
        };
    let errors = vec![FieldError { field: "email", message }];
    let chrome = Chrome::of(&state);
    html(&LoginPage { chrome, email: &form.email, next: &next, errors: &errors, notice: None }, status)
}

fn wait_words(d: std::time::Duration) -> String {
    let s = d.as_secs().max(1);
    if s < 90 { format!("{s} seconds") } else { format!("{} minutes", s.div_ceil(60)) }
}

pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    MaybeSignedIn(who): MaybeSignedIn,
    OurForm(form): OurForm<CsrfForm>,
) -> Response {
    if let Some(s) = who {
        if !csrf_ok(&s, &form.csrf) {
            return forbidden_cross_site();
        }
        if let Err(e) =
            accounts::end_session(&state, s.user.id, s.session.id, SessionEnd::Logout, &ip.to_string()).await
        {
            return page_error(e);
        }
    }
    with_cookie(jar.add(sessions::removal()), Redirect::to("/login?done=logged_out").into_response())
}

// ---------------------------------------------------------------- e-mail links

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeSignedIn(who): MaybeSignedIn,
    Query(q): Query<TokenQuery>,
) -> Response {
    match accounts::verify_email(&state, &q.token, &ip.to_string()).await {
        // A second tap on the link, signed in to an account whose address is confirmed: say so,
        // rather than send them for a new link they do not need.
        Err(ServiceError::BadLink) if who.as_ref().is_some_and(|w| w.user.email_verified_at.is_some()) => message(
            &state,
            StatusCode::OK,
            "Your e-mail is already confirmed",
            &["Nothing more to do here.".into()],
            Some(("/pro", "Go to your account")),
        ),
        Err(ServiceError::BadLink) if who.is_some() => message(
            &state,
            StatusCode::BAD_REQUEST,
            "That link has expired or was already used",
            &["Your account page can send you a new one.".into()],
            Some(("/pro", "Go to your account")),
        ),
        Ok(_) => message(
            &state,
            StatusCode::OK,
            "Your e-mail is confirmed",
            &["Thank you. Next: finish your profile so you can receive leads.".into()],
            Some(("/pro", "Go to your account")),
        ),
        Err(ServiceError::BadLink) => message(
            &state,
            StatusCode::BAD_REQUEST,
            "That link has expired or was already used",
            &["Log in and we'll send you a new one.".into()],
            Some(("/pro", "Log in")),
        ),
        Err(e) => page_error(e),
    }
}

pub async fn resend_email(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match accounts::resend_email_link(&state, s.user.id).await {
        Ok(()) => Redirect::to("/pro?done=email_sent").into_response(),
        Err(ServiceError::Throttled { .. }) => Redirect::to("/pro?done=email_limit").into_response(),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------- forgotten password

#[derive(Template)]
#[template(path = "password_form.html")]
struct PasswordFormPage<'a> {
    chrome: Chrome<'a>,
    title: &'a str,
    action: &'a str,
    button: &'a str,
    ask_email: bool,
    token: Option<&'a str>,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

pub async fn show_forgot(State(state): State<AppState>) -> Response {
    let chrome = Chrome::of(&state);
    html(
        &PasswordFormPage {
            chrome,
            title: "Reset your password",
            action: "/forgot-password",
            button: "E-mail me a link",
            ask_email: true,
            token: None,
            errors: &Vec::new(),
            notice: None,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    OurForm(form): OurForm<ForgotForm>,
) -> Response {
    if !form.email.trim().is_empty()
        && let Err(e) = accounts::request_reset(&state, &form.email, &ip.to_string()).await
    {
        return page_error(e);
    }
    message(
        &state,
        StatusCode::OK,
        "Check your e-mail",
        &["If an account uses that address, we've sent it a link to choose a new password. The link works for one hour.".into()],
        None,
    )
}

pub async fn show_reset(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let chrome = Chrome::of(&state);
    html(
        &PasswordFormPage {
            chrome,
            title: "Choose a new password",
            action: "/reset-password",
            button: "Save my new password",
            ask_email: false,
            token: Some(&q.token),
            errors: &Vec::new(),
            notice: None,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    token: String,
    password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    OurForm(form): OurForm<ResetForm>,
) -> Response {
    let errors: Errors = match accounts::reset_password(&state, &form.token, &form.password, &ip.to_string()).await {
        Ok(()) => return Redirect::to("/login?done=password_reset").into_response(),
        Err(ServiceError::Invalid(errors)) => errors,
        Err(ServiceError::BadLink) => {
            return message(
                &state,
                StatusCode::BAD_REQUEST,
                "That link has expired or was already used",
                &["Ask for a new one.".into()],
                Some(("/forgot-password", "Send me a new link")),
            );
        }
        Err(e) => return page_error(e),
    };
    let chrome = Chrome::of(&state);
    html(
        &PasswordFormPage {
            chrome,
            title: "Choose a new password",
            action: "/reset-password",
            button: "Save my new password",
            ask_email: false,
            token: Some(&form.token),
            errors: &errors,
            notice: None,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
