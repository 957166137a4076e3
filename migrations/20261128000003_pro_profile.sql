-- A pro's profile from onboarding: licence, insurance certificate, service area (kept as the
-- set of covered ZIPs, which matching reads), services, weekly hours, lead preferences, and
-- staff's approval.

ALTER TABLE pros
    ADD COLUMN licence_number          text CHECK (length(licence_number) BETWEEN 1 AND 40),
    ADD COLUMN licence_state           char(2),
    ADD COLUMN insurance_key           text,
    ADD COLUMN insurance_content_type  text CHECK (insurance_content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    ADD COLUMN insurance_uploaded_at   timestamptz,
    ADD COLUMN base_zip                text REFERENCES zip_codes (zip),
    ADD COLUMN radius_miles            integer CHECK (radius_miles BETWEEN 1 AND 100),
    ADD COLUMN time_zone               text,
    ADD COLUMN emergency_24_7          boolean NOT NULL DEFAULT false,
    ADD COLUMN hours_set               boolean NOT NULL DEFAULT false,
    ADD COLUMN max_price_cents         bigint CHECK (max_price_cents > 0),
    ADD COLUMN accepts_shared          boolean NOT NULL DEFAULT true,
    ADD COLUMN accepts_exclusive       boolean NOT NULL DEFAULT true,
    ADD COLUMN daily_cap               integer CHECK (daily_cap BETWEEN 1 AND 1000),
    ADD COLUMN weekly_budget_cents     bigint CHECK (weekly_budget_cents > 0),
    ADD COLUMN paused                  boolean NOT NULL DEFAULT false,
    ADD COLUMN preferences_set         boolean NOT NULL DEFAULT false,
    ADD COLUMN submitted_at            timestamptz,
    ADD COLUMN approved_at             timestamptz,
    ADD COLUMN approved_by             uuid REFERENCES identity.users (id),
    ADD CHECK (accepts_shared OR accepts_exclusive);

-- The ZIPs a pro covers: those within the radius of the base, and any picked by hand.
CREATE TABLE pro_service_zips (
    pro_id       uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    zip          text NOT NULL REFERENCES zip_codes (zip),
    hand_picked  boolean NOT NULL,
    PRIMARY KEY (pro_id, zip)
);
CREATE INDEX pro_service_zips_zip ON pro_service_zips (zip);

CREATE TABLE pro_categories (
    pro_id    uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    category  text NOT NULL REFERENCES categories (slug),
    PRIMARY KEY (pro_id, category)
);
CREATE INDEX pro_categories_category ON pro_categories (category);

-- Weekly opening hours in the pro's time zone; Monday = 0.
CREATE TABLE pro_hours (
    pro_id   uuid NOT NULL REFERENCES pros (user_id) ON DELETE CASCADE,
    weekday  smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens    time NOT NULL,
    closes   time NOT NULL CHECK (closes > opens),
    PRIMARY KEY (pro_id, weekday)
);
