-- The chest pain centre's intervals and the down-referral loop are indicator facts too
-- (src/indicator/store.rs). A case counts to the month its referral was raised, so a staff-
-- entered time point, or its ECG being signed later, makes that month stale.

CREATE INDEX referrals_ecg ON referrals (ecg_id) WHERE ecg_id IS NOT NULL;

CREATE FUNCTION case_time_points_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM indicator_mark_stale(r.community_id, cst_month(r.created_at_ms))
        FROM referrals r WHERE r.id = OLD.referral_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM indicator_mark_stale(r.community_id, cst_month(r.created_at_ms))
        FROM referrals r WHERE r.id = NEW.referral_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_time_points_mark_stale AFTER INSERT OR UPDATE OR DELETE ON case_time_points
FOR EACH ROW EXECUTE FUNCTION case_time_points_mark_stale();

CREATE FUNCTION ecgs_mark_referrals_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM indicator_mark_stale(r.community_id, cst_month(r.created_at_ms))
    FROM referrals r WHERE r.ecg_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER ecgs_mark_referrals_stale AFTER UPDATE OF recorded_at_ms, received_at_ms, reported_at_ms
ON ecgs FOR EACH ROW EXECUTE FUNCTION ecgs_mark_referrals_stale();

-- A green channel names its ECG after it was raised, should it ever.
CREATE TRIGGER referrals_mark_stale_ecg AFTER UPDATE OF ecg_id, green_channel, to_institution_id
ON referrals FOR EACH ROW EXECUTE FUNCTION referrals_mark_stale();

-- The months with referrals are counted again with the new facts.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT DISTINCT community_id, cst_month(created_at_ms), 0 FROM referrals
ON CONFLICT (community_id, month) DO NOTHING;
