-- Supervision (智慧监管): the county's versions of the encounter rules (enabled codes and their
-- parameters; version 0, absent here, is the national defaults), the alerts a rule run raised
-- (once per rule and evidence), and each alert's steps through rectification (整改).

CREATE TABLE supervision_rule_versions (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    version         INTEGER NOT NULL,
    enabled         TEXT NOT NULL,          -- rule codes, comma-separated
    parameters      TEXT NOT NULL,          -- JSON of the rules' parameters
    set_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    set_at_ms       INTEGER NOT NULL,
    CONSTRAINT supervision_rule_versions_unique UNIQUE (community_id, version)
);

CREATE TABLE supervision_alerts (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    rule_code      TEXT NOT NULL,
    rule_version   INTEGER NOT NULL,
    finding        TEXT NOT NULL,           -- 'definite', 'suspect'
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    resident_id    INTEGER NOT NULL REFERENCES residents(id),
    period         TEXT NOT NULL,           -- YYYY-MM of the last evidence encounter (CST)
    evidence_key   TEXT NOT NULL,           -- the evidence encounters' ids, ascending, comma-separated
    amount_fen     INTEGER NOT NULL,
    detail         TEXT NOT NULL,
    state          TEXT NOT NULL,
    due_on         TEXT,                    -- YYYY-MM-DD, once assigned
    refund_fen     INTEGER,                 -- once submitted
    raised_at_ms   INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    CONSTRAINT supervision_alerts_unique UNIQUE (community_id, rule_code, evidence_key)
);
CREATE INDEX supervision_alerts_board ON supervision_alerts (community_id, period, institution_id);

CREATE TABLE supervision_alert_steps (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    alert_id      INTEGER NOT NULL REFERENCES supervision_alerts(id),
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    note          TEXT NOT NULL,            -- reason, interview record, appeal, root cause and measures
    due_on        TEXT,
    refund_fen    INTEGER,
    by_staff_id   INTEGER NOT NULL REFERENCES staff(id),
    at_ms         INTEGER NOT NULL
);
CREATE INDEX supervision_alert_steps_alert ON supervision_alert_steps (alert_id, at_ms);
