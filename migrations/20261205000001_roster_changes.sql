-- Each app instance keeps every pro's matching facts in memory (services::market::roster) and,
-- before each look, re-reads only the pros changed since its previous read. A change is a row
-- here, written in the changing transaction with that transaction's id: a reader that remembers
-- the oldest transaction still running at its read (its snapshot's xmin) and next reads the rows
-- from that id on cannot miss a change, whatever order transactions commit in.
--
-- What matching reads of a pro lives in `pros` (its settings, and the categories, hours and
-- purchase figures kept there by the triggers of migration `matching_facts`), its wallet's
-- balance in `ledger_accounts`, and its live offers in `offers`: a change to any of them is a
-- change to the pro. Append-only; housekeeping deletes rows older than an hour, and an instance
-- that has not read for half that reloads everything.

CREATE TABLE pro_changes (
    xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
    pro_id uuid NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pro_changes_xid ON pro_changes (xid);
CREATE INDEX pro_changes_at ON pro_changes (at);

-- Statement-level, with transition tables: a bulk change writes one row per pro it touched.
-- (PostgreSQL allows transition tables on single-event triggers only, hence one per event.)
CREATE FUNCTION pro_changes_from_pros() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pro_changes (pro_id) SELECT DISTINCT user_id FROM changed;
    RETURN NULL;
END $$;
CREATE TRIGGER pro_changes_inserted AFTER INSERT ON pros
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pro_changes_from_pros();
CREATE TRIGGER pro_changes_updated AFTER UPDATE ON pros
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pro_changes_from_pros();

CREATE FUNCTION pro_changes_from_pro_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pro_changes (pro_id) SELECT DISTINCT pro_id FROM changed WHERE pro_id IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER pro_changes_balance AFTER UPDATE ON ledger_accounts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pro_changes_from_pro_id();
CREATE TRIGGER pro_changes_offered AFTER INSERT ON offers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pro_changes_from_pro_id();
CREATE TRIGGER pro_changes_offer_decided AFTER UPDATE ON offers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pro_changes_from_pro_id();
