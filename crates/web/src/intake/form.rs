//! The homeowner's request form: shown, looked up (the ZIP, as it is typed) and submitted; what
//! follows it is `follow`. Server-rendered, works without JavaScript; htmx adds the ZIP look-up
//! and the funnel's "started" step.

use super::follow::{done_path, verify_token};
use super::zip_step::{ZipAnswer, zip_answer};
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::html::{Chrome, FieldErrors, html, message};
use crate::problem::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::lead::{CONSENT_TEXT, ContactPreference, LeadInput, LeadStatus};
use serde::Deserialize;
use services::ServiceError;
use services::intake::funnel::{self, FunnelStep};
use services::intake::{self, Earlier, Outcome, Source, Submission, Submitted};
use std::collections::BTreeMap;
use store::categories::Category;
use time::OffsetDateTime;
use uuid::Uuid;

/// What the form shows and keeps between tries.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub category: String,
    pub urgency: String,
    pub zip: String,
    pub description: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub contact_preference: String,
    pub consent: Option<String>,
    /// The honeypot: hidden from people, filled in by bots.
    pub website: String,
    /// Signed "{funnel id}:{unix time shown}".
    pub form_token: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub utm_term: String,
    pub utm_content: String,
    pub referrer: String,
}

impl RequestForm {
    fn input(&self) -> LeadInput {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
        LeadInput {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: opt(&self.email),
            zip: self.zip.clone(),
            category: self.category.clone(),
            urgency: self.urgency.clone(),
            description: self.description.clone(),
            contact_preference: opt(&self.contact_preference),
            consent: self.consent.as_deref().is_some_and(|v| !v.is_empty()),
        }
    }

    fn utm(&self) -> BTreeMap<String, String> {
        intake::clean_utm([
            ("utm_source".to_owned(), self.utm_source.clone()),
            ("utm_medium".to_owned(), self.utm_medium.clone()),
            ("utm_campaign".to_owned(), self.utm_campaign.clone()),
            ("utm_term".to_owned(), self.utm_term.clone()),
            ("utm_content".to_owned(), self.utm_content.clone()),
        ])
    }
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage<'a> {
    chrome: Chrome<'a>,
    form: &'a RequestForm,
    categories: &'a [Category],
    /// In form order, for the summary at the top.
    errors: &'a [FieldError],
    notice: Option<&'a str>,
    consent_text: &'a str,
    form_token: &'a str,
    zip: ZipAnswer,
}

impl FieldErrors for RequestPage<'_> {
    fn field_errors(&self) -> &[FieldError] {
        self.errors
    }
}

/// How many kinds of job the form shows before "More kinds of job" (the most asked for; the
/// whole list was over four phone screens before the ZIP).
const JOBS_SHOWN: usize = 6;

impl RequestPage<'_> {
    fn is(&self, value: &str, expected: &str) -> bool {
        value == expected
    }

    /// The job already chosen (from the home page's list, or kept after an error).
    fn chosen(&self) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == self.form.category)
    }

    /// The jobs shown at once and those behind "More kinds of job": with one chosen, only it
    /// shows and every other is behind the link.
    fn job_groups(&self) -> (Vec<&Category>, Vec<&Category>) {
        match self.chosen() {
            Some(chosen) => (vec![chosen], self.categories.iter().filter(|c| c.slug != chosen.slug).collect()),
            None => {
                let (first, rest) = self.categories.split_at(JOBS_SHOWN.min(self.categories.len()));
                (first.iter().collect(), rest.iter().collect())
            }
        }
    }
}

fn form_token(state: &AppState, funnel: Uuid, now: OffsetDateTime) -> String {
    let expires = now + time::Duration::try_from(state.settings.intake.form_max_age).unwrap_or(time::Duration::HOUR);
    state.signer.sign("form", &format!("{funnel}:{}", now.unix_timestamp()), expires)
}

/// (funnel id, when the form was shown), if the token is ours and fresh.
fn read_form_token(state: &AppState, token: &str, now: OffsetDateTime) -> Option<(Uuid, OffsetDateTime)> {
    let payload = state.signer.verify("form", token, now)?;
    let (funnel, shown) = payload.split_once(':')?;
    Some((Uuid::parse_str(funnel).ok()?, OffsetDateTime::from_unix_timestamp(shown.parse().ok()?).ok()?))
}

async fn render_form(
    state: &AppState,
    form: &RequestForm,
    errors: &[FieldError],
    notice: Option<&str>,
    token: &str,
    status: StatusCode,
) -> Response {
    let categories = match state.categories().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let zip = match zip_answer(state, &form.zip, &form.category, &form.urgency).await {
        Ok(z) => ZipAnswer { error: None, ..z },
        Err(e) => return e.into_response(),
    };
    let chrome = Chrome::of(state);
    let page = RequestPage {
        chrome,
        form,
        categories: &categories,
        errors,
        notice,
        consent_text: CONSENT_TEXT,
        form_token: token,
        zip,
    };
    html(&page, status)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    category: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    utm_term: String,
    utm_content: String,
}

pub async fn show(State(state): State<AppState>, Query(q): Query<ShowQuery>, headers: HeaderMap) -> Response {
    let now = state.clock.now();
    let funnel = Uuid::new_v4();
    funnel::mark(&state, funnel, FunnelStep::FormViewed, Some(&q.category)).await;
    let referrer =
        headers.get(header::REFERER).and_then(|v| v.to_str().ok()).map(intake::clean_attribution).unwrap_or_default();
    let form = RequestForm {
        category: q.category,
        urgency: String::new(),
        contact_preference: ContactPreference::Phone.as_str().to_owned(),
        utm_source: q.utm_source,
        utm_medium: q.utm_medium,
        utm_campaign: q.utm_campaign,
        utm_term: q.utm_term,
        utm_content: q.utm_content,
        referrer,
        ..RequestForm::default()
    };
    let token = form_token(&state, funnel, now);
    render_form(&state, &form, &[], None, &token, StatusCode::OK).await
}

pub async fn submit(State(state): State<AppState>, ClientIp(ip): ClientIp, Form(form): Form<RequestForm>) -> Response {
    let now = state.clock.now();
    let sub = Submission {
        input: form.input(),
        source: Source::Web { funnel_id: None },
        utm: form.utm(),
        referrer: Some(intake::clean_attribution(&form.referrer)).filter(|r| !r.is_empty()),
        client_ip: ip,
    };
    let Some((funnel, shown)) = read_form_token(&state, &form.form_token, now) else {
        // Too old, or not ours: show it again, fresh, keeping what they typed.
        let token = form_token(&state, Uuid::new_v4(), now);
        let notice = "This form was open a long time, so please check it and send it again.";
        return render_form(&state, &form, &[], Some(notice), &token, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    // Bots fill the hidden field, or answer faster than a person can type. They get the same
    // thank-you a person would, so they learn nothing; we keep a record for staff.
    let min_fill = time::Duration::try_from(state.settings.intake.form_min_fill_time).unwrap_or(time::Duration::ZERO);
    let reason = if !form.website.trim().is_empty() {
        Some("honeypot")
    } else if now - shown < min_fill {
        Some("too_fast")
    } else {
        None
    };
    if let Some(reason) = reason {
        if let Err(e) = intake::reject_unparsed(&state, reason, &sub).await {
            tracing::error!(error = %e, "could not record a rejected submission");
        }
        return sent_page(&state);
    }

    let sub = Submission { source: Source::Web { funnel_id: Some(funnel) }, ..sub };
    // The form's own token makes a double-click replay the first answer, not a duplicate.
    let idem = intake::Idempotency {
        principal: "form".into(),
        key: funnel.to_string(),
        request_hash: funnel.as_bytes().to_vec(),
    };
    let (outcome, first_time) = match intake::submit(&state, sub, Some(idem)).await {
        Ok(Submitted::Fresh(o)) => (o, true),
        Ok(Submitted::Replayed(o)) => (o, false),
        Err(ServiceError::Invalid(errors)) => {
            return render_form(&state, &form, &errors, None, &form.form_token, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(ServiceError::Throttled { retry_after }) => {
            let mut res = message(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down a little",
                &[
                    "We've had a lot of requests from here just now. Please try again in a little while.".into(),
                    "If water is coming in, turn off the main water valve now.".into(),
                ],
                Some(("/", "Back to the home page")),
            );
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            return res;
        }
        Err(ServiceError::KeyReused) => return sent_page(&state),
        Err(e) => return ApiError::from(e).into_response(),
    };
    match outcome {
        Outcome::Created { lead_id, verified: false, .. } => {
            Redirect::to(&format!("/request/verify?t={}", verify_token(&state, lead_id, funnel, now))).into_response()
        }
        Outcome::Created { lead_id, verified: true, .. } => {
            Redirect::to(&done_path(&state, lead_id, now)).into_response()
        }
        Outcome::Duplicate { existing } => {
            // What this repeat says: kept as a note for the phone's owner to add (a valid
            // submission's description always parses; the same normalisation as the request's).
            let said = domain::lead::Description::parse(&form.description).map(String::from).ok();
            match intake::follow_up(&state, existing, first_time, said.as_deref()).await {
                Ok(Earlier::Unconfirmed) => {
                    let t = verify_token(&state, existing, funnel, now);
                    Redirect::to(&format!("/request/verify?t={t}&again=1")).into_response()
                }
                Ok(Earlier::Confirmed { status, note_kept }) => repeat_page(&state, status, note_kept),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
    }
}

/// The answer to a repeat of a confirmed request: where it stands, and that its link is on the
/// phone (the page itself shows nothing of it: whoever typed the number may not own it).
fn repeat_page(state: &AppState, status: LeadStatus, note_kept: bool) -> Response {
    let (title, first) = match status {
        LeadStatus::Sold => (
            "Plumbers already took this request",
            "You sent us this job from this phone in the last week, and local plumbers took it. Expect their calls.",
        ),
        LeadStatus::Unsold => (
            "We already tried this request",
            "You sent us this job from this phone in the last week; no local plumber could take it then, so we haven't sent it again.",
        ),
        _ => (
            "Your request is already with plumbers",
            "You sent us this job from this phone in the last week, so we haven't sent it twice. Local plumbers will call you.",
        ),
    };
    let link = if note_kept {
        "We've texted you the link to follow it. What you wrote this time is kept: open the link to add it to your request, and the plumbers see it."
    } else {
        "We've texted you the link to follow it, with the plumbers' names and numbers once they take it."
    };
    message(
        state,
        StatusCode::OK,
        title,
        &[first.into(), link.into(), "If water is coming in, turn off the main water valve now.".into()],
        Some(("/", "Back to the home page")),
    )
}

/// What a bot (or a person whose form expired oddly) sees: a plain thank-you, no lead made.
fn sent_page(state: &AppState) -> Response {
    message(
        state,
        StatusCode::OK,
        "Thanks — we've got it",
        &["We'll be in touch soon.".into()],
        Some(("/", "Back to the home page")),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartedForm {
    form_token: String,
    category: String,
}

/// htmx: the first change on the form marks the funnel's "started" step.
pub async fn started(State(state): State<AppState>, Form(f): Form<StartedForm>) -> StatusCode {
    let now = state.clock.now();
    if let Some((funnel, _)) = read_form_token(&state, &f.form_token, now) {
        funnel::mark(&state, funnel, FunnelStep::FormStarted, Some(&f.category)).await;
    }
    StatusCode::NO_CONTENT
}
