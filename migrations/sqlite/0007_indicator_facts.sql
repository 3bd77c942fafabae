-- Indicator facts: the monthly counts and sums the indicators are made of, per member
-- institution, so a year of indicators reads 12 months of small rows instead of scanning every
-- encounter and claim. The facts are a cache of the source tables: every write to a source
-- table marks its month stale here, by trigger, so no write path can forget; reading the
-- indicators first recomputes the stale months (see src/indicator/store.rs).

CREATE TABLE indicator_facts (
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    month           TEXT NOT NULL,        -- 'YYYY-MM' (CST)
    fact            TEXT NOT NULL,        -- e.g. 'visits', 'claim_fund_fen'
    -- The institution where the care happened; for out-of-county care, the resident's village
    -- clinic (the catchment it counts to).
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    value           INTEGER NOT NULL,
    PRIMARY KEY (community_id, month, fact, institution_id)
);

-- Months whose facts no longer match the source tables, with the number of writes since the
-- last recomputation (for the curious: the recomputation takes and removes the whole mark).
CREATE TABLE indicator_stale_months (
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    month         TEXT NOT NULL,
    changes       INTEGER NOT NULL,
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

-- strftime on seconds + 8 h gives the China Standard Time month of a millisecond timestamp.
CREATE TRIGGER encounters_mark_stale_insert AFTER INSERT ON encounters BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT NEW.community_id, strftime('%Y-%m', t / 1000 + 28800, 'unixepoch'), 1
    FROM (SELECT NEW.started_at_ms AS t UNION SELECT NEW.ended_at_ms) WHERE t IS NOT NULL
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER encounters_mark_stale_update AFTER UPDATE OF
    institution_id, department_id, kind, started_at_ms, ended_at_ms, cost_drugs_fen,
    cost_examinations_fen, cost_tests_fen, cost_treatment_fen, cost_beds_fen, cost_materials_fen
ON encounters BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT NEW.community_id, strftime('%Y-%m', t / 1000 + 28800, 'unixepoch'), 1
    FROM (SELECT OLD.started_at_ms AS t UNION SELECT OLD.ended_at_ms
          UNION SELECT NEW.started_at_ms UNION SELECT NEW.ended_at_ms) WHERE t IS NOT NULL
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER claims_mark_stale_insert AFTER INSERT ON claims BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, NEW.month, 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER claims_mark_stale_update AFTER UPDATE ON claims BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT NEW.community_id, m, 1 FROM (SELECT OLD.month AS m UNION SELECT NEW.month) WHERE true
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER out_of_county_mark_stale_insert AFTER INSERT ON out_of_county_claims BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, NEW.month, 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER ecgs_mark_stale_insert AFTER INSERT ON ecgs WHEN NEW.reported_at_ms IS NOT NULL BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER ecgs_mark_stale_update AFTER UPDATE OF reported_at_ms, site_institution_id ON ecgs BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT NEW.community_id, strftime('%Y-%m', t / 1000 + 28800, 'unixepoch'), 1
    FROM (SELECT OLD.reported_at_ms AS t UNION SELECT NEW.reported_at_ms) WHERE t IS NOT NULL
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER exam_reports_mark_stale_insert AFTER INSERT ON exam_reports BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER referrals_mark_stale_insert AFTER INSERT ON referrals BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.created_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER referrals_mark_stale_update AFTER UPDATE OF state, direction, from_institution_id
ON referrals BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.created_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

-- Out-of-county care counts to the resident's village clinic: moving a resident moves it.
CREATE TRIGGER residents_mark_stale_update AFTER UPDATE OF village_clinic_id ON residents BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT DISTINCT o.community_id, o.month, 1 FROM out_of_county_claims o WHERE o.resident_id = NEW.id
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

-- Nothing deletes these rows today; should anything, its month is stale too.
CREATE TRIGGER encounters_mark_stale_delete AFTER DELETE ON encounters BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    SELECT OLD.community_id, strftime('%Y-%m', t / 1000 + 28800, 'unixepoch'), 1
    FROM (SELECT OLD.started_at_ms AS t UNION SELECT OLD.ended_at_ms) WHERE t IS NOT NULL
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER claims_mark_stale_delete AFTER DELETE ON claims BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, OLD.month, 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER out_of_county_mark_stale_delete AFTER DELETE ON out_of_county_claims BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, OLD.month, 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER ecgs_mark_stale_delete AFTER DELETE ON ecgs WHEN OLD.reported_at_ms IS NOT NULL BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, strftime('%Y-%m', OLD.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER exam_reports_mark_stale_delete AFTER DELETE ON exam_reports BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, strftime('%Y-%m', OLD.reported_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER referrals_mark_stale_delete AFTER DELETE ON referrals BEGIN
    INSERT INTO indicator_stale_months (community_id, month, changes)
    VALUES (OLD.community_id, strftime('%Y-%m', OLD.created_at_ms / 1000 + 28800, 'unixepoch'), 1)
    ON CONFLICT (community_id, month) DO UPDATE SET changes = changes + 1;
END;

-- The months already recorded are stale until first read.
INSERT INTO indicator_stale_months (community_id, month, changes)
SELECT community_id, month, 0 FROM (
    SELECT community_id, strftime('%Y-%m', started_at_ms / 1000 + 28800, 'unixepoch') AS month FROM encounters
    UNION SELECT community_id, strftime('%Y-%m', ended_at_ms / 1000 + 28800, 'unixepoch') FROM encounters WHERE ended_at_ms IS NOT NULL
    UNION SELECT community_id, month FROM claims
    UNION SELECT community_id, month FROM out_of_county_claims
    UNION SELECT community_id, strftime('%Y-%m', reported_at_ms / 1000 + 28800, 'unixepoch') FROM ecgs WHERE reported_at_ms IS NOT NULL
    UNION SELECT community_id, strftime('%Y-%m', reported_at_ms / 1000 + 28800, 'unixepoch') FROM exam_reports
    UNION SELECT community_id, strftime('%Y-%m', created_at_ms / 1000 + 28800, 'unixepoch') FROM referrals
) recorded;
