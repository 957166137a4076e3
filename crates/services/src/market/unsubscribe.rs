//! One click to stop new-lead e-mails. Each such e-mail carries a signed link (in its text and as
//! its `List-Unsubscribe` header, RFC 8058): the link's page asks before it acts, since mail
//! scanners open links; a mail client's one-click POST acts at once. Texts, the live inbox and
//! e-mails a pro cannot opt out of (receipts, sign-in notices) are not touched. The pro turns
//! the e-mails back on in their profile.

use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use futures::future::BoxFuture;
use time::OffsetDateTime;
use uuid::Uuid;

const PURPOSE: &str = "unsubscribe_offer_email";

/// How long a link in an e-mail keeps working: long after the e-mail, as people find old ones.
const LINK_LIFE: time::Duration = time::Duration::days(400);

/// The link that stops `pro_id`'s new-lead e-mails.
pub fn link(ctx: &Ctx, pro_id: Uuid, now: OffsetDateTime) -> String {
    let token = ctx.signer.sign(PURPOSE, &pro_id.to_string(), now + LINK_LIFE);
    ctx.public_link(&format!("/unsubscribe/{token}"))
}

fn pro_of(ctx: &Ctx, token: &str) -> Result<Uuid, ServiceError> {
    ctx.signer
        .verify(PURPOSE, token, ctx.clock.now())
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or(ServiceError::BadLink)
}

/// What the link's page shows before anything changes: the address, and whether its new-lead
/// e-mails are still on.
pub fn preview<'a>(ctx: &'a Ctx, token: &'a str) -> BoxFuture<'a, Result<(String, bool), ServiceError>> {
    Box::pin(preview_inner(ctx, token))
}

async fn preview_inner(ctx: &Ctx, token: &str) -> Result<(String, bool), ServiceError> {
    let pro = pro_of(ctx, token)?;
    let mut conn = ctx.pool.acquire().await?;
    store::profiles::offer_email(&mut conn, pro).await?.ok_or(ServiceError::BadLink)
}

/// Stops the new-lead e-mails; the address they went to. A second click changes nothing more.
pub fn confirm<'a>(ctx: &'a Ctx, token: &'a str, ip: &'a str) -> BoxFuture<'a, Result<String, ServiceError>> {
    Box::pin(confirm_inner(ctx, token, ip))
}

async fn confirm_inner(ctx: &Ctx, token: &str, ip: &str) -> Result<String, ServiceError> {
    let pro = pro_of(ctx, token)?;
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let (email, was_on) = store::profiles::stop_offer_email(&mut tx, pro, now).await?.ok_or(ServiceError::BadLink)?;
    if was_on {
        let detail = serde_json::json!({ "offer_email": false, "by": "unsubscribe link" });
        audit::record(&mut tx, ctx, Audit::own(pro, AuditAction::ProfileChanged, Some(ip)).detail(detail)).await?;
    }
    tx.commit().await?;
    Ok(email)
}
