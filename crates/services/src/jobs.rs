//! The platform's own jobs: each kind and its handler, which gets the same `Ctx` a request does,
//! so a job runs the same rules. Handlers never run inside a request: the request enqueues (in
//! its transaction), a worker delivers.

use crate::Ctx;
use ::jobs::{Job, JobError, Registry};
use integrations::{EmailMessage, ProviderError, SmsMessage};
use serde::{Deserialize, Serialize};

fn provider_failure(e: ProviderError) -> JobError {
    match e {
        ProviderError::Transient(_) => JobError::from(anyhow::Error::new(e)),
        ProviderError::Rejected(_) => JobError::permanent(e),
    }
}

/// Sends one e-mail through the configured provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
}

impl Job for SendEmail {
    const KIND: &'static str = "send_email";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let message =
            EmailMessage { to: self.to, subject: self.subject, text_body: self.text_body, html_body: self.html_body };
        ctx.providers.email.send(&message).await.map_err(provider_failure)?;
        Ok(())
    }
}

/// Sends one text message through the configured provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSms {
    pub to: String,
    pub body: String,
}

impl Job for SendSms {
    const KIND: &'static str = "send_sms";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        ctx.providers.sms.send(&SmsMessage { to: self.to, body: self.body }).await.map_err(provider_failure)?;
        Ok(())
    }
}

/// Prunes what has expired (`housekeeping::prune`); enqueued every hour by each worker node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Housekeeping {}

impl Job for Housekeeping {
    const KIND: &'static str = "housekeeping";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let pruned = crate::housekeeping::prune(&ctx).await?;
        tracing::info!(
            idempotency_keys = pruned.idempotency_keys,
            rate_limit_windows = pruned.rate_limit_windows,
            "pruned expired idempotency keys, rate-limit windows, login failures and sessions"
        );
        Ok(())
    }
}

/// Every job kind the platform runs.
pub fn registry() -> Registry<Ctx> {
    Registry::new()
        .register::<SendEmail>()
        .register::<SendSms>()
        .register::<Housekeeping>()
        .register::<crate::market::Distribute>()
}
