-- Indexes for the county's figures: the follow-ups of a period read whole for the statutory
-- counts (visits, glucose tests, the last verdicts per enrolment) without touching the table;
-- a resident's contracts in any state (the renewals).
CREATE INDEX chronic_follow_ups_period ON chronic_follow_ups (community_id, followed_up_at_ms, enrolment_id, mode, fpg_mmol, bp_at_target, fpg_at_target);
CREATE INDEX family_doctor_contracts_resident ON family_doctor_contracts (community_id, resident_id, start_date);
