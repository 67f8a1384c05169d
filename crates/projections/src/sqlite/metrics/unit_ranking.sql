,
-- unit_ranking_as_of: weighted mean of min(completion, cap) over the unit's targets, minus the
-- penalty per red project; ties broken by YTD completed investment. Without a ranking rule every
-- metric weighs 1; with one, a metric it does not list weighs 0.
rk_rule AS (
  SELECT (SELECT s.settings FROM reporting_rule_settings s, params p
          WHERE s.rule = 'ranking_weights'
            AND (p.cutoff IS NULL OR /*T*/(substr(s.recorded_at, 1, 19) || substr(CASE WHEN substr(s.recorded_at, 20, 1) = '.' THEN substr(s.recorded_at, 21, length(s.recorded_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff)
          ORDER BY s.seq DESC LIMIT 1) AS settings
),
rk AS (
  SELECT coalesce(CAST(json_extract(r.settings, '$.completion_cap') AS INTEGER), 150) AS cap,
         coalesce(CAST(json_extract(r.settings, '$.red_project_penalty') AS INTEGER), 2) AS penalty,
         r.settings
  FROM rk_rule r
),
rk_progress AS (
  SELECT t.scope, t.metric, t.completion_h,
         CASE WHEN r.settings IS NULL THEN 1
              ELSE coalesce(CAST(json_extract(r.settings, '$.weights.' || t.metric) AS INTEGER), 0) END AS weight
  FROM tp t CROSS JOIN rk r
  WHERE t.scope <> 'county' AND t.completion_h IS NOT NULL
),
-- completions enter rounded (hundredths), capped at cap × 100 hundredths
rk_scores AS (
  SELECT pr.scope AS unit_id,
         sum(pr.weight * min(pr.completion_h, 100 * r.cap)) AS wsum,
         sum(pr.weight) AS wt,
         sum(pr.weight > 0) AS target_count
  FROM rk_progress pr CROSS JOIN rk r
  GROUP BY pr.scope
),
rk_figures AS (
  SELECT f.unit_id, sum(f.light = 'red') AS red_projects, sum(f.ytd_investment_yuan) AS ytd
  FROM pf f WHERE NOT f.abandoned
  GROUP BY f.unit_id
),
-- score × 100 = kn ÷ kd exactly (kn = wsum − 100 · penalty · red · wt, kd = wt); NULL without a
-- weighted completion
rk_units AS (
  SELECT u.unit_id, coalesce(s.target_count, 0) AS target_count,
         coalesce(f.red_projects, 0) AS red_projects, coalesce(f.ytd, 0) AS ytd_investment_yuan,
         CASE WHEN coalesce(s.wt, 0) <> 0 THEN s.wsum - 100 * r.penalty * coalesce(f.red_projects, 0) * s.wt END AS kn,
         CASE WHEN coalesce(s.wt, 0) <> 0 THEN s.wt END AS kd
  FROM reporting_units u
  CROSS JOIN params p
  CROSS JOIN rk r
  LEFT JOIN rk_scores s ON s.unit_id = u.unit_id
  LEFT JOIN rk_figures f ON f.unit_id = u.unit_id
  WHERE p.cutoff IS NULL OR /*T*/(substr(u.created_at, 1, 19) || substr(CASE WHEN substr(u.created_at, 20, 1) = '.' THEN substr(u.created_at, 21, length(u.created_at) - 21) ELSE '' END || '000000000', 1, 9)) < p.cutoff
),
-- rank() over (score DESC NULLS LAST, ytd DESC), with scores compared exactly (cross-multiplied)
rk_ranked AS (
  SELECT k.*,
         1 + (SELECT count(*) FROM rk_units o
              WHERE (o.kn IS NOT NULL AND k.kn IS NULL)
                 OR (o.kn IS NOT NULL AND k.kn IS NOT NULL AND o.kn * k.kd > k.kn * o.kd)
                 OR (((o.kn IS NULL AND k.kn IS NULL) OR (o.kn IS NOT NULL AND k.kn IS NOT NULL AND o.kn * k.kd = k.kn * o.kd))
                     AND o.ytd_investment_yuan > k.ytd_investment_yuan)) AS rank,
         /*H*/(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END
               FROM (SELECT k.kn AS n, 10000 * k.kd AS d)) AS score_h
  FROM rk_units k
)
SELECT p.y AS ranking_year, k.unit_id, k.rank,
       CASE WHEN k.score_h IS NOT NULL THEN printf('%s%d.%02d', CASE WHEN k.score_h < 0 THEN '-' ELSE '' END, abs(k.score_h) / 100, abs(k.score_h) % 100) END AS score,
       k.target_count, k.red_projects, k.ytd_investment_yuan
FROM rk_ranked k CROSS JOIN params p
ORDER BY k.rank, k.unit_id
