-- Values stored as text are checked by the schema, matching the code's enums
-- (services::audit::AuditAction, domain::account::SessionEnd).

-- An operator removing a staff member's second factor ends their sessions as 'mfa_reset'
-- (it was recorded as 'password_changed').
ALTER TABLE identity.sessions DROP CONSTRAINT sessions_ended_reason_check;
ALTER TABLE identity.sessions ADD CONSTRAINT sessions_ended_reason_check CHECK (ended_reason IN (
    'logout', 'ended_by_owner', 'password_changed', 'mfa_reset', 'refresh_token_reused', 'expired'));

ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved'));
