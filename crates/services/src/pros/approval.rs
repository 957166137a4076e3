//! Staff review a pro's licence, insurance and profile: approved (the account becomes active), or
//! changes asked for, or turned down. The pro is told by e-mail and text in the same transaction
//! (so a review's outcome never goes unsaid).

use crate::audit::{self, Audit, AuditAction};
use crate::jobs::{SendEmail, SendSms};
use crate::{Ctx, ServiceError};
use domain::FieldError;
use futures::future::BoxFuture;
use sqlx::PgConnection;
pub use store::profiles::NotApproved;
use uuid::Uuid;

/// Approves the pro `pro` on behalf of `staff` (who has just confirmed who they are: the caller
/// checks). Not found when there is no such pro awaiting approval.
pub fn approve<'a>(ctx: &'a Ctx, staff: Uuid, pro: Uuid, ip: &'a str) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(approve_inner(ctx, staff, pro, ip))
}

async fn approve_inner(ctx: &Ctx, staff: Uuid, pro: Uuid, ip: &str) -> Result<(), ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    if !store::profiles::approve(&mut tx, pro, Some(staff), ctx.clock.now()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(&mut tx, ctx, Audit::new(Some(staff), AuditAction::ProApproved, pro, Some(ip))).await?;
    tell_approved(&mut tx, ctx, pro).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(())
}

/// Approves the pro with this e-mail from the command line (`plumberleads admin approve-pro`):
/// audited with no person signed in. Not found when no such pro awaits approval.
pub fn approve_by_operator<'a>(ctx: &'a Ctx, email: &'a str) -> BoxFuture<'a, Result<Uuid, ServiceError>> {
    Box::pin(approve_by_operator_inner(ctx, email))
}

async fn approve_by_operator_inner(ctx: &Ctx, email: &str) -> Result<Uuid, ServiceError> {
    let mut tx = ctx.pool.begin().await?;
    let user = store::accounts::find_by_email(&mut tx, email.trim()).await?.ok_or(ServiceError::NotFound)?;
    if !store::profiles::approve(&mut tx, user.id, None, ctx.clock.now()).await? {
        return Err(ServiceError::NotFound);
    }
    audit::record(&mut tx, ctx, Audit::about(AuditAction::ProApproved, user.id)).await?;
    tell_approved(&mut tx, ctx, user.id).await?;
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(user.id)
}

/// The approval message: an e-mail, and a text to the confirmed mobile number, both saying what
/// to do next (the wallet) and where leads will show.
async fn tell_approved(conn: &mut PgConnection, ctx: &Ctx, pro: Uuid) -> Result<(), ServiceError> {
    let Some(user) = store::accounts::find(conn, pro).await? else { return Ok(()) };
    let link = |path: &str| ctx.settings.http.public_url.join(path).map(|u| u.to_string()).unwrap_or_default();
    let mail = SendEmail {
        to: user.email.clone(),
        subject: "You're approved: leads can start".into(),
        text_body: format!(
            "Hello {name},\n\nWe checked your licence and insurance, and your PlumberLeads account is approved.\n\n\
             Leads that match your area, services and hours now come to your inbox, and by text or e-mail as your notification settings say: {offers}\n\n\
             You pay for a lead from your wallet when you take it. If your wallet is empty, add money here: {wallet}\n\n\
             PlumberLeads",
            name = user.name,
            offers = link("pro/offers"),
            wallet = link("pro/wallet"),
        ),
        html_body: None,
        unsubscribe: None,
    };
    ctx.queue.enqueue(conn, &mail).await?;
    if let (Some(phone), Some(_)) = (user.phone, user.phone_verified_at) {
        let body =
            format!("PlumberLeads: you're approved and can now receive leads. Your inbox: {}", link("pro/offers"));
        ctx.queue.enqueue(conn, &SendSms::new(phone, body)).await?;
    }
    Ok(())
}

/// Longest message staff may send with a review.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// Ends `pro`'s pending review without approving: the profile goes back to them with what to
/// change, or they are turned down with the reason. Audited; the pro is told by e-mail and text
/// in the same transaction, and sees the message on their portal. Not found when they are not
/// waiting for review.
pub fn not_approved<'a>(
    ctx: &'a Ctx,
    staff: Uuid,
    pro: Uuid,
    ip: &'a str,
    outcome: NotApproved,
    message: &'a str,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(not_approved_inner(ctx, staff, pro, ip, outcome, message))
}

async fn not_approved_inner(
    ctx: &Ctx,
    staff: Uuid,
    pro: Uuid,
    ip: &str,
    outcome: NotApproved,
    message: &str,
) -> Result<(), ServiceError> {
    let message = message.trim();
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        let said = match outcome {
            NotApproved::ChangesAsked => "Say what the plumber should change (up to 2,000 characters).",
            NotApproved::TurnedDown => "Say why (up to 2,000 characters): the plumber reads it.",
        };
        return Err(ServiceError::Invalid(vec![FieldError { field: "message", message: said.into() }]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    if !store::profiles::not_approved(&mut tx, pro, outcome, message, now).await? {
        return Err(ServiceError::NotFound);
    }
    let action = match outcome {
        NotApproved::ChangesAsked => AuditAction::ProChangesAsked,
        NotApproved::TurnedDown => AuditAction::ProTurnedDown,
    };
    let detail = serde_json::json!({ "message": message });
    audit::record(&mut tx, ctx, Audit::new(Some(staff), action, pro, Some(ip)).detail(detail)).await?;
    if let Some(user) = store::accounts::find(&mut tx, pro).await? {
        let link = ctx.settings.http.public_url.join("pro").map(|u| u.to_string()).unwrap_or_default();
        let (subject, opening, sms) = match outcome {
            NotApproved::ChangesAsked => (
                "Please change a few things on your profile",
                "We checked your profile and need a few changes before we can approve it:",
                format!("PlumberLeads: we need a few changes to your profile before approving it. See what: {link}"),
            ),
            NotApproved::TurnedDown => (
                "We couldn't approve your account",
                "We checked your profile and couldn't approve your account:",
                format!("PlumberLeads: we couldn't approve your account. We've e-mailed you why. {link}"),
            ),
        };
        let mail = SendEmail {
            to: user.email.clone(),
            subject: subject.into(),
            text_body: format!(
                "Hello {},\n\n{opening}\n\n{message}\n\nYour account: {link}\n\nPlumberLeads",
                user.name
            ),
            html_body: None,
            unsubscribe: None,
        };
        ctx.queue.enqueue(&mut tx, &mail).await?;
        if let (Some(phone), Some(_)) = (user.phone, user.phone_verified_at) {
            ctx.queue.enqueue(&mut tx, &SendSms::new(phone, sms)).await?;
        }
    }
    tx.commit().await?;
    ctx.queue.wake_workers();
    Ok(())
}

/// Everything staff check before deciding: the account, the whole profile, and every ZIP the
/// service area covers.
#[derive(Debug, Clone)]
pub struct ForReview {
    pub user: store::accounts::User,
    pub whole: super::onboarding::Whole,
    pub covered: Vec<store::profiles::CoveredZip>,
}

pub fn for_review<'a>(ctx: &'a Ctx, pro: Uuid) -> BoxFuture<'a, Result<ForReview, ServiceError>> {
    Box::pin(for_review_inner(ctx, pro))
}

async fn for_review_inner(ctx: &Ctx, pro: Uuid) -> Result<ForReview, ServiceError> {
    let user = {
        let mut conn = ctx.pool.acquire().await?;
        store::accounts::find(&mut conn, pro).await?.ok_or(ServiceError::NotFound)?
    };
    let whole = super::onboarding::whole(ctx, &user).await?;
    let mut conn = ctx.pool.acquire().await?;
    let covered = store::profiles::covered_zips(&mut conn, pro).await?;
    Ok(ForReview { user, whole, covered })
}
