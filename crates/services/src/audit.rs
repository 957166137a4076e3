//! The audit log's vocabulary and its one writer. Every deed a person or operator does to an
//! account, a profile or (later) money is recorded in the transaction that does it.

use crate::Ctx;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

/// What happened. Stored as text (`as_str`), checked by the schema's CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Signup,
    EmailVerified,
    PhoneVerified,
    Login,
    LoginFailed,
    LoginRefusedIp,
    Logout,
    SessionEnded,
    RefreshTokenReused,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    MfaEnrolled,
    MfaVerified,
    MfaRecoveryCodeUsed,
    MfaFailed,
    MfaReset,
    ReauthFailed,
    StaffCreated,
    RoleGranted,
    ProfileChanged,
    ProfileSubmitted,
    ProApproved,
    PricesChanged,
    DisputeCredited,
    DisputeDenied,
    ProChangesAsked,
    ProTurnedDown,
    HomeownerErased,
    /// A pro closed their own account (the wallet's money went back to their card).
    AccountClosed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 30] = [
        Self::Signup,
        Self::EmailVerified,
        Self::PhoneVerified,
        Self::Login,
        Self::LoginFailed,
        Self::LoginRefusedIp,
        Self::Logout,
        Self::SessionEnded,
        Self::RefreshTokenReused,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::MfaEnrolled,
        Self::MfaVerified,
        Self::MfaRecoveryCodeUsed,
        Self::MfaFailed,
        Self::MfaReset,
        Self::ReauthFailed,
        Self::StaffCreated,
        Self::RoleGranted,
        Self::ProfileChanged,
        Self::ProfileSubmitted,
        Self::ProApproved,
        Self::PricesChanged,
        Self::DisputeCredited,
        Self::DisputeDenied,
        Self::ProChangesAsked,
        Self::ProTurnedDown,
        Self::HomeownerErased,
        Self::AccountClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::EmailVerified => "email_verified",
            Self::PhoneVerified => "phone_verified",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::LoginRefusedIp => "login_refused_ip",
            Self::Logout => "logout",
            Self::SessionEnded => "session_ended",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::MfaEnrolled => "mfa_enrolled",
            Self::MfaVerified => "mfa_verified",
            Self::MfaRecoveryCodeUsed => "mfa_recovery_code_used",
            Self::MfaFailed => "mfa_failed",
            Self::MfaReset => "mfa_reset",
            Self::ReauthFailed => "reauth_failed",
            Self::StaffCreated => "staff_created",
            Self::RoleGranted => "role_granted",
            Self::ProfileChanged => "profile_changed",
            Self::ProfileSubmitted => "profile_submitted",
            Self::ProApproved => "pro_approved",
            Self::PricesChanged => "prices_changed",
            Self::DisputeCredited => "dispute_credited",
            Self::DisputeDenied => "dispute_denied",
            Self::ProChangesAsked => "pro_changes_asked",
            Self::ProTurnedDown => "pro_turned_down",
            Self::HomeownerErased => "homeowner_erased",
            Self::AccountClosed => "account_closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// What happened, as the back office's audit view says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Signup => "Signed up",
            Self::EmailVerified => "Confirmed e-mail",
            Self::PhoneVerified => "Confirmed mobile",
            Self::Login => "Logged in",
            Self::LoginFailed => "Wrong password",
            Self::LoginRefusedIp => "Staff login from outside the allowed addresses",
            Self::Logout => "Logged out",
            Self::SessionEnded => "Signed a device out",
            Self::RefreshTokenReused => "Stolen app token refused (all sessions ended)",
            Self::PasswordChanged => "Changed password",
            Self::PasswordResetRequested => "Asked for a password reset",
            Self::PasswordReset => "Reset password",
            Self::MfaEnrolled => "Set up two-step sign-in",
            Self::MfaVerified => "Gave the second factor",
            Self::MfaRecoveryCodeUsed => "Used a recovery code",
            Self::MfaFailed => "Wrong second-factor code",
            Self::MfaReset => "Two-step sign-in reset",
            Self::ReauthFailed => "Failed to confirm identity again",
            Self::StaffCreated => "Added a staff member",
            Self::RoleGranted => "Changed a role",
            Self::ProfileChanged => "Changed business profile",
            Self::ProfileSubmitted => "Sent profile for review",
            Self::ProApproved => "Approved a plumber",
            Self::PricesChanged => "Changed prices",
            Self::DisputeCredited => "Credited a dispute",
            Self::DisputeDenied => "Denied a dispute",
            Self::ProChangesAsked => "Asked a plumber for changes",
            Self::ProTurnedDown => "Turned a plumber down",
            Self::HomeownerErased => "Erased a homeowner's personal data",
            Self::AccountClosed => "Closed their account",
        }
    }
}

/// One entry: who did what to whom, from where.
pub struct Audit<'a> {
    pub actor: Option<Uuid>,
    pub action: AuditAction,
    pub subject: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub detail: serde_json::Value,
}

impl<'a> Audit<'a> {
    /// `actor` (if anyone) did `action` to `subject`, from `ip`; no detail yet.
    pub fn new(actor: Option<Uuid>, action: AuditAction, subject: Uuid, ip: Option<&'a str>) -> Self {
        Self { actor, action, subject: Some(subject), ip, detail: serde_json::json!({}) }
    }

    /// A person acting on their own account, from `ip`.
    pub fn own(user: Uuid, action: AuditAction, ip: Option<&'a str>) -> Self {
        Self::new(Some(user), action, user, ip)
    }

    /// Something that happened to `subject` with no person signed in to do it, from no address
    /// (an operator at the command line, a rule the system applied).
    pub fn about(action: AuditAction, subject: Uuid) -> Self {
        Self::new(None, action, subject, None)
    }

    #[must_use]
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// The key the audit log's hash chain is made with: derived from the deployment's secret.
pub fn key(ctx: &Ctx) -> Vec<u8> {
    ctx.signer.derive_key(b"audit-log")
}

/// Every key a row of the chain may have been written with (after a rotation, the previous
/// secret's too), for checking it.
pub fn keys(ctx: &Ctx) -> Vec<Vec<u8>> {
    ctx.signer.derived_keys(b"audit-log")
}

/// Appends `a` in the caller's transaction.
pub fn record<'a>(conn: &'a mut PgConnection, ctx: &'a Ctx, a: Audit<'a>) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(record_inner(conn, ctx, a))
}

async fn record_inner(conn: &mut PgConnection, ctx: &Ctx, a: Audit<'_>) -> Result<(), sqlx::Error> {
    let entry = store::audit::Entry {
        actor_id: a.actor,
        action: a.action.as_str(),
        subject_id: a.subject,
        ip: a.ip,
        detail: a.detail,
    };
    store::audit::append(conn, &key(ctx), ctx.clock.now(), &entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn every_action_reads_back_as_itself() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("made_up"), None);
    }
}

/// The chain's head as it is written outside the database: `SEQ:HASH` (hex), e.g. in the log
/// line `audit log head head=42:9f…` and as `admin verify-audit --head` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: Vec<u8>,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, hex::encode(&self.hash))
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected SEQ:HASH as the log line `audit log head` gives it, got {s:?}");
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let hash = hex::decode(hash).map_err(|_| bad())?;
        if seq < 1 || hash.len() != 32 {
            return Err(bad());
        }
        Ok(Self { seq, hash })
    }
}

/// The newest head this process has written to the log, so each one is logged once.
static LOGGED_HEAD: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Reads the chain's head and keeps it where the database's roles cannot reach: the gauge
/// `audit_log_head_seq` (Prometheus keeps its history; an alert fires if it goes back) and, when
/// it moved, one log line with its hash (the log stream leaves the machine). Called by every
/// `/metrics` scrape and by the hourly housekeeping.
pub fn publish_head<'a>(ctx: &'a Ctx) -> BoxFuture<'a, Result<Option<Head>, sqlx::Error>> {
    Box::pin(publish_head_inner(ctx))
}

async fn publish_head_inner(ctx: &Ctx) -> Result<Option<Head>, sqlx::Error> {
    use std::sync::atomic::Ordering;
    let mut conn = ctx.pool.acquire().await?;
    let Some((seq, hash)) = store::audit::head(&mut conn).await? else {
        return Ok(None);
    };
    metrics::gauge!("audit_log_head_seq").set(seq as f64);
    let head = Head { seq, hash };
    if LOGGED_HEAD.swap(seq, Ordering::Relaxed) != seq {
        tracing::info!(head = %head, "audit log head");
    }
    Ok(Some(head))
}

/// Whether the chain still reaches `logged`, a head read from outside the database: the entry is
/// there with the same hash. `None` if it holds; otherwise why not.
pub fn reaches<'a>(conn: &'a mut PgConnection, logged: &'a Head) -> BoxFuture<'a, Result<Option<String>, sqlx::Error>> {
    Box::pin(reaches_inner(conn, logged))
}

async fn reaches_inner(conn: &mut PgConnection, logged: &Head) -> Result<Option<String>, sqlx::Error> {
    Ok(match store::audit::hash_of(conn, logged.seq).await? {
        Some(h) if h == logged.hash => None,
        Some(_) => Some(format!("entry {} is not the one logged as the head (its hash differs)", logged.seq)),
        None => {
            Some(format!("entry {} was logged as the head but is gone: the newest entries were deleted", logged.seq))
        }
    })
}
