//! A pro ready to buy, made through onboarding's own rules: profile sections, a certificate,
//! review, an operator's approval and a funded wallet. For demo data (`seed --demo --pros N`)
//! and test fixtures, so both meet the same rules a real pro does.

use super::{approval, onboarding};
use crate::{Ctx, ServiceError};
use bytes::Bytes;
use domain::account::BusinessName;
use domain::account::profile::{Hours, LeadPreferences, Licence, ServiceArea};
use futures::future::BoxFuture;
use uuid::Uuid;

/// How a ready pro works.
#[derive(Debug, Clone)]
pub struct Setup {
    pub business_name: String,
    pub licence_state: &'static str,
    pub zip: String,
    pub radius_miles: i32,
    pub categories: Vec<&'static str>,
    pub time_zone: &'static str,
    /// Monday–Friday, "HH:MM".
    pub opens: &'static str,
    pub closes: &'static str,
    pub emergency_24_7: bool,
    pub balance_cents: i64,
    /// In dollars as a pro types them; empty for no limit.
    pub max_price: String,
    pub daily_cap: String,
    pub weekly_budget: String,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            business_name: "Demo Plumbing Co.".into(),
            licence_state: "MN",
            zip: "55401".into(),
            radius_miles: 10,
            categories: vec!["drain-cleaning", "burst-pipe", "clogged-toilet", "leak-detection"],
            time_zone: "America/Chicago",
            opens: "08:00",
            closes: "17:00",
            emergency_24_7: true,
            balance_cents: 50_000,
            max_price: "500".into(),
            daily_cap: "50".into(),
            weekly_budget: "10000".into(),
        }
    }
}

/// The smallest PDF a file-type check accepts: a stand-in insurance certificate.
const CERTIFICATE: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

fn invalid(errors: Vec<domain::FieldError>) -> ServiceError {
    ServiceError::Invalid(errors)
}

/// Completes, approves and funds the signed-up pro `id` (e-mail and mobile taken as confirmed).
pub fn complete<'a>(ctx: &'a Ctx, id: Uuid, s: &'a Setup) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(complete_inner(ctx, id, s))
}

async fn complete_inner(ctx: &Ctx, id: Uuid, s: &Setup) -> Result<(), ServiceError> {
    let ip = "127.0.0.1";
    let now = ctx.clock.now();
    let mut conn = ctx.pool.acquire().await?;
    let user = store::accounts::find(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
    store::accounts::mark_email_verified(&mut conn, id, now).await?;
    if let Some(phone) = &user.phone {
        store::accounts::mark_phone_verified(&mut conn, id, phone, now).await?;
    }
    drop(conn);
    let name = BusinessName::parse(&s.business_name)
        .map_err(|e| invalid(vec![domain::FieldError { field: "business_name", message: e.to_string() }]))?;
    let licence = Licence::parse(&format!("PL-{}", &id.simple().to_string()[..8]), s.licence_state).map_err(invalid)?;
    onboarding::set_business(ctx, id, ip, name, licence).await?;
    let area = ServiceArea::parse(&s.zip, &s.radius_miles.to_string(), "").map_err(invalid)?;
    onboarding::set_area(ctx, id, ip, area).await?;
    onboarding::set_services(ctx, id, ip, s.categories.iter().map(|c| (*c).to_owned()).collect()).await?;
    let day = |open: bool| (open, s.opens.to_owned(), s.closes.to_owned());
    let days = [day(true), day(true), day(true), day(true), day(true), day(false), day(false)];
    onboarding::set_hours(ctx, id, ip, Hours::parse(&days, s.time_zone, s.emergency_24_7).map_err(invalid)?).await?;
    let prefs =
        LeadPreferences::parse(&s.max_price, true, true, &s.daily_cap, &s.weekly_budget, false).map_err(invalid)?;
    onboarding::set_preferences(ctx, id, ip, prefs).await?;
    onboarding::upload_insurance(ctx, id, ip, Bytes::from_static(CERTIFICATE)).await?;
    let mut conn = ctx.pool.acquire().await?;
    let user = store::accounts::find(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
    drop(conn);
    if !onboarding::submit_for_review(ctx, &user, ip).await? {
        return Err(anyhow::anyhow!("the profile of {} is not complete", user.email).into());
    }
    approval::approve_by_operator(ctx, &user.email).await?;
    let mut left = s.balance_cents;
    while left > 0 {
        let amount = left.clamp(crate::market::wallet::MIN_TOP_UP.0, crate::market::wallet::MAX_TOP_UP.0);
        crate::market::wallet::top_up(ctx, id, amount, None).await?;
        left -= amount;
    }
    Ok(())
}
