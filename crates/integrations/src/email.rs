//! Transactional e-mail.

use crate::ProviderError;
use async_trait::async_trait;
use domain::Clock;
use sqlx::PgPool;
use std::sync::Arc;
use store::dev_outbox::{self, StoredEmail};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// Where one click stops this kind of message: sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). Receipts and sign-in
    /// notices have none: they are not optional.
    pub unsubscribe: Option<String>,
}

#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Sends one message and returns the provider's id for it (for delivery webhooks).
    async fn send(&self, message: &EmailMessage) -> Result<String, ProviderError>;
}

/// Keeps every message in the `dev_mailbox` table instead of delivering it.
#[derive(Debug, Clone)]
pub struct DevMailbox {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    from: String,
}

impl DevMailbox {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, from: String) -> Self {
        Self { pool, clock, from }
    }
}

#[async_trait]
impl EmailSender for DevMailbox {
    async fn send(&self, m: &EmailMessage) -> Result<String, ProviderError> {
        if !m.to.contains('@') {
            return Err(ProviderError::Rejected(format!("{:?} is not an e-mail address", m.to)));
        }
        let stored = StoredEmail {
            id: Uuid::now_v7(),
            to: m.to.clone(),
            from: self.from.clone(),
            subject: m.subject.clone(),
            text_body: m.text_body.clone(),
            html_body: m.html_body.clone(),
            list_unsubscribe: m.unsubscribe.clone(),
            created_at: self.clock.now(),
        };
        let mut conn = self.pool.acquire().await?;
        dev_outbox::insert_email(&mut conn, &stored).await?;
        tracing::info!(id = %stored.id, "e-mail kept in the dev mailbox");
        Ok(stored.id.to_string())
    }
}
