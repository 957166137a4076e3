//! A pro disputes a bought lead within 14 days. When our own data shows the complaint is right
//! (the same phone sent another request in the 7 days before; a ZIP outside the pro's area) the
//! price goes back to the wallet at once; otherwise the dispute waits for staff, who credit or
//! deny it in the back office (audited; the pro is told by e-mail either way).

use super::feed;
use crate::audit::{self, Audit, AuditAction};
use crate::jobs::SendEmail;
use crate::{Conflict, Ctx, ServiceError};
use domain::Cents;
use domain::FieldError;
use domain::market::PurchaseStatus;
use domain::market::ledger::Transfer;
use futures::future::BoxFuture;
use store::disputes::{Dispute, OpenDispute};
use time::Duration;
use uuid::Uuid;

pub const WINDOW: Duration = Duration::days(14);
pub const REASONS: [&str; 5] = ["wrong_number", "duplicate", "outside_area", "not_a_real_request", "other"];
pub const MAX_NOTE_CHARS: usize = 2_000;

pub fn open<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    purchase: Uuid,
    reason: Option<&'a str>,
    note: Option<&'a str>,
) -> BoxFuture<'a, Result<Dispute, ServiceError>> {
    Box::pin(open_inner(ctx, pro, purchase, reason, note))
}

async fn open_inner(
    ctx: &Ctx,
    pro: Uuid,
    purchase: Uuid,
    reason: Option<&str>,
    note: Option<&str>,
) -> Result<Dispute, ServiceError> {
    let mut errors = Vec::new();
    let reason = reason.map(str::trim).unwrap_or_default();
    if !REASONS.contains(&reason) {
        errors.push(FieldError {
            field: "reason",
            message: "Reason is one of wrong_number, duplicate, outside_area, not_a_real_request or other.".into(),
        });
    }
    let note = note.map(str::trim).unwrap_or_default();
    if let Err(e) = check_note(note) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let status = store::purchases::lock_for_pro(&mut tx, purchase, pro).await?.ok_or(ServiceError::NotFound)?;
    let bought = store::purchases::get_for_pro(&mut tx, purchase, pro).await?.ok_or(ServiceError::NotFound)?;
    if matches!(status, PurchaseStatus::Disputed | PurchaseStatus::Credited | PurchaseStatus::Denied) {
        return Err(ServiceError::Conflict(Conflict::AlreadyDisputed));
    }
    if now - bought.purchased_at > WINDOW {
        return Err(ServiceError::Conflict(Conflict::DisputeWindowClosed));
    }
    let id = Uuid::now_v7();
    store::disputes::insert(&mut tx, id, purchase, reason, note, now).await?;
    let evidence = store::disputes::evidence(&mut tx, purchase).await?;
    let proven = (reason == "duplicate" && evidence.duplicate) || (reason == "outside_area" && evidence.outside_area);
    let mut told = Vec::new();
    if proven {
        let balance =
            store::ledger::post(&mut tx, pro, &Transfer::credit(Cents(bought.price_cents)), &id.to_string(), now)
                .await?;
        store::disputes::credit(&mut tx, id, bought.price_cents, now).await?;
        store::disputes::mark_purchase(&mut tx, purchase, PurchaseStatus::Credited.as_str(), now).await?;
        feed::wallet_changed(&mut tx, pro, balance, now).await?;
        told.push(pro);
    } else {
        store::disputes::mark_purchase(&mut tx, purchase, PurchaseStatus::Disputed.as_str(), now).await?;
    }
    let dispute = store::disputes::of_purchase(&mut tx, purchase).await?.ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    ctx.feed.publish(told);
    Ok(dispute)
}

fn check_note(note: &str) -> Result<(), FieldError> {
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(FieldError {
            field: "note",
            message: format!("A note is plain text of at most {MAX_NOTE_CHARS} characters."),
        });
    }
    Ok(())
}

/// How many open disputes the back office lists at once (oldest first).
pub const STAFF_PAGE: i64 = 100;

/// The disputes waiting for staff, oldest first, with the evidence our data holds.
pub fn waiting<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<Vec<OpenDispute>, ServiceError>> {
    Box::pin(waiting_inner(ctx))
}

async fn waiting_inner(ctx: &Ctx) -> Result<Vec<OpenDispute>, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::disputes::open_ones(&mut conn, STAFF_PAGE).await?)
}

/// Staff's decision on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The price paid goes back to the wallet.
    Credit,
    Deny,
}

/// Staff member `staff` decides the open dispute `id`, with a note for the pro (required to
/// deny: the pro is owed a reason). The dispute and its purchase are locked, so two decisions
/// (two staff, or a second tap) cannot both land: the second is `AlreadyDecided`.
pub fn decide<'a>(
    ctx: &'a Ctx,
    staff: Uuid,
    id: Uuid,
    decision: Decision,
    note: &'a str,
    ip: &'a str,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(decide_inner(ctx, staff, id, decision, note, ip))
}

async fn decide_inner(
    ctx: &Ctx,
    staff: Uuid,
    id: Uuid,
    decision: Decision,
    note: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let note = note.trim();
    check_note(note).map_err(|e| ServiceError::Invalid(vec![e]))?;
    if decision == Decision::Deny && note.is_empty() {
        let message = "Say why, in words the plumber will read.".to_owned();
        return Err(ServiceError::Invalid(vec![FieldError { field: "note", message }]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let Some((purchase, pro, price)) = store::disputes::lock_open(&mut tx, id).await? else {
        return Err(if store::disputes::exists(&mut tx, id).await? {
            ServiceError::Conflict(Conflict::AlreadyDecided)
        } else {
            ServiceError::NotFound
        });
    };
    let price = Cents(price);
    let (action, outcome) = match decision {
        Decision::Credit => {
            let balance = store::ledger::post(&mut tx, pro, &Transfer::credit(price), &id.to_string(), now).await?;
            store::disputes::decide(&mut tx, id, Some(price.0), staff, note, now).await?;
            store::disputes::mark_purchase(&mut tx, purchase, PurchaseStatus::Credited.as_str(), now).await?;
            feed::wallet_changed(&mut tx, pro, balance, now).await?;
            // Decided after the pro closed the account: the credit goes on to their card.
            super::refunds::refund_if_closed(&mut tx, ctx, pro).await?;
            (AuditAction::DisputeCredited, format!("We agree: {price} is back in your wallet."))
        }
        Decision::Deny => {
            store::disputes::decide(&mut tx, id, None, staff, note, now).await?;
            store::disputes::mark_purchase(&mut tx, purchase, PurchaseStatus::Denied.as_str(), now).await?;
            (AuditAction::DisputeDenied, format!("We could not credit the {price} you paid."))
        }
    };
    let detail = serde_json::json!({"dispute": id, "purchase": purchase, "cents": price.0});
    audit::record(&mut tx, ctx, Audit::new(Some(staff), action, pro, Some(ip)).detail(detail)).await?;
    if let Some(user) = store::accounts::find(&mut tx, pro).await? {
        let why = if note.is_empty() { String::new() } else { format!("\n\nFrom our team: {note}") };
        let mail = SendEmail {
            to: user.email,
            subject: "Your dispute is decided".into(),
            text_body: format!("About the lead you disputed: {outcome}{why}\n\nPlumberLeads"),
            html_body: None,
            unsubscribe: None,
        };
        ctx.queue.enqueue(&mut tx, &mail).await?;
    }
    tx.commit().await?;
    if decision == Decision::Credit {
        ctx.feed.publish(vec![pro]);
    }
    Ok(())
}
