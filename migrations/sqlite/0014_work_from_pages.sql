-- Residents are found by the pinyin of their name (full and initials, every reading of a
-- character with several): space-separated keys written by the server on registration.
-- Rows from before are filled in by the server at start (`resident::store::fill_pinyin`).
ALTER TABLE residents ADD COLUMN name_pinyin TEXT NOT NULL DEFAULT '';

-- A form sent twice (a second press, a retry after a dropped connection) is the same action:
-- each form carries a key, claimed here before the action and answered with the first
-- action's page afterwards. Keys older than a day are forgotten.
CREATE TABLE form_submissions (
    staff_id INTEGER NOT NULL,
    form_key TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (staff_id, form_key)
);
