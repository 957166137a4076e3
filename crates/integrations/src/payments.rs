//! Card payments through a hosted checkout, so card data never reaches our servers (SAQ A).

use crate::ProviderError;
use async_trait::async_trait;
use domain::{Cents, Clock};
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Ours, echoed back on completion (e.g. the wallet top-up's id).
    pub reference: String,
    pub amount: Cents,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub id: String,
    /// Where to send the payer's browser.
    pub url: String,
}

/// What the provider tells us happened; Stripe's `checkout.session.completed` maps to this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    CheckoutCompleted { checkout_id: String, reference: String, amount: Cents },
}

/// Money given back to the card a checkout was paid with (Stripe's `POST /v1/refunds` with the
/// checkout's payment and an `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub checkout_id: String,
    pub amount: Cents,
    /// Ours (the refund's id), sent as the idempotency key: asking twice refunds once.
    pub reference: String,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError>;

    /// Refunds part or all of a paid checkout; the provider's id for the refund. Repeating a
    /// request with the same `reference` answers the first refund.
    async fn refund(&self, request: &RefundRequest) -> Result<String, ProviderError>;

    /// For a provider whose checkout completes without the payer (the sandbox): the completion
    /// event, to be applied through the same path as a webhook's. A real provider answers `None`
    /// and its webhook brings the event later.
    async fn complete_at_once(&self, _checkout: &Checkout) -> Result<Option<PaymentEvent>, ProviderError> {
        Ok(None)
    }
}

/// Instant top-ups: the checkout page is ours and paying completes it at once, producing the same
/// event a real provider's webhook would.
#[derive(Debug, Clone)]
pub struct SandboxPayments {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    public_url: url::Url,
}

impl SandboxPayments {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, public_url: url::Url) -> Self {
        Self { pool, clock, public_url }
    }

    /// Pays an open sandbox checkout. `None` when unknown or already paid, so a double click or
    /// a replay never produces a second event.
    pub async fn pay(&self, checkout_id: &str) -> Result<Option<PaymentEvent>, ProviderError> {
        let Ok(id) = Uuid::parse_str(checkout_id) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let done = store::sandbox::complete(&mut conn, id, self.clock.now()).await?;
        Ok(done.map(|c| PaymentEvent::CheckoutCompleted {
            checkout_id: c.id.to_string(),
            reference: c.reference,
            amount: Cents(c.amount_cents),
        }))
    }
}

#[async_trait]
impl PaymentProvider for SandboxPayments {
    async fn create_checkout(&self, r: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        if r.amount.0 <= 0 {
            return Err(ProviderError::Rejected("the amount must be positive".into()));
        }
        let id = Uuid::now_v7();
        let mut conn = self.pool.acquire().await?;
        store::sandbox::create(&mut conn, id, &r.reference, r.amount.0, self.clock.now()).await?;
        let url = self
            .public_url
            .join(&format!("sandbox/checkout/{id}"))
            .map_err(|e| ProviderError::Rejected(e.to_string()))?;
        Ok(Checkout { id: id.to_string(), url: url.to_string() })
    }

    async fn complete_at_once(&self, checkout: &Checkout) -> Result<Option<PaymentEvent>, ProviderError> {
        self.pay(&checkout.id).await
    }

    async fn refund(&self, r: &RefundRequest) -> Result<String, ProviderError> {
        let Ok(checkout) = Uuid::parse_str(&r.checkout_id) else {
            return Err(ProviderError::Rejected(format!("no such payment: {}", r.checkout_id)));
        };
        if r.amount.0 <= 0 {
            return Err(ProviderError::Rejected("the amount must be positive".into()));
        }
        let mut tx = self.pool.begin().await?;
        match store::sandbox::refund(&mut tx, Uuid::now_v7(), checkout, r.amount.0, &r.reference, self.clock.now())
            .await?
        {
            store::sandbox::Refunded::Done(id) | store::sandbox::Refunded::Earlier(id) => {
                tx.commit().await?;
                Ok(id.to_string())
            }
            store::sandbox::Refunded::NotPaid => Err(ProviderError::Rejected("that payment was not completed".into())),
            store::sandbox::Refunded::TooMuch => {
                Err(ProviderError::Rejected("the refund is more than what is left of the payment".into()))
            }
        }
    }
}
