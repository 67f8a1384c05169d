//! The dashboard (领导驾驶舱), target progress and unit ranking. Every figure comes from the SQL
//! metric functions of migrations/postgres/0101_reporting_metrics.sql, the one definition the
//! API and BI tools share (docs/metrics.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_graphql::SimpleObject;
use sqlx::FromRow;

use super::State;
use super::enums::{InvestorType, Light, SizeClass, TargetMetric};
use super::scalars::{Date, Decimal, Mu, Yuan};
use crate::db::Database;
use crate::error::{ApiError, ApiResult};

/// The moment figures are computed for: a day (its end, in the county's time zone) or now.
#[derive(Debug, Clone)]
pub struct AsOf {
    /// `None`: today, with everything recorded so far (cut-off `infinity`).
    pub date: Option<time::Date>,
}

/// SQL for `(as_of date, cutoff timestamptz)` from parameter `$n` (a date or NULL).
fn as_of_sql(n: usize) -> String {
    format!(
        "coalesce(${n}::date, (now() AT TIME ZONE 'Asia/Shanghai')::date), \
         CASE WHEN ${n}::date IS NULL THEN 'infinity'::timestamptz ELSE reporting.end_of_day(${n}::date) END"
    )
}

/// Headline figures of a year for the county or one unit (领导驾驶舱指标), as the ledger stood at
/// the end of `asOf` (or now). Rates are percentages rounded to 2 decimals, null when their
/// denominator is 0. Definitions: docs/metrics.md.
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct Dashboard {
    /// The year. 年度
    #[graphql(name = "year")]
    pub dashboard_year: i32,
    /// `county` or the unit's slug. 范围
    pub scope: String,
    /// The day the figures are as of. 截至日期
    #[graphql(name = "asOf")]
    pub as_of_date: Date,
    /// Months of the year closed for reporting. 已结束月份数
    pub closed_months: i32,
    /// Time progress by closed months, percent. 时序进度（按月，%）
    pub month_progress_pct: Option<f64>,
    /// Time progress by days, percent. 时序进度（按日，%）
    pub day_progress_pct: Option<f64>,
    /// Live projects (not abandoned). 项目数
    pub project_count: i32,
    /// Abandoned projects. 终止项目数
    pub abandoned_count: i32,
    /// Completed investment this year, yuan. 本年完成投资（元）
    #[graphql(name = "ytdInvestment")]
    pub ytd_investment_yuan: Yuan,
    /// Funds in place this year, yuan. 本年到位资金（元）
    #[graphql(name = "ytdFunds")]
    pub ytd_funds_yuan: Yuan,
    /// Completed investment in the same months of last year, yuan. 去年同期完成投资（元）
    #[graphql(name = "priorYtdInvestment")]
    pub prior_ytd_investment_yuan: Yuan,
    /// Year-on-year growth of completed investment, percent. 完成投资同比增长（%）
    pub yoy_investment_pct: Option<f64>,
    /// Funds in place in the same months of last year, yuan. 去年同期到位资金（元）
    #[graphql(name = "priorYtdFunds")]
    pub prior_ytd_funds_yuan: Yuan,
    /// Year-on-year growth of funds in place, percent. 到位资金同比增长（%）
    pub yoy_funds_pct: Option<f64>,
    /// Planned investment of the year's annual plans, yuan. 年度计划投资（元）
    #[graphql(name = "plannedInvestment")]
    pub planned_investment_yuan: Option<Yuan>,
    /// Completed investment over planned, percent. 计划完成率（%）
    pub plan_completion_pct: Option<f64>,
    /// Projects planned to start this year by the last closed month. 计划开工项目数
    pub start_due_count: i32,
    /// Of those, started. 已开工项目数
    pub start_started_count: i32,
    /// Start rate, percent. 开工率（%）
    pub start_rate_pct: Option<f64>,
    /// Contracted projects due to start by the last closed month. 应履约项目数
    pub performance_due_count: i32,
    /// Of those, started. 已履约项目数
    pub performance_started_count: i32,
    /// Performance rate, percent. 履约率（%）
    pub performance_rate_pct: Option<f64>,
    /// Projects with a formal contract. 已签约项目数
    pub contracted_count: i32,
    /// Funds in place of contracted projects since their start, yuan. 签约项目累计到位资金（元）
    #[graphql(name = "cumulativeFunds")]
    pub cumulative_funds_yuan: Yuan,
    /// Contract investment of contracted projects, yuan. 签约项目合同投资（元）
    #[graphql(name = "contractInvestment")]
    pub contract_investment_yuan: Yuan,
    /// Funds in place over contract investment, percent. 资金到位率（%）
    pub funds_in_place_rate_pct: Option<f64>,
    /// Projects signed this year. 本年签约项目数
    pub signed_count: i32,
    /// Investment signed this year, yuan. 本年签约金额（元）
    #[graphql(name = "signedInvestment")]
    pub signed_investment_yuan: Yuan,
    /// Projects of 1亿 or more signed this year. 亿元以上签约项目数
    pub signed_big_count: i32,
    /// Industrial projects of 1000万 or more signed this year. 千万元以上工业项目签约数
    #[graphql(name = "signedIndustrial10mCount")]
    pub signed_industrial_10m_count: i32,
    #[graphql(skip)]
    pub signed_by_investor_type: serde_json::Value,
    #[graphql(skip)]
    pub size_classes: serde_json::Value,
    /// Red-light projects. 红灯项目数
    pub red_count: i32,
    /// Yellow-light projects. 黄灯项目数
    pub yellow_count: i32,
    /// Green-light projects. 绿灯项目数
    pub green_count: i32,
    /// Expropriation target area, mu. 征收目标面积（亩）
    #[graphql(name = "expropriationTargetArea")]
    pub expropriation_target_area_mu: Option<Mu>,
    /// Area expropriated, mu. 已征收面积（亩）
    #[graphql(name = "expropriationArea")]
    pub expropriation_area_mu: Option<Mu>,
    /// Area expropriated over target, percent. 征收面积完成率（%）
    pub expropriation_area_pct: Option<f64>,
    /// Target households. 目标户数
    pub expropriation_target_households: Option<i32>,
    /// Households signed. 已签约户数
    pub expropriation_households_signed: Option<i32>,
    /// Households signed over target, percent. 签约户完成率（%）
    pub expropriation_households_pct: Option<f64>,
    /// Supervision items opened this year. 本年交办督办事项数
    pub supervision_opened_count: i32,
    /// Of those, closed. 已销号数
    pub supervision_closed_count: i32,
    /// Close rate, percent. 销号率（%）
    pub supervision_close_rate_pct: Option<f64>,
    /// Open items past their deadline. 超期事项数
    pub supervision_overdue_count: i32,
    /// Open items due within 3 days. 临期事项数
    pub supervision_due_soon_count: i32,
    /// The `asOf` asked for (the target and ranking fields use the same moment).
    #[graphql(skip)]
    #[sqlx(skip)]
    pub requested: Option<time::Date>,
}

/// Projects signed this year by investor type (按投资方类型的签约情况).
#[derive(SimpleObject, Debug, Clone)]
pub struct SignedByInvestorType {
    /// Investor type. 投资方类型
    pub investor_type: Option<InvestorType>,
    /// Projects. 项目数
    pub count: i64,
    /// Contract investment, yuan. 合同投资（元）
    pub investment: Yuan,
}

/// Live projects by size class (规模分布).
#[derive(SimpleObject, Debug, Clone)]
pub struct SizeClassCount {
    /// Size class. 规模分类
    pub size_class: Option<SizeClass>,
    /// Projects. 项目数
    pub count: i64,
}

#[async_graphql::ComplexObject]
impl Dashboard {
    /// Progress of this scope's targets at the same moment. 目标进度
    pub async fn targets(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Vec<TargetProgress>> {
        let state = ctx.data::<State>()?;
        let as_of = AsOf {
            date: self.requested,
        };
        Ok(targets(state, self.dashboard_year, Some(&self.scope), &as_of).await?)
    }

    /// The unit ranking at the same moment (every unit, whatever the scope). 单位排名
    pub async fn unit_ranking(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Vec<UnitRank>> {
        let state = ctx.data::<State>()?;
        let as_of = AsOf {
            date: self.requested,
        };
        Ok(ranking(state, self.dashboard_year, &as_of).await?)
    }

    /// Projects signed this year by investor type. 按投资方类型签约情况
    pub async fn signed_by_investor_type(&self) -> Vec<SignedByInvestorType> {
        let Some(map) = self.signed_by_investor_type.as_object() else {
            return Vec::new();
        };
        map.iter()
            .map(|(k, v)| SignedByInvestorType {
                investor_type: InvestorType::from_db(k),
                count: v.get("count").and_then(|c| c.as_i64()).unwrap_or(0),
                investment: Yuan(
                    v.get("investment_yuan")
                        .and_then(|c| c.as_i64())
                        .unwrap_or(0),
                ),
            })
            .collect()
    }

    /// Live projects by size class. 规模分布
    pub async fn size_classes(&self) -> Vec<SizeClassCount> {
        let Some(map) = self.size_classes.as_object() else {
            return Vec::new();
        };
        map.iter()
            .map(|(k, v)| SizeClassCount {
                size_class: SizeClass::from_db(k),
                count: v.as_i64().unwrap_or(0),
            })
            .collect()
    }
}

/// Dashboards already computed. Leaders' screens ask for the same few dashboards over and over,
/// and each costs the database a full pass over the read models (about 10 ms of CPU), while the
/// figures change only when a projection commits a batch. So an entry is kept with the read
/// models' generation it was computed at and served while that generation holds: projection
/// runners NOTIFY after each batch and this process's mutations bump it after their wait (so a
/// client that wrote and then reads never sees the figures from before its write). An entry is
/// also dropped after [`MAX_AGE`], which bounds the damage of a lost notification.
#[derive(Default)]
pub struct Cache {
    generation: AtomicU64,
    entries: std::sync::Mutex<HashMap<CacheKey, (u64, Instant, Dashboard)>>,
    gates: std::sync::Mutex<HashMap<CacheKey, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

type CacheKey = (i32, Option<String>, time::Date, bool);

const MAX_AGE: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 1000;

impl Cache {
    /// The read models moved: every entry is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The read models' generation: it changes whenever they may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn get(&self, key: &CacheKey) -> Option<Dashboard> {
        let generation = self.generation.load(Ordering::SeqCst);
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(g, at, _)| *g == generation && at.elapsed() < MAX_AGE)
            .map(|(_, _, d)| d.clone())
    }

    fn gate(&self, key: &CacheKey) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        match self.gates.lock() {
            Ok(mut gates) => {
                if gates.len() >= MAX_ENTRIES {
                    gates.clear();
                }
                gates.entry(key.clone()).or_default().clone()
            }
            Err(_) => Default::default(),
        }
    }

    fn put(&self, key: CacheKey, generation: u64, d: Dashboard) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (generation, Instant::now(), d));
        }
    }
}

/// The county's date (UTC+8), which "now" figures depend on.
fn county_today() -> time::Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}

pub async fn dashboard(
    state: &State,
    year: i32,
    unit: Option<&str>,
    as_of: &AsOf,
) -> ApiResult<Dashboard> {
    check_year(year)?;
    let key: CacheKey = (
        year,
        unit.map(str::to_owned),
        as_of.date.unwrap_or_else(county_today),
        as_of.date.is_none(),
    );
    if let Some(d) = state.dashboards.get(&key) {
        return Ok(d);
    }
    // One computation per key at a time: when a batch invalidates the cache, fifty screens
    // asking at once wait for one answer instead of fifty.
    let gate = state.dashboards.gate(&key);
    let _computing = gate.lock().await;
    if let Some(d) = state.dashboards.get(&key) {
        return Ok(d);
    }
    // Read before the query: a batch committed meanwhile makes this entry stale at once.
    let generation = state.dashboards.generation.load(Ordering::SeqCst);
    let d = compute(state, year, unit, as_of).await?;
    state.dashboards.put(key, generation, d.clone());
    Ok(d)
}

/// The as-of arguments of the metric queries: on PostgreSQL SQL computing `(as_of, cutoff)`
/// from parameter `$2`; on SQLite, which has neither the county's clock nor `end_of_day`, the
/// values themselves (today in the county, no cut-off for "now").
fn sqlite_as_of(as_of: &AsOf) -> (String, Option<String>) {
    let date = as_of.date.unwrap_or_else(county_today);
    (
        date.to_string(),
        as_of.date.map(projections::sqlite::metrics::end_of_day),
    )
}

async fn compute(
    state: &State,
    year: i32,
    unit: Option<&str>,
    as_of: &AsOf,
) -> ApiResult<Dashboard> {
    let d = state.dialect();
    let columns = format!(
        "dashboard_year, scope, {} AS as_of_date, closed_months,
           {} AS month_progress_pct, {} AS day_progress_pct,
           project_count, abandoned_count, ytd_investment_yuan, ytd_funds_yuan,
           prior_ytd_investment_yuan, {} AS yoy_investment_pct,
           prior_ytd_funds_yuan, {} AS yoy_funds_pct,
           planned_investment_yuan, {} AS plan_completion_pct,
           start_due_count, start_started_count, {} AS start_rate_pct,
           performance_due_count, performance_started_count, {} AS performance_rate_pct,
           contracted_count, cumulative_funds_yuan, contract_investment_yuan,
           {} AS funds_in_place_rate_pct,
           signed_count, signed_investment_yuan, signed_big_count, signed_industrial_10m_count,
           {} AS signed_by_investor_type, {} AS size_classes, red_count, yellow_count, green_count,
           {} AS expropriation_target_area_mu,
           {} AS expropriation_area_mu,
           {} AS expropriation_area_pct,
           expropriation_target_households, expropriation_households_signed,
           {} AS expropriation_households_pct,
           supervision_opened_count, supervision_closed_count,
           {} AS supervision_close_rate_pct,
           supervision_overdue_count, supervision_due_soon_count",
        d.text("as_of_date"),
        d.float("month_progress_pct"),
        d.float("day_progress_pct"),
        d.float("yoy_investment_pct"),
        d.float("yoy_funds_pct"),
        d.float("plan_completion_pct"),
        d.float("start_rate_pct"),
        d.float("performance_rate_pct"),
        d.float("funds_in_place_rate_pct"),
        d.json("signed_by_investor_type"),
        d.json("size_classes"),
        d.text("expropriation_target_area_mu"),
        d.text("expropriation_area_mu"),
        d.float("expropriation_area_pct"),
        d.float("expropriation_households_pct"),
        d.float("supervision_close_rate_pct"),
    );
    let mut dashboard = match &state.db {
        Database::Postgres(pool) => {
            let sql = crate::sql!(
                "SELECT {columns} FROM reporting.dashboard_as_of($1, {}, $3)",
                as_of_sql(2)
            );
            sqlx::query_as::<_, Dashboard>(sql)
                .bind(year)
                .bind(as_of.date)
                .bind(unit)
                .fetch_one(pool)
                .await?
        }
        Database::Sqlite(pool) => {
            let (date, cutoff) = sqlite_as_of(as_of);
            let sql = crate::sql!(
                "SELECT {columns} FROM ({})",
                projections::sqlite::metrics::DASHBOARD_AS_OF
            );
            sqlx::query_as::<_, Dashboard>(sql)
                .bind(year)
                .bind(date)
                .bind(cutoff)
                .bind(unit)
                .fetch_one(pool)
                .await?
        }
    };
    dashboard.requested = as_of.date;
    Ok(dashboard)
}

/// Progress of one target metric for the county or a unit (目标进度).
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct TargetProgress {
    /// The year. 年度
    #[graphql(name = "year")]
    pub target_year: i32,
    /// `county` or the unit's slug. 范围
    pub scope: String,
    /// The metric. 指标
    pub metric: TargetMetric,
    /// Target value (yuan, count or mu by metric), null when no target is set. 目标值
    pub target_value: Option<Decimal>,
    /// Actual value. 完成值
    pub actual_value: Decimal,
    /// Actual over target, percent. 完成率（%）
    pub completion_pct: Option<f64>,
    /// Time progress, percent. 时序进度（%）
    pub time_progress_pct: Option<f64>,
    /// Completion minus time progress, percentage points. 进度差（百分点）
    pub gap_pp: Option<f64>,
    /// Light from the gap. 红黄绿灯
    pub light: Option<Light>,
}

pub async fn targets(
    state: &State,
    year: i32,
    scope: Option<&str>,
    as_of: &AsOf,
) -> ApiResult<Vec<TargetProgress>> {
    check_year(year)?;
    let d = state.dialect();
    let columns = format!(
        "target_year, scope, metric, {} AS target_value, {} AS actual_value,
           {} AS completion_pct, {} AS time_progress_pct, {} AS gap_pp, light",
        d.text("target_value"),
        d.text("actual_value"),
        d.float("completion_pct"),
        d.float("time_progress_pct"),
        d.float("gap_pp"),
    );
    Ok(match &state.db {
        Database::Postgres(pool) => {
            let sql = crate::sql!(
                "SELECT {columns} FROM reporting.target_progress_as_of($1, {})
                 WHERE $3::text IS NULL OR scope = $3",
                as_of_sql(2)
            );
            sqlx::query_as::<_, TargetProgress>(sql)
                .bind(year)
                .bind(as_of.date)
                .bind(scope)
                .fetch_all(pool)
                .await?
        }
        Database::Sqlite(pool) => {
            let (date, cutoff) = sqlite_as_of(as_of);
            let sql = crate::sql!(
                "SELECT {columns} FROM ({}) WHERE ?4 IS NULL OR scope = ?4",
                projections::sqlite::metrics::TARGET_PROGRESS_AS_OF
            );
            sqlx::query_as::<_, TargetProgress>(sql)
                .bind(year)
                .bind(date)
                .bind(cutoff)
                .bind(scope)
                .fetch_all(pool)
                .await?
        }
    })
}

/// A unit's place in the ranking (五比五晒单位排名).
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct UnitRank {
    /// The year. 年度
    #[graphql(name = "year")]
    pub ranking_year: i32,
    /// The unit's slug. 单位标识
    pub unit_id: String,
    /// Rank, 1 is best (ties share a rank). 名次
    pub rank: i64,
    /// Weighted completion minus the red-project penalty. 得分
    pub score: Option<f64>,
    /// Targets counted. 计分目标数
    pub target_count: i32,
    /// Red-light projects. 红灯项目数
    pub red_projects: i32,
    /// Completed investment this year, yuan (tie-breaker). 本年完成投资（元）
    #[graphql(name = "ytdInvestment")]
    pub ytd_investment_yuan: Yuan,
}

pub async fn ranking(state: &State, year: i32, as_of: &AsOf) -> ApiResult<Vec<UnitRank>> {
    check_year(year)?;
    let columns = format!(
        "ranking_year, unit_id, rank, {} AS score, target_count, red_projects, ytd_investment_yuan",
        state.dialect().float("score")
    );
    Ok(match &state.db {
        Database::Postgres(pool) => {
            let sql = crate::sql!(
                "SELECT {columns} FROM reporting.unit_ranking_as_of($1, {})",
                as_of_sql(2)
            );
            sqlx::query_as::<_, UnitRank>(sql)
                .bind(year)
                .bind(as_of.date)
                .fetch_all(pool)
                .await?
        }
        Database::Sqlite(pool) => {
            let (date, cutoff) = sqlite_as_of(as_of);
            let sql = crate::sql!(
                "SELECT {columns} FROM ({})",
                projections::sqlite::metrics::UNIT_RANKING_AS_OF
            );
            sqlx::query_as::<_, UnitRank>(sql)
                .bind(year)
                .bind(date)
                .bind(cutoff)
                .fetch_all(pool)
                .await?
        }
    })
}

fn check_year(year: i32) -> ApiResult<()> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(ApiError::Domain(domain::DomainError::new(
            domain::ErrorCode::YearOutOfRange,
            "year",
            format!("year {year} is outside 2000–2100"),
            format!("年度 {year} 超出 2000–2100 的范围"),
        )))
    }
}
