//! The platform's own jobs. Handlers never run inside a request: the request enqueues (in its
//! transaction), a worker delivers.

use crate::{Job, JobError, Registry};
use integrations::{EmailMessage, ProviderError, Providers, SmsMessage};
use serde::{Deserialize, Serialize};

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub pool: sqlx::PgPool,
    pub providers: Providers,
}

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
    type Context = JobContext;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
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
    type Context = JobContext;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.providers.sms.send(&SmsMessage { to: self.to, body: self.body }).await.map_err(provider_failure)?;
        Ok(())
    }
}

/// Every job kind the platform runs.
pub fn registry() -> Registry<JobContext> {
    Registry::new().register::<SendEmail>().register::<SendSms>()
}
