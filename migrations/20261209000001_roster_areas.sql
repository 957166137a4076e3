-- Matching keeps each pro's covered ZIPs in the app instance's roster too (services::market::roster),
-- so a look no longer reads ~1,300 rows of `pro_service_zips` per lead. The roster re-reads a
-- pro's facts on every change (an offer, a claim, a top-up) but their ZIPs (~150 rows) only when
-- the area changed: `area_version` moves with every write to the pro's rows here, and that update
-- of `pros` is itself a change the roster reads (pro_changes).

ALTER TABLE pros ADD COLUMN area_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION pros_area_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pros SET area_version = area_version + 1
    WHERE user_id IN (SELECT DISTINCT pro_id FROM changed);
    RETURN NULL;
END $$;
-- Statement-level with transition tables, one trigger per event (as for pro_changes).
CREATE TRIGGER pros_area_inserted AFTER INSERT ON pro_service_zips
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_area_changed();
CREATE TRIGGER pros_area_deleted AFTER DELETE ON pro_service_zips
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_area_changed();
CREATE TRIGGER pros_area_updated AFTER UPDATE ON pro_service_zips
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pros_area_changed();
