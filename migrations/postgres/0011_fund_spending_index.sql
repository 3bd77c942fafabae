-- The budget's spending per month sums the fund's share of every claim (a county year is about
-- 800,000): the month indexes carry that share, so the sums read the indexes alone.
DROP INDEX claims_month;
CREATE INDEX claims_month ON claims (community_id, month, institution_id, fund_paid_fen);
DROP INDEX out_of_county_month;
CREATE INDEX out_of_county_month ON out_of_county_claims (community_id, month, fund_paid_fen);
