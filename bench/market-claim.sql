-- pgbench's ceiling for a claim's SQL: the statements services::market::claim sends for a
-- successful claim (the store functions' own SQL, in the same order, one round trip each), on the
-- fresh rows bench/market-claim-setup.sql queued. What it leaves out: the HTTP request, the
-- session look-up that authenticates it, and the coalesced NOTIFYs sent after the commit.
--   pgbench -n -M prepared -c N -j 2 -t CLAIMS/N -f bench/market-claim.sql DB
-- Keep it in step with crates/services/src/market/claim.rs and the store functions it calls.

-- The next queued offer (a claim the HTTP run would get from the pro's request).
SELECT offer_id, lead_id, pro_id, price_cents, gen_random_uuid() AS purchase_id, gen_random_uuid() AS transfer_id
FROM bench.claim_queue WHERE n = (SELECT nextval('bench.claim_seq')) \gset
BEGIN;
-- store::offers::get_for_pro
SELECT o.id, o.lead_id, o.pro_id, o.status, o.created_at, o.expires_at,
       l.category, l.urgency, coalesce(l.exclusive, false), l.zip, z.city, l.description,
       o.distance_miles, o.base_cents, o.urgency_bps, o.exclusive_bps, o.price_cents,
       coalesce(l.max_buyers, 0), l.buyers, l.status,
       o.score, o.score_distance, o.score_responsiveness, o.score_rating, o.score_fairness
FROM offers o JOIN leads l ON l.id = o.lead_id JOIN zip_codes z ON z.zip = l.zip
WHERE o.id = CAST(:offer_id AS uuid) AND o.pro_id = CAST(:pro_id AS uuid);
-- store::lead_sales::lock
SELECT l.id, l.status, l.category, l.urgency, l.zip, z.city, l.phone, z.lat, z.lon,
       l.exclusive, coalesce(l.max_buyers, 0) AS max_buyers, l.buyers, l.window_closes_at, l.next_look_at,
       c.max_buyers AS category_max_buyers, c.base_price_cents AS category_base_cents
FROM leads l JOIN zip_codes z ON z.zip = l.zip JOIN categories c ON c.slug = l.category
WHERE l.id = CAST(:lead_id AS uuid)
FOR NO KEY UPDATE OF l \gset lead_
-- store::offers::lock
SELECT status FROM offers WHERE id = CAST(:offer_id AS uuid) FOR NO KEY UPDATE;
-- store::profiles::lock_limits (today's and this week's purchases as the purchases trigger keeps them)
SELECT daily_cap, weekly_budget_cents,
       CASE WHEN bought_on = t.local_now::date THEN bought_that_day ELSE 0 END::bigint,
       CASE WHEN spent_week_of = date_trunc('week', t.local_now)::date THEN spent_that_week_cents ELSE 0 END
FROM pros CROSS JOIN LATERAL (SELECT now() AT TIME ZONE coalesce(time_zone, 'UTC') AS local_now) t
WHERE user_id = CAST(:pro_id AS uuid) FOR NO KEY UPDATE OF pros;
-- store::ledger::balance
SELECT balance_cents FROM ledger_accounts WHERE pro_id = CAST(:pro_id AS uuid);
-- store::purchases::insert (its trigger counts the buyer on the lead)
INSERT INTO purchases (id, offer_id, lead_id, pro_id, price_cents, purchased_at, updated_at)
VALUES (CAST(:purchase_id AS uuid), CAST(:offer_id AS uuid), CAST(:lead_id AS uuid), CAST(:pro_id AS uuid),
        CAST(:price_cents AS bigint), now(), now());
-- store::offers::decide
UPDATE offers SET status = 'claimed', decided_at = now(), decline_reason = NULL
WHERE id = CAST(:offer_id AS uuid) AND status = 'pending';
-- store::leads::record_event
INSERT INTO lead_events (lead_id, kind, occurred_at) VALUES (CAST(:lead_id AS uuid), 'purchased', now());
-- store::profiles::contact, then notify::bought's text to the homeowner (a queued job)
SELECT p.business_name, u.phone FROM pros p JOIN identity.users u ON u.id = p.user_id WHERE p.user_id = CAST(:pro_id AS uuid);
INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at)
VALUES ('send_sms', '{"to": "+19172000000", "body": "PlumberLeads: Bench Plumbing (+16512000000) took your request and will call you soon."}',
        5, now(), now(), now());
\set full (:lead_buyers + 1 >= :lead_max_buyers)
\if :full
-- Full: the other offers close (offers::expire, their offer.closed events), the sale ends.
UPDATE offers SET status = 'expired', decided_at = LEAST(expires_at, now())
WHERE lead_id = CAST(:lead_id AS uuid) AND status = 'pending' AND (true OR expires_at <= now())
RETURNING id, pro_id;
INSERT INTO pro_events (pro_id, offer_id, kind, data, created_at)
SELECT pro_id, id, 'offer.closed', '{"reason": "sold_out"}', now()
FROM offers WHERE lead_id = CAST(:lead_id AS uuid) AND status = 'expired';
UPDATE leads SET status = 'sold', updated_at = now() WHERE id = CAST(:lead_id AS uuid) AND status = 'offered';
INSERT INTO lead_events (lead_id, kind, occurred_at) VALUES (CAST(:lead_id AS uuid), 'sold', now());
\else
-- Not full: the other live offers' holders hear a place was taken (offers::live_holders, offer.taken).
SELECT id, pro_id FROM offers WHERE lead_id = CAST(:lead_id AS uuid) AND status = 'pending' AND expires_at > now();
INSERT INTO pro_events (pro_id, offer_id, kind, data, created_at)
SELECT pro_id, id, 'offer.taken', '{"buyers": {"max": 3, "taken": 1}}', now()
FROM offers WHERE lead_id = CAST(:lead_id AS uuid) AND status = 'pending' AND pro_id <> CAST(:pro_id AS uuid);
\endif
-- store::ledger::post, last (it locks the house revenue account every claim shares): the wallet, the transfer, the house account, both locked in order, two entries
SELECT id FROM ledger_accounts WHERE pro_id = CAST(:pro_id AS uuid) \gset wallet_
INSERT INTO ledger_transfers (id, kind, reference, created_at)
VALUES (CAST(:transfer_id AS uuid), 'purchase', CAST(:purchase_id AS text), now());
SELECT id FROM ledger_accounts WHERE kind = 'revenue'::text::ledger_account_kind AND kind <> 'wallet' \gset revenue_
SELECT a.id FROM unnest(ARRAY[CAST(:wallet_id AS uuid), CAST(:revenue_id AS uuid)]) WITH ORDINALITY AS t(id, n)
JOIN LATERAL (SELECT id FROM ledger_accounts WHERE id = t.id FOR NO KEY UPDATE) a ON true ORDER BY t.n;
INSERT INTO ledger_entries (transfer_id, account_id, amount_cents, balance_after_cents, created_at)
VALUES (CAST(:transfer_id AS uuid), CAST(:wallet_id AS uuid), -CAST(:price_cents AS bigint), 0, now())
RETURNING balance_after_cents;
INSERT INTO ledger_entries (transfer_id, account_id, amount_cents, balance_after_cents, created_at)
VALUES (CAST(:transfer_id AS uuid), CAST(:revenue_id AS uuid), CAST(:price_cents AS bigint), 0, now())
RETURNING balance_after_cents;
-- feed::wallet_changed
INSERT INTO pro_events (pro_id, offer_id, kind, data, created_at)
SELECT p, o, 'wallet.changed', '{"balance_cents": 1}', now()
FROM unnest(ARRAY[CAST(:pro_id AS uuid)], ARRAY[NULL::uuid]) AS t(p, o);
-- store::purchases::by_offer: the answer
SELECT p.id, p.offer_id, p.lead_id, p.pro_id, p.status, p.price_cents, p.purchased_at,
       p.quote_cents, p.job_value_cents, p.lost_reason,
       l.name, l.phone, l.email, l.category, l.urgency, l.zip, l.description,
       d.id, d.status::text, d.credit_cents, d.decided_at
FROM purchases p JOIN leads l ON l.id = p.lead_id LEFT JOIN disputes d ON d.purchase_id = p.id
WHERE p.offer_id = CAST(:offer_id AS uuid);
COMMIT;
