-- A county's targets for its indicators (目标值): at least or at most a value, with the rule it
-- comes from. Absent a row, the target of the indicator's own source holds (the chest pain
-- centre's time limits, a provincial target), or none.

CREATE TABLE indicator_targets (
    community_id        INTEGER NOT NULL REFERENCES communities(id),
    code                TEXT NOT NULL,        -- the indicator, e.g. '3.1'
    direction           TEXT NOT NULL,        -- 'at_least' or 'at_most'
    value               REAL NOT NULL,
    basis               TEXT NOT NULL,        -- the rule or document the target comes from
    updated_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    updated_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (community_id, code)
);
