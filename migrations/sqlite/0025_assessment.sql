-- Member performance assessment (绩效考核): a county's scheme per year and kind of member
-- (absent: the national defaults), and the year's scores frozen into the snapshot the budget's
-- surplus split reads, each with its inputs and their sources.
CREATE TABLE assessment_schemes (
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    year            INTEGER NOT NULL,
    member_kind     TEXT NOT NULL,          -- 'township', 'village_clinic'
    items           TEXT NOT NULL,          -- JSON: the weighted items
    set_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    set_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (community_id, year, member_kind)
);

CREATE TABLE assessment_snapshots (
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    year               INTEGER NOT NULL,
    institution_id     INTEGER NOT NULL REFERENCES institutions(id),
    score              REAL NOT NULL,
    inputs             TEXT NOT NULL,       -- JSON: every item's value, points and source
    frozen_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    frozen_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (community_id, year, institution_id)
);

-- A score typed by the insurance officer overrides the frozen one only with a stated reason.
ALTER TABLE member_scores ADD COLUMN reason TEXT;
