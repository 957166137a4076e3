-- Matching one lead's only query, without HTTP or the job around it: store::matching::already
-- as the distribution job sends it (same SQL; $1..$3 are pgbench variables here, sent as
-- parameters with -M prepared, as sqlx does), for a fixed lead of the run. Which pros cover the
-- ZIP, and their facts, come from the server's in-memory roster; the whole matching step is the
-- server's `distribution_matching_seconds`. bench/market passes:
--   pgbench -n -M prepared -c 1 -T 10 -D zip=… -D phone=… -D lead=… -f bench/market-match.sql
-- Keep it in step with crates/store/src/matching.rs when that query changes.
SELECT ARRAY(SELECT o.pro_id FROM offers o WHERE o.lead_id = CAST(:lead AS uuid)) AS offered,
       ARRAY(SELECT pu.pro_id FROM leads l JOIN purchases pu ON pu.lead_id = l.id
             WHERE l.phone = :phone AND pu.purchased_at > now() - interval '30 days') AS bought;
