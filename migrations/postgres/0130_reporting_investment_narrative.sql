-- 形象进度 and 存在问题 on the monthly report (InvestmentReported / InvestmentReportCorrected v2).
-- Nullable: reports recorded before v2 (and reports that give none) have no narrative. The ledger
-- projection fills them from the events; `taizhang projections rebuild ledger` fills them for
-- reports already projected (their v1 events upcast to null, so nothing changes for those).
ALTER TABLE reporting.monthly_investment_reports
    ADD COLUMN progress_narrative text,
    ADD COLUMN problems           text;
COMMENT ON COLUMN reporting.monthly_investment_reports.progress_narrative IS 'Progress narrative as reported (free text; null when none). 形象进度';
COMMENT ON COLUMN reporting.monthly_investment_reports.problems IS 'Problems as reported (free text; null when none). 存在问题';

ALTER TABLE reporting.monthly_investment
    ADD COLUMN progress_narrative text,
    ADD COLUMN problems           text;
COMMENT ON COLUMN reporting.monthly_investment.progress_narrative IS 'Progress narrative after corrections (free text; null when none). 形象进度';
COMMENT ON COLUMN reporting.monthly_investment.problems IS 'Problems after corrections (free text; null when none). 存在问题';
