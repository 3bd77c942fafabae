-- The chronic disease registry (慢病管理): a resident managed for hypertension or type 2
-- diabetes by an institution and a responsible doctor, once per programme; the status moves
-- from managed to temporarily lost or ended (died, moved, diagnosis revoked) with its reason.

CREATE TABLE chronic_enrolments (
    id                  INTEGER PRIMARY KEY,
    community_id        INTEGER NOT NULL REFERENCES communities(id),
    resident_id         INTEGER NOT NULL REFERENCES residents(id),
    program             TEXT NOT NULL,        -- 'hypertension' or 'diabetes'
    enrolled_on         TEXT NOT NULL,        -- YYYY-MM-DD
    basis               TEXT NOT NULL,        -- 'screened', 'confirmed_at_hospital', 'known_before'
    institution_id      INTEGER NOT NULL REFERENCES institutions(id),
    doctor_staff_id     INTEGER NOT NULL REFERENCES staff(id),
    team_id             INTEGER,
    status              TEXT NOT NULL,        -- 'managed', 'lost', 'ended'
    status_on           TEXT,
    status_reason       TEXT NOT NULL DEFAULT '',
    created_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    CONSTRAINT chronic_enrolments_unique UNIQUE (community_id, resident_id, program)
);
CREATE INDEX chronic_enrolments_institution ON chronic_enrolments (community_id, institution_id, program, status);
