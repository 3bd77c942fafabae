-- The shared imaging centre (医学影像诊断资源共享中心): studies sent from township modalities
-- (DICOMweb STOW-RS), each on the shared reading workflow (the same workflow columns as the
-- ECG centre's cases), their instances kept byte for byte, and the centre's signed reports.

CREATE TABLE imaging_studies (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    resident_id            INTEGER NOT NULL REFERENCES residents(id),
    site_institution_id    INTEGER NOT NULL REFERENCES institutions(id),
    study_instance_uid     TEXT NOT NULL,
    accession_number       TEXT NOT NULL,
    study_date             TEXT NOT NULL,      -- DICOM DA as sent (YYYYMMDD), '' when absent
    study_time             TEXT NOT NULL,
    study_description      TEXT NOT NULL,
    received_at_ms         INTEGER NOT NULL,
    priority               TEXT NOT NULL,      -- 'stat' or 'routine'
    state                  TEXT NOT NULL,      -- 'waiting', 'claimed', 'reported'
    claimed_by_staff_id    INTEGER REFERENCES staff(id),
    claimed_at_ms          INTEGER,
    reported_at_ms         INTEGER,
    acknowledged_by_staff_id INTEGER REFERENCES staff(id),
    acknowledged_at_ms     INTEGER,
    report_critical        INTEGER NOT NULL DEFAULT 0,
    escalated_at_ms        INTEGER,
    CONSTRAINT imaging_studies_uid_unique UNIQUE (community_id, study_instance_uid)
);
CREATE INDEX imaging_studies_worklist ON imaging_studies (community_id, state, priority, received_at_ms);
CREATE INDEX imaging_studies_resident ON imaging_studies (community_id, resident_id);
CREATE INDEX imaging_studies_site ON imaging_studies (community_id, site_institution_id, received_at_ms);

CREATE TABLE imaging_instances (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    study_id               INTEGER NOT NULL REFERENCES imaging_studies(id),
    series_instance_uid    TEXT NOT NULL,
    series_number          INTEGER,
    series_description     TEXT NOT NULL,
    modality               TEXT NOT NULL,
    body_part              TEXT NOT NULL,
    sop_class_uid          TEXT NOT NULL,
    sop_instance_uid       TEXT NOT NULL,
    instance_number        INTEGER,
    transfer_syntax_uid    TEXT NOT NULL,
    rows_count             INTEGER,
    columns_count          INTEGER,
    frames                 INTEGER,
    stored_by_staff_id     INTEGER NOT NULL REFERENCES staff(id),
    stored_at_ms           INTEGER NOT NULL,
    size_bytes             INTEGER NOT NULL,
    content                BLOB NOT NULL,      -- the instance as received, byte for byte
    CONSTRAINT imaging_instances_uid_unique UNIQUE (community_id, sop_instance_uid)
);
CREATE INDEX imaging_instances_study ON imaging_instances (community_id, study_id, series_instance_uid, instance_number);

CREATE TABLE imaging_reports (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    study_id        INTEGER NOT NULL REFERENCES imaging_studies(id),
    version         INTEGER NOT NULL,
    findings        TEXT NOT NULL,
    conclusion      TEXT NOT NULL,
    critical        INTEGER NOT NULL,
    reader_staff_id INTEGER NOT NULL REFERENCES staff(id),
    signed_at_ms    INTEGER NOT NULL,
    CONSTRAINT imaging_reports_version_unique UNIQUE (community_id, study_id, version)
);

-- Examinations ordered for a resident at a site with a modality (the site's DR, CT, US …);
-- the modality takes the patient and the accession number from the worklist (MWL), and the
-- study it sends is filed to the order by that accession number.
CREATE TABLE imaging_orders (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    resident_id            INTEGER NOT NULL REFERENCES residents(id),
    institution_id         INTEGER NOT NULL REFERENCES institutions(id),   -- where it is performed
    ordered_by_staff_id    INTEGER NOT NULL REFERENCES staff(id),
    idempotency_key        TEXT,
    accession_number       TEXT NOT NULL,
    modality               TEXT NOT NULL,
    body_part              TEXT NOT NULL,
    reason                 TEXT NOT NULL,
    priority               TEXT NOT NULL,      -- 'stat' or 'routine'
    ordered_at_ms          INTEGER NOT NULL,
    state                  TEXT NOT NULL,      -- 'scheduled', 'performed', 'cancelled'
    study_id               INTEGER REFERENCES imaging_studies(id),
    CONSTRAINT imaging_orders_accession_unique UNIQUE (community_id, accession_number),
    CONSTRAINT imaging_orders_idempotency_unique UNIQUE (community_id, ordered_by_staff_id, idempotency_key)
);
CREATE INDEX imaging_orders_site ON imaging_orders (community_id, institution_id, state, ordered_at_ms);
