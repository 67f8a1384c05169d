-- 形象进度 and 存在问题 on the monthly report (InvestmentReported / InvestmentReportCorrected v2),
-- as on PostgreSQL (migrations/postgres/0130). Nullable: older reports have none.
ALTER TABLE reporting_monthly_investment_reports ADD COLUMN progress_narrative TEXT;
ALTER TABLE reporting_monthly_investment_reports ADD COLUMN problems TEXT;
ALTER TABLE reporting_monthly_investment ADD COLUMN progress_narrative TEXT;
ALTER TABLE reporting_monthly_investment ADD COLUMN problems TEXT;
