//! A pro's business profile, part by part (business and licence, insurance certificate,
//! service area, services, hours, lead preferences), and the hand-off to staff for review. Each
//! part arrives parsed (`domain::account::profile`); here it is checked against the reference
//! data and written with its audit entry, in one transaction.

use crate::audit::{self, Audit, AuditAction};
use crate::{Ctx, ServiceError};
use bytes::Bytes;
use domain::FieldError;
use domain::account::BusinessName;
use domain::account::profile::{Hours, LeadPreferences, Licence, Notifications, Progress, ServiceArea};
use futures::future::BoxFuture;
use store::accounts::User;
use store::profiles::{HoursRow, Preferences, Profile};
use uuid::Uuid;

/// A part of the profile, as the audit log and the pages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Business,
    Insurance,
    Area,
    Services,
    Hours,
    Preferences,
    Notifications,
}

impl Part {
    pub const ALL: [Part; 7] = [
        Part::Business,
        Part::Insurance,
        Part::Area,
        Part::Services,
        Part::Hours,
        Part::Preferences,
        Part::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Business => "business",
            Part::Insurance => "insurance",
            Part::Area => "area",
            Part::Services => "services",
            Part::Hours => "hours",
            Part::Preferences => "preferences",
            Part::Notifications => "notifications",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// How far along a pro is, from their account and profile.
pub fn progress<'a>(ctx: &'a Ctx, user: &'a User) -> BoxFuture<'a, Result<(Progress, Option<Profile>), ServiceError>> {
    Box::pin(progress_inner(ctx, user))
}

async fn progress_inner(ctx: &Ctx, user: &User) -> Result<(Progress, Option<Profile>), ServiceError> {
    let mut conn = ctx.pool.acquire().await?;
    let p = store::profiles::get(&mut conn, user.id).await?;
    let services = !store::profiles::categories(&mut conn, user.id).await?.is_empty();
    let progress = match &p {
        Some(p) => Progress {
            email_verified: user.email_verified_at.is_some(),
            phone_verified: user.phone_verified_at.is_some(),
            licence: p.licence_number.is_some() && p.licence_state.is_some(),
            insurance: p.insurance_key.is_some(),
            service_area: p.base_zip.is_some(),
            services,
            hours: p.hours_set,
            preferences: p.preferences_set,
        },
        None => Progress::default(),
    };
    Ok((progress, p))
}

/// A pro's profile with everything its parts hold, as one reads it back.
#[derive(Debug, Clone)]
pub struct Whole {
    pub profile: Profile,
    pub progress: Progress,
    /// ZIPs picked by hand, beyond the radius.
    pub extra_zips: Vec<String>,
    /// Category slugs.
    pub services: Vec<String>,
    pub hours: Vec<HoursRow>,
}

/// The whole profile of the signed-in pro `user`; not found for an account without one.
pub fn whole<'a>(ctx: &'a Ctx, user: &'a User) -> BoxFuture<'a, Result<Whole, ServiceError>> {
    Box::pin(whole_inner(ctx, user))
}

async fn whole_inner(ctx: &Ctx, user: &User) -> Result<Whole, ServiceError> {
    let (progress, profile) = progress(ctx, user).await?;
    let profile = profile.ok_or(ServiceError::NotFound)?;
    let mut conn = ctx.pool.acquire().await?;
    let extra_zips = store::profiles::covered_zips(&mut conn, user.id)
        .await?
        .into_iter()
        .filter(|z| z.hand_picked)
        .map(|z| z.zip)
        .collect();
    let services = store::profiles::categories(&mut conn, user.id).await?;
    let hours = store::profiles::hours(&mut conn, user.id).await?;
    Ok(Whole { profile, progress, extra_zips, services, hours })
}

/// Parts of a profile to replace at once; each part given replaces that part whole.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub business: Option<(BusinessName, Licence)>,
    pub area: Option<ServiceArea>,
    /// Category slugs.
    pub services: Option<Vec<String>>,
    pub hours: Option<Hours>,
    pub preferences: Option<LeadPreferences>,
    pub notifications: Option<Notifications>,
}

/// An area checked against the reference data, ready to write.
struct CheckedArea {
    area: ServiceArea,
    radius_zips: Vec<String>,
    time_zone: Option<String>,
}

/// Every ZIP must exist in the reference data; the covered ZIPs are those within the radius of
/// the base and those picked by hand.
async fn check_area(ctx: &Ctx, area: ServiceArea) -> Result<CheckedArea, ServiceError> {
    let mut unknown = Vec::new();
    for z in std::iter::once(&area.base).chain(area.extra.iter()) {
        if ctx.zip(z).await?.is_none() {
            unknown.push(z.as_str().to_owned());
        }
    }
    if !unknown.is_empty() {
        let field =
            if unknown.first().map(String::as_str) == Some(area.base.as_str()) { "base_zip" } else { "extra_zips" };
        let message = format!("We couldn't find ZIP {} — check the 5 digits?", unknown.join(", "));
        return Err(ServiceError::Invalid(vec![FieldError { field, message }]));
    }
    let within = async {
        let mut conn = ctx.pool.acquire().await?;
        store::zips::within_radius(&mut conn, &area.base, domain::Miles(f64::from(area.radius_miles))).await
    };
    let radius_zips = within.await?.unwrap_or_default().into_iter().map(|n| n.info.zip).collect();
    // The base ZIP's time zone is the likely one, until the pro says otherwise.
    let time_zone = ctx.zip(&area.base).await?.map(|z| z.time_zone);
    Ok(CheckedArea { area, radius_zips, time_zone })
}

/// Replaces the parts in `changes`, all or none: each is checked against the reference data
/// first (every refusal named at once), then all are written in one transaction with an audit
/// entry per part. A change to what staff vetted (the licence) sends an approved pro back to
/// review.
pub fn update<'a>(ctx: &'a Ctx, pro: Uuid, ip: &'a str, changes: Changes) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(update_inner(ctx, pro, ip, changes))
}

async fn update_inner(ctx: &Ctx, pro: Uuid, ip: &str, changes: Changes) -> Result<(), ServiceError> {
    let Changes { business, area, services, hours, preferences, notifications } = changes;
    let mut errors = Vec::new();
    let area = match area {
        Some(a) => match check_area(ctx, a).await {
            Ok(a) => Some(a),
            Err(ServiceError::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if let Some(slugs) = &services {
        let known = ctx.categories().await?;
        if slugs.is_empty() || slugs.iter().any(|s| !known.iter().any(|c| &c.slug == s)) {
            let message = "Choose at least one kind of job you do.".to_owned();
            errors.push(FieldError { field: "services", message });
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let mut parts = Vec::new();
    let mut vetted_changed = false;
    if let Some((name, licence)) = business {
        let before = store::profiles::get(&mut tx, pro).await?;
        store::profiles::set_business(&mut tx, pro, name.as_str(), &licence.number, &licence.state, now).await?;
        // The business name is the pro's to change; the licence is what staff checked.
        vetted_changed |= before.is_some_and(|p| {
            p.licence_number.as_deref() != Some(licence.number.as_str())
                || p.licence_state.as_deref() != Some(licence.state.as_str())
        });
        parts.push(Part::Business);
    }
    if let Some(CheckedArea { area, radius_zips, time_zone }) = area {
        let extra: Vec<String> = area.extra.iter().map(|z| z.as_str().to_owned()).collect();
        let radius = i32::from(area.radius_miles);
        store::profiles::set_area(&mut tx, pro, area.base.as_str(), radius, &radius_zips, &extra, now).await?;
        if let Some(tz) = time_zone {
            store::profiles::default_time_zone(&mut tx, pro, &tz).await?;
        }
        parts.push(Part::Area);
    }
    if let Some(slugs) = services {
        store::profiles::set_categories(&mut tx, pro, &slugs).await?;
        parts.push(Part::Services);
    }
    if let Some(h) = hours {
        let rows: Vec<HoursRow> = h
            .days
            .iter()
            .map(|d| HoursRow { weekday: i16::from(d.weekday), opens: d.opens, closes: d.closes })
            .collect();
        store::profiles::set_hours(&mut tx, pro, &rows, &h.time_zone, h.emergency_24_7, now).await?;
        parts.push(Part::Hours);
    }
    if let Some(p) = preferences {
        let prefs = Preferences {
            max_price_cents: p.max_price.map(|c| c.0),
            accepts_shared: p.shared,
            accepts_exclusive: p.exclusive,
            daily_cap: p.daily_cap,
            weekly_budget_cents: p.weekly_budget.map(|c| c.0),
            paused: p.paused,
        };
        store::profiles::set_preferences(&mut tx, pro, &prefs, now).await?;
        parts.push(Part::Preferences);
    }
    if let Some(n) = notifications {
        store::profiles::set_notifications(&mut tx, pro, n.sms, n.email, n.quiet, now).await?;
        parts.push(Part::Notifications);
    }
    let back_to_review = vetted_changed && store::profiles::back_to_review(&mut tx, pro, now).await?;
    for part in parts {
        let detail = serde_json::json!({"part": part.as_str(), "back_to_review": back_to_review});
        audit::record(&mut tx, ctx, Audit::own(pro, AuditAction::ProfileChanged, Some(ip)).detail(detail)).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub fn set_business<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    name: BusinessName,
    licence: Licence,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_business_inner(ctx, pro, ip, name, licence))
}

async fn set_business_inner(
    ctx: &Ctx,
    pro: Uuid,
    ip: &str,
    name: BusinessName,
    licence: Licence,
) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { business: Some((name, licence)), ..Changes::default() }).await
}

pub fn set_area<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    area: ServiceArea,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_area_inner(ctx, pro, ip, area))
}

async fn set_area_inner(ctx: &Ctx, pro: Uuid, ip: &str, area: ServiceArea) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { area: Some(area), ..Changes::default() }).await
}

/// The kinds of job the pro does: at least one, each a category we have.
pub fn set_services<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    slugs: Vec<String>,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_services_inner(ctx, pro, ip, slugs))
}

async fn set_services_inner(ctx: &Ctx, pro: Uuid, ip: &str, slugs: Vec<String>) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { services: Some(slugs), ..Changes::default() }).await
}

pub fn set_hours<'a>(ctx: &'a Ctx, pro: Uuid, ip: &'a str, h: Hours) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_hours_inner(ctx, pro, ip, h))
}

async fn set_hours_inner(ctx: &Ctx, pro: Uuid, ip: &str, h: Hours) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { hours: Some(h), ..Changes::default() }).await
}

pub fn set_preferences<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    p: LeadPreferences,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_preferences_inner(ctx, pro, ip, p))
}

async fn set_preferences_inner(ctx: &Ctx, pro: Uuid, ip: &str, p: LeadPreferences) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { preferences: Some(p), ..Changes::default() }).await
}

pub fn set_notifications<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    n: Notifications,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(set_notifications_inner(ctx, pro, ip, n))
}

async fn set_notifications_inner(ctx: &Ctx, pro: Uuid, ip: &str, n: Notifications) -> Result<(), ServiceError> {
    update(ctx, pro, ip, Changes { notifications: Some(n), ..Changes::default() }).await
}

/// The types we take, told by the file's first bytes, never by its name or the browser's word.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some("application/pdf") => Some(("application/pdf", "pdf")),
        Some("image/jpeg") => Some(("image/jpeg", "jpg")),
        Some("image/png") => Some(("image/png", "png")),
        _ => None,
    }
}

/// Keeps the insurance certificate (PDF, JPEG or PNG, by its bytes); the one it replaces goes.
pub fn upload_insurance<'a>(
    ctx: &'a Ctx,
    pro: Uuid,
    ip: &'a str,
    bytes: Bytes,
) -> BoxFuture<'a, Result<(), ServiceError>> {
    Box::pin(upload_insurance_inner(ctx, pro, ip, bytes))
}

async fn upload_insurance_inner(ctx: &Ctx, pro: Uuid, ip: &str, bytes: Bytes) -> Result<(), ServiceError> {
    let Some((content_type, ext)) = sniff(&bytes) else {
        let message = "That file isn't a PDF, JPEG or PNG. Save or scan the certificate as one of those and try again."
            .to_owned();
        return Err(ServiceError::UnsupportedType(FieldError { field: "insurance", message }));
    };
    let key = format!("insurance/{pro}/{}.{ext}", Uuid::now_v7());
    ctx.providers.storage.put(&key, bytes).await.map_err(anyhow::Error::from)?;
    let mut tx = ctx.pool.begin().await?;
    let now = ctx.clock.now();
    let replaced = store::profiles::set_insurance(&mut tx, pro, &key, content_type, now).await?;
    // A new certificate is one staff have not seen.
    let back_to_review = store::profiles::back_to_review(&mut tx, pro, now).await?;
    let detail = serde_json::json!({"part": Part::Insurance.as_str(), "back_to_review": back_to_review});
    audit::record(&mut tx, ctx, Audit::own(pro, AuditAction::ProfileChanged, Some(ip)).detail(detail)).await?;
    tx.commit().await?;
    if let Some(old) = replaced {
        // The replaced certificate goes once the new one is recorded; a failure here only
        // leaves an orphan file.
        let _ = ctx.providers.storage.delete(&old).await;
    }
    Ok(())
}

/// A pro's insurance certificate and its (sniffed) type. For its owner and for staff only: the
/// caller decides who may ask.
pub fn insurance<'a>(ctx: &'a Ctx, pro: Uuid) -> BoxFuture<'a, Result<(Bytes, String), ServiceError>> {
    Box::pin(insurance_inner(ctx, pro))
}

async fn insurance_inner(ctx: &Ctx, pro: Uuid) -> Result<(Bytes, String), ServiceError> {
    let profile = {
        let mut conn = ctx.pool.acquire().await?;
        store::profiles::get(&mut conn, pro).await?
    };
    let Some(Profile { insurance_key: Some(key), insurance_content_type: Some(content_type), .. }) = profile else {
        return Err(ServiceError::NotFound);
    };
    let bytes = ctx.providers.storage.get(&key).await.map_err(anyhow::Error::from)?;
    Ok((bytes, content_type))
}

/// Sends a finished profile to staff for review. False when the checklist is not done yet.
pub fn submit_for_review<'a>(ctx: &'a Ctx, user: &'a User, ip: &'a str) -> BoxFuture<'a, Result<bool, ServiceError>> {
    Box::pin(submit_for_review_inner(ctx, user, ip))
}

async fn submit_for_review_inner(ctx: &Ctx, user: &User, ip: &str) -> Result<bool, ServiceError> {
    let (progress, _) = progress(ctx, user).await?;
    if !progress.ready_for_review() {
        return Ok(false);
    }
    let mut tx = ctx.pool.begin().await?;
    if store::profiles::submit(&mut tx, user.id, ctx.clock.now()).await? {
        audit::record(&mut tx, ctx, Audit::own(user.id, AuditAction::ProfileSubmitted, Some(ip))).await?;
    }
    tx.commit().await?;
    Ok(true)
}
