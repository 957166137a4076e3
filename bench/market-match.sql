-- Matching one lead, without HTTP or the job around it: store::matching::candidates' query as the
-- distribution job sends it (same SQL; $1..$5 are pgbench variables here, sent as parameters with
-- -M prepared, as sqlx does), for a fixed lead of the run. bench/market passes:
--   pgbench -n -M prepared -c 1 -T 10 -D zip=… -D category=… -D phone=… -D lead=… -f bench/market-match.sql
-- Keep it in step with crates/store/src/matching.rs when that query changes.
WITH bought AS (
    SELECT pu.pro_id FROM leads l JOIN purchases pu ON pu.lead_id = l.id
    WHERE l.phone = :phone AND pu.purchased_at > now() - interval '30 days'
), offered AS (
    SELECT o.pro_id FROM offers o WHERE o.lead_id = CAST(:lead AS uuid)
)
SELECT p.user_id AS pro_id, p.status, p.paused,
       :category = ANY (p.categories) AS offers_category,
       p.accepts_shared, p.accepts_exclusive, p.emergency_24_7,
       p.hours_weekday, p.hours_opens, p.hours_closes,
       extract(isodow FROM t.local_now)::int AS local_isodow,
       t.local_now::time AS local_time,
       p.max_price_cents, p.daily_cap,
       CASE WHEN p.bought_on = t.local_now::date THEN p.bought_that_day ELSE 0 END + live.n AS leads_today,
       p.weekly_budget_cents,
       CASE WHEN p.spent_week_of = date_trunc('week', t.local_now)::date THEN p.spent_that_week_cents ELSE 0 END
         + live.cents AS committed_this_week_cents,
       coalesce(a.balance_cents, 0) AS balance_cents,
       p.user_id IN (SELECT pro_id FROM bought) AS bought_from_phone,
       p.base_lat, p.base_lon, p.radius_miles,
       CASE WHEN p.last_bought_at > now() - interval '30 days' THEN p.median_claim_seconds END AS median_claim_seconds,
       p.offer_sms, p.offer_email, p.quiet_from, p.quiet_until
FROM pro_service_zips sz
JOIN pros p ON p.user_id = sz.pro_id
LEFT JOIN ledger_accounts a ON a.pro_id = p.user_id
CROSS JOIN LATERAL (SELECT now() AT TIME ZONE coalesce(p.time_zone, 'UTC') AS local_now) t
CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(o.price_cents), 0)::bigint AS cents
                    FROM offers o
                    WHERE o.pro_id = p.user_id AND o.status = 'pending' AND o.expires_at > now()) live
WHERE sz.zip = :zip AND sz.pro_id NOT IN (SELECT pro_id FROM offered);
