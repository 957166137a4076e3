-- A homeowner's personal data leaves a request 24 months after it was made
-- (PLUMBERLEADS_HOMEOWNER_RETENTION), or at once when they ask (`admin erase-homeowner`): name,
-- phone, e-mail, description, referrer and campaign tags are blanked, notes and refused copies
-- deleted. What remains — job, ZIP, dates, status, consent's version and time, sales — keeps the
-- statistics whole.
ALTER TABLE leads ADD COLUMN anonymised_at timestamptz;
-- The hourly sweep finds what is due without reading every request.
CREATE INDEX leads_to_anonymise ON leads (created_at) WHERE anonymised_at IS NULL;

ALTER TABLE identity.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved', 'prices_changed',
    'dispute_credited', 'dispute_denied', 'pro_changes_asked', 'pro_turned_down', 'homeowner_erased'));
