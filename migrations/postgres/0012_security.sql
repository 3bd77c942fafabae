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

-- The audit log is append-only in the database itself: no statement may change, delete or
-- truncate an entry, and a chain's head only moves forward (audit::anchor covers someone who
-- drops these; deploy/postgres-server-role.sql takes the rights away from the server's role).
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'an audit chain head only moves forward';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward();
