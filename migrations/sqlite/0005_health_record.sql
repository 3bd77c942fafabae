-- One health record per resident: encounters at any member institution with their diagnoses and
-- costs, lab reports from the LIS (HL7 v2) with their results, examination reports, and the
-- mutual recognition of results (检查检验结果互认).

CREATE TABLE encounters (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id),
    resident_id           INTEGER NOT NULL REFERENCES residents(id),
    institution_id        INTEGER NOT NULL REFERENCES institutions(id),
    department_id         INTEGER REFERENCES departments(id),
    doctor_staff_id       INTEGER REFERENCES staff(id),
    kind                  TEXT NOT NULL,      -- 'outpatient', 'inpatient' or 'emergency'
    started_at_ms         INTEGER NOT NULL,   -- the visit, or the admission
    ended_at_ms           INTEGER,            -- the discharge
    referral_id           INTEGER REFERENCES referrals(id),  -- the referral it was opened from
    -- Costs in fen by category.
    cost_drugs_fen        INTEGER NOT NULL DEFAULT 0,
    cost_examinations_fen INTEGER NOT NULL DEFAULT 0,
    cost_tests_fen        INTEGER NOT NULL DEFAULT 0,
    cost_treatment_fen    INTEGER NOT NULL DEFAULT 0,
    cost_beds_fen         INTEGER NOT NULL DEFAULT 0,
    cost_materials_fen    INTEGER NOT NULL DEFAULT 0,
    created_by_staff_id   INTEGER REFERENCES staff(id),
    created_at_ms         INTEGER NOT NULL,
    CONSTRAINT encounters_referral_unique UNIQUE (community_id, referral_id)
);
CREATE INDEX encounters_resident ON encounters (community_id, resident_id, started_at_ms);
CREATE INDEX encounters_institution ON encounters (community_id, institution_id, started_at_ms);

-- Diagnoses of an encounter; position 1 is the principal diagnosis.
CREATE TABLE encounter_diagnoses (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    encounter_id  INTEGER NOT NULL REFERENCES encounters(id),
    position      INTEGER NOT NULL,
    icd10         TEXT NOT NULL,
    CONSTRAINT encounter_diagnoses_unique UNIQUE (encounter_id, position)
);

-- HL7 v2 messages taken in, by sender and control ID (MSH-4, MSH-10): a resent message is
-- answered again and stored once.
CREATE TABLE hl7v2_messages (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id),
    sender_institution_id INTEGER NOT NULL REFERENCES institutions(id),
    control_id            TEXT NOT NULL,
    message_type          TEXT NOT NULL,
    received_at_ms        INTEGER NOT NULL,
    CONSTRAINT hl7v2_messages_unique UNIQUE (community_id, sender_institution_id, control_id)
);

-- A lab report: one order (OBR) of an ORU^R01 with its results; a critical one is a critical
-- value the ordering institution must acknowledge, escalated when it does not within 5 minutes.
CREATE TABLE lab_reports (
    id                       INTEGER PRIMARY KEY,
    community_id             INTEGER NOT NULL REFERENCES communities(id),
    resident_id              INTEGER NOT NULL REFERENCES residents(id),
    message_id               INTEGER NOT NULL REFERENCES hl7v2_messages(id),
    lab_institution_id       INTEGER NOT NULL REFERENCES institutions(id),
    ordering_institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    order_code               TEXT NOT NULL,
    order_name               TEXT NOT NULL,
    observed_at_ms           INTEGER NOT NULL,
    received_at_ms           INTEGER NOT NULL,
    critical                 INTEGER NOT NULL,
    acknowledged_by_staff_id INTEGER REFERENCES staff(id),
    acknowledged_at_ms       INTEGER,
    escalated_at_ms          INTEGER
);
CREATE INDEX lab_reports_resident ON lab_reports (community_id, resident_id, observed_at_ms);
CREATE INDEX lab_reports_ordering ON lab_reports (community_id, ordering_institution_id, received_at_ms);

CREATE TABLE lab_results (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    lab_report_id   INTEGER NOT NULL REFERENCES lab_reports(id),
    position        INTEGER NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,
    unit            TEXT NOT NULL,
    reference_range TEXT NOT NULL,
    abnormal_flag   TEXT NOT NULL,     -- HL7 table 0078: N, L, H, LL, HH, A, AA, or empty
    critical        INTEGER NOT NULL
);
CREATE INDEX lab_results_report ON lab_results (lab_report_id, position);

-- Examination reports (imaging, ultrasound, pathology) as text, with the reading institution.
CREATE TABLE exam_reports (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id),
    resident_id           INTEGER NOT NULL REFERENCES residents(id),
    institution_id        INTEGER NOT NULL REFERENCES institutions(id),
    kind                  TEXT NOT NULL,      -- 'imaging', 'ultrasound' or 'pathology'
    item_code             TEXT NOT NULL,
    item_name             TEXT NOT NULL,
    findings              TEXT NOT NULL,
    conclusion            TEXT NOT NULL,
    performed_at_ms       INTEGER NOT NULL,
    reader_staff_id       INTEGER NOT NULL REFERENCES staff(id),
    reported_at_ms        INTEGER NOT NULL
);
CREATE INDEX exam_reports_resident ON exam_reports (community_id, resident_id, performed_at_ms);

-- The mutual recognition catalogue: tests and examinations whose results every member accepts
-- for a number of days, with the price a repeat would cost. Administrators edit it.
CREATE TABLE recognition_items (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    code           TEXT NOT NULL,     -- a lab order code (OBR-4) or an examination item code
    name           TEXT NOT NULL,
    validity_days  INTEGER NOT NULL,
    price_fen      INTEGER NOT NULL,
    CONSTRAINT recognition_items_unique UNIQUE (community_id, code)
);

-- Orders of recognised items: 'new' (no recognised result), 'avoided' (the recognised result
-- was used instead; saving_fen is the price saved) or 'repeated' (with the reason given).
CREATE TABLE orders (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id),
    resident_id          INTEGER NOT NULL REFERENCES residents(id),
    institution_id       INTEGER NOT NULL REFERENCES institutions(id),
    ordered_by_staff_id  INTEGER NOT NULL REFERENCES staff(id),
    item_code            TEXT NOT NULL,
    outcome              TEXT NOT NULL,
    recognised_source    TEXT,              -- 'lab_report' or 'exam_report'
    recognised_id        INTEGER,
    repeat_reason        TEXT,
    saving_fen           INTEGER NOT NULL,
    ordered_at_ms        INTEGER NOT NULL
);
CREATE INDEX orders_month ON orders (community_id, ordered_at_ms);
