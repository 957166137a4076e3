//! Staff approve a pro's licence and insurance: the account becomes active, and the pro is told
//! by e-mail and text in the same transaction (so an approval never goes unsaid).

use crate::audit::{self, Audit, AuditAction};
use crate::jobs::{SendEmail, SendSms};
use crate::{Ctx, ServiceError};
use sqlx::PgConnection;
use uuid::Uuid;

/// Approves the pro `pro` on behalf of `staff` (who has just confirmed who they are: the caller
/// checks). Not found when there is no such pro awaiting approval.
pub async fn approve(ctx: &Ctx, staff: Uuid, pro: Uuid, ip: &str) -> Result<(), ServiceError> {
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
pub async fn approve_by_operator(ctx: &Ctx, email: &str) -> Result<Uuid, ServiceError> {
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
    };
    ctx.queue.enqueue(conn, &mail).await?;
    if let (Some(phone), Some(_)) = (user.phone, user.phone_verified_at) {
        let body =
            format!("PlumberLeads: you're approved and can now receive leads. Your inbox: {}", link("pro/offers"));
        ctx.queue.enqueue(conn, &SendSms { to: phone, body }).await?;
    }
    Ok(())
}
