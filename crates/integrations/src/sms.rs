//! Text messages.

use crate::ProviderError;
use async_trait::async_trait;
use domain::Clock;
use sqlx::PgPool;
use std::sync::Arc;
use store::dev_outbox::{self, StoredSms};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// E.164, e.g. +16125550123.
    pub to: String,
    pub body: String,
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one message and returns the provider's id for it (for status callbacks).
    async fn send(&self, message: &SmsMessage) -> Result<String, ProviderError>;
}

/// Keeps every message in the `dev_sms_outbox` table instead of sending it.
#[derive(Debug, Clone)]
pub struct DevSmsOutbox {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

impl DevSmsOutbox {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }
}

/// Twilio refuses bodies over 1,600 characters; the dev outbox holds us to the same rule.
pub const MAX_BODY_CHARS: usize = 1_600;

#[async_trait]
impl SmsSender for DevSmsOutbox {
    async fn send(&self, m: &SmsMessage) -> Result<String, ProviderError> {
        let e164 =
            m.to.strip_prefix('+')
                .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
        if !e164 {
            return Err(ProviderError::Rejected(format!("{:?} is not an E.164 number", m.to)));
        }
        if m.body.chars().count() > MAX_BODY_CHARS {
            return Err(ProviderError::Rejected("the message is longer than 1,600 characters".into()));
        }
        let stored =
            StoredSms { id: Uuid::now_v7(), to: m.to.clone(), body: m.body.clone(), created_at: self.clock.now() };
        let mut conn = self.pool.acquire().await?;
        dev_outbox::insert_sms(&mut conn, &stored).await?;
        tracing::info!(id = %stored.id, "SMS kept in the dev outbox");
        Ok(stored.id.to_string())
    }
}
