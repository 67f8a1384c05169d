,
-- dashboard_as_of: the headline figures of Y at D for the county (?4 NULL) or the unit ?4.
-- Rates are percentages rounded to 2 decimals, NULL when their denominator is 0.
d_pa AS (
  SELECT pa.* FROM pa WHERE ?4 IS NULL OR pa.unit_id = ?4
),
d_live AS (
  SELECT d_pa.*, pf.ytd_investment_yuan, pf.ytd_funds_yuan, pf.prior_ytd_investment_yuan, pf.prior_ytd_funds_yuan,
         pf.cumulative_funds_yuan, pf.planned_investment_yuan, pf.light
  FROM d_pa JOIN pf ON pf.project_id = d_pa.project_id
  WHERE NOT d_pa.abandoned
),
d_signed AS (
  SELECT l.* FROM d_live l, params p WHERE l.contract_signed_date BETWEEN p.first_day AND p.last_day
),
d_sums AS (
  SELECT
    (SELECT count(*) FROM d_live) AS project_count,
    (SELECT count(*) FROM d_pa WHERE d_pa.abandoned) AS abandoned_count,
    (SELECT coalesce(sum(ytd_investment_yuan), 0) FROM d_live) AS ytd_investment,
    (SELECT coalesce(sum(ytd_funds_yuan), 0) FROM d_live) AS ytd_funds,
    (SELECT coalesce(sum(prior_ytd_investment_yuan), 0) FROM d_live) AS prior_investment,
    (SELECT coalesce(sum(prior_ytd_funds_yuan), 0) FROM d_live) AS prior_funds,
    (SELECT sum(planned_investment_yuan) FROM d_live WHERE planned_investment_yuan IS NOT NULL) AS planned,
    (SELECT count(*) FROM d_live l, params p WHERE CAST(substr(l.planned_start_period, 1, 4) AS INTEGER) = p.y
        AND l.planned_start_period <= p.last_closed_period) AS start_due,
    (SELECT count(*) FROM d_live l, params p WHERE CAST(substr(l.planned_start_period, 1, 4) AS INTEGER) = p.y
        AND l.planned_start_period <= p.last_closed_period AND l.start_date IS NOT NULL) AS start_started,
    (SELECT count(*) FROM d_live l, params p WHERE l.contract_signed_date IS NOT NULL
        AND l.planned_start_period <= p.last_closed_period) AS perf_due,
    (SELECT count(*) FROM d_live l, params p WHERE l.contract_signed_date IS NOT NULL
        AND l.planned_start_period <= p.last_closed_period AND l.start_date IS NOT NULL) AS perf_started,
    (SELECT count(*) FROM d_live l WHERE l.contract_signed_date IS NOT NULL) AS contracted,
    (SELECT coalesce(sum(cumulative_funds_yuan), 0) FROM d_live l WHERE l.contract_signed_date IS NOT NULL) AS contracted_funds,
    (SELECT coalesce(sum(contract_investment_yuan), 0) FROM d_live l WHERE l.contract_signed_date IS NOT NULL) AS contracted_investment,
    (SELECT count(*) FROM d_signed) AS signed_count,
    (SELECT coalesce(sum(contract_investment_yuan), 0) FROM d_signed) AS signed_investment,
    (SELECT count(*) FROM d_signed WHERE contract_investment_yuan >= 100000000) AS signed_big,
    (SELECT count(*) FROM d_signed WHERE industrial AND contract_investment_yuan >= 10000000) AS signed_industrial_10m,
    -- jsonb text as PostgreSQL prints it: keys by byte length, then bytes; ", " and ": "
    (SELECT coalesce('{' || group_concat(json_quote(t.investor_type) || ': {"count": ' || t.n || ', "investment_yuan": ' || coalesce(t.inv, 'null') || '}', ', '
                                         ORDER BY length(CAST(t.investor_type AS BLOB)), CAST(t.investor_type AS BLOB)) || '}', '{}')
       FROM (SELECT investor_type, count(*) AS n, sum(contract_investment_yuan) AS inv FROM d_signed GROUP BY investor_type) t) AS by_investor,
    (SELECT coalesce('{' || group_concat(json_quote(t.size_class) || ': ' || t.n, ', '
                                         ORDER BY length(CAST(t.size_class AS BLOB)), CAST(t.size_class AS BLOB)) || '}', '{}')
       FROM (SELECT size_class, count(*) AS n FROM d_live GROUP BY size_class) t) AS size_classes,
    (SELECT count(*) FROM d_live WHERE light = 'red') AS red,
    (SELECT count(*) FROM d_live WHERE light = 'yellow') AS yellow,
    (SELECT count(*) FROM d_live WHERE light = 'green') AS green
),
-- areas in ten-thousandths of a mu; the *_reported flags say whether PostgreSQL's sum would be
-- a 4-decimal numeric or its plain 0 / NULL
d_expro AS (
  SELECT sum(CAST(replace(t.area_mu, '.', '') AS INTEGER)) AS target_area4,
         sum(t.households) AS target_households,
         coalesce(sum(r.area4), 0) AS area4, count(r.area4) > 0 AS area_reported,
         coalesce(sum(r.households_signed), 0) AS households_signed
  FROM d_live
  CROSS JOIN params p
  JOIN reporting_expropriation_targets t ON t.project_id = d_live.project_id
       AND (p.cutoff IS NULL OR /*T*/(substr(t.recorded_at, 1, 19) || substr(CASE WHEN substr(t.recorded_at, 20, 1) = '.' THEN substr(t.recorded_at, 21, length(t.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
  LEFT JOIN (
    SELECT x.project_id, x.area4, x.households_signed FROM (
      SELECT e.project_id, CAST(replace(e.area_mu, '.', '') AS INTEGER) AS area4, e.households_signed,
             row_number() OVER (PARTITION BY e.project_id ORDER BY e.as_of_date DESC, e.seq DESC) AS rn
      FROM reporting_expropriation_reports e, params p2
      WHERE e.as_of_date <= p2.d
        AND (p2.cutoff IS NULL OR /*T*/(substr(e.recorded_at, 1, 19) || substr(CASE WHEN substr(e.recorded_at, 20, 1) = '.' THEN substr(e.recorded_at, 21, length(e.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p2.cutoff)) x
    WHERE x.rn = 1) r ON r.project_id = d_live.project_id
),
d_items AS (
  SELECT si.opened_date, si.deadline_date,
         (si.closed_at IS NOT NULL AND si.closed_date <= p.d
          AND (p.cutoff IS NULL OR /*T*/(substr(si.closed_at, 1, 19) || substr(CASE WHEN substr(si.closed_at, 20, 1) = '.' THEN substr(si.closed_at, 21, length(si.closed_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)) AS closed_then
  FROM reporting_supervision_items si, params p
  WHERE si.opened_date <= p.d
    AND (p.cutoff IS NULL OR /*T*/(substr(si.opened_at, 1, 19) || substr(CASE WHEN substr(si.opened_at, 20, 1) = '.' THEN substr(si.opened_at, 21, length(si.opened_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
    AND (?4 IS NULL OR si.lead_unit_id = ?4)
),
d_sup AS (
  SELECT coalesce(sum(CAST(substr(i.opened_date, 1, 4) AS INTEGER) = p.y), 0) AS opened,
         coalesce(sum(CAST(substr(i.opened_date, 1, 4) AS INTEGER) = p.y AND i.closed_then), 0) AS closed,
         coalesce(sum(NOT i.closed_then AND i.deadline_date < p.d), 0) AS overdue,
         coalesce(sum(NOT i.closed_then AND i.deadline_date >= p.d AND i.deadline_date <= date(p.d, '+3 days')), 0) AS due_soon
  FROM params p LEFT JOIN d_items i ON true
),
-- every rate as (numerator, denominator), rounded below by the one H formula
d_ratios AS (
  SELECT p.*, s.*, e.*, sup.*,
         p.m AS month_n, 12 AS month_d,
         s.ytd_investment - s.prior_investment AS yoy_inv_n, s.prior_investment AS yoy_inv_d,
         s.ytd_funds - s.prior_funds AS yoy_funds_n, s.prior_funds AS yoy_funds_d
  FROM params p, d_sums s, d_expro e, d_sup sup
),
d_h AS (
  SELECT r.*,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.m AS n, 12 AS d)) AS month_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.day_num AS n, r.day_den AS d)) AS day_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.yoy_inv_n AS n, r.yoy_inv_d AS d)) AS yoy_inv_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.yoy_funds_n AS n, r.yoy_funds_d AS d)) AS yoy_funds_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.ytd_investment AS n, r.planned AS d)) AS plan_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.start_started AS n, r.start_due AS d)) AS start_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.perf_started AS n, r.perf_due AS d)) AS perf_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.contracted_funds AS n, r.contracted_investment AS d)) AS funds_rate_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.area4 AS n, r.target_area4 AS d)) AS area_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.households_signed AS n, r.target_households AS d)) AS households_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END FROM (SELECT r.closed AS n, r.opened AS d)) AS close_h
  FROM d_ratios r
)
SELECT h.y AS dashboard_year, coalesce(?4, 'county') AS scope, h.d AS as_of_date, h.m AS closed_months,
       /*P*/CASE WHEN h.month_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.month_h < 0 THEN '-' ELSE '' END, abs(h.month_h) / 100, abs(h.month_h) % 100) END AS month_progress_pct,
       /*P*/CASE WHEN h.day_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.day_h < 0 THEN '-' ELSE '' END, abs(h.day_h) / 100, abs(h.day_h) % 100) END AS day_progress_pct,
       h.project_count, h.abandoned_count,
       h.ytd_investment AS ytd_investment_yuan, h.ytd_funds AS ytd_funds_yuan,
       h.prior_investment AS prior_ytd_investment_yuan,
       /*P*/CASE WHEN h.yoy_inv_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.yoy_inv_h < 0 THEN '-' ELSE '' END, abs(h.yoy_inv_h) / 100, abs(h.yoy_inv_h) % 100) END AS yoy_investment_pct,
       h.prior_funds AS prior_ytd_funds_yuan,
       /*P*/CASE WHEN h.yoy_funds_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.yoy_funds_h < 0 THEN '-' ELSE '' END, abs(h.yoy_funds_h) / 100, abs(h.yoy_funds_h) % 100) END AS yoy_funds_pct,
       h.planned AS planned_investment_yuan,
       /*P*/CASE WHEN h.plan_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.plan_h < 0 THEN '-' ELSE '' END, abs(h.plan_h) / 100, abs(h.plan_h) % 100) END AS plan_completion_pct,
       h.start_due AS start_due_count, h.start_started AS start_started_count,
       /*P*/CASE WHEN h.start_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.start_h < 0 THEN '-' ELSE '' END, abs(h.start_h) / 100, abs(h.start_h) % 100) END AS start_rate_pct,
       h.perf_due AS performance_due_count, h.perf_started AS performance_started_count,
       /*P*/CASE WHEN h.perf_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.perf_h < 0 THEN '-' ELSE '' END, abs(h.perf_h) / 100, abs(h.perf_h) % 100) END AS performance_rate_pct,
       h.contracted AS contracted_count, h.contracted_funds AS cumulative_funds_yuan,
       h.contracted_investment AS contract_investment_yuan,
       /*P*/CASE WHEN h.funds_rate_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.funds_rate_h < 0 THEN '-' ELSE '' END, abs(h.funds_rate_h) / 100, abs(h.funds_rate_h) % 100) END AS funds_in_place_rate_pct,
       h.signed_count, h.signed_investment AS signed_investment_yuan, h.signed_big AS signed_big_count,
       h.signed_industrial_10m AS signed_industrial_10m_count,
       h.by_investor AS signed_by_investor_type, h.size_classes,
       h.red AS red_count, h.yellow AS yellow_count, h.green AS green_count,
       CASE WHEN h.target_area4 IS NOT NULL THEN printf('%s%d.%04d', CASE WHEN h.target_area4 < 0 THEN '-' ELSE '' END, abs(h.target_area4) / 10000, abs(h.target_area4) % 10000) END AS expropriation_target_area_mu,
       CASE WHEN h.area_reported THEN printf('%s%d.%04d', CASE WHEN h.area4 < 0 THEN '-' ELSE '' END, abs(h.area4) / 10000, abs(h.area4) % 10000) ELSE '0' END AS expropriation_area_mu,
       /*P*/CASE WHEN h.area_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.area_h < 0 THEN '-' ELSE '' END, abs(h.area_h) / 100, abs(h.area_h) % 100) END AS expropriation_area_pct,
       h.target_households AS expropriation_target_households, h.households_signed AS expropriation_households_signed,
       /*P*/CASE WHEN h.households_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.households_h < 0 THEN '-' ELSE '' END, abs(h.households_h) / 100, abs(h.households_h) % 100) END AS expropriation_households_pct,
       h.opened AS supervision_opened_count, h.closed AS supervision_closed_count,
       /*P*/CASE WHEN h.close_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.close_h < 0 THEN '-' ELSE '' END, abs(h.close_h) / 100, abs(h.close_h) % 100) END AS supervision_close_rate_pct,
       h.overdue AS supervision_overdue_count, h.due_soon AS supervision_due_soon_count
FROM d_h h
