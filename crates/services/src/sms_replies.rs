//! Replies to our texts, as Twilio forwards them: STOP ends our texts to that number, START
//! brings them back, HELP says who we are — the carriers' (CTIA) rules, and what the terms and
//! privacy pages promise. Anything else gets no answer (a person's message to a no-reply number).

use crate::{Ctx, ServiceError};
use domain::sms_keyword::SmsKeyword;
use futures::future::BoxFuture;

/// Whether a forwarded reply carries Twilio's signature for `url` and `params`; `None` when no
/// auth token is configured (then nothing can forward replies).
pub fn authentic(ctx: &Ctx, url: &str, params: &[(String, String)], signature: &str) -> Option<bool> {
    use secrecy::ExposeSecret;
    let token = ctx.settings.providers.twilio_auth_token.as_ref()?;
    Some(crate::infra::twilio_signature::holds(token.expose_secret().as_bytes(), url, params, signature))
}

/// Records what the reply from `from` (E.164) asks and returns the text to answer with, if any.
pub fn receive<'a>(
    ctx: &'a Ctx,
    from: &'a str,
    body: &'a str,
    contact: &'a str,
) -> BoxFuture<'a, Result<Option<String>, ServiceError>> {
    Box::pin(receive_inner(ctx, from, body, contact))
}

async fn receive_inner(ctx: &Ctx, from: &str, body: &str, contact: &str) -> Result<Option<String>, ServiceError> {
    let Some(keyword) = SmsKeyword::of(body) else { return Ok(None) };
    // Only a phone number can opt out (not a short code or an empty field).
    let digits = from.strip_prefix('+').unwrap_or_default();
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Ok(None);
    }
    metrics::counter!("sms_replies_total", "keyword" => keyword.as_str()).increment(1);
    let mut conn = ctx.pool.acquire().await?;
    let answer = match keyword {
        SmsKeyword::Stop => {
            store::sms_opt_outs::opt_out(&mut conn, from, ctx.clock.now()).await?;
            "PlumberLeads: you won't get any more texts from us. Reply START to get them again.".to_owned()
        }
        SmsKeyword::Start => {
            store::sms_opt_outs::opt_in(&mut conn, from).await?;
            "PlumberLeads: you'll get our texts again. Reply STOP to stop them, HELP for help.".to_owned()
        }
        SmsKeyword::Help => format!(
            "PlumberLeads: plumbing requests and new-lead alerts. Msg & data rates may apply. Reply STOP to stop. Help: {contact}"
        ),
    };
    Ok(Some(answer))
}
