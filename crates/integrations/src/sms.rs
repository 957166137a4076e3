//! Text messages.

use crate::ProviderError;
use async_trait::async_trait;
use domain::Clock;
use futures::StreamExt;
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

    /// Sends several, each with its own outcome in the same order. A provider without a batch
    /// call (Twilio) makes a few calls at once; the dev outbox keeps a batch in one statement.
    async fn send_all(&self, messages: &[SmsMessage]) -> Vec<Result<String, ProviderError>> {
        let calls: Vec<_> = messages.iter().map(|m| self.send(m)).collect();
        futures::stream::iter(calls).buffered(crate::SENDS_AT_ONCE).collect().await
    }
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

impl DevSmsOutbox {
    /// What Twilio would refuse, refused the same way; otherwise the row to keep.
    fn accept(&self, m: &SmsMessage) -> Result<StoredSms, ProviderError> {
        let e164 =
            m.to.strip_prefix('+')
                .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
        if !e164 {
            return Err(ProviderError::Rejected(format!("{:?} is not an E.164 number", m.to)));
        }
        if m.body.chars().count() > MAX_BODY_CHARS {
            return Err(ProviderError::Rejected("the message is longer than 1,600 characters".into()));
        }
        Ok(StoredSms { id: Uuid::now_v7(), to: m.to.clone(), body: m.body.clone(), created_at: self.clock.now() })
    }
}

#[async_trait]
impl SmsSender for DevSmsOutbox {
    async fn send(&self, m: &SmsMessage) -> Result<String, ProviderError> {
        crate::only(self.send_all(std::slice::from_ref(m)).await)
    }

    async fn send_all(&self, messages: &[SmsMessage]) -> Vec<Result<String, ProviderError>> {
        let accepted: Vec<Result<StoredSms, ProviderError>> = messages.iter().map(|m| self.accept(m)).collect();
        let rows = crate::accepted_rows(&accepted);
        let kept = async {
            if !rows.is_empty() {
                dev_outbox::insert_sms(&mut *self.pool.acquire().await?, &rows).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        tracing::info!(count = rows.len(), "SMS kept in the dev outbox");
        crate::dev_outcomes(accepted, &kept, |r| r.id)
    }
}
