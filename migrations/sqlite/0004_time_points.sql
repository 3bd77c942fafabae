-- Time points of an emergency case (chest pain centre standard), one per point and case. Points
-- yijia sees happen are taken from its own events; the rest are entered by staff, with who.

CREATE TABLE case_time_points (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id),
    referral_id          INTEGER NOT NULL REFERENCES referrals(id),
    point                TEXT NOT NULL,
    at_ms                INTEGER NOT NULL,
    recorded_by_staff_id INTEGER NOT NULL REFERENCES staff(id),
    recorded_at_ms       INTEGER NOT NULL,
    CONSTRAINT case_time_points_unique UNIQUE (community_id, referral_id, point)
);
