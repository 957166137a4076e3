//! `/staff/disputes`: the disputes our own data could not settle, oldest first, each with the
//! lead, the pro's reason and note and what our data shows; staff credit or deny (a money
//! decision: asks for password and code again after five minutes). A refusal keeps the note typed.

use crate::AppState;
use crate::auth::sessions::StaffPage;
use crate::auth::staff_pages::confirm_first;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, CsrfToken, DoneQuery, SignedForm, html};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Cents, FieldError};
use serde::Deserialize;
use services::accounts::{self, SignedIn};
use services::market::disputes::{self, Decision};
use services::{Conflict, ServiceError};
use store::disputes::OpenDispute;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "staff_disputes.html")]
struct DisputesPage<'a> {
    chrome: Chrome<'a>,
    disputes: Vec<Row>,
    errors: &'a [FieldError],
    notice: Option<&'a str>,
    csrf: &'a str,
}

impl crate::html::FieldErrors for DisputesPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

struct Row {
    d: OpenDispute,
    price: Cents,
    bought: String,
    opened: String,
    /// What staff typed for this dispute before a refusal; else empty.
    note: String,
    /// The refusal for this dispute's form, if it was the one sent.
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

impl CsrfToken for DecisionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("credited") => Some("Credited: the money is back in the plumber's wallet, and they have been told."),
        Some("denied") => Some("Denied: the plumber has been told why."),
        Some("already") => Some("Someone had already decided that dispute."),
        _ => None,
    }
}

pub async fn show(State(state): State<AppState>, StaffPage(s): StaffPage, Query(q): Query<DoneQuery>) -> Response {
    render(&state, &s, None, &[], notice_for(q.done()), StatusCode::OK).await
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    typed: Option<(Uuid, &DecisionForm)>,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let waiting = match disputes::waiting(state).await {
        Ok(w) => w,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let when = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    let disputes = waiting
        .into_iter()
        .map(|d| {
            let this = typed.filter(|(id, _)| *id == d.id);
            Row {
                price: Cents(d.price_cents),
                bought: d.purchased_at.format(&when).unwrap_or_default(),
                opened: d.created_at.format(&when).unwrap_or_default(),
                note: this.map(|(_, f)| f.note.clone()).unwrap_or_default(),
                error: this.and_then(|_| errors.first().map(|e| e.message.clone())),
                d,
            }
        })
        .collect();
    let page =
        DisputesPage { chrome: Chrome::signed_in(state, s), disputes, errors, notice, csrf: &s.session.csrf_token };
    html(&page, status)
}

pub async fn decide(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    StaffPage(s): StaffPage,
    Path(id): Path<Uuid>,
    SignedForm(form): SignedForm<DecisionForm>,
) -> Response {
    if !accounts::recently_confirmed(&state, &s) {
        return confirm_first("/staff/disputes");
    }
    let decision = match form.decision.as_str() {
        "credit" => Decision::Credit,
        "deny" => Decision::Deny,
        _ => {
            let message = "Choose to credit or to deny.".to_owned();
            let errors = [FieldError { field: "decision", message }];
            return render(&state, &s, Some((id, &form)), &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match disputes::decide(&state, s.user.id, id, decision, &form.note, &ip.to_string()).await {
        Ok(()) => {
            let done = if decision == Decision::Credit { "credited" } else { "denied" };
            Redirect::to(&format!("/staff/disputes?done={done}")).into_response()
        }
        Err(ServiceError::Conflict(Conflict::AlreadyDecided)) => {
            Redirect::to("/staff/disputes?done=already").into_response()
        }
        Err(ServiceError::Invalid(errors)) => {
            render(&state, &s, Some((id, &form)), &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
