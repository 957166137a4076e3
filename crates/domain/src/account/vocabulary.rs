//! Values an account's records store as text: one `as_str`/`parse` pair each, matching the
//! schema's CHECK constraints.

/// What an e-mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [TokenPurpose::VerifyEmail, TokenPurpose::ResetPassword].into_iter().find(|p| p.as_str() == s)
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Logout,
    EndedByOwner,
    PasswordChanged,
    /// Staff's second factor was removed by an operator.
    MfaReset,
    RefreshTokenReused,
    Expired,
    /// The account was closed by its owner.
    AccountClosed,
}

impl SessionEnd {
    pub const ALL: [SessionEnd; 7] = [
        SessionEnd::Logout,
        SessionEnd::EndedByOwner,
        SessionEnd::PasswordChanged,
        SessionEnd::MfaReset,
        SessionEnd::RefreshTokenReused,
        SessionEnd::Expired,
        SessionEnd::AccountClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::Logout => "logout",
            SessionEnd::EndedByOwner => "ended_by_owner",
            SessionEnd::PasswordChanged => "password_changed",
            SessionEnd::MfaReset => "mfa_reset",
            SessionEnd::RefreshTokenReused => "refresh_token_reused",
            SessionEnd::Expired => "expired",
            SessionEnd::AccountClosed => "account_closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where a pro's account stands, as the schema's `pro_status` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "pro_status", rename_all = "snake_case"))]
pub enum ProStatus {
    Onboarding,
    PendingApproval,
    Active,
    Suspended,
    /// Closed by its owner: no sign-in, no leads.
    Closed,
}

impl ProStatus {
    pub const ALL: [ProStatus; 5] =
        [ProStatus::Onboarding, ProStatus::PendingApproval, ProStatus::Active, ProStatus::Suspended, ProStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            ProStatus::Onboarding => "onboarding",
            ProStatus::PendingApproval => "pending_approval",
            ProStatus::Active => "active",
            ProStatus::Suspended => "suspended",
            ProStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Where the plumber is, as staff read it.
    pub fn label(self) -> &'static str {
        match self {
            ProStatus::Onboarding => "Filling in profile",
            ProStatus::PendingApproval => "Waiting for approval",
            ProStatus::Active => "Approved",
            ProStatus::Suspended => "Suspended",
            ProStatus::Closed => "Closed by the plumber",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_as_itself() {
        for r in SessionEnd::ALL {
            assert_eq!(SessionEnd::parse(r.as_str()), Some(r));
        }
        for p in [TokenPurpose::VerifyEmail, TokenPurpose::ResetPassword] {
            assert_eq!(TokenPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(TokenPurpose::parse("anything_else"), None);
        for s in ProStatus::ALL {
            assert_eq!(ProStatus::parse(s.as_str()), Some(s));
        }
    }
}
