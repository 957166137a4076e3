-- Matching reads one row per covering pro (store::matching): a lead's ~1,500 candidates at the
-- 15,000-pro scale cost one read each instead of eleven sub-queries each (bench/market). What it
-- needs from a pro's categories, hours, base ZIP and purchases is kept on `pros` by the triggers
-- below, in the transaction of the change, so it is never a step behind what it is made from.

ALTER TABLE pros
    ADD COLUMN categories             text[] NOT NULL DEFAULT '{}',
    -- Weekly hours as three parallel arrays ordered by weekday (Monday = 0), as in pro_hours.
    ADD COLUMN hours_weekday          smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN hours_opens            time[] NOT NULL DEFAULT '{}',
    ADD COLUMN hours_closes           time[] NOT NULL DEFAULT '{}',
    ADD COLUMN base_lat               double precision,
    ADD COLUMN base_lon               double precision,
    -- As of the pro's latest purchase: its local day and the purchases from that day's start,
    -- its ISO week (Monday) and the cents spent from that week's start, and the median seconds
    -- from offer to claim over the 30 days before it. Read: a day or week that is not the
    -- current one counts nothing.
    ADD COLUMN last_bought_at         timestamptz,
    ADD COLUMN bought_on              date,
    ADD COLUMN bought_that_day        integer NOT NULL DEFAULT 0,
    ADD COLUMN spent_week_of          date,
    ADD COLUMN spent_that_week_cents  bigint NOT NULL DEFAULT 0,
    ADD COLUMN median_claim_seconds   double precision;

-- Categories and hours: refreshed per statement for every pro it touched (onboarding replaces
-- a pro's rows; a bulk load touches many pros at once).
CREATE FUNCTION pros_refresh_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pros p
    SET categories = ARRAY(SELECT c.category FROM pro_categories c WHERE c.pro_id = p.user_id ORDER BY c.category)
    WHERE p.user_id IN (SELECT DISTINCT pro_id FROM changed);
    RETURN NULL;
END $$;
CREATE TRIGGER pros_categories_inserted AFTER INSERT ON pro_categories
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_categories();
CREATE TRIGGER pros_categories_deleted AFTER DELETE ON pro_categories
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_categories();
CREATE TRIGGER pros_categories_updated AFTER UPDATE ON pro_categories
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_categories();

CREATE FUNCTION pros_refresh_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pros p
    SET hours_weekday = ARRAY(SELECT h.weekday FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday),
        hours_opens = ARRAY(SELECT h.opens FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday),
        hours_closes = ARRAY(SELECT h.closes FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday)
    WHERE p.user_id IN (SELECT DISTINCT pro_id FROM changed);
    RETURN NULL;
END $$;
CREATE TRIGGER pros_hours_inserted AFTER INSERT ON pro_hours
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_hours();
CREATE TRIGGER pros_hours_deleted AFTER DELETE ON pro_hours
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_hours();
CREATE TRIGGER pros_hours_updated AFTER UPDATE ON pro_hours
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_refresh_hours();

-- The base ZIP's position, for the distance to each lead.
CREATE FUNCTION pros_locate_base() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT z.lat, z.lon INTO NEW.base_lat, NEW.base_lon FROM zip_codes z WHERE z.zip = NEW.base_zip;
    IF NEW.base_zip IS NULL THEN
        NEW.base_lat := NULL;
        NEW.base_lon := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pros_locate_base BEFORE INSERT OR UPDATE OF base_zip ON pros
    FOR EACH ROW EXECUTE FUNCTION pros_locate_base();

-- Purchases: recounted from the purchases themselves (not incremented), so the figures are the
-- same whatever order purchases arrive in; also on a change of time zone, which moves the day.
CREATE FUNCTION pros_recount_purchases(pro uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz     text;
    latest timestamptz;
    local  timestamp;
BEGIN
    SELECT coalesce(p.time_zone, 'UTC') INTO tz FROM pros p WHERE p.user_id = pro;
    SELECT max(pu.purchased_at) INTO latest FROM purchases pu WHERE pu.pro_id = pro;
    IF latest IS NULL THEN
        RETURN;
    END IF;
    local := latest AT TIME ZONE tz;
    UPDATE pros p SET
        last_bought_at = latest,
        bought_on = local::date,
        bought_that_day = (SELECT count(*) FROM purchases pu WHERE pu.pro_id = pro
                           AND pu.purchased_at >= date_trunc('day', local) AT TIME ZONE tz),
        spent_week_of = date_trunc('week', local)::date,
        spent_that_week_cents = (SELECT coalesce(sum(pu.price_cents), 0) FROM purchases pu WHERE pu.pro_id = pro
                                 AND pu.purchased_at >= date_trunc('week', local) AT TIME ZONE tz),
        median_claim_seconds = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pu.purchased_at - o.created_at))
                                FROM purchases pu JOIN offers o ON o.id = pu.offer_id
                                WHERE pu.pro_id = pro AND pu.purchased_at > latest - interval '30 days')
    WHERE p.user_id = pro;
END $$;

CREATE FUNCTION pros_purchase_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pros_recount_purchases(NEW.pro_id);
    RETURN NULL;
END $$;
CREATE TRIGGER pros_purchase_counted AFTER INSERT ON purchases
    FOR EACH ROW EXECUTE FUNCTION pros_purchase_counted();

CREATE FUNCTION pros_time_zone_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pros_recount_purchases(NEW.user_id);
    RETURN NULL;
END $$;
CREATE TRIGGER pros_time_zone_moved AFTER UPDATE OF time_zone ON pros
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION pros_time_zone_moved();

-- A ZIP's covering pros straight from the index (an index-only scan), not one heap page each.
DROP INDEX pro_service_zips_zip;
CREATE INDEX pro_service_zips_zip ON pro_service_zips (zip, pro_id);

-- Live offers per pro, for the daily cap and weekly budget (offers still claimable count).
CREATE INDEX offers_pending_pro ON offers (pro_id, expires_at) INCLUDE (price_cents) WHERE status = 'pending';

-- What is there already.
UPDATE pros p SET
    categories = ARRAY(SELECT c.category FROM pro_categories c WHERE c.pro_id = p.user_id ORDER BY c.category),
    hours_weekday = ARRAY(SELECT h.weekday FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday),
    hours_opens = ARRAY(SELECT h.opens FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday),
    hours_closes = ARRAY(SELECT h.closes FROM pro_hours h WHERE h.pro_id = p.user_id ORDER BY h.weekday),
    base_zip = base_zip;
SELECT pros_recount_purchases(pro_id) FROM (SELECT DISTINCT pro_id FROM purchases) AS bought;

-- A look writes one exclusion per candidate left out (~1,500 at that scale). Their foreign keys
-- made each row check, and lock, its lead's and its pro's rows: 3,000 row locks a look, on pros
-- rows every other look and claim also reads or locks. The rows are a record of why, read only
-- joined to leads; neither leads nor pros are deleted by the application.
ALTER TABLE match_exclusions
    DROP CONSTRAINT match_exclusions_lead_id_fkey,
    DROP CONSTRAINT match_exclusions_pro_id_fkey;
