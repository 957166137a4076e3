//! A pro's prepaid wallet: top-ups through the payment provider's hosted checkout, credited by
//! the provider's completion event (the sandbox provider completes at once, through the same
//! path), the balance and its entries, and the ledger's own proof that it is sound.

use super::offers::parse_limit;
use super::{Page, page};
use crate::intake::Idempotency;
use crate::jobs::SendEmail;
use crate::{Ctx, ServiceError};
use domain::Cents;
use domain::FieldError;
use domain::market::ledger::Transfer;
use futures::future::BoxFuture;
use integrations::{CheckoutRequest, PaymentEvent};
use store::idempotency::{self, Claim};
use store::ledger::Entry;
use store::top_ups::TopUp;
use uuid::Uuid;

pub const MIN_TOP_UP: Cents = Cents(2_500);
pub const MAX_TOP_UP: Cents = Cents(500_000);

/// Starts a top-up of `amount`; with the sandbox provider it has succeeded when this returns.
/// A repeated `Idempotency-Key` answers the same top-up.
pub fn top_up<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    amount: i64,
    idem: Option<&'a Idempotency>,
) -> BoxFuture<'a, Result<TopUp, ServiceError>> {
    Box::pin(top_up_inner(ctx, pro_id, amount, idem))
}

async fn top_up_inner(ctx: &Ctx, pro_id: Uuid, amount: i64, idem: Option<&Idempotency>) -> Result<TopUp, ServiceError> {
    if !(MIN_TOP_UP.0..=MAX_TOP_UP.0).contains(&amount) {
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "amount_cents",
            message: format!("A top-up is between {MIN_TOP_UP} and {MAX_TOP_UP}."),
        }]));
    }
    let now = ctx.clock.now();
    let id = Uuid::now_v7();
    let mut tx = ctx.pool.begin().await?;
    if let Some(i) = idem {
        let expired_before = now - crate::intake::ttl(ctx.settings.intake.idempotency_ttl);
        match idempotency::claim(&mut tx, &i.principal, &i.key, &i.request_hash, now, expired_before).await? {
            Claim::New => {
                idempotency::store(&mut tx, &i.principal, &i.key, &serde_json::json!({ "top_up": id })).await?
            }
            Claim::Mismatch => return Err(ServiceError::KeyReused),
            Claim::Replay(stored) => {
                drop(tx);
                let earlier = stored
                    .get("top_up")
                    .and_then(|v| v.as_str())
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| anyhow::anyhow!("idempotency record without its top-up"))?;
                let mut conn = ctx.pool.acquire().await?;
                return store::top_ups::get(&mut conn, earlier).await?.ok_or(ServiceError::NotFound);
            }
        }
    }
    store::top_ups::create(&mut tx, id, pro_id, amount, now).await?;
    tx.commit().await?;

    // The hosted checkout has to exist before the pro can be sent to it, so this one provider
    // call happens in the request.
    let base = &ctx.settings.http.public_url;
    let request = CheckoutRequest {
        reference: id.to_string(),
        amount: Cents(amount),
        success_url: base.join("pro/wallet?topped_up=1").map(|u| u.to_string()).unwrap_or_default(),
        cancel_url: base.join("pro/wallet").map(|u| u.to_string()).unwrap_or_default(),
    };
    let checkout = ctx.providers.payments.create_checkout(&request).await.map_err(anyhow::Error::new)?;
    let mut conn = ctx.pool.acquire().await?;
    store::top_ups::set_checkout(&mut conn, id, &checkout.id, &checkout.url).await?;
    drop(conn);
    if let Some(event) = ctx.providers.payments.complete_at_once(&checkout).await.map_err(anyhow::Error::new)? {
        apply(ctx, &event).await?;
    }
    let mut conn = ctx.pool.acquire().await?;
    store::top_ups::get(&mut conn, id).await?.ok_or(ServiceError::NotFound)
}

/// Applies a provider's payment event exactly once: the top-up succeeds and the wallet is
/// credited in one transaction; a replayed event changes nothing. `true` when it was applied now.
pub fn apply<'a>(ctx: &'a Ctx, event: &'a PaymentEvent) -> BoxFuture<'a, Result<bool, ServiceError>> {
    Box::pin(apply_inner(ctx, event))
}

async fn apply_inner(ctx: &Ctx, event: &PaymentEvent) -> Result<bool, ServiceError> {
    let PaymentEvent::CheckoutCompleted { reference, amount, .. } = event;
    let Ok(id) = Uuid::parse_str(reference) else {
        return Ok(false);
    };
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let Some(top_up) = store::top_ups::succeed(&mut tx, id, now).await? else {
        return Ok(false);
    };
    if top_up.amount_cents != amount.0 {
        return Err(anyhow::anyhow!("top-up {id} is for {} but {} was paid", top_up.amount_cents, amount.0).into());
    }
    let balance = store::ledger::post(&mut tx, top_up.pro_id, &Transfer::top_up(*amount), reference, now).await?;
    super::feed::wallet_changed(&mut tx, top_up.pro_id, balance, now).await?;
    // Paid after the pro closed the account (a checkout left open): the money goes straight back.
    super::refunds::refund_if_closed(&mut tx, ctx, top_up.pro_id).await?;
    // The receipt goes out with the credit, through the outbox (PRODUCT.md: receipts by e-mail).
    if let Some(pro) = store::accounts::find(&mut tx, top_up.pro_id).await? {
        let when = now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
        let receipt = SendEmail {
            to: pro.email,
            subject: format!("Receipt: {amount} added to your wallet"),
            text_body: format!(
                "Thank you. {amount} was added to your PlumberLeads wallet.\n\nDate: {when}\nReference: {reference}\nBalance after: {}\n\nYour statement: {}\n\nPlumberLeads",
                Cents(balance),
                ctx.settings.http.public_url.join("pro/wallet").map(|u| u.to_string()).unwrap_or_default()
            ),
            html_body: None,
            unsubscribe: None,
        };
        ctx.queue.enqueue(&mut tx, &receipt).await?;
    }
    tx.commit().await?;
    ctx.feed.publish([top_up.pro_id]);
    let provider = format!("{:?}", ctx.settings.providers.payments).to_lowercase();
    metrics::counter!("wallet_topups_cents_total", "provider" => provider)
        .increment(u64::try_from(amount.0).unwrap_or(0));
    Ok(true)
}

pub fn balance<'a>(ctx: &'a Ctx, pro_id: Uuid) -> BoxFuture<'a, Result<Cents, ServiceError>> {
    Box::pin(balance_inner(ctx, pro_id))
}

async fn balance_inner(ctx: &Ctx, pro_id: Uuid) -> Result<Cents, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(Cents(store::ledger::balance(&mut conn, pro_id).await?))
}

pub fn entries<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    cursor: Option<&'a str>,
    limit: Option<i64>,
) -> BoxFuture<'a, Result<Page<Entry>, ServiceError>> {
    Box::pin(entries_inner(ctx, pro_id, cursor, limit))
}

async fn entries_inner(
    ctx: &Ctx,
    pro_id: Uuid,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Entry>, ServiceError> {
    let before = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ServiceError::Invalid(vec![FieldError {
                field: "cursor",
                message: "That cursor is not one this list gave out.".into(),
            }])
        })?),
    };
    let limit = parse_limit(limit)?;
    let mut conn = ctx.pool.acquire().await?;
    let rows = store::ledger::entries(&mut conn, pro_id, before, limit + 1).await?;
    Ok(page(rows, limit, |e| e.id.to_string()))
}

/// The ledger's proof of itself (`plumberleads admin ledger-check`).
pub fn check<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<store::ledger::Check, ServiceError>> {
    Box::pin(check_inner(ctx))
}

async fn check_inner(ctx: &Ctx) -> Result<store::ledger::Check, ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::ledger::check(&mut conn).await?)
}

/// A calendar month's statement in the pro's own time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub year: i32,
    pub month: time::Month,
    pub time_zone: String,
    pub opening: Cents,
    pub closing: Cents,
    pub lines: Vec<store::ledger::StatementLine>,
}

/// The statement for `year`-`month` (local midnight to local midnight).
pub fn statement<'a>(
    ctx: &'a Ctx,
    pro_id: Uuid,
    year: i32,
    month: time::Month,
) -> BoxFuture<'a, Result<Statement, ServiceError>> {
    Box::pin(statement_inner(ctx, pro_id, year, month))
}

async fn statement_inner(ctx: &Ctx, pro_id: Uuid, year: i32, month: time::Month) -> Result<Statement, ServiceError> {
    let first = time::Date::from_calendar_date(year, month, 1).map_err(|_| ServiceError::NotFound)?;
    let next = if month == time::Month::December {
        time::Date::from_calendar_date(year + 1, time::Month::January, 1)
    } else {
        time::Date::from_calendar_date(year, month.next(), 1)
    }
    .map_err(|_| ServiceError::NotFound)?;
    let mut conn = ctx.pool.acquire().await?;
    let (time_zone, opening, lines) =
        store::ledger::month(&mut conn, pro_id, first.midnight(), next.midnight()).await?;
    let closing = lines.last().map_or(opening, |l| l.balance_after_cents);
    Ok(Statement { year, month, time_zone, opening: Cents(opening), closing: Cents(closing), lines })
}
