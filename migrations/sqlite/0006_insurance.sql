-- Insurance: the year's reimbursement rules, claims per encounter, out-of-county care from the
-- insurance bureau, the group's global budget with its ledger, DIP disease groups, and the
-- indicator definitions. Money is integer fen everywhere.

-- Who is insured in which scheme ('resident' 城乡居民, 'employee' 职工) in a year.
CREATE TABLE insured_persons (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    resident_id   INTEGER NOT NULL REFERENCES residents(id),
    year          INTEGER NOT NULL,
    scheme        TEXT NOT NULL,
    CONSTRAINT insured_persons_unique UNIQUE (community_id, resident_id, year)
);

-- Reimbursement rules of a year and scheme per care level (1 village, 2 township, 3 county,
-- 4 out of county): deductible per episode, share of costs eligible, rate; and the annual cap.
CREATE TABLE insurance_rules (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    year           INTEGER NOT NULL,
    scheme         TEXT NOT NULL,
    level          INTEGER NOT NULL,
    deductible_fen INTEGER NOT NULL,
    eligible_pp    INTEGER NOT NULL,
    rate_pp        INTEGER NOT NULL,
    annual_cap_fen INTEGER NOT NULL,
    CONSTRAINT insurance_rules_unique UNIQUE (community_id, year, scheme, level)
);

-- One claim per encounter of an insured resident, computed by the year's rules.
CREATE TABLE claims (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities(id),
    encounter_id     INTEGER NOT NULL REFERENCES encounters(id),
    resident_id      INTEGER NOT NULL REFERENCES residents(id),
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    year             INTEGER NOT NULL,
    month            TEXT NOT NULL,        -- 'YYYY-MM' of the encounter's end (CST)
    scheme           TEXT NOT NULL,
    level            INTEGER NOT NULL,
    total_fen        INTEGER NOT NULL,
    eligible_fen     INTEGER NOT NULL,
    deductible_fen   INTEGER NOT NULL,
    rate_pp          INTEGER NOT NULL,
    fund_paid_fen    INTEGER NOT NULL,
    patient_paid_fen INTEGER NOT NULL,
    rule_notes       TEXT NOT NULL,        -- which referral rules applied
    settled_at_ms    INTEGER NOT NULL,
    CONSTRAINT claims_encounter_unique UNIQUE (community_id, encounter_id)
);
CREATE INDEX claims_month ON claims (community_id, month, institution_id);
CREATE INDEX claims_resident ON claims (community_id, resident_id, year);

-- Out-of-county care from the insurance bureau's settlement export, charged to the group.
CREATE TABLE out_of_county_claims (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities(id),
    settlement_no    TEXT NOT NULL,
    resident_id      INTEGER NOT NULL REFERENCES residents(id),
    hospital_name    TEXT NOT NULL,
    kind             TEXT NOT NULL,        -- 'outpatient' or 'inpatient'
    admitted_on      TEXT NOT NULL,        -- YYYY-MM-DD
    discharged_on    TEXT NOT NULL,
    month            TEXT NOT NULL,        -- 'YYYY-MM' of discharge
    total_fen        INTEGER NOT NULL,
    fund_paid_fen    INTEGER NOT NULL,
    imported_at_ms   INTEGER NOT NULL,
    CONSTRAINT out_of_county_unique UNIQUE (community_id, settlement_no)
);
CREATE INDEX out_of_county_month ON out_of_county_claims (community_id, month);

-- The group's global budget for a year and how it is shared out.
CREATE TABLE budgets (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id),
    year                  INTEGER NOT NULL,
    method                TEXT NOT NULL,   -- 'per_capita' or 'historical'
    basis_fen             INTEGER NOT NULL, -- per-capita amount, or the three-year average
    insured_count         INTEGER NOT NULL,
    growth_pp             INTEGER NOT NULL,
    total_fen             INTEGER NOT NULL, -- the fund's budget for the insured
    packaged_pp           INTEGER NOT NULL, -- share packaged to the group (90)
    risk_reserve_pp       INTEGER NOT NULL, -- share of the package held back (10)
    performance_pp        INTEGER NOT NULL, -- of a surplus, to performance pay (70); the rest to development
    overrun_band_pp       INTEGER NOT NULL, -- overrun shared up to this share of the package
    overrun_fund_pp       INTEGER NOT NULL, -- the fund's part of an overrun within the band
    settled_at_ms         INTEGER,          -- the year is closed once settled
    created_at_ms         INTEGER NOT NULL,
    CONSTRAINT budgets_unique UNIQUE (community_id, year)
);

-- The ledger: every movement of money, double-entry, from one account to another. A movement
-- is made once: (year, kind, period, from, to) is unique, so re-running changes nothing.
CREATE TABLE ledger_entries (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    year          INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    period        TEXT NOT NULL,    -- 'YYYY', 'YYYY-MM' or 'YYYY-Qn'
    from_account  TEXT NOT NULL,
    to_account    TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL,
    at_ms         INTEGER NOT NULL,
    CONSTRAINT ledger_entries_unique UNIQUE (community_id, year, kind, period, from_account, to_account)
);

-- Quarterly reviews: spending to date against the budget to date, and the year-end projection.
CREATE TABLE budget_reviews (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    year               INTEGER NOT NULL,
    quarter            INTEGER NOT NULL,
    budget_to_date_fen INTEGER NOT NULL,
    spent_to_date_fen  INTEGER NOT NULL,
    projected_fen      INTEGER NOT NULL,
    reviewed_at_ms     INTEGER NOT NULL,
    CONSTRAINT budget_reviews_unique UNIQUE (community_id, year, quarter)
);

-- Members' assessment scores, which weight their share of a surplus.
CREATE TABLE member_scores (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    year            INTEGER NOT NULL,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    score           INTEGER NOT NULL,
    CONSTRAINT member_scores_unique UNIQUE (community_id, year, institution_id)
);

-- DIP disease groups: a principal diagnosis (ICD-10 prefix) and optionally a main procedure,
-- with points. Inpatient cases are scored against the most specific group that matches.
CREATE TABLE dip_groups (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    icd10_prefix   TEXT NOT NULL,
    procedure_code TEXT NOT NULL,    -- '' for conservative treatment
    points         INTEGER NOT NULL,
    CONSTRAINT dip_groups_unique UNIQUE (community_id, code)
);

-- The main procedure of an inpatient stay (ICD-9-CM-3), for DIP.
ALTER TABLE encounters ADD COLUMN main_procedure TEXT NOT NULL DEFAULT '';
