//! The metric functions on SQLite: PostgreSQL's `dashboard_as_of`, `target_progress_as_of`,
//! `unit_ranking_as_of`, `project_figures_as_of` and `refresh_current`
//! (migrations/postgres/0101_reporting_metrics.sql) as parameterised queries in SQLite's dialect.
//!
//! SQLite has no stored functions, so each metric has one query text per dialect (docs/sqlite.md):
//! PostgreSQL's function body there, the SQLite query here (the `.sql` files in `metrics/`, glued
//! together with `concat!`: `common.sql` opens a `WITH` with the parameters, the light bands and each
//! project as the ledger stood; the others continue it). The cross-backend test
//! (`tests/scenario.rs`, `metrics_compute_the_same_on_sqlite_and_postgresql`) runs both for many
//! dates and cut-offs and compares every column as text: a change to one dialect only fails it.
//!
//! Parameters of every query: `?1` year (INTEGER), `?2` as-of date (TEXT `YYYY-MM-DD`), `?3`
//! recording cut-off (TEXT, RFC 3339 in UTC as [`end_of_day`] returns it, or NULL for no cut-off,
//! PostgreSQL's `'infinity'`); the dashboard also `?4` unit id (NULL = the county). Each query is
//! one statement usable as a subquery (`SELECT … FROM (<query>)`). Table names carry the default
//! prefix `reporting_` ([`super::PREFIX`]); [`refresh_current`] swaps it for a rebuild's.
//!
//! Output types: integer columns are INTEGER; PostgreSQL's numeric columns are TEXT with exactly
//! the digits PostgreSQL prints (`12.35`, `30.0000`, `0`); jsonb columns are the JSON text
//! PostgreSQL prints for them (keys by length then bytes, `", "` and `": "`); dates are
//! `YYYY-MM-DD`. All arithmetic is on integers (yuan, counts, ten-thousandths of a mu, hundredths
//! of a percent); a percentage is rounded once, half away from zero, from the exact ratio, as
//! PostgreSQL's `round(numeric, 2)` rounds its (16-significant-digit) quotient.

use sqlx::SqliteConnection;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::ProjectionError;

/// Columns as PostgreSQL's `reporting.dashboard_as_of(year, as_of, cutoff, unit)`, in its order.
/// Parameters `?1` year, `?2` as-of date, `?3` cut-off or NULL, `?4` unit id or NULL (county).
pub const DASHBOARD_AS_OF: &str = concat!(
    include_str!("metrics/common.sql"),
    include_str!("metrics/dashboard.sql")
);

/// Columns as PostgreSQL's `reporting.target_progress_as_of(year, as_of, cutoff)`: target_year,
/// scope, metric, target_value, actual_value, completion_pct, time_progress_pct, gap_pp, light;
/// ordered county first, then by scope and metric. Parameters `?1`–`?3` (`?4` is free for a
/// caller's own filter).
pub const TARGET_PROGRESS_AS_OF: &str = concat!(
    include_str!("metrics/common.sql"),
    include_str!("metrics/target_progress.sql"),
    "SELECT tp.target_year, tp.scope, tp.metric, tp.target_value, tp.actual_value, tp.completion_pct,\n",
    "       tp.time_progress_pct, tp.gap_pp, tp.light\n",
    "FROM tp\n",
    "ORDER BY tp.scope = 'county' DESC, tp.scope, tp.ordinal\n"
);

/// Columns as PostgreSQL's `reporting.unit_ranking_as_of(year, as_of, cutoff)`: ranking_year,
/// unit_id, rank, score, target_count, red_projects, ytd_investment_yuan; ordered by rank, unit.
/// Parameters `?1`–`?3`.
pub const UNIT_RANKING_AS_OF: &str = concat!(
    include_str!("metrics/common.sql"),
    include_str!("metrics/target_progress.sql"),
    include_str!("metrics/unit_ranking.sql")
);

/// Columns as PostgreSQL's `reporting.project_figures_as_of(year, as_of, cutoff)`: project_id,
/// unit_id, abandoned (0/1), ytd_investment_yuan, ytd_funds_yuan, prior_ytd_investment_yuan,
/// prior_ytd_funds_yuan, cumulative_funds_yuan, planned_investment_yuan, start_light,
/// investment_light, light. Parameters `?1`–`?3`.
pub const PROJECT_FIGURES_AS_OF: &str = concat!(
    include_str!("metrics/common.sql"),
    "SELECT pf.project_id, pf.unit_id, pf.abandoned, pf.ytd_investment_yuan, pf.ytd_funds_yuan,\n",
    "       pf.prior_ytd_investment_yuan, pf.prior_ytd_funds_yuan, pf.cumulative_funds_yuan,\n",
    "       pf.planned_investment_yuan, pf.start_light, pf.investment_light, pf.light\n",
    "FROM pf\n"
);

/// The cut-off (`?3`) for "the ledger as it stood at the end of `date`" in the county's time zone
/// (PostgreSQL: `reporting.end_of_day(date)`, Asia/Shanghai): midnight after `date` at UTC+8,
/// which is 16:00 UTC on `date` itself, in the RFC 3339 form the tables store recorded times in.
/// China has kept UTC+8 without daylight saving since 1991.
pub fn end_of_day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}T16:00:00Z",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `sql` with its tables under `prefix` instead of `reporting_` (a rebuild's `rebuild_ledger_`).
fn prefixed(sql: &str, prefix: &str) -> String {
    sql.replace(super::PREFIX, prefix)
}

fn date_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// What PostgreSQL's `reporting.refresh_current(year, today)` does, on the tables named `prefix` +
/// table: recomputes `target_progress` and `unit_ranking` of `year` and, when `year` is the year
/// of `today`, the YTD investment and lights of `projects`; and the deadline flags of
/// `supervision_items`. Everything recorded counts (no cut-off). Runs on `conn` as it is (the
/// runner's batch transaction).
pub async fn refresh_current(
    conn: &mut SqliteConnection,
    prefix: &str,
    year: i32,
    today: Date,
) -> Result<(), ProjectionError> {
    let as_of = date_text(today);
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .map_err(|e| ProjectionError::batch(format!("cannot format the time: {e}")))?;
    let cutoff: Option<String> = None;

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {prefix}target_progress WHERE target_year = ?1"
    )))
    .bind(year)
    .execute(&mut *conn)
    .await?;
    // The stored actual_value is numeric(24, 4) on PostgreSQL: four decimals always.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {prefix}target_progress (target_year, scope, metric, target_value, actual_value, \
         completion_pct, time_progress_pct, gap_pp, light, as_of_date, computed_at) \
         SELECT tp.target_year, tp.scope, tp.metric, tp.target_value, \
                CASE WHEN instr(tp.actual_value, '.') = 0 THEN tp.actual_value || '.0000' ELSE tp.actual_value END, \
                tp.completion_pct, tp.time_progress_pct, tp.gap_pp, tp.light, ?2, ?4 \
         FROM ({}) AS tp",
        prefixed(TARGET_PROGRESS_AS_OF, prefix)
    )))
    .bind(year)
    .bind(&as_of)
    .bind(&cutoff)
    .bind(&now)
    .execute(&mut *conn)
    .await?;

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {prefix}unit_ranking WHERE ranking_year = ?1"
    )))
    .bind(year)
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {prefix}unit_ranking (ranking_year, unit_id, rank, score, target_count, \
         red_projects, ytd_investment_yuan, as_of_date, computed_at) \
         SELECT r.ranking_year, r.unit_id, r.rank, r.score, r.target_count, r.red_projects, \
                r.ytd_investment_yuan, ?2, ?4 \
         FROM ({}) AS r",
        prefixed(UNIT_RANKING_AS_OF, prefix)
    )))
    .bind(year)
    .bind(&as_of)
    .bind(&cutoff)
    .bind(&now)
    .execute(&mut *conn)
    .await?;

    // The ledger's lights and YTD are those of the current year only.
    if year == today.year() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {prefix}projects AS p \
             SET ytd_investment_yuan = f.ytd_investment_yuan, start_light = f.start_light, \
                 investment_light = f.investment_light, light = f.light \
             FROM ({}) AS f \
             WHERE f.project_id = p.project_id \
               AND (p.ytd_investment_yuan IS NOT f.ytd_investment_yuan OR p.start_light IS NOT f.start_light \
                    OR p.investment_light IS NOT f.investment_light OR p.light IS NOT f.light)",
            prefixed(PROJECT_FIGURES_AS_OF, prefix)
        )))
        .bind(year)
        .bind(&as_of)
        .bind(&cutoff)
        .execute(&mut *conn)
        .await?;
    }

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {prefix}supervision_items \
         SET overdue = (item_status <> 'closed' AND deadline_date < ?1), \
             due_soon = (item_status <> 'closed' AND deadline_date >= ?1 AND deadline_date <= date(?1, '+3 days')) \
         WHERE overdue IS NOT (item_status <> 'closed' AND deadline_date < ?1) \
            OR due_soon IS NOT (item_status <> 'closed' AND deadline_date >= ?1 AND deadline_date <= date(?1, '+3 days'))"
    )))
    .bind(&as_of)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const QUERIES: [&str; 4] = [
        DASHBOARD_AS_OF,
        TARGET_PROGRESS_AS_OF,
        UNIT_RANKING_AS_OF,
        PROJECT_FIGURES_AS_OF,
    ];

    /// The one rounding formula, H(n, d) = round(10000 · n ÷ d) half away from zero.
    const H: &str = "(SELECT CASE WHEN n IS NULL OR d IS NULL OR d = 0 THEN NULL ELSE (CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * (abs(n) / abs(d) * 10000 + abs(n) % abs(d) * 100 / abs(d) * 100 + abs(n) % abs(d) * 100 % abs(d) * 100 / abs(d) + (2 * (abs(n) % abs(d) * 100 % abs(d) * 100 % abs(d)) >= abs(d))) END";

    #[test]
    fn every_rounding_is_the_one_formula() {
        let mut uses = 0;
        for sql in QUERIES {
            for (at, _) in sql.match_indices("/*H*/") {
                assert!(sql[at + 5..].starts_with(H), "a /*H*/ differs at {at}");
                uses += 1;
            }
            // No other rounding, and never a float.
            assert_eq!(
                sql.matches("abs(n) / abs(d)").count(),
                sql.matches("/*H*/").count()
            );
            for float in ["REAL", "round(", "1.0", "100.0", "julianday"] {
                assert!(!sql.contains(float), "{float} in a metric query");
            }
        }
        assert!(uses > 10);
    }

    #[test]
    fn every_cut_off_comparison_normalises_the_time() {
        for sql in QUERIES {
            let normalised = sql.matches("/*T*/(substr(").count();
            assert!(normalised > 5);
            assert_eq!(
                sql.matches("< p.cutoff").count() + sql.matches("< p2.cutoff").count() + 1,
                normalised
            );
        }
    }

    #[test]
    fn only_table_names_carry_the_prefix() {
        let tables = [
            "units",
            "projects",
            "project_assignments",
            "agreements",
            "annual_plans",
            "project_milestones",
            "monthly_investment_reports",
            "monthly_investment",
            "expropriation_targets",
            "expropriation_reports",
            "targets",
            "supervision_items",
            "rule_settings",
        ];
        for sql in QUERIES {
            for (at, _) in sql.match_indices(super::super::PREFIX) {
                let rest = &sql[at + super::super::PREFIX.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(tables.contains(&name.as_str()), "reporting_{name}");
            }
        }
    }

    #[test]
    fn end_of_day_is_midnight_after_in_china() {
        assert_eq!(end_of_day(date!(2026 - 06 - 30)), "2026-06-30T16:00:00Z");
        assert_eq!(end_of_day(date!(2025 - 12 - 31)), "2025-12-31T16:00:00Z");
        assert_eq!(date_text(date!(2026 - 01 - 05)), "2026-01-05");
    }
}
