-- The metric definitions of DOMAIN.md ("Metrics"), as SQL functions over the reporting tables.
-- One definition serves the projections (which store today's figures in target_progress,
-- unit_ranking and the project lights), the API and BI tools, and the as-of path: every function takes
--   p_as_of   the as-of date D (business dates after D are not counted), and
--   p_cutoff  the recording cut-off: only facts recorded before it count. For "as the ledger stood at
--             the end of day D" pass reporting.end_of_day(D); for the current ledger pass 'infinity'.
-- docs/metrics.md explains every figure in words. The bodies are plain SQL strings (not BEGIN ATOMIC)
-- so that table names resolve when called: a projection rebuild swaps tables under the same names.

ALTER TABLE reporting.supervision_items ADD COLUMN closed_at timestamptz;
COMMENT ON COLUMN reporting.supervision_items.closed_at IS 'When the close-out was recorded. 销号记录时间';

-- The end of a day in the county's time zone: the cut-off for "the ledger at the end of D".
CREATE FUNCTION reporting.end_of_day(p_date date, p_time_zone text DEFAULT 'Asia/Shanghai')
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
$$ SELECT (p_date + 1)::timestamp AT TIME ZONE p_time_zone $$;
COMMENT ON FUNCTION reporting.end_of_day(date, text) IS 'End of a day in the county time zone (default Asia/Shanghai): the cut-off for as-of figures. 某日结束时刻';

-- Closed months m of year Y at D: month(D) − 1 within Y; 12 once Y is over; 0 before Y.
CREATE FUNCTION reporting.closed_months(p_year integer, p_as_of date)
RETURNS integer LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE
     WHEN extract(year FROM p_as_of)::integer > p_year THEN 12
     WHEN extract(year FROM p_as_of)::integer < p_year THEN 0
     ELSE extract(month FROM p_as_of)::integer - 1 END $$;
COMMENT ON FUNCTION reporting.closed_months(integer, date) IS 'Closed months of year Y at date D: month(D) − 1 (12 after Y, 0 before Y). 已结束月份数';

-- The YYYY-MM period that is m months into year Y (m = 0 gives December of Y − 1).
CREATE FUNCTION reporting.period_of(p_year integer, p_month integer)
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(make_date(p_year, 1, 1) + make_interval(months => p_month - 1), 'YYYY-MM') $$;

-- The last day of year Y that counts at D: D itself within Y, 31 December once Y is over.
CREATE FUNCTION reporting.window_end(p_year integer, p_as_of date)
RETURNS date LANGUAGE sql IMMUTABLE AS
$$ SELECT least(p_as_of, make_date(p_year, 12, 31)) $$;

-- Time progress for metrics that are not monthly: elapsed share of the days of Y up to and including D.
CREATE FUNCTION reporting.day_progress_pct(p_year integer, p_as_of date)
RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE
     WHEN p_as_of < make_date(p_year, 1, 1) THEN 0::numeric
     WHEN p_as_of > make_date(p_year, 12, 31) THEN 100::numeric
     ELSE (p_as_of - make_date(p_year, 1, 1) + 1) * 100.0 / (make_date(p_year + 1, 1, 1) - make_date(p_year, 1, 1))
   END $$;
COMMENT ON FUNCTION reporting.day_progress_pct(integer, date) IS 'Time progress for non-monthly metrics: elapsed days of Y up to and including D, in %. 时序进度（按天）';

CREATE FUNCTION reporting.month_progress_pct(p_year integer, p_as_of date)
RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT reporting.closed_months(p_year, p_as_of) * 100.0 / 12 $$;
COMMENT ON FUNCTION reporting.month_progress_pct(integer, date) IS 'Time progress for monthly metrics: closed months ÷ 12 × 100. 时序进度（按月）';

-- Light bands in force at the cut-off (rule events change them): green when gap ≥ green_min_gap,
-- yellow when gap ≥ yellow_min_gap, red below; the start light turns yellow and red after
-- start_yellow_months and start_red_months past the planned start month.
CREATE FUNCTION reporting.light_bands(p_cutoff timestamptz,
    OUT green_min_gap numeric, OUT yellow_min_gap numeric,
    OUT start_yellow_months integer, OUT start_red_months integer)
LANGUAGE sql STABLE AS
$$ SELECT coalesce((s.settings ->> 'green_min_gap')::numeric, -10),
          coalesce((s.settings ->> 'yellow_min_gap')::numeric, -30),
          coalesce((s.settings ->> 'start_yellow_months')::integer, 1),
          coalesce((s.settings ->> 'start_red_months')::integer, 3)
   FROM (SELECT NULL) AS defaults
   LEFT JOIN LATERAL (
     SELECT r.settings FROM reporting.rule_settings r
     WHERE r.rule = 'light_bands' AND r.recorded_at < p_cutoff
     ORDER BY r.seq DESC LIMIT 1) s ON true $$;
COMMENT ON FUNCTION reporting.light_bands(timestamptz) IS 'Light bands in force at the cut-off (defaults −10, −30, 1 and 3 months). 灯色区间';

CREATE FUNCTION reporting.light_for_gap(p_gap numeric, p_cutoff timestamptz)
RETURNS text LANGUAGE sql STABLE AS
$$ SELECT CASE
     WHEN p_gap IS NULL THEN NULL
     WHEN p_gap >= b.green_min_gap THEN 'green'
     WHEN p_gap >= b.yellow_min_gap THEN 'yellow'
     ELSE 'red' END
   FROM reporting.light_bands(p_cutoff) b $$;
COMMENT ON FUNCTION reporting.light_for_gap(numeric, timestamptz) IS 'Light for a gap in percentage points, with the bands in force at the cut-off. 按差距判定红黄绿灯';

-- Monthly figures as recorded before the cut-off: a correction replaces its period's figure. For
-- the current ledger (cut-off 'infinity') that is exactly `monthly_investment`, which is far cheaper
-- to read than picking the latest revision of every report.
CREATE FUNCTION reporting.monthly_figures_as_of(p_cutoff timestamptz)
RETURNS TABLE (project_id uuid, period text, completed_investment_yuan bigint, funds_in_place_yuan bigint)
LANGUAGE sql STABLE AS
$$ SELECT m.project_id, m.period, m.completed_investment_yuan, m.funds_in_place_yuan
   FROM reporting.monthly_investment m
   WHERE p_cutoff = 'infinity'
   UNION ALL
   SELECT * FROM (
     SELECT DISTINCT ON (r.project_id, r.period)
            r.project_id, r.period, r.completed_investment_yuan, r.funds_in_place_yuan
     FROM reporting.monthly_investment_reports r
     WHERE p_cutoff <> 'infinity' AND r.recorded_at < p_cutoff
     ORDER BY r.project_id, r.period, r.revision DESC) latest $$;

-- Each project as the ledger stood: responsible unit, contract investment, planned start and the
-- milestones reached by D, all from facts recorded before the cut-off.
CREATE FUNCTION reporting.projects_as_of(p_as_of date, p_cutoff timestamptz)
RETURNS TABLE (
    project_id uuid, unit_id text, project_kind text, investor_type text, industrial boolean,
    intended_investment_yuan bigint, contract_investment_yuan bigint, contract_signed_date date,
    planned_start_period text, start_date date, completion_date date, production_date date,
    abandoned boolean, size_class text)
LANGUAGE sql STABLE AS
$$
-- Set-based: each history table is read once (latest row per project), then joined.
WITH assignment AS (
  SELECT DISTINCT ON (a.project_id) a.project_id, a.unit_id
  FROM reporting.project_assignments a
  WHERE a.recorded_at < p_cutoff
  ORDER BY a.project_id, a.seq DESC
),
contract AS (
  SELECT DISTINCT ON (g.project_id) g.project_id, g.contract_investment_yuan, g.planned_start_period
  FROM reporting.agreements g
  WHERE g.agreement_kind IN ('formal', 'supplement') AND g.recorded_at < p_cutoff AND g.signed_date <= p_as_of
  ORDER BY g.project_id, g.seq DESC
),
formal AS (
  SELECT g.project_id, min(g.signed_date) AS signed_date
  FROM reporting.agreements g
  WHERE g.agreement_kind = 'formal' AND g.recorded_at < p_cutoff AND g.signed_date <= p_as_of
  GROUP BY g.project_id
),
-- the latest year's plan (its latest revision) that names a start month
plan_start AS (
  SELECT DISTINCT ON (y.project_id) y.project_id, y.planned_start_period
  FROM (
    SELECT DISTINCT ON (ap.project_id, ap.plan_year) ap.project_id, ap.plan_year, ap.planned_start_period
    FROM reporting.annual_plans ap
    WHERE ap.recorded_at < p_cutoff
    ORDER BY ap.project_id, ap.plan_year, ap.revision DESC) y
  WHERE y.planned_start_period IS NOT NULL
  ORDER BY y.project_id, y.plan_year DESC
),
milestone AS (
  SELECT m.project_id,
         max(m.business_date) FILTER (WHERE m.milestone = 'construction_started') AS start_date,
         max(m.business_date) FILTER (WHERE m.milestone = 'construction_completed') AS completion_date,
         max(m.business_date) FILTER (WHERE m.milestone = 'production_started') AS production_date,
         bool_or(m.milestone = 'abandoned') AS abandoned
  FROM reporting.project_milestones m
  WHERE m.recorded_at < p_cutoff AND m.business_date <= p_as_of
  GROUP BY m.project_id
)
SELECT p.project_id, asg.unit_id, p.project_kind, p.investor_type, p.industrial,
       p.intended_investment_yuan, c.contract_investment_yuan, f.signed_date,
       coalesce(ps.planned_start_period, c.planned_start_period),
       ms.start_date, ms.completion_date, ms.production_date, coalesce(ms.abandoned, false),
       reporting.size_class(coalesce(c.contract_investment_yuan, p.intended_investment_yuan))
FROM reporting.projects p
LEFT JOIN assignment asg ON asg.project_id = p.project_id
LEFT JOIN contract c ON c.project_id = p.project_id
LEFT JOIN formal f ON f.project_id = p.project_id
LEFT JOIN plan_start ps ON ps.project_id = p.project_id
LEFT JOIN milestone ms ON ms.project_id = p.project_id
WHERE p.created_at < p_cutoff AND p.registered_date <= p_as_of
$$;

-- Per project: YTD completed investment and funds in place for year Y (periods Y-01 … Y-m), the
-- same for Y − 1 over the same closed months (for YoY), cumulative funds (all periods), the annual
-- plan for Y, and the project's lights. Abandoned projects are listed with abandoned = true; callers
-- leave them out of rates, lights and target actuals.
CREATE FUNCTION reporting.project_figures_as_of(p_year integer, p_as_of date, p_cutoff timestamptz)
RETURNS TABLE (
    project_id uuid, unit_id text, abandoned boolean,
    ytd_investment_yuan bigint, ytd_funds_yuan bigint,
    prior_ytd_investment_yuan bigint, prior_ytd_funds_yuan bigint,
    cumulative_funds_yuan bigint, planned_investment_yuan bigint,
    start_light text, investment_light text, light text)
LANGUAGE sql STABLE AS
$$
WITH params AS (
  SELECT reporting.closed_months(p_year, p_as_of) AS m
),
monthly AS (
  SELECT f.project_id,
         sum(f.completed_investment_yuan) FILTER (WHERE f.period BETWEEN reporting.period_of(p_year, 1) AND reporting.period_of(p_year, params.m)) AS ytd_investment,
         sum(f.funds_in_place_yuan)       FILTER (WHERE f.period BETWEEN reporting.period_of(p_year, 1) AND reporting.period_of(p_year, params.m)) AS ytd_funds,
         sum(f.completed_investment_yuan) FILTER (WHERE f.period BETWEEN reporting.period_of(p_year - 1, 1) AND reporting.period_of(p_year - 1, params.m)) AS prior_investment,
         sum(f.funds_in_place_yuan)       FILTER (WHERE f.period BETWEEN reporting.period_of(p_year - 1, 1) AND reporting.period_of(p_year - 1, params.m)) AS prior_funds,
         sum(f.funds_in_place_yuan) FILTER (WHERE f.period <= to_char(p_as_of, 'YYYY-MM')) AS cumulative_funds
  FROM reporting.monthly_figures_as_of(p_cutoff) f, params
  GROUP BY f.project_id
),
plans AS (
  SELECT DISTINCT ON (ap.project_id) ap.project_id, ap.planned_investment_yuan
  FROM reporting.annual_plans ap
  WHERE ap.plan_year = p_year AND ap.recorded_at < p_cutoff
  ORDER BY ap.project_id, ap.revision DESC
),
figures AS (
  SELECT p.project_id, p.unit_id, p.abandoned,
         -- With m = 0 no month is closed: the BETWEEN ranges above are empty (Y-01 > (Y-1)-12).
         coalesce(mo.ytd_investment, 0)::bigint AS ytd_investment_yuan,
         coalesce(mo.ytd_funds, 0)::bigint AS ytd_funds_yuan,
         coalesce(mo.prior_investment, 0)::bigint AS prior_ytd_investment_yuan,
         coalesce(mo.prior_funds, 0)::bigint AS prior_ytd_funds_yuan,
         coalesce(mo.cumulative_funds, 0)::bigint AS cumulative_funds_yuan,
         pl.planned_investment_yuan,
         CASE
           WHEN p.abandoned OR p.start_date IS NOT NULL OR p.planned_start_period IS NULL THEN NULL
           ELSE (extract(year FROM p_as_of)::integer * 12 + extract(month FROM p_as_of)::integer)
              - (left(p.planned_start_period, 4)::integer * 12 + right(p.planned_start_period, 2)::integer)
         END AS months_late,
         CASE
           WHEN p.abandoned OR p.start_date IS NULL OR coalesce(pl.planned_investment_yuan, 0) = 0 THEN NULL
           ELSE coalesce(mo.ytd_investment, 0) * 100.0 / pl.planned_investment_yuan
                - reporting.month_progress_pct(p_year, p_as_of)
         END AS investment_gap
  FROM reporting.projects_as_of(p_as_of, p_cutoff) p
  LEFT JOIN monthly mo ON mo.project_id = p.project_id
  LEFT JOIN plans pl ON pl.project_id = p.project_id
),
lit AS (
  SELECT f.*,
         CASE WHEN f.months_late IS NULL THEN NULL
              WHEN f.months_late >= b.start_red_months THEN 'red'
              WHEN f.months_late >= b.start_yellow_months THEN 'yellow'
              ELSE 'green' END AS start_light,
         -- the bands are read once (light_for_gap per row would query them per project)
         CASE WHEN f.investment_gap IS NULL THEN NULL
              WHEN round(f.investment_gap, 2) >= b.green_min_gap THEN 'green'
              WHEN round(f.investment_gap, 2) >= b.yellow_min_gap THEN 'yellow'
              ELSE 'red' END AS investment_light
  FROM figures f CROSS JOIN reporting.light_bands(p_cutoff) b
)
SELECT l.project_id, l.unit_id, l.abandoned,
       l.ytd_investment_yuan, l.ytd_funds_yuan, l.prior_ytd_investment_yuan, l.prior_ytd_funds_yuan,
       l.cumulative_funds_yuan, l.planned_investment_yuan,
       l.start_light, l.investment_light,
       CASE WHEN 'red' IN (l.start_light, l.investment_light) THEN 'red'
            WHEN 'yellow' IN (l.start_light, l.investment_light) THEN 'yellow'
            WHEN 'green' IN (l.start_light, l.investment_light) THEN 'green' END AS light
FROM lit l
$$;
COMMENT ON FUNCTION reporting.project_figures_as_of(integer, date, timestamptz) IS 'Per project: YTD, prior-year YTD over the same closed months, cumulative funds, annual plan and lights, as of D and the cut-off. 项目指标（可回溯）';

-- Actual of every target metric for year Y at D, per project; summed per scope by target_actuals_as_of.
CREATE FUNCTION reporting.project_metric_values_as_of(p_year integer, p_as_of date, p_cutoff timestamptz)
RETURNS TABLE (project_id uuid, unit_id text, metric text, metric_value numeric)
LANGUAGE sql STABLE AS
$$
WITH win AS (
  SELECT make_date(p_year, 1, 1) AS first_day, reporting.window_end(p_year, p_as_of) AS last_day
),
area_now AS (
  SELECT DISTINCT ON (e.project_id) e.project_id, e.area_mu
  FROM reporting.expropriation_reports e, win
  WHERE e.recorded_at < p_cutoff AND e.as_of_date <= win.last_day
  ORDER BY e.project_id, e.as_of_date DESC, e.seq DESC
),
area_before AS (
  SELECT DISTINCT ON (e.project_id) e.project_id, e.area_mu
  FROM reporting.expropriation_reports e, win
  WHERE e.recorded_at < p_cutoff AND e.as_of_date < win.first_day
  ORDER BY e.project_id, e.as_of_date DESC, e.seq DESC
),
p AS (
  SELECT pa.*, pf.ytd_investment_yuan, pf.ytd_funds_yuan,
         (pa.contract_signed_date BETWEEN win.first_day AND win.last_day) AS signed_in_year,
         (pa.start_date BETWEEN win.first_day AND win.last_day) AS started_in_year,
         (pa.production_date BETWEEN win.first_day AND win.last_day) AS production_in_year,
         coalesce(an.area_mu, 0) - coalesce(ab.area_mu, 0) AS expropriated_in_year
  FROM reporting.projects_as_of(p_as_of, p_cutoff) pa
  JOIN reporting.project_figures_as_of(p_year, p_as_of, p_cutoff) pf USING (project_id)
  LEFT JOIN area_now an ON an.project_id = pa.project_id
  LEFT JOIN area_before ab ON ab.project_id = pa.project_id
  CROSS JOIN win
  WHERE NOT pa.abandoned
)
SELECT p.project_id, p.unit_id, v.metric, v.metric_value
FROM p
CROSS JOIN LATERAL (VALUES
  ('completed_investment', p.ytd_investment_yuan::numeric),
  ('funds_in_place', p.ytd_funds_yuan::numeric),
  ('signed_projects', CASE WHEN p.signed_in_year THEN 1 ELSE 0 END::numeric),
  ('signed_investment', CASE WHEN p.signed_in_year THEN coalesce(p.contract_investment_yuan, 0) ELSE 0 END::numeric),
  ('big_projects_signed', CASE WHEN p.signed_in_year AND p.contract_investment_yuan >= 100000000 THEN 1 ELSE 0 END::numeric),
  ('started_projects', CASE WHEN p.started_in_year THEN 1 ELSE 0 END::numeric),
  ('production_projects', CASE WHEN p.production_in_year THEN 1 ELSE 0 END::numeric),
  ('expropriated_area', p.expropriated_in_year::numeric)
) AS v (metric, metric_value)
$$;

-- The eight target metrics, whether monthly (time progress by closed months) or by days.
CREATE FUNCTION reporting.target_metrics()
RETURNS TABLE (metric text, monthly boolean, ordinal integer)
LANGUAGE sql IMMUTABLE AS
$$ VALUES ('completed_investment', true, 1), ('funds_in_place', true, 2),
          ('signed_projects', false, 3), ('signed_investment', false, 4),
          ('big_projects_signed', false, 5), ('started_projects', false, 6),
          ('production_projects', false, 7), ('expropriated_area', false, 8) $$;

-- Target progress for year Y at D: one row per scope ('county' and every unit) and metric.
CREATE FUNCTION reporting.target_progress_as_of(p_year integer, p_as_of date, p_cutoff timestamptz)
RETURNS TABLE (
    target_year integer, scope text, metric text, target_value numeric, actual_value numeric,
    completion_pct numeric, time_progress_pct numeric, gap_pp numeric, light text)
LANGUAGE sql STABLE AS
$$
WITH scopes AS (
  SELECT 'county'::text AS scope
  UNION ALL
  SELECT u.unit_id FROM reporting.units u WHERE u.created_at < p_cutoff
),
values_by_project AS (
  SELECT * FROM reporting.project_metric_values_as_of(p_year, p_as_of, p_cutoff)
),
summed AS (
  SELECT coalesce(v.unit_id, 'county') AS scope, v.metric, sum(v.metric_value) AS actual_value, grouping(v.unit_id) AS county
  FROM values_by_project v
  GROUP BY GROUPING SETS ((v.metric, v.unit_id), (v.metric))
),
actuals AS (
  SELECT s.scope, tm.metric, tm.monthly, tm.ordinal, coalesce(sm.actual_value, 0) AS actual_value
  FROM scopes s CROSS JOIN reporting.target_metrics() tm
  LEFT JOIN summed sm ON sm.metric = tm.metric
       AND ((s.scope = 'county' AND sm.county = 1) OR (s.scope <> 'county' AND sm.county = 0 AND sm.scope = s.scope))
),
current_targets AS (
  SELECT DISTINCT ON (t.scope, t.metric) t.scope, t.metric, t.target_value
  FROM reporting.targets t
  WHERE t.target_year = p_year AND t.recorded_at < p_cutoff
  ORDER BY t.scope, t.metric, t.revision DESC
),
computed AS (
  SELECT a.scope, a.metric, a.ordinal, ct.target_value, a.actual_value,
         CASE WHEN ct.target_value > 0 THEN a.actual_value * 100.0 / ct.target_value END AS completion_pct,
         CASE WHEN a.monthly THEN reporting.month_progress_pct(p_year, p_as_of)
              ELSE reporting.day_progress_pct(p_year, p_as_of) END AS time_progress_pct
  FROM actuals a
  LEFT JOIN current_targets ct ON ct.scope = a.scope AND ct.metric = a.metric
)
SELECT p_year, c.scope, c.metric, c.target_value, c.actual_value,
       round(c.completion_pct, 2), round(c.time_progress_pct, 2),
       round(c.completion_pct - c.time_progress_pct, 2),
       reporting.light_for_gap(round(c.completion_pct - c.time_progress_pct, 2), p_cutoff)
FROM computed c
ORDER BY c.scope = 'county' DESC, c.scope, c.ordinal
$$;
COMMENT ON FUNCTION reporting.target_progress_as_of(integer, date, timestamptz) IS 'Target progress of year Y at D with facts recorded before the cut-off (as-of reports). 目标进度（可回溯）';

-- Unit ranking for year Y at D: weighted mean of min(completion, 150) over the unit's targets, minus
-- 2 points per red project; ties broken by YTD completed investment.
CREATE FUNCTION reporting.unit_ranking_as_of(p_year integer, p_as_of date, p_cutoff timestamptz)
RETURNS TABLE (
    ranking_year integer, unit_id text, rank bigint, score numeric, target_count integer,
    red_projects integer, ytd_investment_yuan bigint)
LANGUAGE sql STABLE AS
$$
WITH rule AS (
  -- Without a ranking rule every metric weighs 1; with one, a metric it does not list weighs 0.
  SELECT (SELECT s.settings FROM reporting.rule_settings s
           WHERE s.rule = 'ranking_weights' AND s.recorded_at < p_cutoff
           ORDER BY s.seq DESC LIMIT 1) AS settings
),
ranking AS (
  SELECT coalesce((rule.settings ->> 'completion_cap')::numeric, 150) AS cap,
         coalesce((rule.settings ->> 'red_project_penalty')::numeric, 2) AS penalty,
         rule.settings
  FROM rule
),
progress AS (
  SELECT tp.scope, tp.metric, tp.completion_pct,
         CASE WHEN r.settings IS NULL THEN 1
              ELSE coalesce((r.settings -> 'weights' ->> tp.metric)::numeric, 0) END AS weight
  FROM reporting.target_progress_as_of(p_year, p_as_of, p_cutoff) tp CROSS JOIN ranking r
  WHERE tp.scope <> 'county' AND tp.completion_pct IS NOT NULL
),
figures AS (
  SELECT * FROM reporting.project_figures_as_of(p_year, p_as_of, p_cutoff) WHERE NOT abandoned
),
unit_scores AS (
  SELECT p.scope AS unit_id,
         sum(p.weight * least(p.completion_pct, r.cap)) / nullif(sum(p.weight), 0) AS weighted_completion,
         count(*) FILTER (WHERE p.weight > 0) AS target_count
  FROM progress p CROSS JOIN ranking r
  GROUP BY p.scope
),
unit_figures AS (
  SELECT f.unit_id, count(*) FILTER (WHERE f.light = 'red') AS red_projects, sum(f.ytd_investment_yuan) AS ytd
  FROM figures f
  GROUP BY f.unit_id
),
per_unit AS (
  SELECT u.unit_id, us.weighted_completion, coalesce(us.target_count, 0)::integer AS target_count,
         coalesce(uf.red_projects, 0)::integer AS red_projects,
         coalesce(uf.ytd, 0)::bigint AS ytd_investment_yuan,
         (SELECT r.penalty FROM ranking r) AS penalty
  FROM reporting.units u
  LEFT JOIN unit_scores us ON us.unit_id = u.unit_id
  LEFT JOIN unit_figures uf ON uf.unit_id = u.unit_id
  WHERE u.created_at < p_cutoff
)
SELECT p_year, pu.unit_id,
       rank() OVER (ORDER BY pu.weighted_completion - pu.penalty * pu.red_projects DESC NULLS LAST, pu.ytd_investment_yuan DESC),
       round(pu.weighted_completion - pu.penalty * pu.red_projects, 2),
       pu.target_count, pu.red_projects, pu.ytd_investment_yuan
FROM per_unit pu
ORDER BY 3, pu.unit_id
$$;
COMMENT ON FUNCTION reporting.unit_ranking_as_of(integer, date, timestamptz) IS 'Unit ranking of year Y at D (五比五晒), as-of capable. 单位排名（可回溯）';

-- The dashboard's headline figures for year Y at D, for the county (p_unit NULL) or one unit.
-- Rates are percentages rounded to 2 decimals and NULL when their denominator is 0.
CREATE FUNCTION reporting.dashboard_as_of(p_year integer, p_as_of date, p_cutoff timestamptz, p_unit text DEFAULT NULL)
RETURNS TABLE (
    dashboard_year integer, scope text, as_of_date date, closed_months integer,
    month_progress_pct numeric, day_progress_pct numeric,
    project_count integer, abandoned_count integer,
    ytd_investment_yuan bigint, ytd_funds_yuan bigint,
    prior_ytd_investment_yuan bigint, yoy_investment_pct numeric,
    prior_ytd_funds_yuan bigint, yoy_funds_pct numeric,
    planned_investment_yuan bigint, plan_completion_pct numeric,
    start_due_count integer, start_started_count integer, start_rate_pct numeric,
    performance_due_count integer, performance_started_count integer, performance_rate_pct numeric,
    contracted_count integer, cumulative_funds_yuan bigint, contract_investment_yuan bigint, funds_in_place_rate_pct numeric,
    signed_count integer, signed_investment_yuan bigint, signed_big_count integer, signed_industrial_10m_count integer,
    signed_by_investor_type jsonb, size_classes jsonb,
    red_count integer, yellow_count integer, green_count integer,
    expropriation_target_area_mu numeric, expropriation_area_mu numeric, expropriation_area_pct numeric,
    expropriation_target_households integer, expropriation_households_signed integer, expropriation_households_pct numeric,
    supervision_opened_count integer, supervision_closed_count integer, supervision_close_rate_pct numeric,
    supervision_overdue_count integer, supervision_due_soon_count integer)
LANGUAGE sql STABLE AS
$$
WITH pa AS (
  SELECT * FROM reporting.projects_as_of(p_as_of, p_cutoff) WHERE p_unit IS NULL OR unit_id = p_unit
),
pf AS (
  SELECT f.* FROM reporting.project_figures_as_of(p_year, p_as_of, p_cutoff) f
  JOIN pa USING (project_id)
),
live AS (
  SELECT pa.*, pf.ytd_investment_yuan, pf.ytd_funds_yuan, pf.prior_ytd_investment_yuan, pf.prior_ytd_funds_yuan,
         pf.cumulative_funds_yuan, pf.planned_investment_yuan, pf.light
  FROM pa JOIN pf USING (project_id)
  WHERE NOT pa.abandoned
),
k AS (
  SELECT reporting.closed_months(p_year, p_as_of) AS m,
         reporting.period_of(p_year, reporting.closed_months(p_year, p_as_of)) AS last_closed_period,
         make_date(p_year, 1, 1) AS first_day,
         reporting.window_end(p_year, p_as_of) AS last_day
),
signed AS (
  SELECT live.* FROM live, k WHERE live.contract_signed_date BETWEEN k.first_day AND k.last_day
),
sums AS (
  SELECT
    (SELECT count(*) FROM live)::integer AS project_count,
    (SELECT count(*) FROM pa WHERE pa.abandoned)::integer AS abandoned_count,
    (SELECT coalesce(sum(ytd_investment_yuan), 0) FROM live)::bigint AS ytd_investment,
    (SELECT coalesce(sum(ytd_funds_yuan), 0) FROM live)::bigint AS ytd_funds,
    (SELECT coalesce(sum(prior_ytd_investment_yuan), 0) FROM live)::bigint AS prior_investment,
    (SELECT coalesce(sum(prior_ytd_funds_yuan), 0) FROM live)::bigint AS prior_funds,
    (SELECT sum(planned_investment_yuan) FROM live WHERE planned_investment_yuan IS NOT NULL)::bigint AS planned,
    (SELECT count(*) FROM live, k WHERE left(live.planned_start_period, 4)::integer = p_year
        AND live.planned_start_period <= k.last_closed_period)::integer AS start_due,
    (SELECT count(*) FROM live, k WHERE left(live.planned_start_period, 4)::integer = p_year
        AND live.planned_start_period <= k.last_closed_period AND live.start_date IS NOT NULL)::integer AS start_started,
    (SELECT count(*) FROM live, k WHERE live.contract_signed_date IS NOT NULL
        AND live.planned_start_period <= k.last_closed_period)::integer AS perf_due,
    (SELECT count(*) FROM live, k WHERE live.contract_signed_date IS NOT NULL
        AND live.planned_start_period <= k.last_closed_period AND live.start_date IS NOT NULL)::integer AS perf_started,
    (SELECT count(*) FROM live WHERE live.contract_signed_date IS NOT NULL)::integer AS contracted,
    (SELECT coalesce(sum(cumulative_funds_yuan), 0) FROM live WHERE live.contract_signed_date IS NOT NULL)::bigint AS contracted_funds,
    (SELECT coalesce(sum(contract_investment_yuan), 0) FROM live WHERE live.contract_signed_date IS NOT NULL)::bigint AS contracted_investment,
    (SELECT count(*) FROM signed)::integer AS signed_count,
    (SELECT coalesce(sum(contract_investment_yuan), 0) FROM signed)::bigint AS signed_investment,
    (SELECT count(*) FROM signed WHERE contract_investment_yuan >= 100000000)::integer AS signed_big,
    (SELECT count(*) FROM signed WHERE industrial AND contract_investment_yuan >= 10000000)::integer AS signed_industrial_10m,
    (SELECT coalesce(jsonb_object_agg(t.investor_type, jsonb_build_object('count', t.n, 'investment_yuan', t.inv)), '{}'::jsonb)
       FROM (SELECT investor_type, count(*) AS n, sum(contract_investment_yuan) AS inv FROM signed GROUP BY investor_type) t) AS by_investor,
    (SELECT coalesce(jsonb_object_agg(t.size_class, t.n), '{}'::jsonb)
       FROM (SELECT size_class, count(*) AS n FROM live GROUP BY size_class) t) AS size_classes,
    (SELECT count(*) FROM live WHERE light = 'red')::integer AS red,
    (SELECT count(*) FROM live WHERE light = 'yellow')::integer AS yellow,
    (SELECT count(*) FROM live WHERE light = 'green')::integer AS green
),
expro AS (
  SELECT sum(t.area_mu) AS target_area, sum(t.households)::integer AS target_households,
         coalesce(sum(r.area_mu), 0) AS area, coalesce(sum(r.households_signed), 0)::integer AS households_signed
  FROM live
  JOIN reporting.expropriation_targets t ON t.project_id = live.project_id AND t.recorded_at < p_cutoff
  LEFT JOIN (
    SELECT DISTINCT ON (e.project_id) e.project_id, e.area_mu, e.households_signed
    FROM reporting.expropriation_reports e
    WHERE e.recorded_at < p_cutoff AND e.as_of_date <= p_as_of
    ORDER BY e.project_id, e.as_of_date DESC, e.seq DESC) r ON r.project_id = live.project_id
),
items AS (
  SELECT si.*, (si.closed_at IS NOT NULL AND si.closed_at < p_cutoff AND si.closed_date <= p_as_of) AS closed_then
  FROM reporting.supervision_items si
  WHERE si.opened_at < p_cutoff AND si.opened_date <= p_as_of
    AND (p_unit IS NULL OR si.lead_unit_id = p_unit)
),
sup AS (
  SELECT count(*) FILTER (WHERE extract(year FROM opened_date)::integer = p_year)::integer AS opened,
         count(*) FILTER (WHERE extract(year FROM opened_date)::integer = p_year AND closed_then)::integer AS closed,
         count(*) FILTER (WHERE NOT closed_then AND deadline_date < p_as_of)::integer AS overdue,
         count(*) FILTER (WHERE NOT closed_then AND deadline_date >= p_as_of AND deadline_date <= p_as_of + 3)::integer AS due_soon
  FROM items
)
SELECT p_year, coalesce(p_unit, 'county'), p_as_of, k.m,
       round(reporting.month_progress_pct(p_year, p_as_of), 2), round(reporting.day_progress_pct(p_year, p_as_of), 2),
       s.project_count, s.abandoned_count,
       s.ytd_investment, s.ytd_funds,
       s.prior_investment, round((s.ytd_investment - s.prior_investment) * 100.0 / nullif(s.prior_investment, 0), 2),
       s.prior_funds, round((s.ytd_funds - s.prior_funds) * 100.0 / nullif(s.prior_funds, 0), 2),
       s.planned, round(s.ytd_investment * 100.0 / nullif(s.planned, 0), 2),
       s.start_due, s.start_started, round(s.start_started * 100.0 / nullif(s.start_due, 0), 2),
       s.perf_due, s.perf_started, round(s.perf_started * 100.0 / nullif(s.perf_due, 0), 2),
       s.contracted, s.contracted_funds, s.contracted_investment,
       round(s.contracted_funds * 100.0 / nullif(s.contracted_investment, 0), 2),
       s.signed_count, s.signed_investment, s.signed_big, s.signed_industrial_10m,
       s.by_investor, s.size_classes,
       s.red, s.yellow, s.green,
       e.target_area, e.area, round(e.area * 100.0 / nullif(e.target_area, 0), 2),
       e.target_households, e.households_signed, round(e.households_signed * 100.0 / nullif(e.target_households, 0), 2),
       sup.opened, sup.closed, round(sup.closed * 100.0 / nullif(sup.opened, 0), 2),
       sup.overdue, sup.due_soon
FROM k, sums s, expro e, sup
$$;
COMMENT ON FUNCTION reporting.dashboard_as_of(integer, date, timestamptz, text) IS 'Dashboard figures of year Y at D for the county or one unit, as-of capable (docs/metrics.md). 领导驾驶舱指标（可回溯）';

-- Today's figures: refresh the date-dependent tables (target_progress, unit_ranking, project lights
-- and YTD, supervision deadline flags) for year Y at D with everything recorded. Projections call it
-- after each batch and a timer calls it when the date changes.
CREATE FUNCTION reporting.refresh_current(p_year integer, p_as_of date)
RETURNS void LANGUAGE plpgsql AS
$$
BEGIN
  DELETE FROM reporting.target_progress WHERE target_year = p_year;
  INSERT INTO reporting.target_progress
    (target_year, scope, metric, target_value, actual_value, completion_pct, time_progress_pct, gap_pp, light, as_of_date, computed_at)
  SELECT tp.target_year, tp.scope, tp.metric, tp.target_value, tp.actual_value, tp.completion_pct,
         tp.time_progress_pct, tp.gap_pp, tp.light, p_as_of, now()
  FROM reporting.target_progress_as_of(p_year, p_as_of, 'infinity') tp;

  DELETE FROM reporting.unit_ranking WHERE ranking_year = p_year;
  INSERT INTO reporting.unit_ranking
    (ranking_year, unit_id, rank, score, target_count, red_projects, ytd_investment_yuan, as_of_date, computed_at)
  SELECT r.ranking_year, r.unit_id, r.rank, r.score, r.target_count, r.red_projects, r.ytd_investment_yuan, p_as_of, now()
  FROM reporting.unit_ranking_as_of(p_year, p_as_of, 'infinity') r;

  -- The ledger's lights and YTD are those of the current year only.
  IF p_year = extract(year FROM p_as_of)::integer THEN
  UPDATE reporting.projects p
     SET ytd_investment_yuan = f.ytd_investment_yuan,
         start_light = f.start_light,
         investment_light = f.investment_light,
         light = f.light
    FROM reporting.project_figures_as_of(p_year, p_as_of, 'infinity') f
   WHERE f.project_id = p.project_id
     AND (p.ytd_investment_yuan, p.start_light, p.investment_light, p.light)
         IS DISTINCT FROM (f.ytd_investment_yuan, f.start_light, f.investment_light, f.light);
  END IF;

  UPDATE reporting.supervision_items s
     SET overdue = (s.item_status <> 'closed' AND s.deadline_date < p_as_of),
         due_soon = (s.item_status <> 'closed' AND s.deadline_date >= p_as_of AND s.deadline_date <= p_as_of + 3)
   WHERE (s.overdue, s.due_soon) IS DISTINCT FROM
         (s.item_status <> 'closed' AND s.deadline_date < p_as_of,
          s.item_status <> 'closed' AND s.deadline_date >= p_as_of AND s.deadline_date <= p_as_of + 3);
END
$$;
COMMENT ON FUNCTION reporting.refresh_current(integer, date) IS 'Recomputes the date-dependent reporting tables for year Y at D. 刷新当日指标';
