-- The shared opening of every SQLite metric query: parameters, light bands, and each project as
-- the ledger stood (PostgreSQL: projects_as_of, monthly_figures_as_of, project_figures_as_of in
-- its migration 0101; docs/metrics.md says the same in words).
-- Parameters: ?1 year Y, ?2 as-of date D ('YYYY-MM-DD'), ?3 recording cut-off (RFC 3339 in UTC,
-- as `end_of_day` returns it; NULL = no cut-off, PostgreSQL's 'infinity').
--
-- Exact arithmetic (docs/sqlite.md): money and counts are integers, areas are ten-thousandths of
-- a mu, and every percentage is computed as integer hundredths by the one formula (each use is marked with an H comment):
-- H(n, d) = 10000 * n / d rounded half away from zero, by long division in two steps of 100 so
-- that no intermediate leaves 64 bits while |d| < 9·10^16. Nothing passes through a float.
--
-- Recorded-at times are RFC 3339 text whose fraction has as many digits as it needs
-- ("…:00Z", "…:00.5Z"), so they do not compare as text: every comparison with the cut-off goes
-- through the fixed-width form "YYYY-MM-DDTHH:MM:SS" + nine fraction digits (marked /*T*/).
WITH params AS (
  SELECT q.y, q.d, q.cutoff, q.m,
         printf('%04d-01-01', q.y) AS first_day,
         min(q.d, printf('%04d-12-31', q.y)) AS last_day,
         printf('%04d-01', q.y) AS first_period,
         -- period_of(Y, m): m = 0 gives December of Y − 1, so the YTD range is empty
         printf('%04d-%02d', q.y + (q.m + 11) / 12 - 1, (q.m + 11) % 12 + 1) AS last_closed_period,
         printf('%04d-01', q.y - 1) AS prior_first_period,
         printf('%04d-%02d', q.y - 1 + (q.m + 11) / 12 - 1, (q.m + 11) % 12 + 1) AS prior_last_period,
         -- day progress as the fraction day_num / day_den: 0 before Y, 1 after Y
         CASE WHEN q.d < printf('%04d-01-01', q.y) THEN 0
              WHEN q.d > printf('%04d-12-31', q.y) THEN 1
              ELSE (unixepoch(q.d) - unixepoch(printf('%04d-01-01', q.y))) / 86400 + 1 END AS day_num,
         CASE WHEN q.d < printf('%04d-01-01', q.y) OR q.d > printf('%04d-12-31', q.y) THEN 1
              ELSE (unixepoch(printf('%04d-01-01', q.y + 1)) - unixepoch(printf('%04d-01-01', q.y))) / 86400 END AS day_den
  FROM (SELECT CAST(?1 AS INTEGER) AS y, ?2 AS d,
               CASE WHEN ?3 IS NULL THEN NULL ELSE /*T*/(substr(?3, 1, 19) || substr(CASE WHEN substr(?3, 20, 1) = '.' THEN substr(?3, 21, length(?3) - 21) ELSE '' END || '000000000', 1, 9)) END AS cutoff,
               CASE WHEN CAST(substr(?2, 1, 4) AS INTEGER) > CAST(?1 AS INTEGER) THEN 12
                    WHEN CAST(substr(?2, 1, 4) AS INTEGER) < CAST(?1 AS INTEGER) THEN 0
                    ELSE CAST(substr(?2, 6, 2) AS INTEGER) - 1 END AS m) q
),
-- Light bands in force at the cut-off (PostgreSQL: light_bands).
bands AS (
  SELECT coalesce(CAST(json_extract(s.settings, '$.green_min_gap') AS INTEGER), -10) AS green_min_gap,
         coalesce(CAST(json_extract(s.settings, '$.yellow_min_gap') AS INTEGER), -30) AS yellow_min_gap,
         coalesce(CAST(json_extract(s.settings, '$.start_yellow_months') AS INTEGER), 1) AS start_yellow_months,
         coalesce(CAST(json_extract(s.settings, '$.start_red_months') AS INTEGER), 3) AS start_red_months
  FROM (SELECT NULL) AS defaults
  LEFT JOIN (
    SELECT r.settings FROM reporting_rule_settings r, params p
    WHERE r.rule = 'light_bands'
      AND (p.cutoff IS NULL OR /*T*/(substr(r.recorded_at, 1, 19) || substr(CASE WHEN substr(r.recorded_at, 20, 1) = '.' THEN substr(r.recorded_at, 21, length(r.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
    ORDER BY r.seq DESC LIMIT 1) s ON true
),
-- projects_as_of: responsible unit, contract, planned start and milestones by D, from facts
-- recorded before the cut-off.
pa_assignment AS (
  SELECT x.project_id, x.unit_id FROM (
    SELECT a.project_id, a.unit_id, row_number() OVER (PARTITION BY a.project_id ORDER BY a.seq DESC) AS rn
    FROM reporting_project_assignments a, params p
    WHERE p.cutoff IS NULL OR /*T*/(substr(a.recorded_at, 1, 19) || substr(CASE WHEN substr(a.recorded_at, 20, 1) = '.' THEN substr(a.recorded_at, 21, length(a.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff) x
  WHERE x.rn = 1
),
pa_agreements AS (
  SELECT g.* FROM reporting_agreements g, params p
  WHERE g.signed_date <= p.d
    AND (p.cutoff IS NULL OR /*T*/(substr(g.recorded_at, 1, 19) || substr(CASE WHEN substr(g.recorded_at, 20, 1) = '.' THEN substr(g.recorded_at, 21, length(g.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
),
pa_contract AS (
  SELECT x.project_id, x.contract_investment_yuan, x.planned_start_period FROM (
    SELECT g.project_id, g.contract_investment_yuan, g.planned_start_period,
           row_number() OVER (PARTITION BY g.project_id ORDER BY g.seq DESC) AS rn
    FROM pa_agreements g WHERE g.agreement_kind IN ('formal', 'supplement')) x
  WHERE x.rn = 1
),
pa_formal AS (
  SELECT g.project_id, min(g.signed_date) AS signed_date
  FROM pa_agreements g WHERE g.agreement_kind = 'formal'
  GROUP BY g.project_id
),
-- the latest year's plan (its latest revision) that names a start month
pa_plan_start AS (
  SELECT z.project_id, z.planned_start_period FROM (
    SELECT y.project_id, y.planned_start_period,
           row_number() OVER (PARTITION BY y.project_id ORDER BY y.plan_year DESC) AS rn
    FROM (
      SELECT ap.project_id, ap.plan_year, ap.planned_start_period,
             row_number() OVER (PARTITION BY ap.project_id, ap.plan_year ORDER BY ap.revision DESC) AS rn
      FROM reporting_annual_plans ap, params p
      WHERE p.cutoff IS NULL OR /*T*/(substr(ap.recorded_at, 1, 19) || substr(CASE WHEN substr(ap.recorded_at, 20, 1) = '.' THEN substr(ap.recorded_at, 21, length(ap.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff) y
    WHERE y.rn = 1 AND y.planned_start_period IS NOT NULL) z
  WHERE z.rn = 1
),
pa_milestone AS (
  SELECT m.project_id,
         max(CASE WHEN m.milestone = 'construction_started' THEN m.business_date END) AS start_date,
         max(CASE WHEN m.milestone = 'construction_completed' THEN m.business_date END) AS completion_date,
         max(CASE WHEN m.milestone = 'production_started' THEN m.business_date END) AS production_date,
         max(m.milestone = 'abandoned') AS abandoned
  FROM reporting_project_milestones m, params p
  WHERE m.business_date <= p.d
    AND (p.cutoff IS NULL OR /*T*/(substr(m.recorded_at, 1, 19) || substr(CASE WHEN substr(m.recorded_at, 20, 1) = '.' THEN substr(m.recorded_at, 21, length(m.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
  GROUP BY m.project_id
),
pa AS (
  SELECT pr.project_id, asg.unit_id, pr.project_kind, pr.investor_type, pr.industrial,
         pr.intended_investment_yuan, c.contract_investment_yuan, f.signed_date AS contract_signed_date,
         coalesce(ps.planned_start_period, c.planned_start_period) AS planned_start_period,
         ms.start_date, ms.completion_date, ms.production_date, coalesce(ms.abandoned, 0) AS abandoned,
         -- reporting.size_class
         CASE WHEN coalesce(c.contract_investment_yuan, pr.intended_investment_yuan) < 5000000 THEN 'below_5m'
              WHEN coalesce(c.contract_investment_yuan, pr.intended_investment_yuan) < 10000000 THEN '5m_10m'
              WHEN coalesce(c.contract_investment_yuan, pr.intended_investment_yuan) < 100000000 THEN '10m_100m'
              WHEN coalesce(c.contract_investment_yuan, pr.intended_investment_yuan) < 1000000000 THEN '100m_1b'
              ELSE 'from_1b' END AS size_class
  FROM reporting_projects pr
  CROSS JOIN params p
  LEFT JOIN pa_assignment asg ON asg.project_id = pr.project_id
  LEFT JOIN pa_contract c ON c.project_id = pr.project_id
  LEFT JOIN pa_formal f ON f.project_id = pr.project_id
  LEFT JOIN pa_plan_start ps ON ps.project_id = pr.project_id
  LEFT JOIN pa_milestone ms ON ms.project_id = pr.project_id
  WHERE pr.registered_date <= p.d
    AND (p.cutoff IS NULL OR /*T*/(substr(pr.created_at, 1, 19) || substr(CASE WHEN substr(pr.created_at, 20, 1) = '.' THEN substr(pr.created_at, 21, length(pr.created_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
),
-- monthly_figures_as_of: without a cut-off the corrected figures of monthly_investment; with one,
-- the latest revision of each report recorded before it.
pf_monthly_rows AS (
  SELECT mi.project_id, mi.period, mi.completed_investment_yuan AS ci, mi.funds_in_place_yuan AS fi
  FROM reporting_monthly_investment mi, params p
  WHERE p.cutoff IS NULL
  UNION ALL
  SELECT x.project_id, x.period, x.ci, x.fi FROM (
    SELECT r.project_id, r.period, r.completed_investment_yuan AS ci, r.funds_in_place_yuan AS fi,
           row_number() OVER (PARTITION BY r.project_id, r.period ORDER BY r.revision DESC) AS rn
    FROM reporting_monthly_investment_reports r, params p
    WHERE p.cutoff IS NOT NULL
      AND /*T*/(substr(r.recorded_at, 1, 19) || substr(CASE WHEN substr(r.recorded_at, 20, 1) = '.' THEN substr(r.recorded_at, 21, length(r.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff) x
  WHERE x.rn = 1
),
pf_monthly AS (
  SELECT f.project_id,
         sum(f.ci) FILTER (WHERE f.period BETWEEN p.first_period AND p.last_closed_period) AS ytd_investment,
         sum(f.fi) FILTER (WHERE f.period BETWEEN p.first_period AND p.last_closed_period) AS ytd_funds,
         sum(f.ci) FILTER (WHERE f.period BETWEEN p.prior_first_period AND p.prior_last_period) AS prior_investment,
         sum(f.fi) FILTER (WHERE f.period BETWEEN p.prior_first_period AND p.prior_last_period) AS prior_funds,
         sum(f.fi) FILTER (WHERE f.period <= substr(p.d, 1, 7)) AS cumulative_funds
  FROM pf_monthly_rows f, params p
  GROUP BY f.project_id
),
pf_plans AS (
  SELECT x.project_id, x.planned_investment_yuan FROM (
    SELECT ap.project_id, ap.planned_investment_yuan,
           row_number() OVER (PARTITION BY ap.project_id ORDER BY ap.revision DESC) AS rn
    FROM reporting_annual_plans ap, params p
    WHERE ap.plan_year = p.y
      AND (p.cutoff IS NULL OR /*T*/(substr(ap.recorded_at, 1, 19) || substr(CASE WHEN substr(ap.recorded_at, 20, 1) = '.' THEN substr(ap.recorded_at, 21, length(ap.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)) x
  WHERE x.rn = 1
),
pf_base AS (
  SELECT pa.project_id, pa.unit_id, pa.abandoned,
         coalesce(mo.ytd_investment, 0) AS ytd_investment_yuan,
         coalesce(mo.ytd_funds, 0) AS ytd_funds_yuan,
         coalesce(mo.prior_investment, 0) AS prior_ytd_investment_yuan,
         coalesce(mo.prior_funds, 0) AS prior_ytd_funds_yuan,
         coalesce(mo.cumulative_funds, 0) AS cumulative_funds_yuan,
         pl.planned_investment_yuan,
         CASE WHEN pa.abandoned OR pa.start_date IS NOT NULL OR pa.planned_start_period IS NULL THEN NULL
              ELSE (CAST(substr(p.d, 1, 4) AS INTEGER) * 12 + CAST(substr(p.d, 6, 2) AS INTEGER))
                 - (CAST(substr(pa.planned_start_period, 1, 4) AS INTEGER) * 12 + CAST(substr(pa.planned_start_period, 6, 2) AS INTEGER))
         END AS months_late,
         -- the gap YTD ÷ plan × 100 − m ÷ 12 × 100, in hundredths of a point, rounded
         CASE WHEN pa.abandoned OR pa.start_date IS NULL OR coalesce(pl.planned_investment_yuan, 0) = 0 THEN NULL
              ELSE /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END
                   FROM (SELECT 12 * coalesce(mo.ytd_investment, 0) - p.m * pl.planned_investment_yuan AS n, 12 * pl.planned_investment_yuan AS d))
         END AS investment_gap_h
  FROM pa
  CROSS JOIN params p
  LEFT JOIN pf_monthly mo ON mo.project_id = pa.project_id
  LEFT JOIN pf_plans pl ON pl.project_id = pa.project_id
),
pf_lit AS (
  SELECT f.*,
         CASE WHEN f.months_late IS NULL THEN NULL
              WHEN f.months_late >= b.start_red_months THEN 'red'
              WHEN f.months_late >= b.start_yellow_months THEN 'yellow'
              ELSE 'green' END AS start_light,
         CASE WHEN f.investment_gap_h IS NULL THEN NULL
              WHEN f.investment_gap_h >= 100 * b.green_min_gap THEN 'green'
              WHEN f.investment_gap_h >= 100 * b.yellow_min_gap THEN 'yellow'
              ELSE 'red' END AS investment_light
  FROM pf_base f CROSS JOIN bands b
),
-- project_figures_as_of
pf AS (
  SELECT l.project_id, l.unit_id, l.abandoned,
         l.ytd_investment_yuan, l.ytd_funds_yuan, l.prior_ytd_investment_yuan, l.prior_ytd_funds_yuan,
         l.cumulative_funds_yuan, l.planned_investment_yuan,
         l.start_light, l.investment_light,
         CASE WHEN 'red' IN (l.start_light, l.investment_light) THEN 'red'
              WHEN 'yellow' IN (l.start_light, l.investment_light) THEN 'yellow'
              WHEN 'green' IN (l.start_light, l.investment_light) THEN 'green' END AS light
  FROM pf_lit l
)
