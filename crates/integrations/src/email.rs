//! Transactional e-mail.

use crate::ProviderError;
use async_trait::async_trait;
use domain::Clock;
use futures::StreamExt;
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

    /// Sends several, each with its own outcome in the same order: a few calls at once, unless
    /// the provider keeps a batch in one go (the dev mailbox: one statement).
    async fn send_all(&self, messages: &[EmailMessage]) -> Vec<Result<String, ProviderError>> {
        let calls: Vec<_> = messages.iter().map(|m| self.send(m)).collect();
        futures::stream::iter(calls).buffered(crate::SENDS_AT_ONCE).collect().await
    }
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

impl DevMailbox {
    /// What a provider would refuse, refused; otherwise the row to keep.
    fn accept(&self, m: &EmailMessage) -> Result<StoredEmail, ProviderError> {
        if !m.to.contains('@') {
            return Err(ProviderError::Rejected(format!("{:?} is not an e-mail address", m.to)));
        }
        Ok(StoredEmail {
            id: Uuid::now_v7(),
            to: m.to.clone(),
            from: self.from.clone(),
            subject: m.subject.clone(),
            text_body: m.text_body.clone(),
            html_body: m.html_body.clone(),
            list_unsubscribe: m.unsubscribe.clone(),
            created_at: self.clock.now(),
        })
    }
}

#[async_trait]
impl EmailSender for DevMailbox {
    async fn send(&self, m: &EmailMessage) -> Result<String, ProviderError> {
        crate::only(self.send_all(std::slice::from_ref(m)).await)
    }

    async fn send_all(&self, messages: &[EmailMessage]) -> Vec<Result<String, ProviderError>> {
        let accepted: Vec<Result<StoredEmail, ProviderError>> = messages.iter().map(|m| self.accept(m)).collect();
        let rows = crate::accepted_rows(&accepted);
        let kept = async {
            if !rows.is_empty() {
                dev_outbox::insert_emails(&mut *self.pool.acquire().await?, &rows).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        tracing::info!(count = rows.len(), "e-mail kept in the dev mailbox");
        crate::dev_outcomes(accepted, &kept, |r| r.id)
    }
}
