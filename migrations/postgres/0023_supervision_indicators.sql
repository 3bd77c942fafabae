-- Institution indicators (K01–K07) raise alerts too: an alert about an institution's month has
-- no resident, its evidence key names the institution, month and measure, and it keeps the peer
-- comparison (the institution's value, its peers' median and 90th percentile, how many peers).
-- The evidence encounters get a column of their own (for the encounter rules, the same ids as
-- the key).
ALTER TABLE supervision_alerts ALTER COLUMN resident_id DROP NOT NULL;
ALTER TABLE supervision_alerts ADD COLUMN encounter_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE supervision_alerts ADD COLUMN value DOUBLE PRECISION;
ALTER TABLE supervision_alerts ADD COLUMN peer_median DOUBLE PRECISION;
ALTER TABLE supervision_alerts ADD COLUMN peer_p90 DOUBLE PRECISION;
ALTER TABLE supervision_alerts ADD COLUMN peers BIGINT;
UPDATE supervision_alerts SET encounter_ids = evidence_key;

-- The monthly facts now count admissions (for alerts per 100 admissions): every month with facts
-- is counted again on its next read.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT DISTINCT community_id, month, 1 FROM indicator_facts WHERE 1 = 1
ON CONFLICT (community_id, month) DO NOTHING;
