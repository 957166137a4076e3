-- Accounts: plumbers (pros) and staff, their sessions and API tokens, one-time e-mail links,
-- login throttling, and the tamper-evident audit log. Authentication data lives in `identity`.

CREATE TYPE identity.role AS ENUM ('pro', 'staff', 'admin');

CREATE TABLE identity.users (
    id                   uuid PRIMARY KEY,
    role                 identity.role NOT NULL,
    -- As typed (the domain lower-cased); unique regardless of case, since people type it both ways.
    email                text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    phone                text CHECK (phone ~ '^\+1[0-9]{10}$'),
    -- PHC string (Argon2id); never leaves the server.
    password_hash        text NOT NULL,
    password_changed_at  timestamptz NOT NULL,
    email_verified_at    timestamptz,
    phone_verified_at    timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email ON identity.users (lower(email));

-- A plumbing business; one per pro account. Onboarding fills in the rest.
CREATE TYPE pro_status AS ENUM ('onboarding', 'pending_approval', 'active', 'suspended');

CREATE TABLE pros (
    user_id        uuid PRIMARY KEY REFERENCES identity.users (id) ON DELETE CASCADE,
    business_name  text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 120),
    status         pro_status NOT NULL DEFAULT 'onboarding',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Sessions: a browser's (cookie) or an API client's (refresh-token family). Only a SHA-256 of
-- the secret is kept; `id` is what the owner sees to list and end them.
CREATE TYPE identity.session_kind AS ENUM ('browser', 'api');

CREATE TABLE identity.sessions (
    id            uuid PRIMARY KEY,
    secret_hash   bytea NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    kind          identity.session_kind NOT NULL,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    -- The absolute limit; the idle limit is last_seen_at + the setting.
    expires_at    timestamptz NOT NULL,
    ip            text,
    user_agent    text,
    ended_at      timestamptz,
    ended_reason  text CHECK (ended_reason IN ('logout', 'ended_by_owner', 'password_changed', 'refresh_token_reused', 'expired'))
);
CREATE INDEX sessions_user ON identity.sessions (user_id, created_at DESC) WHERE ended_at IS NULL;

-- API refresh tokens, rotated on every use. Presenting one that was already used ends its
-- session (the whole family): someone else has a copy.
CREATE TABLE identity.refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES identity.sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session ON identity.refresh_tokens (session_id);

-- Links sent by e-mail (verify the address, reset the password): single use, expiring, hashed.
CREATE TABLE identity.email_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_tokens_user ON identity.email_tokens (user_id, purpose);

-- The SMS code confirming a pro's mobile number. Only its keyed hash is kept.
CREATE TABLE identity.phone_codes (
    user_id       uuid PRIMARY KEY REFERENCES identity.users (id) ON DELETE CASCADE,
    phone         text NOT NULL,
    code_hash     bytea NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    sends         integer NOT NULL DEFAULT 1,
    last_sent_at  timestamptz NOT NULL
);

-- Failed logins, keyed by the address as typed (so an unknown address is throttled exactly
-- like a known one) and by the client's address.
CREATE TABLE identity.login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text NOT NULL,
    ip          text NOT NULL,
    failed_at   timestamptz NOT NULL
);
CREATE INDEX login_failures_account ON identity.login_failures (account, failed_at);
CREATE INDEX login_failures_ip ON identity.login_failures (ip, failed_at);

-- Append-only audit log. Each row's `hash` is an HMAC (keyed by the deployment's secret) over
-- its contents and the previous row's hash, so an altered or deleted row breaks the chain
-- (`plumberleads admin verify-audit`). Rows are numbered without gaps under a lock.
CREATE TABLE identity.audit_log (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    at          timestamptz NOT NULL,
    actor_id    uuid,
    action      text NOT NULL,
    subject_id  uuid,
    ip          text,
    -- JSON kept as the exact text that was hashed.
    detail      text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_log_subject ON identity.audit_log (subject_id, seq DESC);

CREATE FUNCTION identity.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON identity.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION identity.audit_log_append_only();
