-- Two-way referral: up (village → township → county) and down, with a state machine whose
-- every step keeps who and when, and the green channel for time-critical cases.

CREATE TABLE referrals (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id),
    resident_id           INTEGER NOT NULL REFERENCES residents(id),
    direction             TEXT NOT NULL,      -- 'up' or 'down'
    state                 TEXT NOT NULL,
    from_institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    to_institution_id     INTEGER NOT NULL REFERENCES institutions(id),
    to_department_id      INTEGER REFERENCES departments(id),
    reason                TEXT NOT NULL,
    diagnosis_icd10       TEXT NOT NULL,
    urgency               TEXT NOT NULL,      -- 'routine', 'urgent' or 'emergency'
    green_channel         TEXT,               -- chest_pain, stroke, trauma, maternal, neonatal
    catalogue_exception_reason TEXT,          -- why a condition of the sender's level goes up
    ecg_id                INTEGER REFERENCES ecgs(id),
    -- Insurance effects, read by the budget: an up-referral episode pays one deductible only;
    -- a down-referred patient's reimbursement rate is this many percentage points higher.
    single_deductible     INTEGER NOT NULL DEFAULT 0,
    rate_bonus_pp         INTEGER NOT NULL DEFAULT 0,
    created_by_staff_id   INTEGER NOT NULL REFERENCES staff(id),
    created_at_ms         INTEGER NOT NULL,
    updated_at_ms         INTEGER NOT NULL
);
CREATE INDEX referrals_to ON referrals (community_id, to_institution_id, state);
CREATE INDEX referrals_from ON referrals (community_id, from_institution_id, state);
CREATE INDEX referrals_resident ON referrals (community_id, resident_id);

CREATE TABLE referral_steps (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    referral_id   INTEGER NOT NULL REFERENCES referrals(id),
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    by_staff_id   INTEGER REFERENCES staff(id),
    at_ms         INTEGER NOT NULL,
    note          TEXT NOT NULL
);
CREATE INDEX referral_steps_referral ON referral_steps (community_id, referral_id, id);

-- The tiered-care catalogue (分级诊疗目录): ranges of ICD-10 codes and the level that should
-- treat them (1 village clinic, 2 township centre, 3 county). Administrators edit it.
CREATE TABLE tier_catalogue (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    icd10_from    TEXT NOT NULL,
    icd10_to      TEXT NOT NULL,
    level         INTEGER NOT NULL,
    name          TEXT NOT NULL,
    CONSTRAINT tier_catalogue_unique UNIQUE (community_id, icd10_from)
);
