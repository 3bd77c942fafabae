-- Failed logins are counted in the server's memory per (username, address) and per address
-- (staff::throttle); a row per made-up username is no longer written.
DROP TABLE login_failures;

-- What a shared centre does: its readers take only that service's work (an ECG reader signs
-- ECGs, not lab or imaging reports).
ALTER TABLE institutions ADD COLUMN service TEXT;
UPDATE institutions SET service = CASE code
    WHEN 'C-ECG' THEN 'ecg' WHEN 'C-IMG' THEN 'imaging' WHEN 'C-LAB' THEN 'lab'
    WHEN 'C-PATH' THEN 'pathology' ELSE 'other' END
WHERE kind = 'centre';

-- The audit log is append-only in the database itself: no statement may change or delete an
-- entry, and a chain's head only moves forward (audit::anchor covers someone who drops these).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads WHEN NEW.seq < OLD.seq
BEGIN SELECT RAISE(ABORT, 'an audit chain head only moves forward'); END;
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN SELECT RAISE(ABORT, 'an audit chain head is never deleted'); END;
