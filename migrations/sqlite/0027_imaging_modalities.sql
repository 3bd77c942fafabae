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
