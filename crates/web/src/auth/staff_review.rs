//! `/staff/pros/{id}`: staff review a plumber before any lead reaches them: the account, licence
//! and insurance, the whole service area (every ZIP), services, hours and limits; then approve
//! (after ticking that the licence and insurance were checked), send the profile back with what to
//! change, or turn the plumber down with the reason. Each decision asks for password and code
//! again after five minutes, and is audited.

use super::sessions::StaffPage;
use super::staff_pages::confirm_first;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, CsrfToken, FieldErrors, Moment, SignedForm, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::account::ProStatus;
use serde::Deserialize;
use services::ServiceError;
use services::accounts::{self, SignedIn};
use services::pros::approval::{self, ForReview, NotApproved};
use uuid::Uuid;

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[derive(Template)]
#[template(path = "staff_review.html")]
struct ReviewPage<'a> {
    chrome: Chrome<'a>,
    id: Uuid,
    r: &'a ForReview,
    status: &'static str,
    pending: bool,
    submitted: Option<Moment>,
    /// Category names, in the site's order.
    services: Vec<String>,
    /// (weekday, "08:00–17:00").
    hours: Vec<(&'static str, String)>,
    base_place: String,
    errors: &'a [FieldError],
    /// What staff typed in the form that came back with an error.
    typed: &'a str,
    notice: Option<&'a str>,
    csrf: &'a str,
}

impl FieldErrors for ReviewPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

impl ReviewPage<'_> {
    fn typed_for(&self, field: &str) -> &str {
        if self.errors.iter().any(|e| e.field == field) { self.typed } else { "" }
    }
}

pub async fn show(State(state): State<AppState>, StaffPage(staff): StaffPage, Path(id): Path<Uuid>) -> Response {
    page(&state, &staff, id, &[], "", StatusCode::OK).await
}

async fn page(
    state: &AppState,
    staff: &SignedIn,
    id: Uuid,
    errors: &[FieldError],
    typed: &str,
    status: StatusCode,
) -> Response {
    let r = match approval::for_review(state, id).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let categories = match state.categories().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let p = &r.whole.profile;
    let services = categories.iter().filter(|c| r.whole.services.contains(&c.slug)).map(|c| c.name.clone()).collect();
    let hm = time::macros::format_description!("[hour]:[minute]");
    let hours = r
        .whole
        .hours
        .iter()
        .filter_map(|h| {
            let day = WEEKDAYS.get(usize::try_from(h.weekday).ok()?)?; // Monday = 0
            Some((*day, format!("{}–{}", h.opens.format(&hm).ok()?, h.closes.format(&hm).ok()?)))
        })
        .collect();
    let base_place = p
        .base_zip
        .as_deref()
        .and_then(|zip| r.covered.iter().find(|z| z.zip == zip))
        .map(|z| format!("{} ({}, {})", z.zip, z.city, z.state))
        .unwrap_or_else(|| p.base_zip.clone().unwrap_or_default());
    let page = ReviewPage {
        chrome: Chrome::signed_in(state, staff),
        id,
        status: p.status.label(),
        pending: p.status == ProStatus::PendingApproval,
        submitted: p.submitted_at.map(Moment::new),
        services,
        hours,
        base_place,
        r: &r,
        errors,
        typed,
        notice: None,
        csrf: &staff.session.csrf_token,
    };
    html(&page, status)
}

/// Each decision's form: the CSRF token, and the tick (approve) or the message (the others).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    csrf: String,
    checked: Option<String>,
    message: String,
}

impl CsrfToken for DecisionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn approve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(staff): StaffPage,
    Path(id): Path<Uuid>,
    SignedForm(form): SignedForm<DecisionForm>,
) -> Response {
    if !accounts::recently_confirmed(&state, &staff) {
        return confirm_first(&format!("/staff/pros/{id}"));
    }
    if form.checked.is_none() {
        let message = "Tick this once you've checked the licence with the state board and the insurance certificate.";
        let errors = [FieldError { field: "checked", message: message.into() }];
        return page(&state, &staff, id, &errors, "", StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match approval::approve(&state, staff.user.id, id, &ip.to_string()).await {
        Ok(()) => Redirect::to("/staff?done=approved").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn ask_for_changes(
    state: State<AppState>,
    ip: ClientIp,
    staff: StaffPage,
    id: Path<Uuid>,
    form: SignedForm<DecisionForm>,
) -> Response {
    decide(state, ip, staff, id, form, NotApproved::ChangesAsked).await
}

pub async fn turn_down(
    state: State<AppState>,
    ip: ClientIp,
    staff: StaffPage,
    id: Path<Uuid>,
    form: SignedForm<DecisionForm>,
) -> Response {
    decide(state, ip, staff, id, form, NotApproved::TurnedDown).await
}

async fn decide(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(staff): StaffPage,
    Path(id): Path<Uuid>,
    SignedForm(form): SignedForm<DecisionForm>,
    outcome: NotApproved,
) -> Response {
    if !accounts::recently_confirmed(&state, &staff) {
        return confirm_first(&format!("/staff/pros/{id}"));
    }
    let field = match outcome {
        NotApproved::ChangesAsked => "changes",
        NotApproved::TurnedDown => "reason",
    };
    match approval::not_approved(&state, staff.user.id, id, &ip.to_string(), outcome, &form.message).await {
        Ok(()) => {
            let done = match outcome {
                NotApproved::ChangesAsked => "changes_asked",
                NotApproved::TurnedDown => "turned_down",
            };
            Redirect::to(&format!("/staff?done={done}")).into_response()
        }
        // The message comes back where it was typed, with what was typed.
        Err(ServiceError::Invalid(errors)) => {
            let errors: Vec<FieldError> = errors.into_iter().map(|e| FieldError { field, ..e }).collect();
            page(&state, &staff, id, &errors, &form.message, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
