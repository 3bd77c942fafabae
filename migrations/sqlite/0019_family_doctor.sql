-- Family doctor contracts (家庭医生签约服务): the members of each care team (1+1+N) with their
-- role, from any member institution; service packages as data (basic and personalised, each
-- service with how many a year and the records that deliver it); contracts of one resident with
-- one team and a responsible doctor for at least a year, with their packages and key groups,
-- renewed or terminated with a reason.

CREATE TABLE care_team_members (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    team_id       INTEGER NOT NULL REFERENCES care_teams(id),
    staff_id      INTEGER NOT NULL REFERENCES staff(id),
    role          TEXT NOT NULL,   -- 'general_practitioner', 'village_doctor', 'nurse', 'public_health', 'specialist', 'pharmacist'
    CONSTRAINT care_team_members_unique UNIQUE (team_id, staff_id)
);

CREATE TABLE service_packages (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,   -- 'basic', 'personalised'
    price_fen     INTEGER NOT NULL,
    key_groups    TEXT NOT NULL,   -- who it is for, comma-separated; '' for everyone
    services      TEXT NOT NULL,   -- JSON [{code, name, per_year, source}]
    CONSTRAINT service_packages_unique UNIQUE (community_id, code)
);

CREATE TABLE family_doctor_contracts (
    id                  INTEGER PRIMARY KEY,
    community_id        INTEGER NOT NULL REFERENCES communities(id),
    resident_id         INTEGER NOT NULL REFERENCES residents(id),
    team_id             INTEGER NOT NULL REFERENCES care_teams(id),
    doctor_staff_id     INTEGER NOT NULL REFERENCES staff(id),
    institution_id      INTEGER NOT NULL REFERENCES institutions(id),  -- where it was signed
    start_date          TEXT NOT NULL,     -- YYYY-MM-DD
    end_date            TEXT NOT NULL,     -- YYYY-MM-DD, the last day
    starts_at_ms        INTEGER NOT NULL,  -- the start day's midnight (China Standard Time)
    ends_at_ms          INTEGER NOT NULL,  -- the midnight after the last day
    key_groups          TEXT NOT NULL,     -- comma-separated
    status              TEXT NOT NULL,     -- 'signed', 'terminated'
    terminated_on       TEXT,
    termination_reason  TEXT NOT NULL DEFAULT '',
    renewal_of_id       INTEGER REFERENCES family_doctor_contracts(id),
    signed_by_staff_id  INTEGER NOT NULL REFERENCES staff(id),
    signed_at_ms        INTEGER NOT NULL
);
-- A retried signing does not sign twice; a terminated contract does not block signing again.
CREATE UNIQUE INDEX family_doctor_contracts_start ON family_doctor_contracts (community_id, resident_id, start_date) WHERE status = 'signed';
CREATE INDEX family_doctor_contracts_team ON family_doctor_contracts (community_id, team_id, end_date);
CREATE INDEX family_doctor_contracts_institution ON family_doctor_contracts (community_id, institution_id, end_date);

CREATE TABLE contract_packages (
    contract_id   INTEGER NOT NULL REFERENCES family_doctor_contracts(id),
    package_id    INTEGER NOT NULL REFERENCES service_packages(id),
    PRIMARY KEY (contract_id, package_id)
);
