-- Matching one lead, without HTTP or the job around it: store::matching::candidates' query as the
-- distribution job sends it (same SQL; $1..$5 are pgbench variables here, sent as parameters with
-- -M prepared, as sqlx does), for a fixed lead of the run. bench/market passes:
--   pgbench -n -M prepared -c 1 -T 10 -D zip=… -D category=… -D phone=… -D lead=… -f bench/market-match.sql
-- Keep it in step with crates/store/src/matching.rs when that query changes.
WITH c AS (
    SELECT p.*, (now() AT TIME ZONE coalesce(p.time_zone, 'UTC')) AS local_now
    FROM pro_service_zips sz JOIN pros p ON p.user_id = sz.pro_id
    WHERE sz.zip = :zip
      AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.lead_id = CAST(:lead AS uuid) AND o.pro_id = p.user_id)
), w AS (
    SELECT c.*,
           date_trunc('day', c.local_now) AT TIME ZONE coalesce(c.time_zone, 'UTC') AS day_start,
           date_trunc('week', c.local_now) AT TIME ZONE coalesce(c.time_zone, 'UTC') AS week_start
    FROM c
)
SELECT w.user_id AS pro_id, w.status, w.paused,
       EXISTS (SELECT 1 FROM pro_categories pc WHERE pc.pro_id = w.user_id AND pc.category = :category) AS offers_category,
       w.accepts_shared, w.accepts_exclusive, w.emergency_24_7,
       ARRAY(SELECT h.weekday FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS hours_weekday,
       ARRAY(SELECT h.opens FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS hours_opens,
       ARRAY(SELECT h.closes FROM pro_hours h WHERE h.pro_id = w.user_id ORDER BY h.weekday) AS hours_closes,
       extract(isodow FROM w.local_now)::int AS local_isodow,
       w.local_now::time AS local_time,
       w.max_price_cents, w.daily_cap,
       (SELECT count(*) FROM purchases pu WHERE pu.pro_id = w.user_id AND pu.purchased_at >= w.day_start)
         + (SELECT count(*) FROM offers o WHERE o.pro_id = w.user_id AND o.status = 'pending' AND o.expires_at > now())
         AS leads_today,
       w.weekly_budget_cents,
       (SELECT coalesce(sum(pu.price_cents), 0) FROM purchases pu WHERE pu.pro_id = w.user_id AND pu.purchased_at >= w.week_start)::bigint
         + (SELECT coalesce(sum(o.price_cents), 0) FROM offers o WHERE o.pro_id = w.user_id AND o.status = 'pending' AND o.expires_at > now())::bigint
         AS committed_this_week_cents,
       coalesce((SELECT a.balance_cents FROM ledger_accounts a WHERE a.pro_id = w.user_id), 0) AS balance_cents,
       EXISTS (SELECT 1 FROM purchases pu JOIN leads l ON l.id = pu.lead_id
               WHERE pu.pro_id = w.user_id AND l.phone = :phone AND pu.purchased_at > now() - interval '30 days') AS bought_from_phone,
       z.lat AS base_lat, z.lon AS base_lon, w.radius_miles,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pu.purchased_at - o.created_at))
        FROM purchases pu JOIN offers o ON o.id = pu.offer_id
        WHERE pu.pro_id = w.user_id AND pu.purchased_at > now() - interval '30 days') AS median_claim_seconds,
       u.email, u.phone, w.offer_sms, w.offer_email, w.quiet_from, w.quiet_until
FROM w JOIN identity.users u ON u.id = w.user_id LEFT JOIN zip_codes z ON z.zip = w.base_zip;
