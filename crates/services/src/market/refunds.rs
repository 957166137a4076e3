//! Wallet money going back to the cards that paid it. A closed account's wallet is emptied this
//! way at the closing, and again whenever money reaches it later (a top-up the provider completes
//! late, a dispute decided after the closing): a closed wallet never keeps money.

use crate::{Ctx, ServiceError};
use ::jobs::{Job, JobError};
use domain::Cents;
use domain::market::ledger::Transfer;
use futures::future::BoxFuture;
use integrations::{ProviderError, RefundRequest};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// Moves the whole balance out of the wallet, as refunds against the pro's paid top-ups (newest
/// first), each posted to the ledger now and sent to the provider by a `RefundToCard` job queued
/// in the same transaction. Returns what was refunded.
pub fn refund_wallet<'a>(
    conn: &'a mut PgConnection,
    ctx: &'a Ctx,
    pro_id: Uuid,
) -> BoxFuture<'a, Result<Cents, ServiceError>> {
    Box::pin(refund_wallet_inner(conn, ctx, pro_id))
}

async fn refund_wallet_inner(conn: &mut PgConnection, ctx: &Ctx, pro_id: Uuid) -> Result<Cents, ServiceError> {
    let now = ctx.clock.now();
    let balance = store::ledger::lock_balance(conn, pro_id).await?;
    let mut left = balance;
    for paid in store::card_refunds::refundable(conn, pro_id).await? {
        if left == 0 {
            break;
        }
        let amount = left.min(paid.left_cents);
        let id = Uuid::now_v7();
        store::card_refunds::insert(conn, id, pro_id, paid.top_up_id, amount, now).await?;
        store::ledger::post(conn, pro_id, &Transfer::refund_to_card(Cents(amount)), &id.to_string(), now).await?;
        ctx.queue.enqueue(conn, &RefundToCard { refund: id }).await?;
        left -= amount;
    }
    if left > 0 {
        // Every cent in a wallet came in through a top-up (credits give back what purchases took),
        // so this is a ledger fault: nothing is refunded rather than a part.
        return Err(
            anyhow::anyhow!("wallet of pro {pro_id} holds {left} cents more than its top-ups can return").into()
        );
    }
    if balance > 0 {
        super::feed::wallet_changed(conn, pro_id, 0, now).await?;
    }
    Ok(Cents(balance))
}

/// After money reached a wallet: if its account is closed, the money goes straight back.
pub fn refund_if_closed<'a>(
    conn: &'a mut PgConnection,
    ctx: &'a Ctx,
    pro_id: Uuid,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(refund_if_closed_inner(conn, ctx, pro_id))
}

async fn refund_if_closed_inner(conn: &mut PgConnection, ctx: &Ctx, pro_id: Uuid) -> Result<(), ServiceError> {
    if store::closing::is_closed(conn, pro_id).await? {
        refund_wallet(conn, ctx, pro_id).await?;
    }
    Ok(())
}

/// Sends one decided refund to the payment provider. The refund's id is the provider's
/// idempotency key, so a retry after a lost answer refunds once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundToCard {
    pub refund: Uuid,
}

impl Job for RefundToCard {
    const KIND: &'static str = "refund_to_card";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let pending = {
            let mut conn = ctx.pool.acquire().await.map_err(anyhow::Error::new)?;
            store::card_refunds::pending(&mut conn, self.refund).await.map_err(anyhow::Error::new)?
        };
        let Some(pending) = pending else { return Ok(()) };
        let Some(checkout_id) = pending.checkout_id else {
            return Err(JobError::permanent(anyhow::anyhow!("refund {}: its top-up has no checkout", self.refund)));
        };
        let request =
            RefundRequest { checkout_id, amount: Cents(pending.amount_cents), reference: self.refund.to_string() };
        let provider_id = ctx.providers.payments.refund(&request).await.map_err(|e| match e {
            ProviderError::Transient(_) => JobError::from(anyhow::Error::new(e)),
            ProviderError::Rejected(_) => JobError::permanent(e),
        })?;
        let mut conn = ctx.pool.acquire().await.map_err(anyhow::Error::new)?;
        store::card_refunds::succeed(&mut conn, self.refund, &provider_id, ctx.clock.now())
            .await
            .map_err(anyhow::Error::new)?;
        metrics::counter!("wallet_refunds_cents_total").increment(u64::try_from(pending.amount_cents).unwrap_or(0));
        Ok(())
    }
}
