-- Schemas as in the infrastructure document: `public` for the application, `reporting` for
-- views, `analytics` for events. Authentication data lives in `identity`, not `auth`, which
-- Supabase reserves for its own service.
CREATE SCHEMA IF NOT EXISTS reporting;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS identity;

-- US ZIP code reference data, loaded by `migrate` from the `zipcodes` crate (see data/ZIPCODES.md).
CREATE TABLE zip_codes (
    zip        text PRIMARY KEY CHECK (zip ~ '^[0-9]{5}$'),   -- text, not char(5): a char column compared with a text parameter cannot use the index
    city       text NOT NULL,
    state      char(2) NOT NULL,
    county     text NOT NULL,
    lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon        double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    time_zone  text NOT NULL,
    kind       text NOT NULL,   -- STANDARD, PO BOX, UNIQUE
    active     boolean NOT NULL
);
-- Radius look-ups narrow by a lat/lon box first, then compute the exact distance.
CREATE INDEX zip_codes_lat_lon ON zip_codes (lat, lon);

-- Plumbing categories and their prices; staff edit them later.
CREATE TABLE categories (
    slug              text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name              text NOT NULL,
    description       text NOT NULL,
    base_price_cents  bigint NOT NULL CHECK (base_price_cents > 0),
    max_buyers        integer NOT NULL DEFAULT 3 CHECK (max_buyers BETWEEN 1 AND 10),
    sort_order        integer NOT NULL,
    active            boolean NOT NULL DEFAULT true,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

INSERT INTO categories (slug, name, description, base_price_cents, sort_order) VALUES
  ('burst-pipe',           'Burst pipe or emergency leak', 'Water is coming out where it should not: a burst pipe, a gushing leak, a flooded floor.', 5500, 10),
  ('drain-cleaning',       'Drain cleaning',               'A slow or blocked sink, shower, tub or floor drain.',                                     2500, 20),
  ('clogged-toilet',       'Clogged toilet',               'A toilet that will not flush or keeps overflowing.',                                     2000, 30),
  ('water-heater-repair',  'Water heater repair',          'No hot water, not enough of it, or a leaking tank.',                                     3500, 40),
  ('water-heater-install', 'Water heater install',         'A new tank or tankless water heater, or replacing the old one.',                         5000, 50),
  ('sewer-line',           'Sewer line',                   'Sewage backing up, bad smells, or a main line that needs camera inspection or repair.',  6000, 60),
  ('leak-detection',       'Leak detection',               'A high water bill, a damp wall or ceiling, or a hissing sound you cannot place.',        4000, 70),
  ('fixture-install',      'Fixture install or repair',    'Faucets, sinks, toilets, showers and tubs: fix a drip or fit a new one.',                2500, 80),
  ('garbage-disposal',     'Garbage disposal',             'A jammed, humming, leaking or new garbage disposal.',                                    2000, 90),
  ('sump-pump',            'Sump pump',                    'A sump pump that will not run, runs all the time, or needs replacing.',                  3500, 100),
  ('repiping',             'Repiping',                     'Replacing old, corroded or leaking pipes in part or all of the home.',                   7500, 110),
  ('gas-line',             'Gas line',                     'A new gas line for a stove, dryer or heater, or a suspected gas leak after you have called the gas company.', 6000, 120),
  ('water-treatment',      'Water treatment',              'Water softeners, filters and purification systems.',                                     4500, 130),
  ('backflow-testing',     'Backflow testing',             'The yearly backflow preventer test your city or water utility asks for.',                2500, 140),
  ('remodel-plumbing',     'Remodel plumbing',             'Plumbing for a kitchen or bathroom remodel or an addition.',                             7000, 150);

-- Price multipliers in basis points (10 000 = ×1), PRODUCT.md's defaults; one row.
CREATE TABLE price_multipliers (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    emergency_bps   integer NOT NULL DEFAULT 15000 CHECK (emergency_bps > 0),
    within_48h_bps  integer NOT NULL DEFAULT 10000 CHECK (within_48h_bps > 0),
    flexible_bps    integer NOT NULL DEFAULT 8000  CHECK (flexible_bps > 0),
    exclusive_bps   integer NOT NULL DEFAULT 25000 CHECK (exclusive_bps > 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO price_multipliers DEFAULT VALUES;

-- The job queue. A job is `queued` until a worker leases it (`running`, with `lease_owner` and
-- `lease_until`); success deletes it; failure re-queues it with a backoff, or buries it as `dead`
-- when its attempts are spent. A lease that runs out (the worker died) lets another worker take it.
CREATE TYPE job_state AS ENUM ('queued', 'running', 'dead');

CREATE TABLE jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    state         job_state NOT NULL DEFAULT 'queued',
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL CHECK (max_attempts > 0),
    run_at        timestamptz NOT NULL,
    lease_owner   uuid,
    lease_until   timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_dead ON jobs (updated_at) WHERE state = 'dead';

-- Dev defaults of the integrations: real implementations that keep what they would have sent,
-- so staff (and tests) can read it.
CREATE TABLE dev_mailbox (
    id          uuid PRIMARY KEY,
    to_address  text NOT NULL,
    from_address text NOT NULL,
    subject     text NOT NULL,
    text_body   text NOT NULL,
    html_body   text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX dev_mailbox_recent ON dev_mailbox (created_at DESC, id DESC);

CREATE TABLE dev_sms_outbox (
    id          uuid PRIMARY KEY,
    to_number   text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX dev_sms_outbox_recent ON dev_sms_outbox (created_at DESC, id DESC);

CREATE TYPE sandbox_checkout_state AS ENUM ('open', 'complete', 'expired');

CREATE TABLE sandbox_checkouts (
    id            uuid PRIMARY KEY,
    reference     text NOT NULL,
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
    currency      char(3) NOT NULL DEFAULT 'usd',
    state         sandbox_checkout_state NOT NULL DEFAULT 'open',
    created_at    timestamptz NOT NULL,
    completed_at  timestamptz
);
