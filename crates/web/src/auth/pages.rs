//! The account pages: sign up, log in and out, confirm e-mail and mobile, the pro portal's
//! home (the onboarding checklist), devices and password, forgotten password. Server-rendered,
//! no JavaScript needed. Every form that changes something checks the request came from our own
//! pages (Origin / Sec-Fetch-Site), and signed-in forms also carry the session's CSRF token.

use super::sessions::{self, MaybeSignedIn, ProPage};
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, html, message};
use crate::html::{
    CodeForm, CsrfForm, CsrfToken, FieldErrors, OurForm, SignedForm, csrf_ok, forbidden_cross_site, user_agent,
};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::account::SessionEnd;
use domain::account::SignupInput;
use serde::Deserialize;
use services::accounts::SignedIn;
use services::accounts::{self, Client};
use services::{Conflict, ServiceError};
use uuid::Uuid;

type Errors = Vec<(String, String)>;

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
    fn field_errors(&self) -> &[(String, String)] {
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
    if who.is_some() {
        return Redirect::to("/pro").into_response();
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
        Err(ServiceError::Invalid(errors)) => errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
        Err(ServiceError::Conflict(Conflict::EmailTaken)) => vec![(
            "email".into(),
            "That e-mail already has an account — log in, or reset the password if you've forgotten it.".into(),
        )],
        Err(e) => return page_error(e),
    };
    drop(password);
    signup_page(&state, &form, &errors, None, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Errors a page cannot show next to a field.
fn page_error(e: ServiceError) -> Response {
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
    if who.is_some() {
        return Redirect::to(next).into_response();
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
            Err(e) => return page_error(e),
        };
    let errors = vec![("email".to_owned(), message)];
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
    Query(q): Query<TokenQuery>,
) -> Response {
    match accounts::verify_email(&state, &q.token, &ip.to_string()).await {
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
    status: &'a str,
    ready: bool,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for ProHome<'_> {
    fn field_errors(&self) -> &[(String, String)] {
        self.errors
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
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
    let (business, pro_status) = profile.map(|p| (p.business_name, p.status)).unwrap_or_default();
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
    let chrome = Chrome::of(state);
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
            status: &pro_status,
            ready: progress.ready_for_review(),
            csrf: &s.session.csrf_token,
            errors,
            notice,
        },
        status,
    )
}

pub async fn pro_home(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    pro_home_page(&state, &s, &Vec::new(), notice_for(q.done.as_deref()), StatusCode::OK).await
}

pub async fn verify_phone(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ProPage(s): ProPage,
    SignedForm(form): SignedForm<CodeForm>,
) -> Response {
    match accounts::verify_phone(&state, s.user.id, &form.code, &ip.to_string()).await {
        Ok(()) => Redirect::to("/pro?done=phone_verified").into_response(),
        Err(ServiceError::Code(c)) => {
            pro_home_page(
                &state,
                &s,
                &vec![("code".into(), super::code_message(c))],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => page_error(e),
    }
}

pub async fn resend_phone_code(
    State(state): State<AppState>,
    ProPage(s): ProPage,
    SignedForm(_): SignedForm<CsrfForm>,
) -> Response {
    match accounts::resend_phone_code(&state, s.user.id).await {
        Ok(()) => Redirect::to("/pro?done=code_sent").into_response(),
        Err(ServiceError::Code(c)) => {
            pro_home_page(
                &state,
                &s,
                &vec![("code".into(), super::code_message(c))],
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------- devices and password

struct SessionRow {
    id: Uuid,
    current: bool,
    device: String,
    ip: String,
    since: String,
    last_seen: String,
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
    fn field_errors(&self) -> &[(String, String)] {
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

fn when(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[month repr:short] [day padding:none], [hour]:[minute] UTC");
    t.format(&f).unwrap_or_default()
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
                since: when(x.created_at),
                last_seen: when(x.last_seen_at),
            })
            .collect(),
        Err(e) => return e.into_response(),
    };
    let chrome = Chrome::of(state);
    html(&AccountPage { chrome, sessions: &rows, csrf: &s.session.csrf_token, errors, notice }, status)
}

pub async fn account(State(state): State<AppState>, ProPage(s): ProPage, Query(q): Query<DoneQuery>) -> Response {
    account_page(&state, &s, &Vec::new(), notice_for(q.done.as_deref()), StatusCode::OK).await
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
            let errors = errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect();
            account_page(&state, &s, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
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
        Err(ServiceError::Invalid(errors)) => errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
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
