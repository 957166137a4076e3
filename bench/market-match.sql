-- Matching one lead's only query, without HTTP or the job around it: store::matching::covering
-- as the distribution job sends it (same SQL; $1..$4 are pgbench variables here, sent as
-- parameters with -M prepared, as sqlx does), for a fixed lead of the run. The pros' facts come
-- from the server's in-memory roster; the whole matching step is the server's
-- `distribution_matching_seconds`. bench/market passes:
--   pgbench -n -M prepared -c 1 -T 10 -D zip=… -D phone=… -D lead=… -f bench/market-match.sql
-- Keep it in step with crates/store/src/matching.rs when that query changes.
WITH bought AS (
    SELECT pu.pro_id FROM leads l JOIN purchases pu ON pu.lead_id = l.id
    WHERE l.phone = :phone AND pu.purchased_at > now() - interval '30 days'
), offered AS (
    SELECT o.pro_id FROM offers o WHERE o.lead_id = CAST(:lead AS uuid)
)
SELECT sz.pro_id, sz.pro_id IN (SELECT pro_id FROM bought) AS bought_from_phone
FROM pro_service_zips sz
WHERE sz.zip = :zip AND sz.pro_id NOT IN (SELECT pro_id FROM offered);
