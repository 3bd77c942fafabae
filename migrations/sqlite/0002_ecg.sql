-- The ECG network: uploaded ECGs with their original file, canonical waveform and automatic
-- analysis, and signed reports (a new version amends, nothing is edited).

CREATE TABLE ecgs (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    resident_id            INTEGER NOT NULL REFERENCES residents(id),
    site_institution_id    INTEGER NOT NULL REFERENCES institutions(id),
    uploaded_by_staff_id   INTEGER NOT NULL REFERENCES staff(id),
    idempotency_key        TEXT,
    recorded_at_ms         INTEGER NOT NULL,
    received_at_ms         INTEGER NOT NULL,
    clinical_note          TEXT NOT NULL,
    format                 TEXT NOT NULL,
    original_name          TEXT NOT NULL,
    original               BLOB NOT NULL,
    sampling_hz            REAL NOT NULL,
    lead_names             TEXT NOT NULL,      -- one per line, in waveform order
    waveform_uv            BLOB NOT NULL,      -- i32 little-endian, lead after lead
    analysis               TEXT NOT NULL,      -- JSON of yijia_ecg::Analysis
    critical_reasons       TEXT NOT NULL,      -- the analysis's critical reasons, one per line, for the worklist
    priority               TEXT NOT NULL,      -- 'stat' or 'routine'
    auto_critical          INTEGER NOT NULL,
    state                  TEXT NOT NULL,      -- 'waiting', 'claimed', 'reported'
    claimed_by_staff_id    INTEGER REFERENCES staff(id),
    claimed_at_ms          INTEGER,
    reported_at_ms         INTEGER,
    acknowledged_by_staff_id INTEGER REFERENCES staff(id),
    acknowledged_at_ms     INTEGER,
    report_critical        INTEGER NOT NULL DEFAULT 0,  -- the latest signed report is a critical value
    escalated_at_ms        INTEGER,                     -- a critical report left unacknowledged 5 min
    CONSTRAINT ecgs_idempotency_unique UNIQUE (community_id, uploaded_by_staff_id, idempotency_key)
);
CREATE INDEX ecgs_worklist ON ecgs (community_id, state, priority, received_at_ms);
CREATE INDEX ecgs_site ON ecgs (community_id, site_institution_id, received_at_ms);
CREATE INDEX ecgs_resident ON ecgs (community_id, resident_id);

CREATE TABLE ecg_reports (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    ecg_id          INTEGER NOT NULL REFERENCES ecgs(id),
    version         INTEGER NOT NULL,
    findings        TEXT NOT NULL,
    conclusion      TEXT NOT NULL,
    critical        INTEGER NOT NULL,
    reader_staff_id INTEGER NOT NULL REFERENCES staff(id),
    signed_at_ms    INTEGER NOT NULL,
    CONSTRAINT ecg_reports_version_unique UNIQUE (community_id, ecg_id, version)
);
