//! A pro disputes a bought lead within 14 days. When our own data shows the complaint is right
//! (the same phone sent another request in the 7 days before; a ZIP outside the pro's area) the
//! price goes back to the wallet at once; otherwise the dispute waits for staff.

use super::feed;
use crate::{Conflict, Ctx, ServiceError};
use domain::Cents;
use domain::FieldError;
use domain::market::PurchaseStatus;
use domain::market::ledger::Transfer;
use store::disputes::Dispute;
use time::Duration;
use uuid::Uuid;

pub const WINDOW: Duration = Duration::days(14);
pub const REASONS: [&str; 5] = ["wrong_number", "duplicate", "outside_area", "not_a_real_request", "other"];
pub const MAX_NOTE_CHARS: usize = 2_000;

pub async fn open(
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
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError {
            field: "note",
            message: format!("A note is plain text of at most {MAX_NOTE_CHARS} characters."),
        });
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
