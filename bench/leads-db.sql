-- The database's own ceiling for the writes of bench/leads, without HTTP: what the server's lead
-- writer sends for a group of :b submissions from one address — the group's address count (as
-- store::rate_limit::hit_each), then one intake_new_leads call (distinct phones: a random block of
-- consecutive numbers). Run by bench/leads with `pgbench -D b=…` after the server has stopped.
WITH hits AS (
    INSERT INTO rate_limit_counters AS c (key, window_start, count)
    VALUES ('leads:ip:127.0.0.1', date_trunc('hour', now()), :b)
    ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + excluded.count
    RETURNING c.count
)
SELECT count FROM hits;
-- The block's start is drawn once per call: drawn per row, two rows of one call could draw the same
-- phone (one call in ~58,000 at 16 a call: about one run in twelve), which the function refuses,
-- aborting the run (seen: bench/leads stopped at its last pgbench).
WITH base AS (SELECT (random() * 7000000)::int AS r),
     s AS (SELECT '+1612' || (2000000 + base.r + g) AS phone,
                  (ARRAY['burst-pipe', 'drain-cleaning', 'clogged-toilet', 'leak-detection'])[1 + g % 4] AS category
           FROM base, generate_series(1, :b) AS g),
     a AS (SELECT array_agg(phone) AS phones, array_agg(category) AS categories FROM s)
SELECT count(*) FROM a,
LATERAL intake_new_leads(
  (SELECT array_agg(gen_random_uuid()) FROM generate_series(1, :b)),
  array_fill('pending_verification'::text, ARRAY[:b]), a.categories,
  array_fill('within_48h'::text, ARRAY[:b]), array_fill('55401'::text, ARRAY[:b]),
  array_fill('Benchmark request, kitchen sink drains slowly'::text, ARRAY[:b]),
  array_fill('Bench Homeowner'::text, ARRAY[:b]), a.phones, array_fill(NULL::text, ARRAY[:b]),
  array_fill('phone'::text, ARRAY[:b]), array_fill('2026-11-25'::text, ARRAY[:b]), array_fill('web'::text, ARRAY[:b]),
  array_fill(NULL::uuid, ARRAY[:b]), array_fill('{}'::jsonb, ARRAY[:b]), array_fill(NULL::text, ARRAY[:b]),
  array_fill(now(), ARRAY[:b]), array_fill(now() - interval '7 days', ARRAY[:b]),
  (SELECT array_agg('leads:phone:' || p) FROM unnest(a.phones) AS p), array_fill(date_trunc('day', now()), ARRAY[:b]),
  array_fill(5, ARRAY[:b]), array_fill(sha256(random()::text::bytea), ARRAY[:b]),
  array_fill(now() + interval '10 minutes', ARRAY[:b]), array_fill('received,code_sent'::text, ARRAY[:b]),
  array_fill('send_sms'::text, ARRAY[:b]),
  array_fill('{"to": "+16125550100", "body": "PlumberLeads: your code is 123456. It works for 10 minutes. Didn''t ask for a plumber? Ignore this text."}'::jsonb, ARRAY[:b]),
  array_fill(5, ARRAY[:b]), array_fill(NULL::uuid, ARRAY[:b])) AS r
WHERE r.outcome = 'created';
