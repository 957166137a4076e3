-- Lead intake: partners and their API keys, leads, phone verification, idempotency keys,
-- rate-limit counters, rejected submissions, and the anonymous conversion funnel.

CREATE TABLE partners (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Keys look like `pl_<prefix>_<secret>`: the prefix finds the row, the secret's SHA-256 is
    -- compared in constant time. The secret is shown once, at creation, and never stored.
    key_prefix  text NOT NULL UNIQUE,
    key_hash    bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE TYPE lead_status AS ENUM ('received', 'pending_verification', 'verified', 'offered', 'sold', 'unsold', 'rejected');
CREATE TYPE lead_source AS ENUM ('web', 'partner');
CREATE TYPE contact_preference AS ENUM ('phone', 'sms', 'email');

CREATE TABLE leads (
    id                  uuid PRIMARY KEY,
    status              lead_status NOT NULL,
    category            text NOT NULL REFERENCES categories (slug),
    urgency             text NOT NULL CHECK (urgency IN ('emergency', 'within_48h', 'flexible')),
    zip                 text NOT NULL REFERENCES zip_codes (zip),
    description         text NOT NULL,
    name                text NOT NULL,
    phone               text NOT NULL CHECK (phone ~ '^\+1[0-9]{10}$'),
    email               text,
    contact_preference  contact_preference NOT NULL,
    consent_version     text NOT NULL,
    consent_at          timestamptz NOT NULL,
    source              lead_source NOT NULL,
    partner_id          uuid REFERENCES partners (id),
    utm                 jsonb NOT NULL DEFAULT '{}',
    referrer            text,
    created_at          timestamptz NOT NULL,
    verified_at         timestamptz,
    updated_at          timestamptz NOT NULL,
    CHECK ((source = 'partner') = (partner_id IS NOT NULL))
);
-- Duplicate detection: same phone and category within a window.
CREATE INDEX leads_phone_category ON leads (phone, category, created_at DESC);
CREATE INDEX leads_partner ON leads (partner_id, created_at DESC) WHERE partner_id IS NOT NULL;
CREATE INDEX leads_recent ON leads (created_at DESC, id DESC);

-- The one-time code sent by SMS. Only its keyed hash is kept.
CREATE TABLE lead_verifications (
    lead_id       uuid PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    code_hash     bytea NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    sends         integer NOT NULL DEFAULT 1,
    last_sent_at  timestamptz NOT NULL,
    verified_at   timestamptz
);

-- Stripe-style idempotency: the first response to a key is stored and replayed for 24 hours.
CREATE TABLE idempotency_keys (
    principal      text NOT NULL,
    key            text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash   bytea NOT NULL,
    status_code    integer NOT NULL,
    response_body  bytea NOT NULL,
    location       text,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Fixed-window counters for rate limits when Redis is not configured.
CREATE UNLOGGED TABLE rate_limit_counters (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Every submission our defences turned away, with why, for staff to review.
CREATE TABLE lead_rejections (
    id           uuid PRIMARY KEY,
    reason       text NOT NULL CHECK (reason IN ('honeypot', 'too_fast', 'rate_limited_ip', 'rate_limited_partner', 'rate_limited_phone', 'duplicate', 'disposable_email')),
    source       lead_source NOT NULL,
    partner_id   uuid REFERENCES partners (id),
    existing_lead_id uuid REFERENCES leads (id),
    submission   jsonb NOT NULL,
    client_ip    inet,
    created_at   timestamptz NOT NULL
);
CREATE INDEX lead_rejections_recent ON lead_rejections (created_at DESC);

-- The request form's funnel, without personal data: a random id per form view ties the steps.
CREATE TABLE analytics.funnel_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    funnel_id    uuid NOT NULL,
    step         text NOT NULL CHECK (step IN ('form_viewed', 'form_started', 'submitted', 'verified')),
    source       lead_source NOT NULL,
    category     text,
    occurred_at  timestamptz NOT NULL,
    UNIQUE (funnel_id, step)
);
CREATE INDEX funnel_events_time ON analytics.funnel_events (occurred_at);

-- Leads per day, category and state, for the business dashboard.
CREATE VIEW reporting.leads_daily AS
SELECT date_trunc('day', l.created_at) AS day, l.category, z.state, l.source,
       count(*) AS leads,
       count(*) FILTER (WHERE l.verified_at IS NOT NULL) AS verified
FROM leads l JOIN zip_codes z ON z.zip = l.zip
GROUP BY 1, 2, 3, 4;

-- A lead's timeline. `verified` is the hand-off to distribution: matching starts from it.
CREATE TABLE lead_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id      uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('received', 'code_sent', 'verified', 'duplicate_attempt')),
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events (lead_id, id);
CREATE INDEX lead_events_verified ON lead_events (occurred_at) WHERE kind = 'verified';
