-- The modalities that send to the imaging centre over DICOM (C-ECHO, C-STORE, Modality
-- Worklist): each calling AE title allow-listed for one machine account, whose institution
-- is where the modality stands. And the Study Instance UID an order gives its study on the
-- worklist, so the modality's images carry it.

CREATE TABLE imaging_modalities (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    ae_title               TEXT NOT NULL,
    staff_id               INTEGER NOT NULL REFERENCES staff(id),
    description            TEXT NOT NULL,
    created_at_ms          INTEGER NOT NULL,
    CONSTRAINT imaging_modalities_ae_title_unique UNIQUE (ae_title)
);

ALTER TABLE imaging_orders ADD COLUMN study_instance_uid TEXT;

-- Remote imaging reads count towards indicator 2.2a: a study's first report marks its month
-- stale like an ECG's (see 0007).
CREATE INDEX imaging_studies_reported ON imaging_studies (community_id, reported_at_ms);

CREATE TRIGGER imaging_studies_mark_stale_insert AFTER INSERT ON imaging_studies WHEN NEW.reported_at_ms IS NOT NULL BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER imaging_studies_mark_stale_update AFTER UPDATE OF reported_at_ms, site_institution_id ON imaging_studies BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT NEW.community_id, strftime('%Y-%m', t / 1000 + 28800, 'unixepoch'), 1
    FROM (SELECT OLD.reported_at_ms AS t UNION SELECT NEW.reported_at_ms) WHERE t IS NOT NULL
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER imaging_studies_mark_stale_delete AFTER DELETE ON imaging_studies WHEN OLD.reported_at_ms IS NOT NULL BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, strftime('%Y-%m', OLD.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT DISTINCT community_id, strftime('%Y-%m', reported_at_ms / 1000 + 28800, 'unixepoch'), 0
FROM imaging_studies WHERE reported_at_ms IS NOT NULL
ON CONFLICT (community_id, month) DO NOTHING;

-- Instances whose Patient ID is no resident's ID number: held, byte for byte, for the imaging
-- centre to assign to a resident (then they are filed as if sent for that resident).
CREATE TABLE imaging_unmatched (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    site_institution_id    INTEGER NOT NULL REFERENCES institutions(id),
    stored_by_staff_id     INTEGER NOT NULL REFERENCES staff(id),
    study_instance_uid     TEXT NOT NULL,
    sop_instance_uid       TEXT NOT NULL,
    patient_id             TEXT NOT NULL,      -- as sent
    patient_name           TEXT NOT NULL,      -- as sent
    accession_number       TEXT NOT NULL,
    study_date             TEXT NOT NULL,
    study_description      TEXT NOT NULL,
    modality               TEXT NOT NULL,
    received_at_ms         INTEGER NOT NULL,
    content                BLOB NOT NULL,
    CONSTRAINT imaging_unmatched_uid_unique UNIQUE (community_id, sop_instance_uid)
);
CREATE INDEX imaging_unmatched_study ON imaging_unmatched (community_id, study_instance_uid);

-- The imaging centre's report templates per examination (findings and impression to start a
-- report from), kept by the centre's readers.
CREATE TABLE imaging_report_templates (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    name                   TEXT NOT NULL,
    modality               TEXT NOT NULL,
    findings               TEXT NOT NULL,
    conclusion             TEXT NOT NULL,
    updated_by_staff_id    INTEGER REFERENCES staff(id),
    updated_at_ms          INTEGER NOT NULL,
    CONSTRAINT imaging_report_templates_name_unique UNIQUE (community_id, name)
);

-- A study's instances by the study alone (QIDO-RS counts and lists them per study).
CREATE INDEX imaging_instances_by_study ON imaging_instances (study_id, series_instance_uid);
