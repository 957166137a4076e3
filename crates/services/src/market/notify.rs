//! What the marketplace tells people, through the outbox (jobs enqueued in the transaction that
//! made the news, so a message goes out exactly when the change commits): a pro hears of a new
//! offer by text and e-mail as they chose, never by text in their quiet hours unless it is an
//! emergency; a homeowner hears who bought their request.

use super::roster::Candidate;
use crate::Ctx;
use crate::jobs::{Message, SendEmail, SendSms};
use domain::Cents;
use domain::market::sale::QuietHours;
use domain::pricing::Urgency;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use store::matching::Contact;
use time::OffsetDateTime;

/// The offer as its message describes it.
pub struct OfferNews<'a> {
    pub category_name: &'a str,
    pub city: &'a str,
    pub zip: &'a str,
    pub urgency: Urgency,
    pub price: Cents,
    pub distance_miles: f64,
    pub expires_at: OffsetDateTime,
    pub now: OffsetDateTime,
}

/// The messages that tell `pro` of a new offer, added to `out`: the caller enqueues a whole
/// batch's messages as one job in the transaction that makes the offers.
pub fn new_offer(ctx: &Ctx, pro: &Candidate, contact: &Contact, news: &OfferNews<'_>, out: &mut Vec<Message>) {
    let minutes = (news.expires_at - news.now).whole_minutes().max(1);
    let link = ctx.settings.http.public_url.join("pro").map(|u| u.to_string()).unwrap_or_default();
    let urgent = if news.urgency == Urgency::Emergency { "EMERGENCY " } else { "" };
    let line = format!(
        "{urgent}{} lead in {} {}, {:.1} mi away, {}",
        news.category_name, news.city, news.zip, news.distance_miles, news.price
    );
    let quiet = match (pro.pro.quiet_from, pro.pro.quiet_until) {
        (Some(from), Some(until)) => QuietHours { from, until }.contains(pro.local_time),
        _ => false,
    };
    if pro.pro.offer_sms
        && (!quiet || news.urgency == Urgency::Emergency)
        && let Some(phone) = &contact.phone
    {
        let body = format!("PlumberLeads: {line}. Claim within {minutes} min: {link}");
        out.push(Message::Sms(SendSms::new(phone.clone(), body)));
    }
    if pro.pro.offer_email {
        let stop = super::unsubscribe::link(ctx, pro.pro.pro_id, news.now);
        let mail = SendEmail {
            to: contact.email.clone(),
            subject: format!("New lead: {line}"),
            text_body: format!(
                "A new lead matches your settings:\n\n{line}.\n\nIt is yours to claim for {minutes} minutes, \
                 while places last: {link}\n\nPlumberLeads\n\nNo more e-mails about new leads (texts and your \
                 inbox stay as they are): {stop}"
            ),
            html_body: None,
            unsubscribe: Some(stop),
        };
        out.push(Message::Email(mail));
    }
}

/// Tells the homeowner which plumber bought their request, so they know whose call to expect.
pub fn bought<'a>(
    ctx: &'a Ctx,
    tx: &'a mut PgConnection,
    homeowner_phone: &'a str,
    business_name: &'a str,
    pro_phone: Option<&'a str>,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(bought_inner(ctx, tx, homeowner_phone, business_name, pro_phone))
}

async fn bought_inner(
    ctx: &Ctx,
    tx: &mut PgConnection,
    homeowner_phone: &str,
    business_name: &str,
    pro_phone: Option<&str>,
) -> Result<(), sqlx::Error> {
    let phone = pro_phone.map(|p| format!(" ({p})")).unwrap_or_default();
    let body = format!("PlumberLeads: {business_name}{phone} took your request and will call you soon.");
    ctx.queue.enqueue(tx, &SendSms::new(homeowner_phone.to_owned(), body)).await?;
    Ok(())
}
