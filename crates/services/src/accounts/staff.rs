//! Staff accounts: where they may sign in from, creating one, removing a lost second factor.

use crate::audit::{self, Audit, AuditAction};
use crate::infra::{passwords, tokens};
use crate::{Conflict, Ctx, ServiceError};
use domain::FieldError;
use domain::account::{Password, Role, SessionEnd};
use futures::future::BoxFuture;
use uuid::Uuid;

/// Staff may sign in only from these addresses (the office, the VPN).
pub fn staff_address(ctx: &Ctx, ip: std::net::IpAddr) -> bool {
    // The unspecified address is how the web layer says "a proxy could not tell who this is".
    !ip.is_unspecified() && ctx.settings.auth.staff_allow.iter().any(|net| net.contains(&ip))
}

/// A staff account, created by an admin in the back office (`granted_by`) or by an operator
/// (`plumberleads admin create-staff`, no one). Returns the first password, to hand over once;
/// the second factor is enrolled at first sign-in.
pub fn create_staff<'a>(
    ctx: &'a Ctx,
    granted_by: Option<Uuid>,
    email: &'a str,
    name: &'a str,
    role: Role,
) -> BoxFuture<'a, Result<(Uuid, String), ServiceError>> {
    Box::pin(create_staff_inner(ctx, granted_by, email, name, role))
}

async fn create_staff_inner(
    ctx: &Ctx,
    granted_by: Option<Uuid>,
    email: &str,
    name: &str,
    role: Role,
) -> Result<(Uuid, String), ServiceError> {
    let mut errors = Vec::new();
    let email = domain::lead::Email::parse(email)
        .map_err(|e| errors.push(FieldError { field: "email", message: e.to_string() }));
    let name = domain::lead::PersonName::parse(name)
        .map_err(|e| errors.push(FieldError { field: "name", message: e.to_string() }));
    let (Ok(email), Ok(name)) = (email, name) else { return Err(ServiceError::Invalid(errors)) };
    if !role.is_staff() {
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "role",
            message: "Staff accounts are staff or admin.".into(),
        }]));
    }
    let (password, _) = tokens::new_secret();
    let hash = passwords::hash(Password::presented(&password)).await?;
    let now = ctx.clock.now();
    let id = Uuid::now_v7();
    let mut tx = ctx.pool.begin().await?;
    if store::accounts::find_by_email(&mut tx, email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(Conflict::EmailTaken));
    }
    let user = store::accounts::NewUser {
        id,
        role: role.as_str(),
        email: email.as_str(),
        name: name.as_str(),
        phone: None,
        password_hash: &hash,
        now,
    };
    store::accounts::insert(&mut tx, &user).await?;
    // The operator vouches for the address.
    store::accounts::mark_email_verified(&mut tx, id, now).await?;
    let detail = serde_json::json!({"role": role.as_str()});
    audit::record(&mut tx, ctx, Audit::about(AuditAction::StaffCreated, id).detail(detail.clone())).await?;
    if let Some(admin) = granted_by {
        audit::record(&mut tx, ctx, Audit::new(Some(admin), AuditAction::RoleGranted, id, None).detail(detail)).await?;
    }
    tx.commit().await?;
    metrics::counter!("accounts_registered_total", "role" => "staff").increment(1);
    Ok((id, password))
}

/// Removes a staff member's second factor (lost phone and codes); they enrol again at sign-in.
/// Their sessions end.
pub fn reset_second_factor<'a>(ctx: &'a Ctx, email: &'a str) -> BoxFuture<'a, Result<Uuid, ServiceError>> {
    Box::pin(reset_second_factor_inner(ctx, email))
}

async fn reset_second_factor_inner(ctx: &Ctx, email: &str) -> Result<Uuid, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = ctx.pool.begin().await?;
    let user = store::accounts::find_by_email(&mut tx, email.trim()).await?.ok_or(ServiceError::BadCredentials)?;
    store::mfa::reset(&mut tx, user.id).await?;
    store::sessions::end_all(&mut tx, user.id, None, SessionEnd::MfaReset.as_str(), now).await?;
    audit::record(&mut tx, ctx, Audit::about(AuditAction::MfaReset, user.id)).await?;
    tx.commit().await?;
    ctx.session_cache.bump(user.id).await;
    Ok(user.id)
}
