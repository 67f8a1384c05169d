,
-- project_metric_values_as_of: each live project's share of every target metric for Y at D.
-- Values are integers in the metric's unit: yuan, a count, or ten-thousandths of a mu for the
-- area; `scaled` says whether PostgreSQL's numeric would carry 4 decimals (an area from a report).
tp_area_now AS (
  SELECT x.project_id, x.area4 FROM (
    SELECT e.project_id, CAST(replace(e.area_mu, '.', '') AS INTEGER) AS area4,
           row_number() OVER (PARTITION BY e.project_id ORDER BY e.as_of_date DESC, e.seq DESC) AS rn
    FROM reporting_expropriation_reports e, params p
    WHERE e.as_of_date <= p.last_day
      AND (p.cutoff IS NULL OR /*T*/(substr(e.recorded_at, 1, 19) || substr(CASE WHEN substr(e.recorded_at, 20, 1) = '.' THEN substr(e.recorded_at, 21, length(e.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)) x
  WHERE x.rn = 1
),
tp_area_before AS (
  SELECT x.project_id, x.area4 FROM (
    SELECT e.project_id, CAST(replace(e.area_mu, '.', '') AS INTEGER) AS area4,
           row_number() OVER (PARTITION BY e.project_id ORDER BY e.as_of_date DESC, e.seq DESC) AS rn
    FROM reporting_expropriation_reports e, params p
    WHERE e.as_of_date < p.first_day
      AND (p.cutoff IS NULL OR /*T*/(substr(e.recorded_at, 1, 19) || substr(CASE WHEN substr(e.recorded_at, 20, 1) = '.' THEN substr(e.recorded_at, 21, length(e.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)) x
  WHERE x.rn = 1
),
tp_project AS (
  SELECT pa.project_id, pa.unit_id, pa.contract_investment_yuan, pf.ytd_investment_yuan, pf.ytd_funds_yuan,
         coalesce(pa.contract_signed_date BETWEEN p.first_day AND p.last_day, 0) AS signed_in_year,
         coalesce(pa.start_date BETWEEN p.first_day AND p.last_day, 0) AS started_in_year,
         coalesce(pa.production_date BETWEEN p.first_day AND p.last_day, 0) AS production_in_year,
         coalesce(an.area4, 0) - coalesce(ab.area4, 0) AS area4,
         (an.area4 IS NOT NULL OR ab.area4 IS NOT NULL) AS area_scaled
  FROM pa
  JOIN pf ON pf.project_id = pa.project_id
  CROSS JOIN params p
  LEFT JOIN tp_area_now an ON an.project_id = pa.project_id
  LEFT JOIN tp_area_before ab ON ab.project_id = pa.project_id
  WHERE NOT pa.abandoned
),
tp_values AS (
  SELECT project_id, unit_id, 'completed_investment' AS metric, ytd_investment_yuan AS v, 0 AS scaled FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'funds_in_place', ytd_funds_yuan, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'signed_projects', CASE WHEN signed_in_year THEN 1 ELSE 0 END, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'signed_investment', CASE WHEN signed_in_year THEN coalesce(contract_investment_yuan, 0) ELSE 0 END, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'big_projects_signed', CASE WHEN signed_in_year AND contract_investment_yuan >= 100000000 THEN 1 ELSE 0 END, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'started_projects', CASE WHEN started_in_year THEN 1 ELSE 0 END, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'production_projects', CASE WHEN production_in_year THEN 1 ELSE 0 END, 0 FROM tp_project
  UNION ALL SELECT project_id, unit_id, 'expropriated_area', area4, area_scaled FROM tp_project
),
-- target_metrics(): monthly (time progress by closed months) or by days
tp_metrics (metric, monthly, ordinal, is_area) AS (
  VALUES ('completed_investment', 1, 1, 0), ('funds_in_place', 1, 2, 0),
         ('signed_projects', 0, 3, 0), ('signed_investment', 0, 4, 0),
         ('big_projects_signed', 0, 5, 0), ('started_projects', 0, 6, 0),
         ('production_projects', 0, 7, 0), ('expropriated_area', 0, 8, 1)
),
tp_scopes AS (
  SELECT 'county' AS scope
  UNION ALL
  SELECT u.unit_id FROM reporting_units u, params p
  WHERE p.cutoff IS NULL OR /*T*/(substr(u.created_at, 1, 19) || substr(CASE WHEN substr(u.created_at, 20, 1) = '.' THEN substr(u.created_at, 21, length(u.created_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff
),
-- PostgreSQL's GROUPING SETS ((metric, unit_id), (metric)), with its grouping() flag as is_county
tp_summed AS (
  SELECT 'county' AS scope, v.metric, sum(v.v) AS v, max(v.scaled) AS scaled, 1 AS is_county
  FROM tp_values v GROUP BY v.metric
  UNION ALL
  SELECT coalesce(v.unit_id, 'county'), v.metric, sum(v.v), max(v.scaled), 0
  FROM tp_values v GROUP BY v.metric, v.unit_id
),
tp_actuals AS (
  SELECT s.scope, tm.metric, tm.monthly, tm.ordinal, tm.is_area,
         coalesce(sm.v, 0) AS v, coalesce(sm.scaled, 0) AS scaled
  FROM tp_scopes s CROSS JOIN tp_metrics tm
  LEFT JOIN tp_summed sm ON sm.metric = tm.metric
       AND ((s.scope = 'county' AND sm.is_county = 1) OR (s.scope <> 'county' AND sm.is_county = 0 AND sm.scope = s.scope))
),
tp_targets AS (
  SELECT x.scope, x.metric, x.target_value FROM (
    SELECT t.scope, t.metric, t.target_value,
           row_number() OVER (PARTITION BY t.scope, t.metric ORDER BY t.revision DESC) AS rn
    FROM reporting_targets t, params p
    WHERE t.target_year = p.y
      AND (p.cutoff IS NULL OR /*T*/(substr(t.recorded_at, 1, 19) || substr(CASE WHEN substr(t.recorded_at, 20, 1) = '.' THEN substr(t.recorded_at, 21, length(t.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)) x
  WHERE x.rn = 1
),
-- completion = a ÷ b × 100 with actual a and target b in one unit (targets are numeric(24, 4)
-- text: ten-thousandths after dropping the point; yuan and count targets are whole, so those
-- divide by 10000 and meet the actual in yuan or counts); time progress = tn ÷ td × 100.
tp_ratio AS (
  SELECT x.*,
         CASE WHEN x.is_area OR x.t4 % 10000 = 0 THEN x.v ELSE x.v * 10000 END AS a,
         CASE WHEN x.is_area OR x.t4 % 10000 <> 0 THEN x.t4 ELSE x.t4 / 10000 END AS b
  FROM (
    SELECT ac.*, ct.target_value, CAST(replace(ct.target_value, '.', '') AS INTEGER) AS t4,
           CASE WHEN ac.monthly THEN p.m ELSE p.day_num END AS tn,
           CASE WHEN ac.monthly THEN 12 ELSE p.day_den END AS td
    FROM tp_actuals ac
    CROSS JOIN params p
    LEFT JOIN tp_targets ct ON ct.scope = ac.scope AND ct.metric = ac.metric) x
),
-- hundredths, each rounded once from the exact ratio (the gap from the unrounded completion and
-- time progress, as PostgreSQL subtracts before rounding)
tp_h AS (
  SELECT r.*,
         CASE WHEN r.b > 0 THEN /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END
                                     FROM (SELECT r.a AS n, r.b AS d)) END AS completion_h,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END
               FROM (SELECT r.tn AS n, r.td AS d)) AS time_h,
         CASE WHEN r.b > 0 THEN /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END
                                     FROM (SELECT r.a * r.td - r.tn * r.b AS n, r.b * r.td AS d)) END AS gap_h
  FROM tp_ratio r
),
-- target_progress_as_of, with completion_h for the ranking
tp AS (
  SELECT p.y AS target_year, h.scope, h.metric, h.target_value,
         CASE WHEN h.is_area AND h.scaled
              THEN printf('%s%d.%04d', CASE WHEN h.v < 0 THEN '-' ELSE '' END, abs(h.v) / 10000, abs(h.v) % 10000)
              WHEN h.is_area THEN CAST(h.v / 10000 AS TEXT)
              ELSE CAST(h.v AS TEXT) END AS actual_value,
         CASE WHEN h.completion_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.completion_h < 0 THEN '-' ELSE '' END, abs(h.completion_h) / 100, abs(h.completion_h) % 100) END AS completion_pct,
         printf('%s%d.%02d', CASE WHEN h.time_h < 0 THEN '-' ELSE '' END, abs(h.time_h) / 100, abs(h.time_h) % 100) AS time_progress_pct,
         CASE WHEN h.gap_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN h.gap_h < 0 THEN '-' ELSE '' END, abs(h.gap_h) / 100, abs(h.gap_h) % 100) END AS gap_pp,
         CASE WHEN h.gap_h IS NULL THEN NULL
              WHEN h.gap_h >= 100 * b.green_min_gap THEN 'green'
              WHEN h.gap_h >= 100 * b.yellow_min_gap THEN 'yellow'
              ELSE 'red' END AS light,
         h.ordinal, h.completion_h
  FROM tp_h h CROSS JOIN params p CROSS JOIN bands b
)
