-- Hypertension screening (高血压筛查) of residents aged 35 and over not yet managed: each blood
-- pressure measured, with the high-risk factors found, and the referral to confirm a suspected
-- hypertension (raised on three different days) on the reading that asked for it.

CREATE TABLE chronic_screenings (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id),
    resident_id          INTEGER NOT NULL REFERENCES residents(id),
    institution_id       INTEGER NOT NULL REFERENCES institutions(id),
    measured_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    measured_at_ms       INTEGER NOT NULL,
    measured_on          TEXT NOT NULL,        -- YYYY-MM-DD, China Standard Time
    sbp                  REAL NOT NULL,
    dbp                  REAL NOT NULL,
    weight_kg            REAL,
    height_cm            REAL,
    bmi                  REAL,
    waist_cm             REAL,
    risk_factors         TEXT NOT NULL,        -- codes, comma-separated; '' for none
    raised               INTEGER NOT NULL,     -- 1 when SBP or DBP at or above the screening threshold
    referral_id          INTEGER REFERENCES referrals(id),
    created_at_ms        INTEGER NOT NULL,
    CONSTRAINT chronic_screenings_unique UNIQUE (resident_id, measured_at_ms)
);
CREATE INDEX chronic_screenings_resident ON chronic_screenings (community_id, resident_id, measured_at_ms);
