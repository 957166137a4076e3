-- Numbers that replied STOP to one of our texts: nothing more is sent to them until they reply
-- START, or ask for a new code themselves (a request made with consent opts them in again).
CREATE TABLE sms_opt_outs (
    phone          text PRIMARY KEY CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    opted_out_at   timestamptz NOT NULL
);
