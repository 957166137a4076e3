//! The link in every new-lead e-mail that stops them. The page asks first (mail scanners open
//! links); its button, or a mail client's one-click `List-Unsubscribe-Post` (RFC 8058), posts
//! back to the same address. The signed link is the only credential: no session, no CSRF token
//! (a mail client has neither), and the worst a replay does is what its owner asked for.

use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, html, message};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use services::ServiceError;
use services::market::unsubscribe;

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage<'a> {
    chrome: Chrome<'a>,
    email: &'a str,
    on: bool,
}

fn refused(state: &AppState, e: ServiceError) -> Response {
    match e {
        ServiceError::BadLink => message(
            state,
            StatusCode::NOT_FOUND,
            "This link doesn't work",
            &["It may have been cut short by your e-mail app. You can turn e-mails about new leads off in your profile, under “How we tell you about offers”.".into()],
            Some(("/pro/profile#notifications", "Open my profile")),
        ),
        e => crate::problem::ApiError::from(e).into_response(),
    }
}

pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match unsubscribe::preview(&state, &token).await {
        Ok((email, on)) => html(&UnsubscribePage { chrome: Chrome::of(&state), email: &email, on }, StatusCode::OK),
        Err(e) => refused(&state, e),
    }
}

pub async fn confirm(State(state): State<AppState>, ClientIp(ip): ClientIp, Path(token): Path<String>) -> Response {
    match unsubscribe::confirm(&state, &token, &ip.to_string()).await {
        Ok(email) => message(
            &state,
            StatusCode::OK,
            "Done: no more e-mails about new leads",
            &[
                format!("We won't e-mail {email} about new leads. Texts and your inbox stay as they are."),
                "Changed your mind? Turn them back on in your profile, under “How we tell you about offers”.".into(),
            ],
            Some(("/pro/profile#notifications", "Open my profile")),
        ),
        Err(e) => refused(&state, e),
    }
}
