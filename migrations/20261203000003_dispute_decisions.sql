-- Staff decide the disputes our own data could not: who decided, and why, kept with the dispute;
-- each decision (it moves money, or refuses to) is audited.
ALTER TABLE disputes
    ADD COLUMN decided_by    uuid REFERENCES identity.users (id),
    ADD COLUMN decision_note text NOT NULL DEFAULT '' CHECK (length(decision_note) <= 2000);

ALTER TABLE identity.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved', 'prices_changed',
    'dispute_credited', 'dispute_denied'));
