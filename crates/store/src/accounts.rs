//! Accounts (`identity.users`) and the businesses of pro accounts (`pros`).

use domain::account::ProStatus;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: Uuid,
    pub role: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub password_hash: String,
    pub password_changed_at: OffsetDateTime,
    pub email_verified_at: Option<OffsetDateTime>,
    pub phone_verified_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    /// Closed by its owner: no sign-in.
    pub closed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub role: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub now: OffsetDateTime,
}

/// Fails with a unique violation when the address (in any case) is taken.
pub async fn insert(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO identity.users (id, role, email, name, phone, password_hash, password_changed_at, created_at, updated_at)
         VALUES ($1, ($2::text)::identity.role, $3, $4, $5, $6, $7, $7, $7)",
        u.id,
        u.role,
        u.email,
        u.name,
        u.phone,
        u.password_hash,
        u.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_pro(
    conn: &mut PgConnection,
    user_id: Uuid,
    business_name: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO pros (user_id, business_name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        user_id,
        business_name,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"SELECT id, role::text AS "role!", email, name, phone, password_hash, password_changed_at,
                  email_verified_at, phone_verified_at, created_at, closed_at
           FROM identity.users WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The account with this address, whatever its case.
pub async fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"SELECT id, role::text AS "role!", email, name, phone, password_hash, password_changed_at,
                  email_verified_at, phone_verified_at, created_at, closed_at
           FROM identity.users WHERE lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE identity.users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1",
        id,
        hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// True if this call verified it (false: already verified).
pub async fn mark_email_verified(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.users SET email_verified_at = $2, updated_at = $2 WHERE id = $1 AND email_verified_at IS NULL",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_phone_verified(
    conn: &mut PgConnection,
    id: Uuid,
    phone: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE identity.users SET phone_verified_at = $3, updated_at = $3 WHERE id = $1 AND phone = $2",
        id,
        phone,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct Pro {
    pub user_id: Uuid,
    pub business_name: String,
    pub status: ProStatus,
}

pub async fn pro(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Pro>, sqlx::Error> {
    sqlx::query_as!(
        Pro,
        r#"SELECT user_id, business_name, status AS "status!: ProStatus" FROM pros WHERE user_id = $1"#,
        user_id
    )
    .fetch_optional(conn)
    .await
}

/// A pro as staff see it in the back office.
#[derive(Debug, Clone)]
pub struct ProSummary {
    pub user_id: Uuid,
    pub business_name: String,
    pub status: ProStatus,
    pub owner_name: String,
    pub email: String,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub created_at: OffsetDateTime,
}

/// Newest sign-ups first.
pub async fn recent_pros(conn: &mut PgConnection, limit: i64) -> Result<Vec<ProSummary>, sqlx::Error> {
    sqlx::query_as!(
        ProSummary,
        r#"SELECT p.user_id, p.business_name, p.status AS "status!: ProStatus", u.name AS owner_name, u.email,
                  u.email_verified_at IS NOT NULL AS "email_verified!", u.phone_verified_at IS NOT NULL AS "phone_verified!",
                  p.created_at
           FROM pros p JOIN identity.users u ON u.id = p.user_id
           ORDER BY p.created_at DESC, p.user_id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: Uuid,
    pub role: String,
    pub email: String,
    pub name: String,
    pub mfa_enabled: bool,
    pub created_at: OffsetDateTime,
}

pub async fn staff(conn: &mut PgConnection) -> Result<Vec<StaffMember>, sqlx::Error> {
    sqlx::query_as!(
        StaffMember,
        r#"SELECT id, role::text AS "role!", email, name, totp_enabled_at IS NOT NULL AS "mfa_enabled!", created_at
           FROM identity.users WHERE role IN ('staff', 'admin') ORDER BY name, id"#
    )
    .fetch_all(conn)
    .await
}
