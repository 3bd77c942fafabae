-- Lab results kept as the lab sent them: the precision of the observation time (a result "on
-- 2026-11-23" stays a date), the orderer as given (an outside facility is not refused), the
-- order's status and comments (NTE), the specimen (OUL), and per result the value type, the
-- LOINC code beside the lab's own, the result status (a corrected result supersedes the
-- earlier one, which is kept), comments, an embedded document (ED), and the raw segments.

ALTER TABLE lab_reports ADD COLUMN observed_precision TEXT NOT NULL DEFAULT 'second';
ALTER TABLE lab_reports ADD COLUMN ordering_facility_given TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_reports ADD COLUMN status TEXT NOT NULL DEFAULT 'F';
ALTER TABLE lab_reports ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_reports ADD COLUMN specimen_id TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_reports ADD COLUMN specimen_type TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_reports ADD COLUMN specimen_collected_at_ms INTEGER;
ALTER TABLE lab_reports ADD COLUMN raw_segment TEXT NOT NULL DEFAULT '';

ALTER TABLE lab_results ADD COLUMN value_type TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_results ADD COLUMN loinc_code TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_results ADD COLUMN loinc_name TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_results ADD COLUMN status TEXT NOT NULL DEFAULT 'F';
ALTER TABLE lab_results ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_results ADD COLUMN attachment_type TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_results ADD COLUMN attachment BLOB;
ALTER TABLE lab_results ADD COLUMN raw_segment TEXT NOT NULL DEFAULT '';
-- The id of the later result that corrects this one (OBX-11 C); NULL while it is current.
ALTER TABLE lab_results ADD COLUMN superseded_by INTEGER REFERENCES lab_results(id);
-- A correction finds the result it corrects: same resident, order and test.
ALTER TABLE lab_results ADD COLUMN resident_id INTEGER REFERENCES residents(id);
ALTER TABLE lab_results ADD COLUMN order_code TEXT NOT NULL DEFAULT '';
UPDATE lab_results SET resident_id = (SELECT r.resident_id FROM lab_reports r WHERE r.id = lab_results.lab_report_id),
    order_code = (SELECT r.order_code FROM lab_reports r WHERE r.id = lab_results.lab_report_id);
CREATE INDEX lab_results_test ON lab_results (community_id, resident_id, order_code, code);
