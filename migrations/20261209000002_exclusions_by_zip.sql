-- A pro's missed leads are found from the ZIPs they cover: each ZIP's recent exclusion rows (a
-- dozen a look at most, indexed by ZIP and time), then whether the pro is in the row's array.
-- The GIN index over every left-out pro id it replaces took ~1,300 entries a look and was the
-- top of PostgreSQL's time at 100 verified leads/s (bench/README, 2026-12-06). Exclusions are
-- only ever recorded for pros who cover the lead's ZIP, so nothing a pro could be shown is lost;
-- a pro who stops covering a ZIP stops seeing the leads missed there.
ALTER TABLE match_exclusions ADD COLUMN zip text;
UPDATE match_exclusions e SET zip = l.zip FROM leads l WHERE l.id = e.lead_id;
DELETE FROM match_exclusions WHERE zip IS NULL;
ALTER TABLE match_exclusions ALTER COLUMN zip SET NOT NULL;
DROP INDEX match_exclusions_pros;
CREATE INDEX match_exclusions_zip ON match_exclusions (zip, at DESC);
