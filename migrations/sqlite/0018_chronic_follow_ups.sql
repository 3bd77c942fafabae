-- Chronic follow-ups (随访) on the national form, each with the decision the rules made and the
-- one recorded (a different one only with its reason), the referral it raised; the overdue call
-- list's call results; a county's own thresholds; and the date a resident died.

CREATE TABLE chronic_follow_ups (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id),
    enrolment_id         INTEGER NOT NULL REFERENCES chronic_enrolments(id),
    resident_id          INTEGER NOT NULL REFERENCES residents(id),
    program              TEXT NOT NULL,
    institution_id       INTEGER NOT NULL REFERENCES institutions(id),
    doctor_staff_id      INTEGER NOT NULL REFERENCES staff(id),
    followed_up_at_ms    INTEGER NOT NULL,
    followed_up_on       TEXT NOT NULL,        -- YYYY-MM-DD, China Standard Time
    mode                 TEXT NOT NULL,        -- 'clinic', 'home', 'phone'
    symptoms             TEXT NOT NULL,        -- codes, comma-separated; '' for none
    sbp                  REAL,
    dbp                  REAL,
    heart_rate           REAL,
    weight_kg            REAL,
    height_cm            REAL,
    bmi                  REAL,
    fpg_mmol             REAL,
    smoking_per_day      INTEGER,
    drinking_per_day     REAL,                 -- liang (两) of spirits
    exercise_per_week    INTEGER,
    salt                 TEXT,                 -- 'light', 'medium', 'heavy'
    psychology           TEXT,                 -- 'good', 'fair', 'poor'
    compliance           TEXT,                 -- 遵医行为: 'good', 'fair', 'poor'
    adherence            TEXT NOT NULL,        -- 'regular', 'intermittent', 'none'
    adverse_reaction     INTEGER NOT NULL,
    complication         INTEGER NOT NULL,
    medicines            TEXT NOT NULL,        -- JSON [{name, dose, frequency}]
    rule_classification  INTEGER NOT NULL,     -- what the rules decided, 1–4
    rule_next_step       INTEGER NOT NULL,
    classification       INTEGER NOT NULL,     -- what was recorded, 1–4
    next_step            INTEGER NOT NULL,
    override_reason      TEXT NOT NULL DEFAULT '',
    next_due_on          TEXT NOT NULL,
    bp_at_target         INTEGER,                -- 1/0, absent when not measured
    fpg_at_target        INTEGER,
    emergency_criteria   TEXT NOT NULL,        -- JSON list
    reasons              TEXT NOT NULL,        -- JSON list
    referral_id          INTEGER REFERENCES referrals(id),
    recorded_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    created_at_ms        INTEGER NOT NULL,
    CONSTRAINT chronic_follow_ups_unique UNIQUE (enrolment_id, followed_up_at_ms)
);
CREATE INDEX chronic_follow_ups_resident ON chronic_follow_ups (community_id, resident_id, followed_up_at_ms);
CREATE INDEX chronic_follow_ups_institution ON chronic_follow_ups (community_id, institution_id, followed_up_on);

CREATE TABLE chronic_calls (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    enrolment_id       INTEGER NOT NULL REFERENCES chronic_enrolments(id),
    resident_id        INTEGER NOT NULL REFERENCES residents(id),
    result             TEXT NOT NULL,          -- 'agreed', 'call_later', 'removed'
    reason             TEXT NOT NULL,
    hidden_until_ms    INTEGER,                -- off the call list until then; removed: for good
    called_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    called_at_ms       INTEGER NOT NULL
);
CREATE INDEX chronic_calls_enrolment ON chronic_calls (enrolment_id, called_at_ms);

CREATE TABLE chronic_settings (
    community_id        INTEGER PRIMARY KEY REFERENCES communities(id),
    thresholds          TEXT NOT NULL,          -- JSON of the rules' thresholds
    updated_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    updated_at_ms       INTEGER NOT NULL
);

ALTER TABLE residents ADD COLUMN died_on TEXT;
