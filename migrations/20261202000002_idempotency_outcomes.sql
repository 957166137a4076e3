-- An idempotency key keeps the use case's outcome (JSON), not a rendered HTTP response: the API
-- and the request form each render it their own way. Keys of the old shape are replay records
-- of at most a day, and nothing has been sold yet; they go (a retry finds its lead as a
-- duplicate instead).
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    DROP COLUMN status_code,
    DROP COLUMN response_body,
    DROP COLUMN location,
    ADD COLUMN outcome jsonb;
