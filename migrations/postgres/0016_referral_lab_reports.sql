-- Lab reports sent with a referral, so the receiver reads the results the sender acted on.

CREATE TABLE referral_lab_reports (
    community_id  BIGINT NOT NULL REFERENCES communities(id),
    referral_id   BIGINT NOT NULL REFERENCES referrals(id),
    lab_report_id BIGINT NOT NULL REFERENCES lab_reports(id),
    PRIMARY KEY (referral_id, lab_report_id)
);
