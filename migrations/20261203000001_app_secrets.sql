-- A development install's generated secret key (issue 10, item 1): with PLUMBERLEADS_SECRET_KEY
-- unset (allowed only outside production, on a loopback bind), the first start makes a random
-- key and every later start, and every node, reads the same one back.
CREATE TABLE app_secrets (
    name text PRIMARY KEY,
    value text NOT NULL CHECK (length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
