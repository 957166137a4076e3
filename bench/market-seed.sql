-- Bulk seed for bench/market: :pros active, funded pros around ten US metros, written straight
-- into the tables onboarding, approval and top-ups fill (one HTTP onboarding per pro, with its
-- Argon2 hash, would take hours for 15,000). Run with psql after `plumberleads seed --demo` has
-- migrated the database and made the demo plumber through the real path: every bulk pro gets the
-- demo plumber's password hash, so the driver logs them in with the demo password.
--
--   psql -v pros=14999 -v notices=true -f bench/market-seed.sql DB
--
-- pros:    how many bulk pros (bench/market passes PROS - 1: the demo plumber is the 15,000th)
-- notices: whether they hear of offers by text and e-mail as well (the product's default, true),
--          or only on the live feed (false: distribution enqueues no notification jobs).
--
-- What the app would have written and matching reads is written the same way here: the covered
-- ZIPs are every ZIP within the radius of the base ZIP (the same haversine as domain::geo), hours
-- Monday-Friday 08:00-17:00 as services::pros::ready makes them, and the money goes in through
-- the ledger (a succeeded wallet_top_ups row, its top_up transfer, the wallet and payments
-- entries), so the schema's ledger triggers check it and `admin ledger-check` proves it.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\if :{?notices}
\else
  \set notices true
\endif

-- The benchmark's own reference tables, beside the app's (this database is the benchmark's).
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE FUNCTION bench.miles(lat1 float8, lon1 float8, lat2 float8, lon2 float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT 2 * 3958.8 * asin(sqrt(sin(radians(lat2 - lat1) / 2) ^ 2
                                  + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2))
$$;

-- The ten metros; each must be a known ZIP (the join drops, and the check below catches, a typo).
CREATE TABLE bench.metros AS
SELECT v.n, z.zip, z.city, z.state, z.lat, z.lon, z.time_zone
FROM (VALUES (0, '55401'), (1, '60601'), (2, '10001'), (3, '90012'), (4, '77002'),
             (5, '85004'), (6, '19103'), (7, '78205'), (8, '92101'), (9, '75201')) AS v(n, zip)
JOIN zip_codes z ON z.zip = v.zip;

DO $$ BEGIN
    IF (SELECT count(*) FROM bench.metros) <> 10 THEN
        RAISE EXCEPTION 'a metro base ZIP is missing from zip_codes';
    END IF;
END $$;

-- Every ZIP within 40 miles of a metro's centre (the widest pro reaches 15 + 25 miles out).
CREATE TABLE bench.metro_zips AS
SELECT m.n AS metro, z.zip, z.kind, z.active, z.lat, z.lon, bench.miles(m.lat, m.lon, z.lat, z.lon) AS miles
FROM bench.metros m
JOIN zip_codes z ON z.lat BETWEEN m.lat - 0.6 AND m.lat + 0.6 AND z.lon BETWEEN m.lon - 0.8 AND m.lon + 0.8
WHERE bench.miles(m.lat, m.lon, z.lat, z.lon) <= 40;

-- Where homeowners ask from: street-address ZIPs (what intake accepts) within 10 miles of a
-- centre, where the pros are. The driver spreads leads over these.
CREATE TABLE bench.lead_zips AS
SELECT metro, zip, miles FROM bench.metro_zips WHERE kind = 'STANDARD' AND active AND miles <= 10;

-- The pros: base ZIP a street ZIP within 15 miles of their metro's centre, radius 10 to 25
-- miles, spread evenly (pro n works in metro n % 10; the rest of n picks the base and radius).
CREATE TABLE bench.pros AS
WITH bases AS (
    SELECT metro, array_agg(zip ORDER BY zip) AS zips
    FROM bench.metro_zips WHERE kind = 'STANDARD' AND active AND miles <= 15 GROUP BY metro
)
SELECT gen_random_uuid() AS id, g AS n, m.n AS metro, m.state, m.time_zone,
       b.zips[1 + (g / 10) % cardinality(b.zips)] AS base_zip,
       10 + (g * 7) % 16 AS radius
FROM generate_series(1, :pros) AS g
JOIN bench.metros m ON m.n = g % 10
JOIN bases b ON b.metro = m.n;

BEGIN;
-- A pro as ready::complete leaves one: e-mail and mobile confirmed, the demo plumber's password.
INSERT INTO identity.users (id, role, email, name, phone, password_hash, password_changed_at,
                            email_verified_at, phone_verified_at, created_at, updated_at)
SELECT p.id, 'pro', format('bench-pro-%s@plumberleads.localhost', p.n), format('Bench Owner %s', p.n),
       -- 651-2NN-NNNN: valid, distinct, and apart from the 612/other numbers the driver's leads use.
       '+1651' || (2000000 + p.n)::text,
       d.password_hash, now(), now(), now(), now(), now()
FROM bench.pros p
CROSS JOIN (SELECT password_hash FROM identity.users WHERE email = 'demo-pro@plumberleads.localhost') d;

-- Approved and open for leads, with generous limits so caps and budgets do not end the run:
-- any price (max $500.00; the dearest lead is $281.25), 1,000 a day, $100,000.00 a week.
INSERT INTO pros (user_id, business_name, status, created_at, updated_at,
                  licence_number, licence_state, insurance_key, insurance_content_type, insurance_uploaded_at,
                  base_zip, radius_miles, time_zone, emergency_24_7, hours_set,
                  max_price_cents, accepts_shared, accepts_exclusive, daily_cap, weekly_budget_cents, paused,
                  preferences_set, submitted_at, approved_at, approved_by, offer_sms, offer_email)
SELECT p.id, format('Bench Plumbing %s', p.n), 'active', now(), now(),
       format('PL-B%s', p.n), p.state, format('insurance/bench-%s.pdf', p.n), 'application/pdf', now(),
       p.base_zip, p.radius, p.time_zone, true, true,
       50000, true, true, 1000, 10000000, false,
       true, now(), now(), NULL, :notices, :notices
FROM bench.pros p;

-- Monday to Friday, 08:00-17:00 local (Monday = 0), as the demo plumbers work.
INSERT INTO pro_hours (pro_id, weekday, opens, closes)
SELECT p.id, d, '08:00', '17:00' FROM bench.pros p CROSS JOIN generate_series(0, 4) AS d;

-- Every category.
INSERT INTO pro_categories (pro_id, category)
SELECT p.id, c.slug FROM bench.pros p CROSS JOIN categories c WHERE c.active;

-- The covered ZIPs: every ZIP within the radius of the base, as onboarding's set_area stores
-- them. Pros share bases and radii, so each (base, radius) circle is computed once.
WITH circles AS (
    SELECT DISTINCT base_zip, radius FROM bench.pros
), covered AS (
    SELECT c.base_zip, c.radius, z.zip
    FROM circles c
    JOIN zip_codes b ON b.zip = c.base_zip
    JOIN zip_codes z ON z.lat BETWEEN b.lat - c.radius / 69.0 AND b.lat + c.radius / 69.0
                    AND z.lon BETWEEN b.lon - c.radius / (69.0 * cos(radians(b.lat))) AND b.lon + c.radius / (69.0 * cos(radians(b.lat)))
    WHERE bench.miles(b.lat, b.lon, z.lat, z.lon) <= c.radius
)
INSERT INTO pro_service_zips (pro_id, zip, hand_picked)
SELECT p.id, c.zip, false FROM bench.pros p JOIN covered c USING (base_zip, radius);

-- The wallets, each with one $5,000.00 top-up (the API's largest single top-up), succeeded.
INSERT INTO ledger_accounts (id, kind, pro_id) SELECT gen_random_uuid(), 'wallet', p.id FROM bench.pros p;
COMMIT;

CREATE TABLE bench.top_ups AS
SELECT gen_random_uuid() AS top_up_id, gen_random_uuid() AS transfer_id, p.id AS pro_id, a.id AS wallet_id,
       500000::bigint AS amount, p.n
FROM bench.pros p JOIN ledger_accounts a ON a.pro_id = p.id;

-- Each top-up as wallet::apply posts it: the top-up succeeds, its transfer (reference = the
-- top-up's id) gets the wallet's entry and then the house's, as ledger::post orders them, and the
-- ledger_post trigger moves each balance and records balance_after. In slices of 1,000 pros, each
-- committed on its own: every entry updates the one `payments` account row, and 15,000 updates
-- of one row in one transaction leave a chain of row versions each next update has to walk.
DO $$
DECLARE
    payments uuid := (SELECT id FROM ledger_accounts WHERE kind = 'payments');
    slice int;
BEGIN
    FOR slice IN SELECT DISTINCT n / 1000 FROM bench.top_ups ORDER BY 1 LOOP
        INSERT INTO wallet_top_ups (id, pro_id, amount_cents, status, checkout_id, checkout_url, created_at, completed_at)
        SELECT top_up_id, pro_id, amount, 'succeeded', 'bench_' || n, NULL, now(), now()
        FROM bench.top_ups WHERE n / 1000 = slice;
        INSERT INTO ledger_transfers (id, kind, reference, created_at)
        SELECT transfer_id, 'top_up', top_up_id::text, now() FROM bench.top_ups WHERE n / 1000 = slice;
        INSERT INTO ledger_entries (transfer_id, account_id, amount_cents, balance_after_cents, created_at)
        SELECT e.transfer_id, e.account_id, e.amount, 0, now()
        FROM bench.top_ups t
        CROSS JOIN LATERAL (VALUES (1, t.transfer_id, t.wallet_id, t.amount),
                                   (2, t.transfer_id, payments, -t.amount)) AS e(k, transfer_id, account_id, amount)
        WHERE t.n / 1000 = slice
        ORDER BY t.n, e.k;
        COMMIT;
    END LOOP;
END $$;

-- Fresh statistics, so matching's plans see 15,000 pros rather than the demo's one.
ANALYZE;

-- The seed, checked: what the driver needs, as the app's own tables show it.
SELECT count(*) AS active_funded_pros,
       count(*) FILTER (WHERE u.email LIKE 'bench-pro-%') AS of_them_bulk,
       min(a.balance_cents) AS min_balance_cents,
       (SELECT count(*) FROM pro_service_zips) AS covered_zip_rows,
       (SELECT count(*) FROM pro_categories) AS category_rows,
       (SELECT count(*) FROM bench.lead_zips) AS lead_zips
FROM pros p
JOIN identity.users u ON u.id = p.user_id
JOIN ledger_accounts a ON a.pro_id = p.user_id
WHERE p.status = 'active' AND NOT p.paused AND a.balance_cents > 0;

-- How many pros cover a lead ZIP: the candidates matching reads per lead.
SELECT m.city, count(DISTINCT l.zip) AS lead_zips,
       round(avg(c.pros)) AS mean_candidates_per_lead_zip, max(c.pros) AS max_candidates
FROM bench.lead_zips l
JOIN bench.metros m ON m.n = l.metro
CROSS JOIN LATERAL (SELECT count(*) AS pros FROM pro_service_zips s WHERE s.zip = l.zip) c
GROUP BY m.n, m.city ORDER BY m.n;
