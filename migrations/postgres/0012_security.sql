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
