-- Instances are kept in the archive (files named by the SHA-256 of their bytes, DATA_DIR/archive)
-- instead of in the database: each row names its file by that digest. The content column of
-- rows written before this is emptied when the server moves their bytes to the archive at
-- start (an empty digest marks a row not moved yet); new rows leave it empty.
ALTER TABLE imaging_instances ADD COLUMN content_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE imaging_unmatched ADD COLUMN content_sha256 TEXT NOT NULL DEFAULT '';

-- QIDO-RS finds studies by accession number without reading them all. (Not by date: an index
-- on the date would be taken for the searches' order by date and read every study instead
-- of the few of a patient.)
CREATE INDEX imaging_studies_accession ON imaging_studies (community_id, accession_number);
