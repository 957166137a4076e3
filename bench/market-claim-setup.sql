-- Fresh rows for bench/market-claim.sql (pgbench's ceiling for a claim's writes): :leads leads
-- on sale as distribution leaves them (status offered, shared, max_buyers from the category, six
-- pending offers to pros of the lead's metro), and a queue of the claims to make: three offers of
-- each lead, in rounds (every lead's first claim, then every second, then every third), so
-- concurrent clients work on different leads and each lead's third claim fills it (the
-- sold-out branch), as in the HTTP run where each lead's first max_buyers claims succeed.
--   psql -v leads=2000 -f bench/market-claim-setup.sql DB        (after bench/market-seed.sql)
\set ON_ERROR_STOP on
SET client_min_messages = warning;

DROP TABLE IF EXISTS bench.claim_queue, bench.claim_leads;
DROP SEQUENCE IF EXISTS bench.claim_seq;
CREATE SEQUENCE bench.claim_seq;

CREATE TABLE bench.claim_leads AS
WITH zips AS (SELECT row_number() OVER (ORDER BY metro, zip) - 1 AS i, metro, zip FROM bench.lead_zips),
     cats AS (SELECT row_number() OVER (ORDER BY sort_order) - 1 AS i, slug, base_price_cents, max_buyers
              FROM categories WHERE active)
SELECT gen_random_uuid() AS id, g, z.metro, z.zip, c.slug AS category, c.base_price_cents AS price, c.max_buyers,
       -- 917-2NN-NNNN: apart from the seed's pros (651) and the driver's leads (metro area codes).
       '+1917' || (2000000 + g)::text AS phone
FROM generate_series(0, :leads - 1) AS g
JOIN zips z ON z.i = g % (SELECT count(*) FROM zips)
JOIN cats c ON c.i = g % (SELECT count(*) FROM cats);

INSERT INTO leads (id, status, category, urgency, zip, description, name, phone, contact_preference, consent_version,
                   consent_at, source, partner_id, created_at, verified_at, updated_at,
                   exclusive, max_buyers, buyers, window_closes_at, next_look_at)
SELECT id, 'offered', category, 'within_48h', zip, 'pgbench claim ceiling: a lead on sale', 'Bench Homeowner', phone,
       'phone', '2026-11-25', now(), 'partner', (SELECT id FROM partners ORDER BY created_at LIMIT 1), now(), now(), now(),
       max_buyers = 1, max_buyers, 0, now() + interval '2 hours', now() + interval '15 minutes'
FROM bench.claim_leads;

-- Six offers a lead (two per place), to distinct pros of its metro.
WITH metro_pros AS (
    SELECT id, metro, row_number() OVER (PARTITION BY metro ORDER BY n) - 1 AS r, count(*) OVER (PARTITION BY metro) AS cnt
    FROM bench.pros
)
INSERT INTO offers (id, lead_id, pro_id, batch, base_cents, urgency_bps, exclusive_bps, price_cents, distance_miles,
                    score, score_distance, score_responsiveness, score_rating, score_fairness, created_at, expires_at)
SELECT gen_random_uuid(), l.id, p.id, 1, l.price, 10000, 10000, l.price, 3.5, 0.5, 0.5, 0.5, 0.5, 0.5,
       now(), now() + interval '1 hour'
FROM bench.claim_leads l
CROSS JOIN generate_series(0, 5) AS k
JOIN metro_pros p ON p.metro = l.metro AND p.r = (l.g * 6 + k) % p.cnt;

CREATE TABLE bench.claim_queue AS
SELECT row_number() OVER (ORDER BY o.k, o.g) AS n, o.id AS offer_id, o.lead_id, o.pro_id, o.price_cents
FROM (SELECT o.*, l.g, row_number() OVER (PARTITION BY o.lead_id ORDER BY o.id) - 1 AS k
      FROM offers o JOIN bench.claim_leads l ON l.id = o.lead_id) o
WHERE o.k < 3;
ALTER TABLE bench.claim_queue ADD PRIMARY KEY (n);
ANALYZE leads, offers, bench.claim_queue;
