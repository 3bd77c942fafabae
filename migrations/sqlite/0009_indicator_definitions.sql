-- A county's own 口径 for the derived indicators: the national set names some indicators
-- without defining them, so yijia computes them by a definition read from the name, and a
-- county may choose other measures for the numerator and denominator (and another scale, name
-- and unit), with the reason written down. Absent a row, the built-in definition holds.

CREATE TABLE indicator_definitions (
    community_id        INTEGER NOT NULL REFERENCES communities(id),
    code                TEXT NOT NULL,        -- the indicator, e.g. '3.1'
    name                TEXT NOT NULL,
    numerator           TEXT NOT NULL,        -- a measure, e.g. 'primary_visits'
    denominator         TEXT NOT NULL,
    scale               REAL NOT NULL,
    unit                TEXT NOT NULL,
    basis               TEXT NOT NULL,        -- the county's reason and source for its 口径
    updated_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    updated_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (community_id, code)
);
