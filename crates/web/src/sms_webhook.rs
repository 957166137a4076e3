//! `POST /webhooks/twilio/sms`: replies to our texts, forwarded by Twilio (its inbound message
//! webhook: form fields `From`, `To`, `Body`, …, signed in `X-Twilio-Signature`). Answered with
//! TwiML; unsigned or mis-signed requests get 403, and without `TWILIO_AUTH_TOKEN` there is no
//! such endpoint (404).

use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const PATH: &str = "/webhooks/twilio/sms";

#[derive(Template)]
#[template(path = "twiml.xml")]
struct Twiml<'a> {
    message: Option<&'a str>,
}

pub async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    // Twilio signs the URL it was given: ours, as the public see it.
    let url = state.settings.http.public_url.join(PATH).map(String::from).unwrap_or_default();
    let given = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match services::sms_replies::authentic(&state, &url, &params, given) {
        None => return StatusCode::NOT_FOUND.into_response(),
        Some(false) => return StatusCode::FORBIDDEN.into_response(),
        Some(true) => {}
    }
    let field = |name: &str| params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let contact = crate::info_pages::contact(&state);
    let answer = match services::sms_replies::receive(&state, field("From"), field("Body"), contact).await {
        Ok(answer) => answer,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    match (Twiml { message: answer.as_deref() }).render() {
        Ok(xml) => ([(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"))], xml).into_response(),
        Err(e) => crate::problem::ApiError::Internal(e.into()).into_response(),
    }
}
