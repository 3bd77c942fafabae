-- The chest pain centre's intervals and the down-referral loop are indicator facts too
-- (src/indicator/store.rs). A case counts to the month its referral was raised, so a staff-
-- entered time point, or its ECG being signed later, makes that month stale.

CREATE INDEX referrals_ecg ON referrals (ecg_id) WHERE ecg_id IS NOT NULL;

CREATE TRIGGER case_time_points_mark_stale_insert AFTER INSERT ON case_time_points BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT r.community_id, strftime('%Y-%m', r.created_at_ms / 1000 + 28800, 'unixepoch'), 1
    FROM referrals r WHERE r.id = NEW.referral_id
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER case_time_points_mark_stale_update AFTER UPDATE ON case_time_points BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT r.community_id, strftime('%Y-%m', r.created_at_ms / 1000 + 28800, 'unixepoch'), 1
    FROM referrals r WHERE r.id IN (OLD.referral_id, NEW.referral_id)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER case_time_points_mark_stale_delete AFTER DELETE ON case_time_points BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT r.community_id, strftime('%Y-%m', r.created_at_ms / 1000 + 28800, 'unixepoch'), 1
    FROM referrals r WHERE r.id = OLD.referral_id
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER ecgs_mark_referrals_stale AFTER UPDATE OF recorded_at_ms, received_at_ms, reported_at_ms
ON ecgs BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT r.community_id, strftime('%Y-%m', r.created_at_ms / 1000 + 28800, 'unixepoch'), 1
    FROM referrals r WHERE r.ecg_id = NEW.id
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

-- A green channel names its ECG after it was raised, should it ever.
CREATE TRIGGER referrals_mark_stale_ecg AFTER UPDATE OF ecg_id, green_channel, to_institution_id
ON referrals BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.created_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

-- The months with referrals are counted again with the new facts.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT DISTINCT community_id, strftime('%Y-%m', created_at_ms / 1000 + 28800, 'unixepoch'), 0
FROM referrals WHERE true
ON CONFLICT (community_id, month) DO NOTHING;
