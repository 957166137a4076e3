//! A pro closing their own account: what it does (the wallet's money back to the card), then
//! the password and a tick to say they understand. The rules are `services::accounts::close_account`.

use super::pages::page_error;
use super::sessions::{self, ProPage};
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, CsrfToken, FieldErrors, SignedForm, html, message};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::{Cents, FieldError};
use serde::Deserialize;
use services::ServiceError;
use services::accounts::{self, SignedIn};

#[derive(Template)]
#[template(path = "close_account.html")]
struct ClosePage<'a> {
    chrome: Chrome<'a>,
    balance: Cents,
    contact: &'a str,
    understood: bool,
    csrf: &'a str,
    errors: &'a [FieldError],
    notice: Option<&'a str>,
}

impl FieldErrors for ClosePage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

async fn close_page(
    state: &AppState,
    s: &SignedIn,
    understood: bool,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let balance = match services::market::wallet::balance(state, s.user.id).await {
        Ok(b) => b,
        Err(e) => return page_error(e),
    };
    let chrome = Chrome::signed_in(state, s);
    let contact = crate::info_pages::contact(state);
    html(&ClosePage { chrome, balance, contact, understood, csrf: &s.session.csrf_token, errors, notice: None }, status)
}

pub async fn show(State(state): State<AppState>, ProPage(s): ProPage) -> Response {
    close_page(&state, &s, false, &[], StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CloseForm {
    csrf: String,
    password: String,
    understood: Option<String>,
}

impl CsrfToken for CloseForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn close(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    ProPage(s): ProPage,
    SignedForm(form): SignedForm<CloseForm>,
) -> Response {
    let understood = form.understood.is_some();
    match accounts::close_account(&state, s.user.id, &form.password, understood, &ip.to_string()).await {
        Ok(refunded) => {
            let refund = if refunded.0 > 0 {
                format!(
                    "The {refunded} that was in your wallet is on its way back to the card you paid with. Banks take 5 to 10 working days to show it."
                )
            } else {
                "Your wallet was empty, so there was nothing to refund.".to_owned()
            };
            let lines = [refund, format!("We sent a note to {}. Thank you for working with us.", s.user.email)];
            let page =
                message(&state, StatusCode::OK, "Your account is closed", &lines, Some(("/", "Go to the home page")));
            (jar.add(sessions::removal()), page).into_response()
        }
        Err(ServiceError::Invalid(errors)) => {
            close_page(&state, &s, understood, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(e),
    }
}
