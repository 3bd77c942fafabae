-- Indicator facts: the monthly counts and sums the indicators are made of, per member
-- institution, so a year of indicators reads 12 months of small rows instead of scanning every
-- encounter and claim. The facts are a cache of the source tables: every write to a source
-- table marks its month stale here, by trigger, so no write path can forget; reading the
-- indicators first recomputes the stale months (see src/indicator/store.rs).

CREATE TABLE indicator_facts (
    community_id    BIGINT NOT NULL REFERENCES communities(id),
    month           TEXT NOT NULL,        -- 'YYYY-MM' (CST)
    fact            TEXT NOT NULL,        -- e.g. 'visits', 'claim_fund_fen'
    -- The institution where the care happened; for out-of-county care, the resident's village
    -- clinic (the catchment it counts to).
    institution_id  BIGINT NOT NULL REFERENCES institutions(id),
    value           BIGINT NOT NULL,
    PRIMARY KEY (community_id, month, fact, institution_id)
);

-- Months whose facts no longer match the source tables, with the number of writes since the
-- last recomputation (for the curious: the recomputation takes and removes the whole mark).
CREATE TABLE indicator_stale_months (
    community_id  BIGINT NOT NULL REFERENCES communities(id),
    month         TEXT NOT NULL,
    changes       BIGINT NOT NULL,
    PRIMARY KEY (community_id, month)
);

-- The month ranges the recomputation reads.
CREATE INDEX encounters_started ON encounters (community_id, started_at_ms);
CREATE INDEX encounters_ended ON encounters (community_id, ended_at_ms);
CREATE INDEX ecgs_reported ON ecgs (community_id, reported_at_ms);
CREATE INDEX exam_reports_reported ON exam_reports (community_id, reported_at_ms);
CREATE INDEX referrals_created ON referrals (community_id, created_at_ms);
-- Residents per village clinic (the population of a catchment), from the index alone.
CREATE INDEX residents_population ON residents (community_id, village_clinic_id)
    WHERE merged_into_id IS NULL;

-- The China Standard Time month of a millisecond timestamp; NULL for NULL.
CREATE FUNCTION cst_month(at_ms BIGINT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(to_timestamp((at_ms + 28800000) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')
$$;

CREATE FUNCTION indicator_mark_stale(community BIGINT, stale_month TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF stale_month IS NOT NULL THEN
        INSERT INTO indicator_stale_months (community_id, month, changes)
        VALUES (community, stale_month, 1)
        ON CONFLICT (community_id, month)
        DO UPDATE SET changes = indicator_stale_months.changes + 1;
    END IF;
END
$$;

CREATE FUNCTION encounters_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM indicator_mark_stale(OLD.community_id, cst_month(OLD.started_at_ms));
        PERFORM indicator_mark_stale(OLD.community_id, cst_month(OLD.ended_at_ms));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM indicator_mark_stale(NEW.community_id, cst_month(NEW.started_at_ms));
        PERFORM indicator_mark_stale(NEW.community_id, cst_month(NEW.ended_at_ms));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER encounters_mark_stale AFTER INSERT OR DELETE OR UPDATE OF
    institution_id, department_id, kind, started_at_ms, ended_at_ms, cost_drugs_fen,
    cost_examinations_fen, cost_tests_fen, cost_treatment_fen, cost_beds_fen, cost_materials_fen
ON encounters FOR EACH ROW EXECUTE FUNCTION encounters_mark_stale();

CREATE FUNCTION claims_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM indicator_mark_stale(OLD.community_id, OLD.month);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM indicator_mark_stale(NEW.community_id, NEW.month);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER claims_mark_stale AFTER INSERT OR UPDATE OR DELETE ON claims
FOR EACH ROW EXECUTE FUNCTION claims_mark_stale();
CREATE TRIGGER out_of_county_mark_stale AFTER INSERT OR UPDATE OR DELETE ON out_of_county_claims
FOR EACH ROW EXECUTE FUNCTION claims_mark_stale();

CREATE FUNCTION reported_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM indicator_mark_stale(OLD.community_id, cst_month(OLD.reported_at_ms));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM indicator_mark_stale(NEW.community_id, cst_month(NEW.reported_at_ms));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ecgs_mark_stale AFTER INSERT OR DELETE OR UPDATE OF reported_at_ms, site_institution_id
ON ecgs FOR EACH ROW EXECUTE FUNCTION reported_mark_stale();
CREATE TRIGGER exam_reports_mark_stale AFTER INSERT OR UPDATE OR DELETE ON exam_reports
FOR EACH ROW EXECUTE FUNCTION reported_mark_stale();

CREATE FUNCTION referrals_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM indicator_mark_stale(NEW.community_id, cst_month(NEW.created_at_ms));
    ELSE
        PERFORM indicator_mark_stale(OLD.community_id, cst_month(OLD.created_at_ms));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER referrals_mark_stale AFTER INSERT OR DELETE OR UPDATE OF state, direction, from_institution_id
ON referrals FOR EACH ROW EXECUTE FUNCTION referrals_mark_stale();

-- Out-of-county care counts to the resident's village clinic: moving a resident moves it.
CREATE FUNCTION residents_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM indicator_mark_stale(o.community_id, o.month)
    FROM (SELECT DISTINCT community_id, month FROM out_of_county_claims WHERE resident_id = NEW.id) o;
    RETURN NULL;
END
$$;
CREATE TRIGGER residents_mark_stale AFTER UPDATE OF village_clinic_id ON residents
FOR EACH ROW EXECUTE FUNCTION residents_mark_stale();

-- The months already recorded are stale until first read.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT community_id, month, 0 FROM (
    SELECT community_id, cst_month(started_at_ms) AS month FROM encounters
    UNION SELECT community_id, cst_month(ended_at_ms) FROM encounters WHERE ended_at_ms IS NOT NULL
    UNION SELECT community_id, month FROM claims
    UNION SELECT community_id, month FROM out_of_county_claims
    UNION SELECT community_id, cst_month(reported_at_ms) FROM ecgs WHERE reported_at_ms IS NOT NULL
    UNION SELECT community_id, cst_month(reported_at_ms) FROM exam_reports
    UNION SELECT community_id, cst_month(created_at_ms) FROM referrals
) recorded;
