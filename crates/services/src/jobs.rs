//! The platform's own jobs: each kind and its handler, which gets the same `Ctx` a request does,
//! so a job runs the same rules. Handlers never run inside a request: the request enqueues (in
//! its transaction), a worker delivers.

use crate::Ctx;
use ::jobs::{Job, JobError, Registry};
use integrations::{EmailMessage, ProviderError, SmsMessage};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Counts a message handed to its provider, by channel and outcome (`sent`, `transient`,
/// `refused`), whether it went alone or in a batch: the dashboards' notification delivery.
fn counted(channel: &'static str, outcome: Result<String, ProviderError>) -> Result<(), ProviderError> {
    let label = match &outcome {
        Ok(_) => "sent",
        Err(ProviderError::Transient(_)) => "transient",
        Err(ProviderError::Rejected(_)) => "refused",
    };
    metrics::counter!("messages_sent_total", "channel" => channel, "outcome" => label).increment(1);
    outcome.map(drop)
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
    /// Where one click stops this kind of message (see `EmailMessage::unsubscribe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
}

impl SendEmail {
    fn message(&self) -> EmailMessage {
        EmailMessage {
            to: self.to.clone(),
            subject: self.subject.clone(),
            text_body: self.text_body.clone(),
            html_body: self.html_body.clone(),
            unsubscribe: self.unsubscribe.clone(),
        }
    }

    async fn send(&self, ctx: &Ctx) -> Result<(), ProviderError> {
        counted("email", ctx.providers.email.send(&self.message()).await)
    }
}

impl Job for SendEmail {
    const KIND: &'static str = "send_email";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        self.send(&ctx).await.map_err(provider_failure)
    }
}

/// Sends one text message through the configured provider — unless its number replied STOP
/// (`sms_opt_outs`): then nothing is sent, and it counts as `opted_out`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSms {
    pub to: String,
    pub body: String,
    /// A one-time code someone asked for this moment (a request's, a phone confirmation's): it
    /// goes even after a STOP. Typing the code back is what opts the number in again, since
    /// whoever asked may not own the number.
    #[serde(default)]
    pub requested: bool,
}

impl SendSms {
    pub fn new(to: String, body: String) -> Self {
        Self { to, body, requested: false }
    }

    /// A code the person asked for this moment (see `requested`).
    pub fn requested(to: String, body: String) -> Self {
        Self { to, body, requested: true }
    }

    /// Hands the text to the provider, unless `opted_out` holds its number (see [`opted_out`]).
    async fn send(&self, ctx: &Ctx, opted_out: &HashSet<String>) -> Result<(), ProviderError> {
        if opted_out.contains(&self.to) {
            metrics::counter!("messages_sent_total", "channel" => "sms", "outcome" => "opted_out").increment(1);
            return Ok(());
        }
        counted("sms", ctx.providers.sms.send(&self.message()).await)
    }

    fn message(&self) -> SmsMessage {
        SmsMessage { to: self.to.clone(), body: self.body.clone() }
    }
}

/// The numbers among these texts' that replied STOP, read once for a whole batch; a requested
/// code's number is never in it, and with no other text there is nothing to read.
async fn opted_out<'a>(ctx: &Ctx, texts: impl Iterator<Item = &'a SendSms>) -> Result<HashSet<String>, JobError> {
    let phones: Vec<String> = texts.filter(|t| !t.requested).map(|t| t.to.clone()).collect();
    if phones.is_empty() {
        return Ok(HashSet::new());
    }
    let mut conn = ctx.pool.acquire().await?;
    Ok(store::sms_opt_outs::among(&mut conn, &phones).await?.into_iter().collect())
}

impl Job for SendSms {
    const KIND: &'static str = "send_sms";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let opted_out = opted_out(&ctx, std::iter::once(&self)).await?;
        self.send(&ctx, &opted_out).await.map_err(provider_failure)
    }
}

/// One message of a [`SendMessages`] batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Message {
    Sms(SendSms),
    Email(SendEmail),
}

/// The messages of one event (a distribution look's offers: a text and an e-mail for each pro),
/// sent together: one job to claim and finish instead of one per message, and the provider
/// calls made a few at a time. A message the provider does not take goes on as a job of its
/// own, with its kind's retries (and its dead letter when refused), so a retry never re-sends
/// the messages that went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessages {
    pub messages: Vec<Message>,
}

impl Job for SendMessages {
    const KIND: &'static str = "send_messages";
    type Context = Ctx;

    async fn run(self, ctx: Ctx) -> Result<(), JobError> {
        let texts = self.messages.iter().filter_map(|m| match m {
            Message::Sms(sms) => Some(sms),
            Message::Email(_) => None,
        });
        let opted_out = opted_out(&ctx, texts).await?;
        let (mut texts, mut mails) = (Vec::new(), Vec::new());
        for message in self.messages {
            match message {
                Message::Sms(sms) if opted_out.contains(&sms.to) => {
                    metrics::counter!("messages_sent_total", "channel" => "sms", "outcome" => "opted_out").increment(1);
                }
                Message::Sms(sms) => texts.push(sms),
                Message::Email(mail) => mails.push(mail),
            }
        }
        // Each channel's batch goes to its provider in one call (the provider decides how many
        // requests that takes), both channels at once.
        let sms: Vec<SmsMessage> = texts.iter().map(SendSms::message).collect();
        let email: Vec<EmailMessage> = mails.iter().map(SendEmail::message).collect();
        let (sms_outcomes, email_outcomes) =
            futures::join!(ctx.providers.sms.send_all(&sms), ctx.providers.email.send_all(&email));
        let mut left = Vec::new();
        for (text, outcome) in texts.iter().zip(sms_outcomes) {
            if let Err(e) = counted("sms", outcome) {
                tracing::warn!(error = %e, "a text of a batch goes on as a job of its own");
                left.push(ctx.queue.row(text).map_err(JobError::permanent)?);
            }
        }
        for (mail, outcome) in mails.iter().zip(email_outcomes) {
            if let Err(e) = counted("email", outcome) {
                tracing::warn!(error = %e, "an e-mail of a batch goes on as a job of its own");
                left.push(ctx.queue.row(mail).map_err(JobError::permanent)?);
            }
        }
        if !left.is_empty() {
            let mut conn = ctx.pool.acquire().await?;
            ctx.queue.enqueue_all(&mut conn, &left).await?;
            ctx.queue.wake_workers();
        }
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
        let anonymised = crate::privacy::remove_expired(&ctx).await?;
        if anonymised > 0 {
            tracing::info!(requests = anonymised, "removed homeowners' personal data past retention");
        }
        // The audit chain's head reaches the log stream at least hourly, even with no scraper.
        crate::audit::publish_head(&ctx).await?;
        Ok(())
    }
}

/// Every job kind the platform runs.
pub fn registry() -> Registry<Ctx> {
    Registry::new()
        .register::<SendEmail>()
        .register::<SendSms>()
        .register::<SendMessages>()
        .register::<Housekeeping>()
        .register::<crate::accounts::SendResetLink>()
        .register::<crate::market::Distribute>()
        .register::<crate::market::RefundToCard>()
        .register::<crate::market::WithdrawOffers>()
}
