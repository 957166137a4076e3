-- Staff's review of a plumber can end three ways: approved, changes asked for (the profile goes
-- back to the plumber with a message) or turned down (with the reason). The last message is kept
-- on the pro, shown on their portal, and cleared when they send the profile again or are approved.
ALTER TABLE pros ADD COLUMN review_message text CHECK (length(review_message) BETWEEN 1 AND 2000);

ALTER TABLE identity.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved', 'prices_changed',
    'dispute_credited', 'dispute_denied', 'pro_changes_asked', 'pro_turned_down'));
