-- An ECG's recorded signal (the original file and the canonical waveform read from it) is kept
-- once per distinct file, by content: the same file sent twice (a resend without the
-- idempotency key, a device that re-exports) is stored once, and the demo county's year of
-- routine ECGs shares a handful of generated recordings instead of carrying 20,000 copies.

CREATE TABLE ecg_recordings (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    -- SHA-256 of the original file, hex; recordings moved here from earlier ECG rows carry
    -- 'ecg:<id>' instead (SQLite cannot hash in SQL), so they are never shared.
    digest        TEXT NOT NULL,
    original      BLOB NOT NULL,
    sampling_hz   REAL NOT NULL,
    lead_names    TEXT NOT NULL,      -- one per line, in waveform order
    waveform_uv   BLOB NOT NULL,      -- i32 little-endian, lead after lead
    CONSTRAINT ecg_recordings_digest_unique UNIQUE (community_id, digest)
);

INSERT INTO ecg_recordings (community_id, digest, original, sampling_hz, lead_names, waveform_uv)
SELECT community_id, 'ecg:' || id, original, sampling_hz, lead_names, waveform_uv FROM ecgs;

ALTER TABLE ecgs ADD COLUMN recording_id INTEGER REFERENCES ecg_recordings(id);
UPDATE ecgs SET recording_id =
    (SELECT r.id FROM ecg_recordings r WHERE r.community_id = ecgs.community_id AND r.digest = 'ecg:' || ecgs.id);
CREATE INDEX ecgs_recording ON ecgs (recording_id);

ALTER TABLE ecgs DROP COLUMN original;
ALTER TABLE ecgs DROP COLUMN sampling_hz;
ALTER TABLE ecgs DROP COLUMN lead_names;
ALTER TABLE ecgs DROP COLUMN waveform_uv;
