-- The foundation: communities, the institution tree, staff accounts and sessions, the master
-- patient index, and the hash-chained audit log. Every table carries community_id so that a
-- PostgreSQL cluster can hold (and Citus can shard) many communities; see ARCHITECTURE.md.
-- Times are INTEGER milliseconds since the Unix epoch; dates are TEXT 'YYYY-MM-DD'.

CREATE TABLE communities (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL,          -- equals id; kept so every table has the column
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    region_code   TEXT NOT NULL,             -- GB/T 2260 county code, e.g. 430822
    created_at_ms INTEGER NOT NULL
);

-- The institution tree: lead hospital -> campuses, shared centres and township centres;
-- township centres -> village clinics. township_id is the township centre an institution
-- belongs to (itself for a township centre), NULL at county level; it makes scope queries cheap.
CREATE TABLE institutions (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    parent_id     INTEGER REFERENCES institutions(id),
    township_id   INTEGER REFERENCES institutions(id),
    kind          TEXT NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    latitude      REAL,
    longitude     REAL,
    has_ecg_device INTEGER NOT NULL DEFAULT 0,
    UNIQUE (community_id, code)
);
CREATE INDEX institutions_parent ON institutions (community_id, parent_id);

CREATE TABLE departments (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    UNIQUE (community_id, institution_id, code)
);

-- Care teams (1+1+N) and the health grids they look after.
CREATE TABLE care_teams (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    name           TEXT NOT NULL
);

CREATE TABLE grids (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities(id),
    village_clinic_id INTEGER NOT NULL REFERENCES institutions(id),
    care_team_id     INTEGER REFERENCES care_teams(id),
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    UNIQUE (community_id, code)
);

-- Staff and the accounts they log in with. roles is a comma-separated list of role names.
-- A resident's own portal account has resident_id set and no institution.
CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    institution_id INTEGER REFERENCES institutions(id),
    department_id  INTEGER REFERENCES departments(id),
    care_team_id   INTEGER REFERENCES care_teams(id),
    resident_id    INTEGER,
    username       TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    title_level    TEXT,
    roles          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at_ms  INTEGER NOT NULL
);

-- Sessions hold the SHA-256 of the bearer token or cookie, never the token itself.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    staff_id      INTEGER NOT NULL REFERENCES staff(id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

CREATE TABLE login_failures (
    username        TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_ms INTEGER NOT NULL
);

-- The master patient index. sex is 'male' or 'female', both read from the ID number.
CREATE TABLE residents (
    id                INTEGER PRIMARY KEY,
    community_id      INTEGER NOT NULL REFERENCES communities(id),
    id_number         TEXT NOT NULL,
    name              TEXT NOT NULL,
    sex               TEXT NOT NULL,
    birth_date        TEXT NOT NULL,
    phone             TEXT NOT NULL,
    address           TEXT NOT NULL,
    village_clinic_id INTEGER NOT NULL REFERENCES institutions(id),
    township_id       INTEGER NOT NULL REFERENCES institutions(id),
    grid_id           INTEGER REFERENCES grids(id),
    merged_into_id    INTEGER REFERENCES residents(id),
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL,
    CONSTRAINT residents_id_number_unique UNIQUE (community_id, id_number)
);
CREATE INDEX residents_name ON residents (community_id, name);
CREATE INDEX residents_village ON residents (community_id, village_clinic_id);
CREATE INDEX residents_township_name_birth ON residents (community_id, township_id, name, birth_date);
CREATE INDEX residents_phone ON residents (community_id, phone);

-- Residents referred or assigned to an institution outside their own village or township.
-- Staff there see them too. Referrals and care-team assignments write rows here.
CREATE TABLE resident_assignments (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    resident_id    INTEGER NOT NULL REFERENCES residents(id),
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    reason         TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    UNIQUE (community_id, resident_id, institution_id)
);
CREATE INDEX resident_assignments_institution ON resident_assignments (community_id, institution_id);

-- The audit log: append-only, one hash chain per community. hash = SHA-256 over prev_hash and
-- the entry's fields (see audit::entry_hash). audit_heads holds each chain's last seq and hash,
-- so deleting the newest entries is detected too.
CREATE TABLE audit_log (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    seq                INTEGER NOT NULL,
    at_ms              INTEGER NOT NULL,
    actor_staff_id     INTEGER,
    actor_institution_id INTEGER,
    action             TEXT NOT NULL,
    resource           TEXT NOT NULL,
    resource_id        INTEGER,
    resident_id        INTEGER,
    outcome            TEXT NOT NULL,
    detail             TEXT NOT NULL,
    prev_hash          TEXT NOT NULL,
    hash               TEXT NOT NULL,
    UNIQUE (community_id, seq)
);
CREATE INDEX audit_log_resident ON audit_log (community_id, resident_id, seq);

CREATE TABLE audit_heads (
    community_id INTEGER PRIMARY KEY REFERENCES communities(id),
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL
);
