//! The seams to the outside world. Each is a trait with a dev default that really works on one
//! machine (it keeps what it would have sent, so staff and tests can read it); the production
//! clients (SendGrid, Twilio, Stripe, S3) implement the same traits. Only jobs call these:
//! handlers never talk to a provider.

pub mod email;
pub mod payments;
pub mod sms;
pub mod storage;

use std::sync::Arc;

pub use email::{DevMailbox, EmailMessage, EmailSender};
pub use payments::{Checkout, CheckoutRequest, PaymentEvent, PaymentProvider, RefundRequest, SandboxPayments};
pub use sms::{DevSmsOutbox, SmsMessage, SmsSender};
pub use storage::Storage;

/// Calls a provider without a batch call has in flight at once for one `send_all`.
pub const SENDS_AT_ONCE: usize = 8;

/// A dev provider's batch, answered message by message in order: what it accepted (`Ok`) was kept
/// in one statement whose result is `kept`, so each is its id, or that statement's failure (worth
/// retrying); what it refused stays refused.
fn dev_outcomes<T>(
    accepted: Vec<Result<T, ProviderError>>,
    kept: &Result<(), sqlx::Error>,
    id: impl Fn(&T) -> uuid::Uuid,
) -> Vec<Result<String, ProviderError>> {
    accepted
        .into_iter()
        .map(|a| match (a, kept) {
            (Ok(row), Ok(())) => Ok(id(&row).to_string()),
            (Ok(_), Err(e)) => Err(ProviderError::Transient(e.to_string())),
            (Err(refused), _) => Err(refused),
        })
        .collect()
}

/// The rows a dev provider accepted from a batch.
fn accepted_rows<T: Clone>(accepted: &[Result<T, ProviderError>]) -> Vec<T> {
    accepted.iter().filter_map(|a| a.as_ref().ok().cloned()).collect()
}

/// One message through a batch's path: `send` and `send_all` keep the same way.
fn only(mut outcomes: Vec<Result<String, ProviderError>>) -> Result<String, ProviderError> {
    outcomes.pop().unwrap_or_else(|| Err(ProviderError::Transient("no outcome for the message".into())))
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth trying again later (network, 5xx, rate limit).
    #[error("temporarily unavailable: {0}")]
    Transient(String),
    /// Will fail the same way every time (bad address, rejected request).
    #[error("rejected: {0}")]
    Rejected(String),
}

impl From<sqlx::Error> for ProviderError {
    fn from(e: sqlx::Error) -> Self {
        ProviderError::Transient(e.to_string())
    }
}

/// The providers chosen by configuration, built once and shared.
#[derive(Clone)]
pub struct Providers {
    pub email: Arc<dyn EmailSender>,
    pub sms: Arc<dyn SmsSender>,
    pub payments: Arc<dyn PaymentProvider>,
    pub storage: Storage,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers").finish_non_exhaustive()
    }
}

impl Providers {
    pub fn from_settings(
        settings: &settings::Settings,
        pool: sqlx::PgPool,
        clock: Arc<dyn domain::Clock>,
    ) -> Result<Self, object_store::Error> {
        let p = &settings.providers;
        let email: Arc<dyn EmailSender> = match p.email {
            settings::EmailProvider::Dev => {
                Arc::new(DevMailbox::new(pool.clone(), clock.clone(), p.email_from.clone()))
            }
        };
        let sms: Arc<dyn SmsSender> = match p.sms {
            settings::SmsProvider::Dev => Arc::new(DevSmsOutbox::new(pool.clone(), clock.clone())),
        };
        let payments: Arc<dyn PaymentProvider> = match p.payments {
            settings::PaymentsProvider::Sandbox => {
                Arc::new(SandboxPayments::new(pool, clock, settings.http.public_url.clone()))
            }
        };
        let storage = Storage::local(&p.storage_dir)?;
        Ok(Self { email, sms, payments, storage })
    }
}
