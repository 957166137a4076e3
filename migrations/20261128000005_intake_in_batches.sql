-- Submissions' writes, many per call. The application still decides every rule (the duplicate
-- window, the limits, the code, the text message) and passes the results in, one array element
-- per submission; this function makes the writes atomic and ordered. Many submissions arriving
-- together share one round trip, one set of statements and one commit (measured with
-- bench/leads: per lead, the statements' fixed costs and the commit were most of the database's
-- time). One submission is a batch of one.
--
-- Per submission: serialise on phone + category, look for a live duplicate, count the phone,
-- then write the lead, its code, its timeline, its message job and its funnel step. (Address
-- limits are counted before, in a statement of their own: a counter shared by many submissions,
-- such as a busy partner's, would otherwise stay locked until each call's commit and serialise
-- the calls.)
-- The submissions of one call must have distinct phones (the caller splits them otherwise), so
-- each submission's checks see only the database, never another element of the same call.
DROP FUNCTION intake_new_lead;

CREATE FUNCTION intake_new_leads(
    p_id                 uuid[],
    p_status             text[],
    p_category           text[],
    p_urgency            text[],
    p_zip                text[],
    p_description        text[],
    p_name               text[],
    p_phone              text[],
    p_email              text[],
    p_contact            text[],
    p_consent_version    text[],
    p_source             text[],
    p_partner_id         uuid[],
    p_utm                jsonb[],
    p_referrer           text[],
    p_now                timestamptz[],
    -- A live lead for the same phone and job created since then makes a submission a duplicate.
    p_duplicate_since    timestamptz[],
    -- The per-phone limit (counted only for would-be new leads).
    p_phone_key          text[],
    p_phone_window       timestamptz[],
    p_phone_max          integer[],
    p_code_hash          bytea[],
    p_code_expires_at    timestamptz[],
    -- Timeline events to write with a new lead, comma-separated, in order.
    p_events             text[],
    p_job_kind           text[],
    p_job_payload        jsonb[],
    p_job_max_attempts   integer[],
    -- The request form's view the submission came from (its funnel's `submitted` step), if any.
    p_funnel_id          uuid[]
) RETURNS TABLE (n integer, outcome text, lead_id uuid)
LANGUAGE plpgsql
-- The statements inside are the same every call; planning them afresh for each call's values
-- (what PL/pgSQL does while custom plans look cheaper) cost ~10 % of a call, measured with pgbench.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    IF cardinality(p_phone) <> (SELECT count(DISTINCT ph) FROM unnest(p_phone) AS ph) THEN
        RAISE EXCEPTION 'intake_new_leads: one submission per phone in a call';
    END IF;

    -- Two simultaneous copies of one request wait here for each other; the later one then sees
    -- the first (the statement below takes a fresh snapshot). In a fixed order, so that two calls
    -- cannot each hold a lock the other waits for.
    PERFORM pg_advisory_xact_lock(k)
    FROM (SELECT DISTINCT hashtextextended(ph || '|' || cat, 0) AS k
          FROM unnest(p_phone, p_category) AS t(ph, cat) ORDER BY 1) AS locks;

    RETURN QUERY
    WITH input AS (
        SELECT i.*
        FROM unnest(p_id, p_status, p_category, p_urgency, p_zip, p_description, p_name, p_phone, p_email,
                    p_contact, p_consent_version, p_source, p_partner_id, p_utm, p_referrer, p_now,
                    p_duplicate_since, p_phone_key, p_phone_window,
                    p_phone_max, p_code_hash, p_code_expires_at, p_events, p_job_kind, p_job_payload,
                    p_job_max_attempts, p_funnel_id)
             WITH ORDINALITY AS i(id, status, category, urgency, zip, description, name, phone, email,
                                  contact, consent_version, source, partner_id, utm, referrer, at,
                                  duplicate_since, phone_key, phone_window,
                                  phone_max, code_hash, code_expires_at, events, job_kind, job_payload,
                                  job_max_attempts, funnel_id, n)
    ),
    dup AS (
        SELECT a.n,
               (SELECT l.id FROM leads l
                WHERE l.phone = a.phone AND l.category = a.category AND l.created_at >= a.duplicate_since
                  AND l.status <> 'rejected'
                ORDER BY l.created_at DESC LIMIT 1) AS existing
        FROM input a
    ),
    dup_events AS (
        INSERT INTO lead_events (lead_id, kind, occurred_at)
        SELECT d.existing, 'duplicate_attempt', a.at FROM dup d JOIN input a USING (n)
        WHERE d.existing IS NOT NULL ORDER BY d.n
    ),
    phone_hits AS (
        INSERT INTO rate_limit_counters AS c (key, window_start, count)
        SELECT a.phone_key, a.phone_window, 1 FROM input a JOIN dup d USING (n)
        WHERE d.existing IS NULL ORDER BY 1, 2
        ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1
        RETURNING c.key, c.window_start, c.count
    ),
    fresh AS (
        SELECT a.* FROM input a
        JOIN phone_hits h ON h.key = a.phone_key AND h.window_start = a.phone_window
        WHERE h.count <= a.phone_max
    ),
    new_leads AS (
        INSERT INTO leads (id, status, category, urgency, zip, description, name, phone, email, contact_preference,
                           consent_version, consent_at, source, partner_id, utm, referrer, created_at, verified_at,
                           updated_at)
        SELECT id, status::lead_status, category, urgency, zip, description, name, phone, email,
               contact::contact_preference, consent_version, at, source::lead_source, partner_id, utm, referrer, at,
               CASE WHEN status = 'verified' THEN at END, at
        FROM fresh ORDER BY n
    ),
    codes AS (
        INSERT INTO lead_verifications (lead_id, code_hash, expires_at, last_sent_at)
        SELECT id, code_hash, code_expires_at, at FROM fresh WHERE code_hash IS NOT NULL ORDER BY n
    ),
    timeline AS (
        INSERT INTO lead_events (lead_id, kind, occurred_at)
        SELECT f.id, e.kind, f.at
        FROM fresh f, unnest(string_to_array(f.events, ',')) WITH ORDINALITY AS e(kind, k)
        ORDER BY f.n, e.k
    ),
    messages AS (
        INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at, updated_at)
        SELECT job_kind, job_payload, job_max_attempts, at, at, at FROM fresh WHERE job_kind IS NOT NULL ORDER BY n
    ),
    funnel AS (
        INSERT INTO analytics.funnel_events (funnel_id, step, source, category, occurred_at)
        SELECT funnel_id, 'submitted', source::lead_source, category, at FROM fresh WHERE funnel_id IS NOT NULL
        ORDER BY n
        ON CONFLICT (funnel_id, step) DO NOTHING
    )
    SELECT i.n::integer,
           CASE WHEN d.existing IS NOT NULL THEN 'duplicate'
                WHEN f.n IS NULL THEN 'phone_limited'
                ELSE 'created' END,
           CASE WHEN d.existing IS NOT NULL THEN d.existing WHEN f.n IS NOT NULL THEN i.id END
    FROM input i
    JOIN dup d USING (n)
    LEFT JOIN fresh f USING (n)
    ORDER BY i.n;
END
$$;
