-- The application's own database role: it reads and writes data, and cannot rewrite history.
-- A deployment runs migrations as the schema owner (DATABASE_MIGRATION_URL) and logs the app in
-- (DATABASE_URL) as a role that is a member of plumberleads_app. That role owns nothing, so it
-- cannot drop or disable the append-only triggers, alter a table, or truncate; on the audit log
-- and the ledger it may only INSERT and SELECT, so the newest entries cannot be deleted unseen.
-- On one machine with a single role (the dev default) the app still owns everything.
-- The role is cluster-wide and made once; without CREATEROLE the grants wait until an
-- administrator creates it and migrations run again on a new schema version.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plumberleads_app') THEN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            RAISE NOTICE 'role plumberleads_app does not exist and % may not create it: no grants made', current_user;
            RETURN;
        END IF;
        BEGIN
            CREATE ROLE plumberleads_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database's migration made it at the same moment
        END;
    END IF;

    GRANT USAGE ON SCHEMA public, identity, reporting, analytics TO plumberleads_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, identity, reporting, analytics
        TO plumberleads_app;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public, identity, reporting, analytics
        TO plumberleads_app;
    -- Tables and sequences later migrations create (as this same owner) get the same.
    ALTER DEFAULT PRIVILEGES IN SCHEMA public, identity, reporting, analytics
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO plumberleads_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public, identity, reporting, analytics
        GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO plumberleads_app;

    -- History: appended and read, never changed.
    REVOKE UPDATE, DELETE ON identity.audit_log, ledger_entries, ledger_transfers FROM plumberleads_app;
    -- The migrations' own bookkeeping is the owner's (absent when a script applies the files).
    IF to_regclass('public._sqlx_migrations') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE ON public._sqlx_migrations FROM plumberleads_app;
    END IF;
END $$;
