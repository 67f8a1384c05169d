-- The reporting schema: the read models that the API and BI tools query. It is a public contract:
-- real tables with keys, lower_snake_case, unit suffixes (_yuan, _wan, _mu, _date, _at, _period for
-- YYYY-MM, _pct for percentages, _pp for percentage points), and a comment on every table and column.
-- Percentages are unbounded numerics (rounded to 2 decimals by the functions): a mistyped tiny
-- target gives a huge completion, which must show, not overflow and halt the projection.
-- Only projections write here (see crates/projections); every row can be rebuilt from the event log.
-- Foreign keys hold where the domain guarantees them (a project's facts follow its registration);
-- references across aggregates (a project's unit, a supervision item's project) are checked by the
-- command handlers when written and are not foreign keys, so that no accepted event can fail here.
--
-- History tables (assignments, agreements, annual_plans, milestones, monthly_investment_reports,
-- expropriation_reports, targets, rule_settings) keep every fact with the moment it was recorded, so
-- that the metric functions in 0101_reporting_metrics.sql can answer "as the ledger stood at the end
-- of a day": they read only rows recorded before the cut-off.

CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS 'Read models of the investment-project ledger, for the API and BI tools (投资项目台账报表). Written only by projections.';

-- Computed columns below call these two, so that the read models, the metric functions
-- (0101) and BI share one definition.
-- Size class by contract investment, else intended investment (yuan).
CREATE FUNCTION reporting.size_class(p_investment_yuan bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE
     WHEN p_investment_yuan < 5000000 THEN 'below_5m'
     WHEN p_investment_yuan < 10000000 THEN '5m_10m'
     WHEN p_investment_yuan < 100000000 THEN '10m_100m'
     WHEN p_investment_yuan < 1000000000 THEN '100m_1b'
     ELSE 'from_1b' END $$;
COMMENT ON FUNCTION reporting.size_class(bigint) IS 'Size class: below_5m (<500万, below the statistical threshold), 5m_10m, 10m_100m, 100m_1b, from_1b (≥10亿). 规模分类';

-- part ÷ whole × 100, rounded to 2 decimals; null when whole is not above 0.
CREATE FUNCTION reporting.percent_of(p_part numeric, p_whole numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN p_whole > 0 THEN round(p_part * 100 / p_whole, 2) END $$;
COMMENT ON FUNCTION reporting.percent_of(numeric, numeric) IS 'part ÷ whole × 100, 2 decimals; null when whole ≤ 0. 百分比';

CREATE TABLE reporting.units (
    unit_id     text PRIMARY KEY,
    name        text NOT NULL,
    unit_kind   text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
COMMENT ON TABLE reporting.units IS 'Responsible units: townships, departments, industrial parks. 责任单位';
COMMENT ON COLUMN reporting.units.unit_id IS 'Unit identifier (the id of stream unit-<id>). 单位编号';
COMMENT ON COLUMN reporting.units.name IS 'Current name of the unit. 单位名称';
COMMENT ON COLUMN reporting.units.unit_kind IS 'township, department, park or other. 单位类型（乡镇/部门/园区/其他）';
COMMENT ON COLUMN reporting.units.created_at IS 'When the unit was recorded. 创建时间';
COMMENT ON COLUMN reporting.units.updated_at IS 'When the unit was last changed (renamed). 最后修改时间';

CREATE TABLE reporting.projects (
    project_id                  uuid PRIMARY KEY,
    name                        text NOT NULL,
    project_kind                text NOT NULL,
    investor_name               text NOT NULL,
    investor_type               text NOT NULL,
    industry_chain              text NOT NULL,
    industrial                  boolean NOT NULL,
    unit_id                     text NOT NULL,
    lead_official               text NOT NULL,
    stage                       text NOT NULL,
    status                      text NOT NULL,
    status_reason               text,
    intended_investment_yuan    bigint NOT NULL,
    contract_investment_yuan    bigint,
    fixed_asset_investment_yuan bigint,
    filed_investment_yuan       bigint,
    planned_investment_yuan     bigint,
    planned_year                integer,
    land_demand_mu              numeric(16, 4),
    land_delivered_mu           numeric(16, 4) NOT NULL DEFAULT 0,
    project_code                text UNIQUE,
    approval_route              text,
    credit_code                 text,
    company_name                text,
    registered_capital_yuan     bigint,
    registered_date             date NOT NULL,
    framework_signed_date       date,
    contract_signed_date        date,
    planned_start_period        text,
    contract_planned_start_period text,
    planned_completion_period   text,
    planned_production_period   text,
    start_date                  date,
    completion_date             date,
    production_date             date,
    production_full             boolean NOT NULL DEFAULT false,
    abandoned_date              date,
    cumulative_investment_yuan  bigint NOT NULL DEFAULT 0,
    cumulative_funds_yuan       bigint NOT NULL DEFAULT 0,
    cumulative_investment_wan   numeric(20, 4) GENERATED ALWAYS AS (cumulative_investment_yuan / 10000.0) STORED,
    size_class                  text NOT NULL GENERATED ALWAYS AS (reporting.size_class(coalesce(contract_investment_yuan, intended_investment_yuan))) STORED,
    ytd_investment_yuan         bigint NOT NULL DEFAULT 0,
    start_light                 text,
    investment_light            text,
    light                       text,
    stream_version              bigint NOT NULL,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL
);
CREATE INDEX projects_unit_idx ON reporting.projects (unit_id);
COMMENT ON TABLE reporting.projects IS 'The ledger: one row per project with its current state. 项目台账（当前状态）';
COMMENT ON COLUMN reporting.projects.project_id IS 'Project identifier (stream project-<uuid>). 项目编号';
COMMENT ON COLUMN reporting.projects.name IS 'Project name. 项目名称';
COMMENT ON COLUMN reporting.projects.project_kind IS 'attracted (招商引资), government (政府投资) or expansion (技改扩建). 项目类型';
COMMENT ON COLUMN reporting.projects.investor_name IS 'Investor. 投资方';
COMMENT ON COLUMN reporting.projects.investor_type IS 'central_soe 央企, provincial_soe 省企, private 民企, foreign 外资, other 其他. 投资方类型';
COMMENT ON COLUMN reporting.projects.industry_chain IS 'Industry chain, e.g. 氟化工, 新能源, 新材料. 产业链';
COMMENT ON COLUMN reporting.projects.industrial IS 'Whether it is an industrial project. 是否工业项目';
COMMENT ON COLUMN reporting.projects.unit_id IS 'Unit currently responsible for the project. 责任单位';
COMMENT ON COLUMN reporting.projects.lead_official IS 'Leader in charge. 包抓领导';
COMMENT ON COLUMN reporting.projects.stage IS 'lead, negotiating, framework_signed, contracted, under_construction, completed, in_production. 项目阶段';
COMMENT ON COLUMN reporting.projects.status IS 'active, delayed, dormant or abandoned. 项目状态';
COMMENT ON COLUMN reporting.projects.status_reason IS 'Reason given with the last status change. 状态变更原因';
COMMENT ON COLUMN reporting.projects.size_class IS 'Size by contract investment, else intended investment: below_5m (<500万), 5m_10m (500万–1000万), 10m_100m (1000万–1亿), 100m_1b (1亿–10亿), from_1b (≥10亿). 规模分类';
COMMENT ON COLUMN reporting.projects.intended_investment_yuan IS 'Intended investment at registration, in yuan. 意向投资额（元）';
COMMENT ON COLUMN reporting.projects.contract_investment_yuan IS 'Contract investment of the latest formal or supplement agreement, in yuan. 合同投资额（元）';
COMMENT ON COLUMN reporting.projects.fixed_asset_investment_yuan IS 'Fixed-asset investment of the latest formal or supplement agreement, in yuan. 固定资产投资（元）';
COMMENT ON COLUMN reporting.projects.filed_investment_yuan IS 'Total investment filed with the national project code, in yuan. 备案总投资（元）';
COMMENT ON COLUMN reporting.projects.planned_investment_yuan IS 'Planned investment of the latest annual plan (year in planned_year), in yuan. 本年计划投资（元）';
COMMENT ON COLUMN reporting.projects.planned_year IS 'Year of the latest annual plan. 年度计划年份';
COMMENT ON COLUMN reporting.projects.land_demand_mu IS 'Land demand of the latest agreement, in mu. 用地需求（亩）';
COMMENT ON COLUMN reporting.projects.land_delivered_mu IS 'Land handed over so far, in mu. 已交地面积（亩）';
COMMENT ON COLUMN reporting.projects.project_code IS 'National project code (项目代码).';
COMMENT ON COLUMN reporting.projects.approval_route IS 'approval 审批, verification 核准 or filing 备案. 审批路径';
COMMENT ON COLUMN reporting.projects.credit_code IS 'Unified social credit code of the project company. 统一社会信用代码';
COMMENT ON COLUMN reporting.projects.company_name IS 'Name of the project company. 项目公司名称';
COMMENT ON COLUMN reporting.projects.registered_capital_yuan IS 'Registered capital of the project company, in yuan. 注册资本（元）';
COMMENT ON COLUMN reporting.projects.registered_date IS 'Date the project was registered as a lead. 登记日期';
COMMENT ON COLUMN reporting.projects.framework_signed_date IS 'Date of the first framework agreement. 框架协议签订日期';
COMMENT ON COLUMN reporting.projects.contract_signed_date IS 'Date of the formal contract. 正式签约日期';
COMMENT ON COLUMN reporting.projects.planned_start_period IS 'Planned start month (YYYY-MM): latest annual plan, else latest formal or supplement agreement. 计划开工月份';
COMMENT ON COLUMN reporting.projects.contract_planned_start_period IS 'Planned start month (YYYY-MM) of the latest formal or supplement agreement. 合同约定开工月份';
COMMENT ON COLUMN reporting.projects.planned_completion_period IS 'Planned completion month (YYYY-MM) of the latest agreement. 计划竣工月份';
COMMENT ON COLUMN reporting.projects.planned_production_period IS 'Planned production month (YYYY-MM) of the latest agreement. 计划投产月份';
COMMENT ON COLUMN reporting.projects.start_date IS 'Construction start date. 开工日期';
COMMENT ON COLUMN reporting.projects.completion_date IS 'Construction completion date. 竣工日期';
COMMENT ON COLUMN reporting.projects.production_date IS 'First production start date. 投产日期';
COMMENT ON COLUMN reporting.projects.production_full IS 'Whether full production has started. 是否全面投产';
COMMENT ON COLUMN reporting.projects.abandoned_date IS 'Date the project was abandoned (终止/退出). 终止日期';
COMMENT ON COLUMN reporting.projects.cumulative_investment_yuan IS 'Completed investment over all reported periods, corrections applied, in yuan. 累计完成投资（元）';
COMMENT ON COLUMN reporting.projects.cumulative_funds_yuan IS 'Funds in place over all reported periods, corrections applied, in yuan. 累计到位资金（元）';
COMMENT ON COLUMN reporting.projects.cumulative_investment_wan IS 'cumulative_investment_yuan in 万元. 累计完成投资（万元）';
COMMENT ON COLUMN reporting.projects.ytd_investment_yuan IS 'Investment completed this year over the closed months (see docs/metrics.md), in yuan. 本年完成投资（元）';
COMMENT ON COLUMN reporting.projects.start_light IS 'Start light for a project not started: yellow 1–2 months past planned start, red 3 or more. 开工预警';
COMMENT ON COLUMN reporting.projects.investment_light IS 'Investment light for a started project with an annual plan: plan completion against time progress. 投资进度预警';
COMMENT ON COLUMN reporting.projects.light IS 'Worst of start_light and investment_light (red, yellow, green), none when neither applies. 红黄绿灯';
COMMENT ON COLUMN reporting.projects.stream_version IS 'Version of the project stream reflected in this row. 事件流版本';
COMMENT ON COLUMN reporting.projects.created_at IS 'When the project was recorded. 记录时间';
COMMENT ON COLUMN reporting.projects.updated_at IS 'When the last event of the project was recorded. 最后更新时间';

CREATE TABLE reporting.project_assignments (
    project_id     uuid NOT NULL REFERENCES reporting.projects (project_id),
    seq            integer NOT NULL,
    unit_id        text NOT NULL,
    lead_official  text NOT NULL,
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (project_id, seq)
);
COMMENT ON TABLE reporting.project_assignments IS 'Every assignment of responsibility for a project, from registration on. 责任单位调整记录';
COMMENT ON COLUMN reporting.project_assignments.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.project_assignments.seq IS 'Version of the project-stream event that made the assignment (0 = registration); orders the rows. 序号';
COMMENT ON COLUMN reporting.project_assignments.unit_id IS 'Responsible unit. 责任单位';
COMMENT ON COLUMN reporting.project_assignments.lead_official IS 'Leader in charge. 包抓领导';
COMMENT ON COLUMN reporting.project_assignments.effective_date IS 'Business date of the assignment. 生效日期';
COMMENT ON COLUMN reporting.project_assignments.recorded_at IS 'When the assignment was recorded. 记录时间';

CREATE TABLE reporting.agreements (
    project_id                  uuid NOT NULL REFERENCES reporting.projects (project_id),
    seq                         integer NOT NULL,
    agreement_kind              text NOT NULL,
    signed_date                 date NOT NULL,
    contract_investment_yuan    bigint NOT NULL,
    fixed_asset_investment_yuan bigint NOT NULL,
    land_demand_mu              numeric(16, 4) NOT NULL,
    planned_start_period        text NOT NULL,
    planned_completion_period   text NOT NULL,
    planned_production_period   text NOT NULL,
    recorded_at                 timestamptz NOT NULL,
    PRIMARY KEY (project_id, seq)
);
COMMENT ON TABLE reporting.agreements IS 'Agreements signed for attracted projects: framework, formal and supplement. 签约协议';
COMMENT ON COLUMN reporting.agreements.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.agreements.seq IS 'Version of the project-stream event that recorded the agreement; orders the rows. 序号';
COMMENT ON COLUMN reporting.agreements.agreement_kind IS 'framework 框架协议, formal 正式合同 or supplement 补充协议. 协议类型';
COMMENT ON COLUMN reporting.agreements.signed_date IS 'Signing date. 签约日期';
COMMENT ON COLUMN reporting.agreements.contract_investment_yuan IS 'Contract investment, in yuan. 合同投资额（元）';
COMMENT ON COLUMN reporting.agreements.fixed_asset_investment_yuan IS 'Fixed-asset investment, in yuan. 固定资产投资（元）';
COMMENT ON COLUMN reporting.agreements.land_demand_mu IS 'Land demand, in mu. 用地需求（亩）';
COMMENT ON COLUMN reporting.agreements.planned_start_period IS 'Planned start month (YYYY-MM). 计划开工月份';
COMMENT ON COLUMN reporting.agreements.planned_completion_period IS 'Planned completion month (YYYY-MM). 计划竣工月份';
COMMENT ON COLUMN reporting.agreements.planned_production_period IS 'Planned production month (YYYY-MM). 计划投产月份';
COMMENT ON COLUMN reporting.agreements.recorded_at IS 'When the agreement was recorded. 记录时间';

CREATE TABLE reporting.annual_plans (
    project_id              uuid NOT NULL REFERENCES reporting.projects (project_id),
    plan_year               integer NOT NULL,
    revision                integer NOT NULL,
    planned_investment_yuan bigint NOT NULL,
    planned_start_period    text,
    reason                  text,
    is_current              boolean NOT NULL,
    recorded_at             timestamptz NOT NULL,
    PRIMARY KEY (project_id, plan_year, revision)
);
COMMENT ON TABLE reporting.annual_plans IS 'Annual investment plans of projects, original (revision 0) and revised. 年度投资计划';
COMMENT ON COLUMN reporting.annual_plans.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.annual_plans.plan_year IS 'Plan year. 计划年度';
COMMENT ON COLUMN reporting.annual_plans.revision IS '0 for the original plan, 1, 2, … for revisions. 调整次数';
COMMENT ON COLUMN reporting.annual_plans.planned_investment_yuan IS 'Planned investment this year, in yuan. 本年计划投资（元）';
COMMENT ON COLUMN reporting.annual_plans.planned_start_period IS 'Planned start month (YYYY-MM); null for a project already under way. 计划开工月份';
COMMENT ON COLUMN reporting.annual_plans.reason IS 'Reason for a revision. 调整原因';
COMMENT ON COLUMN reporting.annual_plans.is_current IS 'Whether this is the latest revision for the project and year. 是否当前有效';
COMMENT ON COLUMN reporting.annual_plans.recorded_at IS 'When the plan was recorded. 记录时间';

CREATE TABLE reporting.project_milestones (
    project_id    uuid NOT NULL REFERENCES reporting.projects (project_id),
    milestone     text NOT NULL,
    business_date date NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, milestone)
);
COMMENT ON TABLE reporting.project_milestones IS 'First occurrence of each milestone: construction_started, construction_completed, production_started, production_full, abandoned. 项目里程碑';
COMMENT ON COLUMN reporting.project_milestones.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.project_milestones.milestone IS 'construction_started 开工, construction_completed 竣工, production_started 投产, production_full 全面投产, abandoned 终止. 里程碑';
COMMENT ON COLUMN reporting.project_milestones.business_date IS 'Date the milestone was reached. 发生日期';
COMMENT ON COLUMN reporting.project_milestones.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.monthly_investment_reports (
    project_id                uuid NOT NULL REFERENCES reporting.projects (project_id),
    period                    text NOT NULL,
    revision                  integer NOT NULL,
    completed_investment_yuan bigint NOT NULL,
    funds_in_place_yuan       bigint NOT NULL,
    reason                    text,
    actor                     text NOT NULL,
    recorded_at               timestamptz NOT NULL,
    PRIMARY KEY (project_id, period, revision)
);
COMMENT ON TABLE reporting.monthly_investment_reports IS 'Every monthly report and every correction, as recorded (the original stays). 月度投资填报及更正记录';
COMMENT ON COLUMN reporting.monthly_investment_reports.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.monthly_investment_reports.period IS 'Report month, YYYY-MM. 填报月份';
COMMENT ON COLUMN reporting.monthly_investment_reports.revision IS '0 for the report, 1, 2, … for corrections. 更正次数';
COMMENT ON COLUMN reporting.monthly_investment_reports.completed_investment_yuan IS 'Completed investment in the month, in yuan. 当月完成投资（元）';
COMMENT ON COLUMN reporting.monthly_investment_reports.funds_in_place_yuan IS 'Funds in place in the month, in yuan. 当月到位资金（元）';
COMMENT ON COLUMN reporting.monthly_investment_reports.reason IS 'Reason for a correction. 更正原因';
COMMENT ON COLUMN reporting.monthly_investment_reports.actor IS 'Who recorded it. 填报人';
COMMENT ON COLUMN reporting.monthly_investment_reports.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.monthly_investment (
    project_id                         uuid NOT NULL REFERENCES reporting.projects (project_id),
    period                             text NOT NULL,
    reported_completed_investment_yuan bigint NOT NULL,
    reported_funds_in_place_yuan       bigint NOT NULL,
    completed_investment_yuan          bigint NOT NULL,
    funds_in_place_yuan                bigint NOT NULL,
    completed_investment_wan           numeric(20, 4) GENERATED ALWAYS AS (completed_investment_yuan / 10000.0) STORED,
    correction_count                   integer NOT NULL,
    reported_at                        timestamptz NOT NULL,
    corrected_at                       timestamptz,
    PRIMARY KEY (project_id, period)
);
COMMENT ON TABLE reporting.monthly_investment IS 'Project × month: completed investment and funds in place, as first reported and as corrected. 月度投资（项目×月份）';
COMMENT ON COLUMN reporting.monthly_investment.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.monthly_investment.period IS 'Month, YYYY-MM. 月份';
COMMENT ON COLUMN reporting.monthly_investment.reported_completed_investment_yuan IS 'Completed investment as first reported, in yuan. 首次填报完成投资（元）';
COMMENT ON COLUMN reporting.monthly_investment.reported_funds_in_place_yuan IS 'Funds in place as first reported, in yuan. 首次填报到位资金（元）';
COMMENT ON COLUMN reporting.monthly_investment.completed_investment_yuan IS 'Completed investment after corrections, in yuan. 完成投资（更正后，元）';
COMMENT ON COLUMN reporting.monthly_investment.funds_in_place_yuan IS 'Funds in place after corrections, in yuan. 到位资金（更正后，元）';
COMMENT ON COLUMN reporting.monthly_investment.completed_investment_wan IS 'completed_investment_yuan in 万元. 完成投资（万元）';
COMMENT ON COLUMN reporting.monthly_investment.correction_count IS 'Number of corrections. 更正次数';
COMMENT ON COLUMN reporting.monthly_investment.reported_at IS 'When first reported. 首次填报时间';
COMMENT ON COLUMN reporting.monthly_investment.corrected_at IS 'When last corrected. 最后更正时间';

CREATE TABLE reporting.expropriation_targets (
    project_id      uuid PRIMARY KEY REFERENCES reporting.projects (project_id),
    area_mu         numeric(16, 4) NOT NULL,
    households      integer NOT NULL,
    graves          integer NOT NULL,
    township        text NOT NULL,
    deadline_date   date NOT NULL,
    recorded_at     timestamptz NOT NULL
);
COMMENT ON TABLE reporting.expropriation_targets IS 'Expropriation task of a project (latest target). 征迁任务';
COMMENT ON COLUMN reporting.expropriation_targets.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.expropriation_targets.area_mu IS 'Area to acquire, in mu. 征收面积（亩）';
COMMENT ON COLUMN reporting.expropriation_targets.households IS 'Households to relocate. 涉及户数';
COMMENT ON COLUMN reporting.expropriation_targets.graves IS 'Graves to move. 迁坟数';
COMMENT ON COLUMN reporting.expropriation_targets.township IS 'Township where the land lies. 所在乡镇';
COMMENT ON COLUMN reporting.expropriation_targets.deadline_date IS 'Deadline. 完成时限';
COMMENT ON COLUMN reporting.expropriation_targets.recorded_at IS 'When the target was recorded. 记录时间';

CREATE TABLE reporting.expropriation_reports (
    project_id           uuid NOT NULL REFERENCES reporting.projects (project_id),
    seq                  integer NOT NULL,
    as_of_date           date NOT NULL,
    area_mu              numeric(16, 4) NOT NULL,
    households_signed    integer NOT NULL,
    households_relocated integer NOT NULL,
    graves_moved         integer NOT NULL,
    compensation_yuan    bigint NOT NULL,
    recorded_at          timestamptz NOT NULL,
    PRIMARY KEY (project_id, seq)
);
COMMENT ON TABLE reporting.expropriation_reports IS 'Every expropriation progress report (cumulative figures). 征迁进度填报记录';
COMMENT ON COLUMN reporting.expropriation_reports.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.expropriation_reports.seq IS 'Version of the project-stream event that recorded the report; orders the rows. 序号';
COMMENT ON COLUMN reporting.expropriation_reports.as_of_date IS 'Date the cumulative figures are as of. 截止日期';
COMMENT ON COLUMN reporting.expropriation_reports.area_mu IS 'Cumulative area acquired, in mu. 累计征收面积（亩）';
COMMENT ON COLUMN reporting.expropriation_reports.households_signed IS 'Cumulative households signed. 累计签约户数';
COMMENT ON COLUMN reporting.expropriation_reports.households_relocated IS 'Cumulative households relocated. 累计搬迁户数';
COMMENT ON COLUMN reporting.expropriation_reports.graves_moved IS 'Cumulative graves moved. 累计迁坟数';
COMMENT ON COLUMN reporting.expropriation_reports.compensation_yuan IS 'Cumulative compensation paid, in yuan. 累计兑付补偿款（元）';
COMMENT ON COLUMN reporting.expropriation_reports.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.expropriation_progress (
    project_id           uuid PRIMARY KEY REFERENCES reporting.projects (project_id),
    target_area_mu       numeric(16, 4),
    target_households    integer,
    target_graves        integer,
    deadline_date        date,
    as_of_date           date,
    area_mu              numeric(16, 4) NOT NULL,
    households_signed    integer NOT NULL,
    households_relocated integer NOT NULL,
    graves_moved         integer NOT NULL,
    compensation_yuan    bigint NOT NULL,
    area_completion_pct numeric GENERATED ALWAYS AS (reporting.percent_of(area_mu, target_area_mu)) STORED,
    households_completion_pct numeric GENERATED ALWAYS AS (reporting.percent_of(households_signed, target_households)) STORED,
    land_delivered_mu    numeric(16, 4) NOT NULL,
    updated_at           timestamptz NOT NULL
);
COMMENT ON TABLE reporting.expropriation_progress IS 'Expropriation of each project with a target or a report: target, latest cumulative figures, completion. 征迁进度';
COMMENT ON COLUMN reporting.expropriation_progress.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.expropriation_progress.target_area_mu IS 'Target area, in mu. 征收任务面积（亩）';
COMMENT ON COLUMN reporting.expropriation_progress.target_households IS 'Target households. 任务户数';
COMMENT ON COLUMN reporting.expropriation_progress.target_graves IS 'Target graves. 任务迁坟数';
COMMENT ON COLUMN reporting.expropriation_progress.deadline_date IS 'Deadline. 完成时限';
COMMENT ON COLUMN reporting.expropriation_progress.as_of_date IS 'Date of the latest report. 最新填报截止日期';
COMMENT ON COLUMN reporting.expropriation_progress.area_mu IS 'Latest cumulative area acquired, in mu. 累计征收面积（亩）';
COMMENT ON COLUMN reporting.expropriation_progress.households_signed IS 'Latest cumulative households signed. 累计签约户数';
COMMENT ON COLUMN reporting.expropriation_progress.households_relocated IS 'Latest cumulative households relocated. 累计搬迁户数';
COMMENT ON COLUMN reporting.expropriation_progress.graves_moved IS 'Latest cumulative graves moved. 累计迁坟数';
COMMENT ON COLUMN reporting.expropriation_progress.compensation_yuan IS 'Latest cumulative compensation paid, in yuan. 累计兑付补偿款（元）';
COMMENT ON COLUMN reporting.expropriation_progress.area_completion_pct IS 'area_mu ÷ target_area_mu × 100. 面积完成率（%）';
COMMENT ON COLUMN reporting.expropriation_progress.households_completion_pct IS 'households_signed ÷ target_households × 100. 签约户数完成率（%）';
COMMENT ON COLUMN reporting.expropriation_progress.land_delivered_mu IS 'Land handed over, in mu. 已交地面积（亩）';
COMMENT ON COLUMN reporting.expropriation_progress.updated_at IS 'When last changed. 最后更新时间';

CREATE TABLE reporting.land_deliveries (
    project_id     uuid NOT NULL REFERENCES reporting.projects (project_id),
    parcel_no      text NOT NULL,
    area_mu        numeric(16, 4) NOT NULL,
    delivered_date date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (project_id, parcel_no)
);
COMMENT ON TABLE reporting.land_deliveries IS 'Parcels handed over to projects. 交地记录';
COMMENT ON COLUMN reporting.land_deliveries.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.land_deliveries.parcel_no IS 'Parcel number. 地块编号';
COMMENT ON COLUMN reporting.land_deliveries.area_mu IS 'Area, in mu. 面积（亩）';
COMMENT ON COLUMN reporting.land_deliveries.delivered_date IS 'Handover date. 交地日期';
COMMENT ON COLUMN reporting.land_deliveries.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.targets (
    target_year integer NOT NULL,
    scope       text NOT NULL,
    metric      text NOT NULL,
    revision    integer NOT NULL,
    target_value numeric(24, 4) NOT NULL,
    reason      text,
    is_current  boolean NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (target_year, scope, metric, revision)
);
COMMENT ON TABLE reporting.targets IS 'Annual targets, county-wide and per unit, original (revision 0) and revised. 年度目标';
COMMENT ON COLUMN reporting.targets.target_year IS 'Target year. 目标年度';
COMMENT ON COLUMN reporting.targets.scope IS '''county'' or a unit_id. 目标范围（全县或单位）';
COMMENT ON COLUMN reporting.targets.metric IS 'completed_investment, funds_in_place, signed_projects, signed_investment, big_projects_signed, started_projects, production_projects or expropriated_area (see docs/metrics.md). 指标';
COMMENT ON COLUMN reporting.targets.revision IS '0 for the original target, 1, 2, … for revisions. 调整次数';
COMMENT ON COLUMN reporting.targets.target_value IS 'Target value: yuan for money metrics, a count for project counts, mu for area. 目标值';
COMMENT ON COLUMN reporting.targets.reason IS 'Reason for a revision. 调整原因';
COMMENT ON COLUMN reporting.targets.is_current IS 'Whether this is the latest revision. 是否当前有效';
COMMENT ON COLUMN reporting.targets.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.target_progress (
    target_year       integer NOT NULL,
    scope             text NOT NULL,
    metric            text NOT NULL,
    target_value      numeric(24, 4),
    actual_value      numeric(24, 4) NOT NULL,
    completion_pct    numeric,
    time_progress_pct numeric NOT NULL,
    gap_pp            numeric,
    light             text,
    as_of_date        date NOT NULL,
    computed_at       timestamptz NOT NULL,
    PRIMARY KEY (target_year, scope, metric)
);
COMMENT ON TABLE reporting.target_progress IS 'Progress toward each target for the current date: actual, completion, time progress, gap, light. 目标完成进度';
COMMENT ON COLUMN reporting.target_progress.target_year IS 'Year. 年度';
COMMENT ON COLUMN reporting.target_progress.scope IS '''county'' or a unit_id. 范围';
COMMENT ON COLUMN reporting.target_progress.metric IS 'Target metric (see reporting.targets.metric). 指标';
COMMENT ON COLUMN reporting.target_progress.target_value IS 'Current target. 目标值';
COMMENT ON COLUMN reporting.target_progress.actual_value IS 'Actual for the year at as_of_date (docs/metrics.md). 实际完成值';
COMMENT ON COLUMN reporting.target_progress.completion_pct IS 'actual ÷ target × 100; null without a target. 完成率（%）';
COMMENT ON COLUMN reporting.target_progress.time_progress_pct IS 'Time progress: closed months ÷ 12 × 100 for monthly metrics, elapsed days for others. 时序进度（%）';
COMMENT ON COLUMN reporting.target_progress.gap_pp IS 'completion_pct − time_progress_pct, in percentage points. 与时序进度差（百分点）';
COMMENT ON COLUMN reporting.target_progress.light IS 'green (gap ≥ −10), yellow (−30 ≤ gap < −10), red (gap < −30), bands from rule settings. 红黄绿灯';
COMMENT ON COLUMN reporting.target_progress.as_of_date IS 'The as-of date D of the figures. 统计截止日期';
COMMENT ON COLUMN reporting.target_progress.computed_at IS 'When the row was computed. 计算时间';

CREATE TABLE reporting.supervision_items (
    item_id              uuid PRIMARY KEY,
    project_id           uuid NOT NULL,
    title                text NOT NULL,
    category             text NOT NULL,
    lead_unit_id         text NOT NULL,
    co_unit_ids          text[] NOT NULL,
    opened_date          date NOT NULL,
    deadline_date        date NOT NULL,
    item_status          text NOT NULL,
    feedback_count       integer NOT NULL DEFAULT 0,
    last_feedback_date   date,
    extension_count      integer NOT NULL DEFAULT 0,
    closed_date          date,
    accountability_count integer NOT NULL DEFAULT 0,
    due_soon             boolean NOT NULL DEFAULT false,
    overdue              boolean NOT NULL DEFAULT false,
    opened_at            timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
COMMENT ON TABLE reporting.supervision_items IS 'Supervision items on lagging projects, with close-out state and deadline flags. 督办事项';
COMMENT ON COLUMN reporting.supervision_items.item_id IS 'Item identifier (stream supervision-<uuid>). 事项编号';
COMMENT ON COLUMN reporting.supervision_items.project_id IS 'Project supervised. 项目编号';
COMMENT ON COLUMN reporting.supervision_items.title IS 'Title. 督办事项';
COMMENT ON COLUMN reporting.supervision_items.category IS 'expropriation 征迁, factor_support 要素保障, approval 审批, funding 资金, other 其他. 类别';
COMMENT ON COLUMN reporting.supervision_items.lead_unit_id IS 'Lead unit. 牵头单位';
COMMENT ON COLUMN reporting.supervision_items.co_unit_ids IS 'Co-operating units. 配合单位';
COMMENT ON COLUMN reporting.supervision_items.opened_date IS 'Date opened. 交办日期';
COMMENT ON COLUMN reporting.supervision_items.deadline_date IS 'Current deadline (after extensions). 办结时限';
COMMENT ON COLUMN reporting.supervision_items.item_status IS 'open, closure_requested or closed (销号). 办理状态';
COMMENT ON COLUMN reporting.supervision_items.feedback_count IS 'Feedback submitted. 反馈次数';
COMMENT ON COLUMN reporting.supervision_items.last_feedback_date IS 'Date of the last feedback. 最近反馈日期';
COMMENT ON COLUMN reporting.supervision_items.extension_count IS 'Deadline extensions. 延期次数';
COMMENT ON COLUMN reporting.supervision_items.closed_date IS 'Close-out date. 销号日期';
COMMENT ON COLUMN reporting.supervision_items.accountability_count IS 'Accountability actions recorded. 追责问责次数';
COMMENT ON COLUMN reporting.supervision_items.due_soon IS 'Open and within 3 days of its deadline, at the last refresh. 即将到期';
COMMENT ON COLUMN reporting.supervision_items.overdue IS 'Open and past its deadline, at the last refresh. 已超期';
COMMENT ON COLUMN reporting.supervision_items.opened_at IS 'When it was recorded. 记录时间';
COMMENT ON COLUMN reporting.supervision_items.updated_at IS 'When last changed. 最后更新时间';

CREATE TABLE reporting.accountability_records (
    item_id       uuid NOT NULL REFERENCES reporting.supervision_items (item_id),
    seq           integer NOT NULL,
    action        text NOT NULL,
    subject       text NOT NULL,
    action_date   date NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (item_id, seq)
);
COMMENT ON TABLE reporting.accountability_records IS 'Accountability actions on supervision items. 追责问责记录';
COMMENT ON COLUMN reporting.accountability_records.item_id IS 'Supervision item. 督办事项编号';
COMMENT ON COLUMN reporting.accountability_records.seq IS 'Version of the supervision-stream event that recorded the action; orders the rows. 序号';
COMMENT ON COLUMN reporting.accountability_records.action IS 'interview 约谈, notice 通报, accountability 问责, adjustment 调整. 处理方式';
COMMENT ON COLUMN reporting.accountability_records.subject IS 'Person or unit concerned. 处理对象';
COMMENT ON COLUMN reporting.accountability_records.action_date IS 'Date of the action. 处理日期';
COMMENT ON COLUMN reporting.accountability_records.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.rule_settings (
    seq          integer PRIMARY KEY,
    rule         text NOT NULL,
    settings     jsonb NOT NULL,
    reason       text,
    recorded_at  timestamptz NOT NULL
);
COMMENT ON TABLE reporting.rule_settings IS 'Every change of a rule that changes the figures (light bands, ranking weights). 规则设置变更记录';
COMMENT ON COLUMN reporting.rule_settings.seq IS 'Version of the rules-stream event that recorded the change; orders the rows. 序号';
COMMENT ON COLUMN reporting.rule_settings.rule IS 'light_bands or ranking_weights. 规则';
COMMENT ON COLUMN reporting.rule_settings.settings IS 'light_bands: {"green_min_gap": -10, "yellow_min_gap": -30, "start_yellow_months": 1, "start_red_months": 3}; ranking_weights: {"weights": {"<metric>": weight, …}, "completion_cap": 150, "red_project_penalty": 2}. 设置值';
COMMENT ON COLUMN reporting.rule_settings.reason IS 'Reason for the change. 变更原因';
COMMENT ON COLUMN reporting.rule_settings.recorded_at IS 'When it was recorded. 记录时间';

CREATE TABLE reporting.unit_ranking (
    ranking_year        integer NOT NULL,
    unit_id             text NOT NULL REFERENCES reporting.units (unit_id),
    rank                integer NOT NULL,
    score               numeric,
    target_count        integer NOT NULL,
    red_projects        integer NOT NULL,
    ytd_investment_yuan bigint NOT NULL,
    as_of_date          date NOT NULL,
    computed_at         timestamptz NOT NULL,
    PRIMARY KEY (ranking_year, unit_id)
);
COMMENT ON TABLE reporting.unit_ranking IS 'Ranking of units for the year (五比五晒): weighted mean of capped completion minus 2 points per red project. 单位排名';
COMMENT ON COLUMN reporting.unit_ranking.ranking_year IS 'Year. 年度';
COMMENT ON COLUMN reporting.unit_ranking.unit_id IS 'Unit. 单位';
COMMENT ON COLUMN reporting.unit_ranking.rank IS 'Rank, 1 is best; ties broken by ytd_investment_yuan. 名次';
COMMENT ON COLUMN reporting.unit_ranking.score IS 'Score (docs/metrics.md); null for a unit without targets. 得分';
COMMENT ON COLUMN reporting.unit_ranking.target_count IS 'Targets of the unit for the year. 目标个数';
COMMENT ON COLUMN reporting.unit_ranking.red_projects IS 'Red projects of the unit. 红灯项目数';
COMMENT ON COLUMN reporting.unit_ranking.ytd_investment_yuan IS 'Investment completed this year over closed months, in yuan. 本年完成投资（元）';
COMMENT ON COLUMN reporting.unit_ranking.as_of_date IS 'As-of date of the figures. 统计截止日期';
COMMENT ON COLUMN reporting.unit_ranking.computed_at IS 'When computed. 计算时间';

CREATE TABLE reporting.project_events (
    event_id       uuid PRIMARY KEY,
    project_id     uuid NOT NULL,
    stream_version bigint NOT NULL,
    event_type     text NOT NULL,
    business_date  date,
    recorded_at    timestamptz NOT NULL,
    actor          text NOT NULL,
    summary        text NOT NULL,
    data           jsonb NOT NULL,
    UNIQUE (project_id, stream_version)
);
COMMENT ON TABLE reporting.project_events IS 'Timeline of every project: each recorded event with who and when. 项目动态';
COMMENT ON COLUMN reporting.project_events.event_id IS 'Event identifier. 事件编号';
COMMENT ON COLUMN reporting.project_events.project_id IS 'Project. 项目编号';
COMMENT ON COLUMN reporting.project_events.stream_version IS 'Version of the event in the project stream, from 0. 事件序号';
COMMENT ON COLUMN reporting.project_events.event_type IS 'Event type, e.g. InvestmentReported. 事件类型';
COMMENT ON COLUMN reporting.project_events.business_date IS 'The day it happened (for monthly reports: the first day of the month). 业务日期';
COMMENT ON COLUMN reporting.project_events.recorded_at IS 'When it was recorded. 记录时间';
COMMENT ON COLUMN reporting.project_events.actor IS 'Who recorded it. 记录人';
COMMENT ON COLUMN reporting.project_events.summary IS 'One-line summary in Chinese. 摘要';
COMMENT ON COLUMN reporting.project_events.data IS 'The event data (current schema version). 事件数据';

CREATE TABLE reporting.projection_status (
    projection       text PRIMARY KEY,
    state            text NOT NULL,
    position_commit  bigint NOT NULL DEFAULT 0,
    position_prepare bigint NOT NULL DEFAULT 0,
    events_applied   bigint NOT NULL DEFAULT 0,
    last_event_at    timestamptz,
    lag_events       bigint NOT NULL DEFAULT 0,
    lag_seconds      double precision NOT NULL DEFAULT 0,
    error            text,
    error_position_commit  bigint,
    error_position_prepare bigint,
    error_event_id   uuid,
    holder           text,
    updated_at       timestamptz NOT NULL
);
COMMENT ON TABLE reporting.projection_status IS 'Freshness and health of each projection. 数据投影状态';
COMMENT ON COLUMN reporting.projection_status.projection IS 'Projection name. 投影名称';
COMMENT ON COLUMN reporting.projection_status.state IS 'running, halted (a poison event stops it), rebuilding or standby. 状态';
COMMENT ON COLUMN reporting.projection_status.position_commit IS 'Checkpoint: commit part of the last applied $all position. 检查点（提交位置）';
COMMENT ON COLUMN reporting.projection_status.position_prepare IS 'Checkpoint: prepare part (event position) of the last applied $all position. 检查点（事件位置）';
COMMENT ON COLUMN reporting.projection_status.events_applied IS 'Events applied since the projection was (re)built. 已处理事件数';
COMMENT ON COLUMN reporting.projection_status.last_event_at IS 'Recorded-at time of the last applied event. 最后处理事件的记录时间';
COMMENT ON COLUMN reporting.projection_status.lag_events IS 'Events in $all not yet applied, at the last update. 积压事件数';
COMMENT ON COLUMN reporting.projection_status.lag_seconds IS 'Age of the oldest unapplied event, in seconds, at the last update. 延迟秒数';
COMMENT ON COLUMN reporting.projection_status.error IS 'Why the projection halted. 错误信息';
COMMENT ON COLUMN reporting.projection_status.error_position_commit IS 'Commit part of the position of the event it halted on. 出错事件提交位置';
COMMENT ON COLUMN reporting.projection_status.error_position_prepare IS 'Position of the event it halted on. 出错事件位置';
COMMENT ON COLUMN reporting.projection_status.error_event_id IS 'Identifier of the event it halted on. 出错事件编号';
COMMENT ON COLUMN reporting.projection_status.holder IS 'Process that holds the projection''s lock. 当前执行进程';
COMMENT ON COLUMN reporting.projection_status.updated_at IS 'Last update of this row. 更新时间';
