-- The figures come from one definition, the Rust core `crates/figures` (docs/metrics.md): the ledger
-- projection computes them and writes the tables below, on PostgreSQL and SQLite alike. The metric
-- functions of 0101 (a second definition, in SQL) are dropped; BI tools read tables instead:
--   target_progress, unit_ranking, projects (lights, YTD)  today's figures, as before
--   dashboard                                              today's headline figures, per scope
--   *_snapshots                                            every closed month, on two time axes:
--       basis 'as_reported'   known at the month's reporting deadline (the 5th of the next
--                             month, county time, unless TAIZHANG_REPORTING_DEADLINE_DAY says)
--       basis 'as_corrected'  known now (late reports and corrections included)
-- size_class and percent_of stay: computed columns of the base tables call them.

DROP FUNCTION reporting.refresh_current(integer, date);
DROP FUNCTION reporting.dashboard_as_of(integer, date, timestamptz, text);
DROP FUNCTION reporting.unit_ranking_as_of(integer, date, timestamptz);
DROP FUNCTION reporting.target_progress_as_of(integer, date, timestamptz);
DROP FUNCTION reporting.target_metrics();
DROP FUNCTION reporting.project_metric_values_as_of(integer, date, timestamptz);
DROP FUNCTION reporting.project_figures_as_of(integer, date, timestamptz);
DROP FUNCTION reporting.projects_as_of(date, timestamptz);
DROP FUNCTION reporting.monthly_figures_as_of(timestamptz);
DROP FUNCTION reporting.light_for_gap;
DROP FUNCTION reporting.light_bands;
DROP FUNCTION reporting.month_progress_pct(integer, date);
DROP FUNCTION reporting.day_progress_pct(integer, date);
DROP FUNCTION reporting.window_end(integer, date);
DROP FUNCTION reporting.period_of(integer, integer);
DROP FUNCTION reporting.closed_months(integer, date);
DROP FUNCTION reporting.end_of_day(date, text);

CREATE TABLE reporting.dashboard (
    dashboard_year integer NOT NULL,
    scope text NOT NULL,
    as_of_date date NOT NULL,
    closed_months integer NOT NULL,
    month_progress_pct numeric NOT NULL,
    day_progress_pct numeric NOT NULL,
    project_count integer NOT NULL,
    abandoned_count integer NOT NULL,
    ytd_investment_yuan bigint NOT NULL,
    ytd_funds_yuan bigint NOT NULL,
    prior_ytd_investment_yuan bigint NOT NULL,
    yoy_investment_pct numeric,
    prior_ytd_funds_yuan bigint NOT NULL,
    yoy_funds_pct numeric,
    planned_investment_yuan bigint,
    planned_ytd_investment_yuan bigint NOT NULL,
    plan_completion_pct numeric,
    start_due_count integer NOT NULL,
    start_started_count integer NOT NULL,
    start_rate_pct numeric,
    performance_due_count integer NOT NULL,
    performance_started_count integer NOT NULL,
    performance_rate_pct numeric,
    contracted_count integer NOT NULL,
    cumulative_funds_yuan bigint NOT NULL,
    contract_investment_yuan bigint NOT NULL,
    funds_in_place_rate_pct numeric,
    signed_count integer NOT NULL,
    signed_investment_yuan bigint NOT NULL,
    signed_big_count integer NOT NULL,
    signed_industrial_10m_count integer NOT NULL,
    signed_by_investor_type jsonb NOT NULL,
    size_classes jsonb NOT NULL,
    red_count integer NOT NULL,
    yellow_count integer NOT NULL,
    green_count integer NOT NULL,
    expropriation_target_area_mu numeric,
    expropriation_area_mu numeric,
    expropriation_area_pct numeric,
    expropriation_target_households integer,
    expropriation_households_signed integer,
    expropriation_households_pct numeric,
    supervision_opened_count integer NOT NULL,
    supervision_closed_count integer NOT NULL,
    supervision_close_rate_pct numeric,
    supervision_overdue_count integer NOT NULL,
    supervision_due_soon_count integer NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (dashboard_year, scope)
);
COMMENT ON TABLE reporting.dashboard IS 'Headline figures of the leaders'' cockpit for today, this year and last, for the county and each unit (docs/metrics.md). 领导驾驶舱指标（当日）';
COMMENT ON COLUMN reporting.dashboard.dashboard_year IS 'Year. 年度';
COMMENT ON COLUMN reporting.dashboard.scope IS '''county'' or a unit_id. 范围';
COMMENT ON COLUMN reporting.dashboard.as_of_date IS 'The as-of date D of the figures (today, county time). 统计截止日期';
COMMENT ON COLUMN reporting.dashboard.closed_months IS 'Closed months of the year at as_of_date (m). 已结束月份数';
COMMENT ON COLUMN reporting.dashboard.month_progress_pct IS 'Time progress for monthly metrics: m ÷ 12 × 100. 时序进度（按月）';
COMMENT ON COLUMN reporting.dashboard.day_progress_pct IS 'Time progress for other metrics: elapsed days ÷ days of the year × 100. 时序进度（按日）';
COMMENT ON COLUMN reporting.dashboard.project_count IS 'Projects registered by as_of_date (abandoned ones included). 项目总数';
COMMENT ON COLUMN reporting.dashboard.abandoned_count IS 'Of which abandoned. 终止项目数';
COMMENT ON COLUMN reporting.dashboard.ytd_investment_yuan IS 'Investment completed over the closed months of the year, yuan. 本年完成投资（元）';
COMMENT ON COLUMN reporting.dashboard.ytd_funds_yuan IS 'Funds in place over the closed months, yuan. 本年到位资金（元）';
COMMENT ON COLUMN reporting.dashboard.prior_ytd_investment_yuan IS 'The same months of the previous year, yuan. 上年同期完成投资（元）';
COMMENT ON COLUMN reporting.dashboard.yoy_investment_pct IS 'Year-on-year growth of completed investment, %. 完成投资同比增长（%）';
COMMENT ON COLUMN reporting.dashboard.prior_ytd_funds_yuan IS 'Funds in place in the same months of the previous year, yuan. 上年同期到位资金（元）';
COMMENT ON COLUMN reporting.dashboard.yoy_funds_pct IS 'Year-on-year growth of funds in place, %. 到位资金同比增长（%）';
COMMENT ON COLUMN reporting.dashboard.planned_investment_yuan IS 'Sum of the annual plans of live projects with a plan for the year, yuan. 年度计划投资（元）';
COMMENT ON COLUMN reporting.dashboard.planned_ytd_investment_yuan IS 'Like for like: YTD investment of the projects with a plan for the year, yuan. 有计划项目本年完成投资（元）';
COMMENT ON COLUMN reporting.dashboard.plan_completion_pct IS 'planned_ytd_investment_yuan ÷ planned_investment_yuan × 100. 年度计划完成率（%）';
COMMENT ON COLUMN reporting.dashboard.start_due_count IS 'Projects due to start by as_of_date. 应开工项目数';
COMMENT ON COLUMN reporting.dashboard.start_started_count IS 'Of which started. 已开工项目数';
COMMENT ON COLUMN reporting.dashboard.start_rate_pct IS 'Start rate, %. 开工率（%）';
COMMENT ON COLUMN reporting.dashboard.performance_due_count IS 'Contracted projects due to start by as_of_date (履约). 应履约项目数';
COMMENT ON COLUMN reporting.dashboard.performance_started_count IS 'Of which started. 已履约项目数';
COMMENT ON COLUMN reporting.dashboard.performance_rate_pct IS 'Performance rate, %. 履约率（%）';
COMMENT ON COLUMN reporting.dashboard.contracted_count IS 'Live projects with a formal contract. 已签约项目数';
COMMENT ON COLUMN reporting.dashboard.cumulative_funds_yuan IS 'Funds in place to date of the contracted projects, yuan. 累计到位资金（元）';
COMMENT ON COLUMN reporting.dashboard.contract_investment_yuan IS 'Contract investment of the contracted projects, yuan. 合同投资额（元）';
COMMENT ON COLUMN reporting.dashboard.funds_in_place_rate_pct IS 'cumulative_funds_yuan ÷ contract_investment_yuan × 100. 资金到位率（%）';
COMMENT ON COLUMN reporting.dashboard.signed_count IS 'Formal contracts signed in the year by as_of_date. 本年签约项目数';
COMMENT ON COLUMN reporting.dashboard.signed_investment_yuan IS 'Their contract investment, yuan. 本年签约投资额（元）';
COMMENT ON COLUMN reporting.dashboard.signed_big_count IS 'Of which ≥ 1亿. 亿元以上签约项目数';
COMMENT ON COLUMN reporting.dashboard.signed_industrial_10m_count IS 'Industrial projects ≥ 1000万 signed. 千万元以上工业项目签约数';
COMMENT ON COLUMN reporting.dashboard.signed_by_investor_type IS '{"<investor_type>": {"count": n, "investment_yuan": v}} of the year''s signings. 按投资方类型签约';
COMMENT ON COLUMN reporting.dashboard.size_classes IS '{"<size_class>": n} of the live projects. 规模分布';
COMMENT ON COLUMN reporting.dashboard.red_count IS 'Live projects with a red light. 红灯项目数';
COMMENT ON COLUMN reporting.dashboard.yellow_count IS 'Yellow. 黄灯项目数';
COMMENT ON COLUMN reporting.dashboard.green_count IS 'Green. 绿灯项目数';
COMMENT ON COLUMN reporting.dashboard.expropriation_target_area_mu IS 'Expropriation target area of live projects, mu. 征迁任务面积（亩）';
COMMENT ON COLUMN reporting.dashboard.expropriation_area_mu IS 'Area expropriated (latest cumulative by as_of_date), mu. 已征迁面积（亩）';
COMMENT ON COLUMN reporting.dashboard.expropriation_area_pct IS 'expropriation_area_mu ÷ expropriation_target_area_mu × 100. 征迁面积完成率（%）';
COMMENT ON COLUMN reporting.dashboard.expropriation_target_households IS 'Households to relocate. 征迁任务户数';
COMMENT ON COLUMN reporting.dashboard.expropriation_households_signed IS 'Households signed. 已签约户数';
COMMENT ON COLUMN reporting.dashboard.expropriation_households_pct IS 'Households signed ÷ target × 100. 签约户数完成率（%）';
COMMENT ON COLUMN reporting.dashboard.supervision_opened_count IS 'Supervision items opened by as_of_date. 督办事项数';
COMMENT ON COLUMN reporting.dashboard.supervision_closed_count IS 'Of which closed. 已销号数';
COMMENT ON COLUMN reporting.dashboard.supervision_close_rate_pct IS 'Close rate, %. 销号率（%）';
COMMENT ON COLUMN reporting.dashboard.supervision_overdue_count IS 'Open items past their deadline. 超期事项数';
COMMENT ON COLUMN reporting.dashboard.supervision_due_soon_count IS 'Open items due within 3 days. 即将到期事项数';
COMMENT ON COLUMN reporting.dashboard.computed_at IS 'When the row was computed. 计算时间';

CREATE TABLE reporting.dashboard_snapshots (
    basis text NOT NULL CHECK (basis IN ('as_reported', 'as_corrected')),
    period text NOT NULL,
    scope text NOT NULL,
    dashboard_year integer NOT NULL,
    as_of_date date NOT NULL,
    known_at timestamptz,
    closed_months integer NOT NULL,
    month_progress_pct numeric NOT NULL,
    day_progress_pct numeric NOT NULL,
    project_count integer NOT NULL,
    abandoned_count integer NOT NULL,
    ytd_investment_yuan bigint NOT NULL,
    ytd_funds_yuan bigint NOT NULL,
    prior_ytd_investment_yuan bigint NOT NULL,
    yoy_investment_pct numeric,
    prior_ytd_funds_yuan bigint NOT NULL,
    yoy_funds_pct numeric,
    planned_investment_yuan bigint,
    planned_ytd_investment_yuan bigint NOT NULL,
    plan_completion_pct numeric,
    start_due_count integer NOT NULL,
    start_started_count integer NOT NULL,
    start_rate_pct numeric,
    performance_due_count integer NOT NULL,
    performance_started_count integer NOT NULL,
    performance_rate_pct numeric,
    contracted_count integer NOT NULL,
    cumulative_funds_yuan bigint NOT NULL,
    contract_investment_yuan bigint NOT NULL,
    funds_in_place_rate_pct numeric,
    signed_count integer NOT NULL,
    signed_investment_yuan bigint NOT NULL,
    signed_big_count integer NOT NULL,
    signed_industrial_10m_count integer NOT NULL,
    signed_by_investor_type jsonb NOT NULL,
    size_classes jsonb NOT NULL,
    red_count integer NOT NULL,
    yellow_count integer NOT NULL,
    green_count integer NOT NULL,
    expropriation_target_area_mu numeric,
    expropriation_area_mu numeric,
    expropriation_area_pct numeric,
    expropriation_target_households integer,
    expropriation_households_signed integer,
    expropriation_households_pct numeric,
    supervision_opened_count integer NOT NULL,
    supervision_closed_count integer NOT NULL,
    supervision_close_rate_pct numeric,
    supervision_overdue_count integer NOT NULL,
    supervision_due_soon_count integer NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (basis, period, scope)
);
COMMENT ON TABLE reporting.dashboard_snapshots IS 'The dashboard at the end of every closed month, as reported (known at the reporting deadline) and as corrected (known now). 月末驾驶舱快照（报送时/更正后）';
COMMENT ON COLUMN reporting.dashboard_snapshots.basis IS 'as_reported: facts recorded by the reporting deadline (known_at); as_corrected: everything recorded. 口径（报送时/更正后）';
COMMENT ON COLUMN reporting.dashboard_snapshots.period IS 'The closed month, YYYY-MM. 月份';
COMMENT ON COLUMN reporting.dashboard_snapshots.scope IS '''county'' or a unit_id. 范围';
COMMENT ON COLUMN reporting.dashboard_snapshots.dashboard_year IS 'Year of the month. 年度';
COMMENT ON COLUMN reporting.dashboard_snapshots.as_of_date IS 'The business date D: the last day of the month. 统计截止日期';
COMMENT ON COLUMN reporting.dashboard_snapshots.known_at IS 'The knowledge time K: the reporting deadline for as_reported, null (now) for as_corrected. 数据截止时间';
COMMENT ON COLUMN reporting.dashboard_snapshots.closed_months IS 'Closed months of the year at as_of_date (m). 已结束月份数';
COMMENT ON COLUMN reporting.dashboard_snapshots.month_progress_pct IS 'Time progress for monthly metrics: m ÷ 12 × 100. 时序进度（按月）';
COMMENT ON COLUMN reporting.dashboard_snapshots.day_progress_pct IS 'Time progress for other metrics: elapsed days ÷ days of the year × 100. 时序进度（按日）';
COMMENT ON COLUMN reporting.dashboard_snapshots.project_count IS 'Projects registered by as_of_date (abandoned ones included). 项目总数';
COMMENT ON COLUMN reporting.dashboard_snapshots.abandoned_count IS 'Of which abandoned. 终止项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.ytd_investment_yuan IS 'Investment completed over the closed months of the year, yuan. 本年完成投资（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.ytd_funds_yuan IS 'Funds in place over the closed months, yuan. 本年到位资金（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.prior_ytd_investment_yuan IS 'The same months of the previous year, yuan. 上年同期完成投资（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.yoy_investment_pct IS 'Year-on-year growth of completed investment, %. 完成投资同比增长（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.prior_ytd_funds_yuan IS 'Funds in place in the same months of the previous year, yuan. 上年同期到位资金（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.yoy_funds_pct IS 'Year-on-year growth of funds in place, %. 到位资金同比增长（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.planned_investment_yuan IS 'Sum of the annual plans of live projects with a plan for the year, yuan. 年度计划投资（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.planned_ytd_investment_yuan IS 'Like for like: YTD investment of the projects with a plan for the year, yuan. 有计划项目本年完成投资（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.plan_completion_pct IS 'planned_ytd_investment_yuan ÷ planned_investment_yuan × 100. 年度计划完成率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.start_due_count IS 'Projects due to start by as_of_date. 应开工项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.start_started_count IS 'Of which started. 已开工项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.start_rate_pct IS 'Start rate, %. 开工率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.performance_due_count IS 'Contracted projects due to start by as_of_date (履约). 应履约项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.performance_started_count IS 'Of which started. 已履约项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.performance_rate_pct IS 'Performance rate, %. 履约率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.contracted_count IS 'Live projects with a formal contract. 已签约项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.cumulative_funds_yuan IS 'Funds in place to date of the contracted projects, yuan. 累计到位资金（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.contract_investment_yuan IS 'Contract investment of the contracted projects, yuan. 合同投资额（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.funds_in_place_rate_pct IS 'cumulative_funds_yuan ÷ contract_investment_yuan × 100. 资金到位率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.signed_count IS 'Formal contracts signed in the year by as_of_date. 本年签约项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.signed_investment_yuan IS 'Their contract investment, yuan. 本年签约投资额（元）';
COMMENT ON COLUMN reporting.dashboard_snapshots.signed_big_count IS 'Of which ≥ 1亿. 亿元以上签约项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.signed_industrial_10m_count IS 'Industrial projects ≥ 1000万 signed. 千万元以上工业项目签约数';
COMMENT ON COLUMN reporting.dashboard_snapshots.signed_by_investor_type IS '{"<investor_type>": {"count": n, "investment_yuan": v}} of the year''s signings. 按投资方类型签约';
COMMENT ON COLUMN reporting.dashboard_snapshots.size_classes IS '{"<size_class>": n} of the live projects. 规模分布';
COMMENT ON COLUMN reporting.dashboard_snapshots.red_count IS 'Live projects with a red light. 红灯项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.yellow_count IS 'Yellow. 黄灯项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.green_count IS 'Green. 绿灯项目数';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_target_area_mu IS 'Expropriation target area of live projects, mu. 征迁任务面积（亩）';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_area_mu IS 'Area expropriated (latest cumulative by as_of_date), mu. 已征迁面积（亩）';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_area_pct IS 'expropriation_area_mu ÷ expropriation_target_area_mu × 100. 征迁面积完成率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_target_households IS 'Households to relocate. 征迁任务户数';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_households_signed IS 'Households signed. 已签约户数';
COMMENT ON COLUMN reporting.dashboard_snapshots.expropriation_households_pct IS 'Households signed ÷ target × 100. 签约户数完成率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.supervision_opened_count IS 'Supervision items opened by as_of_date. 督办事项数';
COMMENT ON COLUMN reporting.dashboard_snapshots.supervision_closed_count IS 'Of which closed. 已销号数';
COMMENT ON COLUMN reporting.dashboard_snapshots.supervision_close_rate_pct IS 'Close rate, %. 销号率（%）';
COMMENT ON COLUMN reporting.dashboard_snapshots.supervision_overdue_count IS 'Open items past their deadline. 超期事项数';
COMMENT ON COLUMN reporting.dashboard_snapshots.supervision_due_soon_count IS 'Open items due within 3 days. 即将到期事项数';
COMMENT ON COLUMN reporting.dashboard_snapshots.computed_at IS 'When the row was computed. 计算时间';

CREATE TABLE reporting.target_progress_snapshots (
    basis text NOT NULL CHECK (basis IN ('as_reported', 'as_corrected')),
    period text NOT NULL,
    scope text NOT NULL,
    metric text NOT NULL,
    target_year integer NOT NULL,
    as_of_date date NOT NULL,
    known_at timestamptz,
    target_value numeric(24, 4),
    actual_value numeric(24, 4) NOT NULL,
    completion_pct numeric,
    time_progress_pct numeric NOT NULL,
    gap_pp numeric,
    light text,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (basis, period, scope, metric)
);
COMMENT ON TABLE reporting.target_progress_snapshots IS 'Target progress at the end of every closed month, as reported and as corrected (columns as in target_progress). 月末目标进度快照';
COMMENT ON COLUMN reporting.target_progress_snapshots.basis IS 'as_reported or as_corrected (see dashboard_snapshots). 口径';
COMMENT ON COLUMN reporting.target_progress_snapshots.period IS 'The closed month, YYYY-MM. 月份';
COMMENT ON COLUMN reporting.target_progress_snapshots.scope IS '''county'' or a unit_id. 范围';
COMMENT ON COLUMN reporting.target_progress_snapshots.metric IS 'Target metric (see reporting.targets.metric). 指标';
COMMENT ON COLUMN reporting.target_progress_snapshots.target_year IS 'Year of the month. 年度';
COMMENT ON COLUMN reporting.target_progress_snapshots.as_of_date IS 'The last day of the month. 统计截止日期';
COMMENT ON COLUMN reporting.target_progress_snapshots.known_at IS 'The reporting deadline for as_reported, null for as_corrected. 数据截止时间';
COMMENT ON COLUMN reporting.target_progress_snapshots.target_value IS 'Target known at known_at. 目标值';
COMMENT ON COLUMN reporting.target_progress_snapshots.actual_value IS 'Actual for the year at as_of_date. 实际完成值';
COMMENT ON COLUMN reporting.target_progress_snapshots.completion_pct IS 'actual ÷ target × 100. 完成率（%）';
COMMENT ON COLUMN reporting.target_progress_snapshots.time_progress_pct IS 'Time progress at as_of_date. 时序进度（%）';
COMMENT ON COLUMN reporting.target_progress_snapshots.gap_pp IS 'completion_pct − time_progress_pct. 与时序进度差（百分点）';
COMMENT ON COLUMN reporting.target_progress_snapshots.light IS 'red, yellow or green. 红黄绿灯';
COMMENT ON COLUMN reporting.target_progress_snapshots.computed_at IS 'When the row was computed. 计算时间';

CREATE TABLE reporting.unit_ranking_snapshots (
    basis text NOT NULL CHECK (basis IN ('as_reported', 'as_corrected')),
    period text NOT NULL,
    unit_id text NOT NULL REFERENCES reporting.units (unit_id),
    ranking_year integer NOT NULL,
    as_of_date date NOT NULL,
    known_at timestamptz,
    rank integer NOT NULL,
    score numeric,
    target_count integer NOT NULL,
    red_projects integer NOT NULL,
    ytd_investment_yuan bigint NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (basis, period, unit_id)
);
COMMENT ON TABLE reporting.unit_ranking_snapshots IS 'The unit ranking at the end of every closed month, as reported and as corrected (columns as in unit_ranking). 月末单位排名快照';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.basis IS 'as_reported or as_corrected (see dashboard_snapshots). 口径';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.period IS 'The closed month, YYYY-MM. 月份';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.unit_id IS 'Unit. 单位';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.ranking_year IS 'Year of the month. 年度';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.as_of_date IS 'The last day of the month. 统计截止日期';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.known_at IS 'The reporting deadline for as_reported, null for as_corrected. 数据截止时间';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.rank IS 'Rank, 1 is best. 名次';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.score IS 'Score (docs/metrics.md). 得分';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.target_count IS 'Targets that carry weight. 目标个数';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.red_projects IS 'Red projects. 红灯项目数';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.ytd_investment_yuan IS 'Investment completed this year over closed months, yuan. 本年完成投资（元）';
COMMENT ON COLUMN reporting.unit_ranking_snapshots.computed_at IS 'When the row was computed. 计算时间';
