-- A plumber can close their account at any time; money left in the wallet goes back to the card
-- it was paid with (the terms promise both). The account row stays (bought leads, the ledger and
-- the audit log point at it); it can no longer sign in, and matching no longer sees the pro.

ALTER TYPE pro_status ADD VALUE 'closed';
ALTER TABLE identity.users ADD COLUMN closed_at timestamptz;

ALTER TABLE identity.sessions DROP CONSTRAINT sessions_ended_reason_check;
ALTER TABLE identity.sessions ADD CONSTRAINT sessions_ended_reason_check CHECK (ended_reason IN (
    'logout', 'ended_by_owner', 'password_changed', 'mfa_reset', 'refresh_token_reused', 'expired',
    'account_closed'));

ALTER TABLE identity.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved', 'prices_changed',
    'dispute_credited', 'dispute_denied', 'pro_changes_asked', 'pro_turned_down', 'homeowner_erased',
    'account_closed'));

-- Money sent back to a card: each refund is against one top-up, posted to the ledger (a `refund`
-- transfer referencing the refund's id) when it is decided and sent to the provider by a job.
CREATE TYPE card_refund_status AS ENUM ('pending', 'succeeded');
CREATE TABLE card_refunds (
    id                  uuid PRIMARY KEY,
    pro_id              uuid NOT NULL REFERENCES pros (user_id),
    top_up_id           uuid NOT NULL REFERENCES wallet_top_ups (id),
    amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
    status              card_refund_status NOT NULL DEFAULT 'pending',
    provider_refund_id  text,
    created_at          timestamptz NOT NULL,
    completed_at        timestamptz,
    CHECK ((status = 'succeeded') = (completed_at IS NOT NULL AND provider_refund_id IS NOT NULL))
);
CREATE INDEX card_refunds_top_up ON card_refunds (top_up_id);
CREATE INDEX card_refunds_pro ON card_refunds (pro_id, created_at DESC);

-- A card is never given back more than it paid: checked with the top-up's row locked, so two
-- refunds of one top-up cannot both pass.
CREATE FUNCTION card_refunds_within_top_up() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paid bigint;
    given bigint;
BEGIN
    SELECT amount_cents INTO paid FROM wallet_top_ups
     WHERE id = NEW.top_up_id AND pro_id = NEW.pro_id AND status = 'succeeded' FOR UPDATE;
    IF paid IS NULL THEN
        RAISE EXCEPTION 'top-up % of pro % was not paid', NEW.top_up_id, NEW.pro_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'card_refunds_within_top_up';
    END IF;
    SELECT coalesce(sum(amount_cents), 0) INTO given FROM card_refunds WHERE top_up_id = NEW.top_up_id;
    IF given + NEW.amount_cents > paid THEN
        RAISE EXCEPTION 'refunds of top-up % would exceed its % cents', NEW.top_up_id, paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'card_refunds_within_top_up';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER card_refunds_within_top_up BEFORE INSERT ON card_refunds
    FOR EACH ROW EXECUTE FUNCTION card_refunds_within_top_up();

-- The sandbox payment provider's refunds, as Stripe's `POST /v1/refunds` would record them: one
-- per idempotency key (our refund's id), never more than the checkout took.
CREATE TABLE sandbox_refunds (
    id            uuid PRIMARY KEY,
    checkout_id   uuid NOT NULL REFERENCES sandbox_checkouts (id),
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
    reference     text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL
);
CREATE INDEX sandbox_refunds_checkout ON sandbox_refunds (checkout_id);
