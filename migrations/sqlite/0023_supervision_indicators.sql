-- Institution indicators (K01–K07) raise alerts too: an alert about an institution's month has
-- no resident, its evidence key names the institution, month and measure, and it keeps the peer
-- comparison (the institution's value, its peers' median and 90th percentile, how many peers).
-- The evidence encounters get a column of their own (for the encounter rules, the same ids as
-- the key). SQLite cannot drop a NOT NULL: both tables are rebuilt, the steps first out and
-- last in so no reference is ever dangling.

CREATE TABLE supervision_alerts_next (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    rule_code      TEXT NOT NULL,
    rule_version   INTEGER NOT NULL,
    finding        TEXT NOT NULL,           -- 'definite', 'suspect'
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    resident_id    INTEGER REFERENCES residents(id), -- NULL for an institution indicator
    period         TEXT NOT NULL,           -- YYYY-MM of the last evidence (CST)
    evidence_key   TEXT NOT NULL,           -- encounter ids, or institution:month:measure
    amount_fen     INTEGER NOT NULL,
    detail         TEXT NOT NULL,
    state          TEXT NOT NULL,
    due_on         TEXT,                    -- YYYY-MM-DD, once assigned
    refund_fen     INTEGER,                 -- once submitted
    raised_at_ms   INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    encounter_ids  TEXT NOT NULL DEFAULT '', -- the evidence encounters, ascending, comma-separated
    value          REAL,                    -- an indicator's value, in its unit
    peer_median    REAL,
    peer_p90       REAL,
    peers          INTEGER,
    CONSTRAINT supervision_alerts_unique UNIQUE (community_id, rule_code, evidence_key)
);
INSERT INTO supervision_alerts_next (id, community_id, rule_code, rule_version, finding,
    institution_id, resident_id, period, evidence_key, amount_fen, detail, state, due_on,
    refund_fen, raised_at_ms, updated_at_ms, encounter_ids)
SELECT id, community_id, rule_code, rule_version, finding, institution_id, resident_id, period,
    evidence_key, amount_fen, detail, state, due_on, refund_fen, raised_at_ms, updated_at_ms,
    evidence_key
FROM supervision_alerts;

CREATE TABLE supervision_alert_steps_next (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    alert_id      INTEGER NOT NULL REFERENCES supervision_alerts_next(id),
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    note          TEXT NOT NULL,            -- reason, interview record, appeal, root cause and measures
    due_on        TEXT,
    refund_fen    INTEGER,
    by_staff_id   INTEGER NOT NULL REFERENCES staff(id),
    at_ms         INTEGER NOT NULL
);
INSERT INTO supervision_alert_steps_next SELECT id, community_id, alert_id, from_state, to_state,
    note, due_on, refund_fen, by_staff_id, at_ms FROM supervision_alert_steps;

DROP TABLE supervision_alert_steps;
DROP TABLE supervision_alerts;
-- Renaming updates the steps' reference to the new name.
ALTER TABLE supervision_alerts_next RENAME TO supervision_alerts;
ALTER TABLE supervision_alert_steps_next RENAME TO supervision_alert_steps;
CREATE INDEX supervision_alerts_board ON supervision_alerts (community_id, period, institution_id);
CREATE INDEX supervision_alert_steps_alert ON supervision_alert_steps (alert_id, at_ms);

-- The monthly facts now count admissions (for alerts per 100 admissions): every month with facts
-- is counted again on its next read.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT DISTINCT community_id, month, 1 FROM indicator_facts WHERE 1 = 1
ON CONFLICT (community_id, month) DO NOTHING;
