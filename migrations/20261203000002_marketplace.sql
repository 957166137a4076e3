-- The marketplace: a verified lead is offered to ranked pros, the first `max_buyers` to claim buy
-- it, and every cent moves on a double-entry ledger. The schema itself holds the rules that must
-- survive any number of app instances: a lead never has more buyers than it allows, a pro buys a
-- lead once, a wallet never goes below zero, every transfer sums to zero, entries never change.

-- A lead's sale, fixed when distribution starts: shared or exclusive, how many may buy it, and
-- when its window closes. `buyers` is kept by a trigger on `purchases`, so the CHECK is the guard.
ALTER TABLE leads
    ADD COLUMN exclusive         boolean,
    ADD COLUMN max_buyers        integer CHECK (max_buyers BETWEEN 1 AND 10),
    ADD COLUMN buyers            integer NOT NULL DEFAULT 0,
    ADD COLUMN window_closes_at  timestamptz,
    -- When distribution next looks at the lead; a scheduled look for another time is stale.
    ADD COLUMN next_look_at      timestamptz,
    ADD CONSTRAINT leads_buyers_within_max CHECK (buyers >= 0 AND buyers <= coalesce(max_buyers, 0));

-- How a pro hears of new offers, and the hours they want no texts (their own time zone;
-- emergencies still come through).
ALTER TABLE pros
    ADD COLUMN offer_sms    boolean NOT NULL DEFAULT true,
    ADD COLUMN offer_email  boolean NOT NULL DEFAULT true,
    ADD COLUMN quiet_from   time,
    ADD COLUMN quiet_until  time,
    ADD CHECK ((quiet_from IS NULL) = (quiet_until IS NULL));

ALTER TABLE lead_events DROP CONSTRAINT lead_events_kind_check;
ALTER TABLE lead_events ADD CONSTRAINT lead_events_kind_check
    CHECK (kind IN ('received', 'code_sent', 'verified', 'duplicate_attempt', 'offered', 'purchased', 'sold', 'unsold'));

-- One offer per lead and pro, with the price and the ranking it was made at.
CREATE TYPE offer_status AS ENUM ('pending', 'claimed', 'declined', 'expired');

CREATE TABLE offers (
    id                    uuid PRIMARY KEY,
    lead_id               uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    pro_id                uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    status                offer_status NOT NULL DEFAULT 'pending',
    batch                 integer NOT NULL CHECK (batch >= 1),
    base_cents            bigint NOT NULL CHECK (base_cents > 0),
    urgency_bps           integer NOT NULL CHECK (urgency_bps > 0),
    exclusive_bps         integer NOT NULL CHECK (exclusive_bps > 0),
    price_cents           bigint NOT NULL CHECK (price_cents > 0),
    distance_miles        real NOT NULL CHECK (distance_miles >= 0),
    score                 real NOT NULL,
    score_distance        real NOT NULL,
    score_responsiveness  real NOT NULL,
    score_rating          real NOT NULL,
    score_fairness        real NOT NULL,
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL CHECK (expires_at > created_at),
    decided_at            timestamptz,
    decline_reason        text CHECK (length(decline_reason) <= 500),
    CONSTRAINT offers_one_per_pro UNIQUE (lead_id, pro_id),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX offers_pro ON offers (pro_id, created_at DESC, id DESC);
CREATE INDEX offers_pending_expiry ON offers (expires_at) WHERE status = 'pending';

-- A lead bought by a pro, and what came of it.
CREATE TYPE purchase_status AS ENUM ('new', 'contacted', 'quoted', 'won', 'lost', 'disputed', 'credited', 'denied');

CREATE TABLE purchases (
    id               uuid PRIMARY KEY,
    offer_id         uuid NOT NULL REFERENCES offers (id),
    lead_id          uuid NOT NULL REFERENCES leads (id),
    pro_id           uuid NOT NULL REFERENCES pros (user_id),
    price_cents      bigint NOT NULL CHECK (price_cents > 0),
    status           purchase_status NOT NULL DEFAULT 'new',
    quote_cents      bigint CHECK (quote_cents >= 0),
    job_value_cents  bigint CHECK (job_value_cents >= 0),
    lost_reason      text CHECK (length(lost_reason) <= 500),
    purchased_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT purchases_once_per_offer UNIQUE (offer_id),
    CONSTRAINT purchases_once_per_pro UNIQUE (lead_id, pro_id)
);
CREATE INDEX purchases_pro ON purchases (pro_id, purchased_at DESC, id DESC);

CREATE FUNCTION purchases_count_buyer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Violates leads_buyers_within_max when the lead is already full.
    UPDATE leads SET buyers = buyers + 1 WHERE id = NEW.lead_id;
    RETURN NEW;
END $$;
CREATE TRIGGER purchases_count_buyer AFTER INSERT ON purchases FOR EACH ROW EXECUTE FUNCTION purchases_count_buyer();

-- The ledger. Each pro has a wallet account; the house has `payments` (money paid in through the
-- payment provider), `revenue` (leads sold) and `credits` (given back). A transfer is a set of
-- entries summing to zero; an entry is never changed or removed; an account's balance is moved
-- only by its entries (trigger), so it is provably their sum.
CREATE TYPE ledger_account_kind AS ENUM ('wallet', 'payments', 'revenue', 'credits');

CREATE TABLE ledger_accounts (
    id             uuid PRIMARY KEY,
    kind           ledger_account_kind NOT NULL,
    pro_id         uuid UNIQUE REFERENCES pros (user_id),
    balance_cents  bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'wallet') = (pro_id IS NOT NULL)),
    CONSTRAINT wallet_never_negative CHECK (kind <> 'wallet' OR balance_cents >= 0)
);
CREATE UNIQUE INDEX ledger_house_accounts ON ledger_accounts (kind) WHERE kind <> 'wallet';
INSERT INTO ledger_accounts (id, kind) VALUES
    (gen_random_uuid(), 'payments'), (gen_random_uuid(), 'revenue'), (gen_random_uuid(), 'credits');

CREATE TYPE ledger_transfer_kind AS ENUM ('top_up', 'purchase', 'credit', 'refund', 'adjustment');

CREATE TABLE ledger_transfers (
    id          uuid PRIMARY KEY,
    kind        ledger_transfer_kind NOT NULL,
    -- What it is for (a top-up's or a purchase's id): a transfer for the same thing is applied once.
    reference   text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT ledger_transfers_once UNIQUE (kind, reference)
);

CREATE TABLE ledger_entries (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transfer_id          uuid NOT NULL REFERENCES ledger_transfers (id),
    account_id           uuid NOT NULL REFERENCES ledger_accounts (id),
    amount_cents         bigint NOT NULL CHECK (amount_cents <> 0),
    balance_after_cents  bigint NOT NULL,
    created_at           timestamptz NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id DESC);
CREATE INDEX ledger_entries_transfer ON ledger_entries (transfer_id);

-- Posting an entry moves its account's balance (locking the account's row, so postings to one
-- wallet queue up) and records the balance after it. A wallet that would go below zero fails
-- wallet_never_negative.
CREATE FUNCTION ledger_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance_cents = balance_cents + NEW.amount_cents
    WHERE id = NEW.account_id
    RETURNING balance_cents INTO NEW.balance_after_cents;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger account % does not exist', NEW.account_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_post BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_post();

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();

-- A balance moves only through ledger_post (trigger depth 2), never by a direct UPDATE.
CREATE FUNCTION ledger_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance_cents IS DISTINCT FROM OLD.balance_cents AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'a ledger balance moves only by posting entries'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_balance_guard BEFORE UPDATE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_balance_guard();

-- Checked at commit: every transfer's entries sum to zero.
CREATE FUNCTION ledger_transfer_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT sum(amount_cents) INTO total FROM ledger_entries WHERE transfer_id = NEW.transfer_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transfer % does not balance (sum %)', NEW.transfer_id, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transfer_balanced';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transfer_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transfer_balanced();

-- Wallet top-ups through the payment provider's hosted checkout.
CREATE TYPE top_up_status AS ENUM ('pending', 'succeeded', 'failed');

CREATE TABLE wallet_top_ups (
    id            uuid PRIMARY KEY,
    pro_id        uuid NOT NULL REFERENCES pros (user_id),
    amount_cents  bigint NOT NULL CHECK (amount_cents BETWEEN 2500 AND 500000),
    status        top_up_status NOT NULL DEFAULT 'pending',
    checkout_id   text,
    checkout_url  text,
    created_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    CHECK ((status = 'succeeded') = (completed_at IS NOT NULL))
);
CREATE INDEX wallet_top_ups_pro ON wallet_top_ups (pro_id, created_at DESC);

-- A pro's live feed (`/api/v1/pro/stream`): what changed for them, kept a day so a client that
-- reconnects with `Last-Event-ID` gets what it missed. Written in the transaction of the change.
CREATE TABLE pro_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pro_id      uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('offer.created', 'offer.taken', 'offer.closed', 'wallet.changed')),
    offer_id    uuid REFERENCES offers (id) ON DELETE CASCADE,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL
);
CREATE INDEX pro_events_pro ON pro_events (pro_id, id);
CREATE INDEX pro_events_age ON pro_events (created_at);

-- Who was left out of a lead's batch, and by which rule first (`/api/v1/pro/missed`). Only pros
-- whose area covers the lead's ZIP are candidates, so a lead writes at most that many rows.
CREATE TABLE match_exclusions (
    lead_id  uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    pro_id   uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    rule     text NOT NULL CHECK (rule ~ '^[a-z_]+$'),
    at       timestamptz NOT NULL,
    PRIMARY KEY (lead_id, pro_id)
);
CREATE INDEX match_exclusions_pro ON match_exclusions (pro_id, at DESC);

-- A pro's dispute of a bought lead (within 14 days). Credited at once when our own data shows
-- it (the same homeowner's request bought twice, a ZIP outside the pro's area); otherwise open
-- for staff. One per purchase.
CREATE TYPE dispute_status AS ENUM ('open', 'credited', 'denied');

CREATE TABLE disputes (
    id            uuid PRIMARY KEY,
    purchase_id   uuid NOT NULL REFERENCES purchases (id),
    reason        text NOT NULL CHECK (reason IN ('wrong_number', 'duplicate', 'outside_area', 'not_a_real_request', 'other')),
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    status        dispute_status NOT NULL DEFAULT 'open',
    credit_cents  bigint CHECK (credit_cents > 0),
    created_at    timestamptz NOT NULL,
    decided_at    timestamptz,
    CONSTRAINT disputes_once_per_purchase UNIQUE (purchase_id),
    CHECK ((status = 'open') = (decided_at IS NULL)),
    CHECK ((status = 'credited') = (credit_cents IS NOT NULL))
);
CREATE INDEX disputes_open ON disputes (created_at) WHERE status = 'open';

-- Staff changing prices is audited.
ALTER TABLE identity.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE identity.audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
    'signup', 'email_verified', 'phone_verified', 'login', 'login_failed', 'login_refused_ip', 'logout',
    'session_ended', 'refresh_token_reused', 'password_changed', 'password_reset_requested', 'password_reset',
    'mfa_enrolled', 'mfa_verified', 'mfa_recovery_code_used', 'mfa_failed', 'mfa_reset', 'reauth_failed',
    'staff_created', 'role_granted', 'profile_changed', 'profile_submitted', 'pro_approved', 'prices_changed'));
