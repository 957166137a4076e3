//! The back office's door: the second-factor page (enrol with a QR code, or enter a code) and
//! the staff home. Only from allow-listed addresses; everything else staff can do arrives with
//! later issues behind the same `StaffPage` guard.

use super::sessions::{self, AdminPage, StaffMfaPage, StaffPage};
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, Moment, html};
use crate::html::{CodeForm, CsrfToken, FieldErrors, SignedForm};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::FieldError;
use serde::Deserialize;
use services::accounts::SignedIn;
use services::accounts::{self, SecondFactorStep};
use services::infra::totp;
use services::{Conflict, ServiceError};

type Errors = Vec<FieldError>;

#[derive(Template)]
#[template(path = "staff_mfa.html")]
struct MfaPage<'a> {
    chrome: Chrome<'a>,
    enrolling: bool,
    qr_svg: &'a str,
    secret_text: &'a str,
    recovery_codes: Option<&'a [String]>,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for MfaPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

async fn mfa_page(
    state: &AppState,
    who: &SignedIn,
    errors: &Errors,
    recovery_codes: Option<&[String]>,
    status: StatusCode,
) -> Response {
    let step = if recovery_codes.is_some() {
        SecondFactorStep::Verify
    } else {
        match accounts::second_factor_step(state, who.user.id).await {
            Ok(s) => s,
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    let (enrolling, qr, text) = match &step {
        SecondFactorStep::Enrol { secret } => {
            (true, super::qr::qr_svg(&totp::otpauth_url(secret, &who.user.email)), totp::secret_text(secret))
        }
        SecondFactorStep::Verify => (false, String::new(), String::new()),
    };
    let chrome = Chrome::signed_in(state, who);
    html(
        &MfaPage {
            chrome,
            enrolling,
            qr_svg: &qr,
            secret_text: &text,
            recovery_codes,
            csrf: &who.session.csrf_token,
            errors,
            notice: None,
        },
        status,
    )
}

pub async fn show_mfa(State(state): State<AppState>, StaffMfaPage(who): StaffMfaPage) -> Response {
    if who.session.mfa_at.is_some() {
        return Redirect::to("/staff").into_response();
    }
    mfa_page(&state, &who, &Vec::new(), None, StatusCode::OK).await
}

pub async fn check_mfa(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffMfaPage(who): StaffMfaPage,
    jar: CookieJar,
    SignedForm(form): SignedForm<CodeForm>,
) -> Response {
    let caller = accounts::Caller { ip, user_agent: None };
    match accounts::verify_second_factor(&state, &who, &form.code, caller).await {
        Ok(up) => {
            let jar = jar.add(sessions::cookie(up.secret));
            match up.recovery_codes {
                Some(codes) => {
                    let mut who = who;
                    who.session.csrf_token = up.csrf_token;
                    (jar, mfa_page(&state, &who, &Vec::new(), Some(&codes), StatusCode::OK).await).into_response()
                }
                None => (jar, Redirect::to("/staff")).into_response(),
            }
        }
        Err(ServiceError::SecondFactorWrong) => {
            let errors = vec![FieldError {
                field: "code",
                message: "That code didn't work. Use the newest code from your app — each one works once.".to_owned(),
            }];
            mfa_page(&state, &who, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

struct ProRow {
    business_name: String,
    owner_name: String,
    email: String,
    email_verified: bool,
    phone_verified: bool,
    status: &'static str,
    signed_up: Moment,
}

/// One line of the audit view.
struct AuditRow {
    seq: i64,
    at: Moment,
    what: String,
    who: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StaffHome<'a> {
    chrome: Chrome<'a>,
    name: &'a str,
    pros: &'a [ProRow],
    audit: &'a [AuditRow],
    pending: &'a [PendingRow],
    unmet: &'a [services::market::unmet::UnmetArea],
    unmet_days: i64,
    notice: Option<&'a str>,
    is_admin: bool,
    csrf: &'a str,
}

struct PendingRow {
    id: uuid::Uuid,
    business: String,
    licence: String,
    has_insurance: bool,
    submitted: Option<Moment>,
}

pub async fn home(
    State(state): State<AppState>,
    StaffPage(who): StaffPage,
    axum::extract::Query(q): axum::extract::Query<crate::html::DoneQuery>,
) -> Response {
    let data = async {
        let mut conn = state.pool.acquire().await?;
        let pros = store::accounts::recent_pros(&mut conn, 50).await?;
        let audit = store::audit::recent_listed(&mut conn, 20).await?;
        let pending = store::profiles::pending(&mut conn, 50).await?;
        let unmet = services::market::unmet::recent(&state).await?;
        Ok::<_, ApiError>((pros, audit, pending, unmet))
    }
    .await;
    let (pros, audit, pending, unmet) = match data {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let pros: Vec<ProRow> = pros
        .into_iter()
        .map(|p| ProRow {
            business_name: p.business_name,
            owner_name: p.owner_name,
            email: p.email,
            email_verified: p.email_verified,
            phone_verified: p.phone_verified,
            status: p.status.label(),
            signed_up: Moment::new(p.created_at),
        })
        .collect();
    let audit: Vec<AuditRow> = audit
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: Moment::new(r.at),
            what: services::audit::AuditAction::parse(&r.action).map_or(r.action.clone(), |a| a.label().to_owned()),
            who: r.actor.unwrap_or_else(|| "PlumberLeads (system or operator)".to_owned()),
            ip: r.ip.unwrap_or_default(),
        })
        .collect();
    let pending: Vec<PendingRow> = pending
        .into_iter()
        .map(|p| PendingRow {
            id: p.user_id,
            business: p.business_name,
            licence: format!("{} {}", p.licence_state.unwrap_or_default(), p.licence_number.unwrap_or_default()),
            has_insurance: p.insurance_key.is_some(),
            submitted: p.submitted_at.map(Moment::new),
        })
        .collect();
    let notice = match q.done() {
        Some("approved") => Some("Approved. They can receive leads now; we've told them."),
        Some("changes_asked") => Some("Sent back for changes; we've told them what to change."),
        Some("turned_down") => Some("Turned down; we've told them why."),
        _ => None,
    };
    let chrome = Chrome::signed_in(&state, &who);
    html(
        &StaffHome {
            chrome,
            name: &who.user.name,
            pros: &pros,
            audit: &audit,
            pending: &pending,
            unmet: &unmet,
            unmet_days: services::market::unmet::LOOKBACK_DAYS,
            notice,
            is_admin: who.role() == Some(domain::account::Role::Admin),
            csrf: &who.session.csrf_token,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "staff_confirm.html")]
struct ConfirmPage<'a> {
    chrome: Chrome<'a>,
    next: &'a str,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for ConfirmPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

/// Only back to a staff page.
fn staff_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/staff") && !n.contains("//") && !n.contains('\\') => n,
        _ => "/staff",
    }
}

/// Where a sensitive action sends staff who have not confirmed recently.
pub fn confirm_first(next: &str) -> Response {
    Redirect::to(&format!("/staff/confirm?next={next}")).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: Option<String>,
}

fn confirm_page(state: &AppState, who: &SignedIn, next: &str, errors: &Errors, status: StatusCode) -> Response {
    let chrome = Chrome::signed_in(state, who);
    let notice = Some("For your safety, confirm it's you before this change.");
    html(&ConfirmPage { chrome, next, csrf: &who.session.csrf_token, errors, notice }, status)
}

pub async fn show_confirm(
    State(state): State<AppState>,
    StaffPage(who): StaffPage,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    confirm_page(&state, &who, staff_next(q.next.as_deref()), &Vec::new(), StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    csrf: String,
    password: String,
    code: String,
    next: String,
}

impl CsrfToken for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(who): StaffPage,
    jar: CookieJar,
    SignedForm(form): SignedForm<ConfirmForm>,
) -> Response {
    let next = staff_next(Some(&form.next)).to_owned();
    let caller = accounts::Caller { ip, user_agent: None };
    match accounts::reauthenticate(&state, &who, &form.password, &form.code, caller).await {
        Ok(up) => (jar.add(sessions::cookie(up.secret)), Redirect::to(&next)).into_response(),
        Err(ServiceError::BadCredentials | ServiceError::SecondFactorWrong) => {
            let errors = vec![FieldError {
                field: "code",
                message: "That password and code don't match. Try the newest code.".to_owned(),
            }];
            confirm_page(&state, &who, &next, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "staff_team.html")]
struct TeamPage<'a> {
    chrome: Chrome<'a>,
    members: &'a [store::accounts::StaffMember],
    created: Option<(&'a str, &'a str)>,
    csrf: &'a str,
    errors: &'a Errors,
    notice: Option<&'a str>,
}

impl FieldErrors for TeamPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

async fn team_page(
    state: &AppState,
    who: &SignedIn,
    created: Option<(&str, &str)>,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let members = async {
        let mut conn = state.pool.acquire().await?;
        Ok::<_, ApiError>(store::accounts::staff(&mut conn).await?)
    }
    .await;
    let members = match members {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let chrome = Chrome::signed_in(state, who);
    html(&TeamPage { chrome, members: &members, created, csrf: &who.session.csrf_token, errors, notice: None }, status)
}

pub async fn team(State(state): State<AppState>, AdminPage(who): AdminPage) -> Response {
    team_page(&state, &who, None, &Vec::new(), StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewStaffForm {
    csrf: String,
    email: String,
    name: String,
    admin: Option<String>,
}

impl CsrfToken for NewStaffForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn add_staff(
    State(state): State<AppState>,
    AdminPage(who): AdminPage,
    SignedForm(form): SignedForm<NewStaffForm>,
) -> Response {
    if !accounts::recently_confirmed(&state, &who) {
        return confirm_first("/staff/team");
    }
    let role = if form.admin.is_some() { domain::account::Role::Admin } else { domain::account::Role::Staff };
    match accounts::create_staff(&state, Some(who.user.id), &form.email, &form.name, role).await {
        Ok((_, password)) => {
            team_page(&state, &who, Some((form.email.trim(), &password)), &Vec::new(), StatusCode::CREATED).await
        }
        Err(ServiceError::Invalid(errors)) => {
            team_page(&state, &who, None, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ServiceError::Conflict(Conflict::EmailTaken)) => {
            let errors = vec![FieldError { field: "email", message: "That e-mail already has an account.".to_owned() }];
            team_page(&state, &who, None, &errors, StatusCode::CONFLICT).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
