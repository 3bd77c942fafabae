-- Staff dispatch (派驻): a member of staff of a county-level institution (the lead hospital, its
-- campuses and centres) on site at a primary institution from one date to another, so many days
-- a month, for a purpose. A person is dispatched to one place at a time.
CREATE TABLE staff_dispatches (
    id                  INTEGER PRIMARY KEY,
    community_id        INTEGER NOT NULL REFERENCES communities(id),
    staff_id            INTEGER NOT NULL REFERENCES staff(id),
    from_institution_id INTEGER NOT NULL REFERENCES institutions(id),
    to_institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    starts_on           TEXT NOT NULL,      -- YYYY-MM-DD
    ends_on             TEXT NOT NULL,      -- YYYY-MM-DD, included
    days_per_month      INTEGER NOT NULL,
    purpose             TEXT NOT NULL,      -- 'clinic', 'rounds', 'surgery', 'teaching'
    created_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    created_at_ms       INTEGER NOT NULL
);
CREATE INDEX staff_dispatches_staff ON staff_dispatches (community_id, staff_id, starts_on);
CREATE INDEX staff_dispatches_to ON staff_dispatches (community_id, to_institution_id, starts_on);

-- The yearly payroll, kept only as each institution's sum and head count (never per person):
-- an import replaces the year's rows.
CREATE TABLE payroll_years (
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    year           INTEGER NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    staff_count    INTEGER NOT NULL,
    gross_fen      INTEGER NOT NULL,
    imported_at_ms INTEGER NOT NULL,
    PRIMARY KEY (community_id, year, institution_id)
);
