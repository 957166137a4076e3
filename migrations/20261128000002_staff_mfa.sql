-- Staff sign in with a second factor: TOTP (RFC 6238, as Google Authenticator does it) and
-- single-use recovery codes. A session of a staff account counts only once `mfa_at` is set.

ALTER TABLE identity.users
    ADD COLUMN totp_secret          bytea,
    -- Shown as a QR code during enrolment; becomes `totp_secret` when a first code matches.
    ADD COLUMN totp_pending_secret  bytea,
    ADD COLUMN totp_enabled_at      timestamptz,
    -- The newest 30-second step a code was accepted for: each code works once.
    ADD COLUMN totp_last_step       bigint NOT NULL DEFAULT 0;

ALTER TABLE identity.sessions ADD COLUMN mfa_at timestamptz;

CREATE TABLE identity.recovery_codes (
    user_id    uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
