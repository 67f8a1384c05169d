//! The dashboard (领导驾驶舱), target progress and unit ranking. Every figure comes from the pure
//! metrics core (crates/figures) over the facts the server keeps in memory
//! (`projections::live::LiveLedger`), for a business date (`asOf`) and a knowledge time
//! (`knownAt`); docs/metrics.md defines each.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_graphql::SimpleObject;
use figures::{Figures, Hundredths, MetricUnit, Scope};

use super::State;
use super::enums::{InvestorType, Light, SizeClass, TargetMetric};
use super::scalars::{Date, Decimal, Mu, Yuan};
use crate::error::{ApiError, ApiResult};

/// The moment figures are asked for, on both axes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AsOf {
    /// The business date D; `None`: today in the county.
    pub date: Option<time::Date>,
    /// The knowledge time K: only facts recorded at or before it; `None`: everything recorded.
    pub known_at: Option<time::OffsetDateTime>,
}

impl AsOf {
    /// Checked: D not after today (one day of tolerance for time zones, as for business dates).
    pub fn resolve(&self) -> ApiResult<figures::AsOf> {
        let today = county_today();
        let date = self.date.unwrap_or(today);
        if let Some(d) = self.date {
            domain::period::not_in_future("asOf", d, today)?;
        }
        Ok(figures::AsOf {
            date,
            known_at: self.known_at,
        })
    }
}

/// Headline figures of a year for the county or one unit (领导驾驶舱指标), as the ledger stood at
/// the end of `asOf` (or now). Rates are percentages rounded to 2 decimals, null when their
/// denominator is 0. Definitions: docs/metrics.md.
#[derive(SimpleObject, Debug, Clone)]
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
    /// Completed investment of the projects that have a plan for the year (the numerator of
    /// the plan completion), yuan. 有年度计划项目的本年完成投资（元）
    #[graphql(name = "plannedYtdInvestment")]
    pub planned_ytd_investment_yuan: Yuan,
    /// Like for like: completed investment of the projects with a plan over their plans,
    /// percent. 计划完成率（%）
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
    /// Projects signed this year by investor type. 按投资方类型签约情况
    pub signed_by_investor_type: Vec<SignedByInvestorType>,
    /// Live projects by size class. 规模分布
    pub size_classes: Vec<SizeClassCount>,
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
    /// The moment asked for (the target and ranking fields use the same moment).
    #[graphql(skip)]
    pub requested: AsOf,
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
        Ok(targets(
            state,
            self.dashboard_year,
            Some(&self.scope),
            &self.requested,
        )
        .await?)
    }

    /// The unit ranking at the same moment (every unit, whatever the scope). 单位排名
    pub async fn unit_ranking(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Vec<UnitRank>> {
        let state = ctx.data::<State>()?;
        Ok(ranking(state, self.dashboard_year, &self.requested).await?)
    }
}

/// Dashboards already computed, for the leaders' screens that ask for the same few over and over.
/// An entry is kept with the generation it was computed at and served while that generation
/// holds: the generation moves whenever the facts in memory or the read models move, and this
/// process's mutations move it after their read-your-writes wait (so a client that wrote and
/// then reads never sees the figures from before its write). An entry is also dropped after
/// [`MAX_AGE`], so that "today" follows the calendar.
#[derive(Default)]
pub struct Cache {
    generation: AtomicU64,
    entries: std::sync::Mutex<HashMap<CacheKey, (u64, Instant, Dashboard)>>,
}

type CacheKey = (i32, Option<String>, AsOf);

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
pub fn county_today() -> time::Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}

/// The scope asked for: the county, or a unit the ledger knows (else `UNIT_NOT_FOUND`).
fn scope_of(ledger: &figures::Ledger, unit: Option<&str>, field: &'static str) -> ApiResult<Scope> {
    match unit {
        None | Some("county") => Ok(Scope::County),
        Some(u) if ledger.has_unit(u) => Ok(Scope::Unit(u.to_owned())),
        Some(u) => Err(ApiError::Domain(domain::DomainError::new(
            domain::ErrorCode::UnitNotFound,
            field,
            format!("unit {u:?} does not exist"),
            format!("单位 {u:?} 不存在"),
        ))),
    }
}

pub async fn dashboard(
    state: &State,
    year: i32,
    unit: Option<&str>,
    as_of: &AsOf,
) -> ApiResult<Dashboard> {
    check_year(year)?;
    let at = as_of.resolve()?;
    let key: CacheKey = (
        year,
        unit.map(str::to_owned),
        AsOf {
            date: Some(at.date),
            known_at: at.known_at,
        },
    );
    if let Some(d) = state.dashboards.get(&key) {
        return Ok(d);
    }
    // Read before computing: facts folded meanwhile make this entry stale at once.
    let generation = state.dashboards.generation();
    let d = {
        let live = state.live.read();
        let scope = scope_of(&live.ledger, unit, "unit")?;
        let figures = Figures::new(&live.ledger, year, at);
        Dashboard::of(&figures.dashboard(&scope), *as_of)
    };
    state.dashboards.put(key, generation, d.clone());
    Ok(d)
}

fn pct(h: Option<Hundredths>) -> Option<f64> {
    h.map(Hundredths::to_f64)
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn households(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// An area held as ten-thousandths of a mu, as the API's exact decimal string.
fn mu(ten_thousandths: i64) -> Mu {
    let sign = if ten_thousandths < 0 { "-" } else { "" };
    let a = ten_thousandths.unsigned_abs();
    Mu(format!("{sign}{}.{:04}", a / 10_000, a % 10_000))
}

/// A value in a target metric's unit, as the exact decimal string of the API: integer yuan and
/// counts without decimals, mu with four.
fn metric_value(metric: domain::targets::TargetMetric, v: i64) -> Decimal {
    match figures::metric_unit(metric) {
        MetricUnit::Yuan | MetricUnit::Count => Decimal(v.to_string()),
        MetricUnit::Mu => Decimal(mu(v).0),
    }
}

fn light(l: Option<figures::Light>) -> Option<Light> {
    l.and_then(|l| Light::from_db(l.code()))
}

/// The snake_case word of a domain vocabulary value (what the GraphQL enums read).
fn word<T: serde::Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

impl Dashboard {
    fn of(d: &figures::Dashboard, requested: AsOf) -> Dashboard {
        Dashboard {
            dashboard_year: d.year,
            scope: d.scope.code().to_owned(),
            as_of_date: Date::of(d.as_of),
            closed_months: i32::from(d.closed_months),
            month_progress_pct: Some(d.month_progress.to_f64()),
            day_progress_pct: Some(d.day_progress.to_f64()),
            project_count: count(d.project_count),
            abandoned_count: count(d.abandoned_count),
            ytd_investment_yuan: Yuan(d.ytd_investment),
            ytd_funds_yuan: Yuan(d.ytd_funds),
            prior_ytd_investment_yuan: Yuan(d.prior_ytd_investment),
            yoy_investment_pct: pct(d.yoy_investment),
            prior_ytd_funds_yuan: Yuan(d.prior_ytd_funds),
            yoy_funds_pct: pct(d.yoy_funds),
            planned_investment_yuan: d.planned_investment.map(Yuan),
            planned_ytd_investment_yuan: Yuan(d.planned_ytd_investment),
            plan_completion_pct: pct(d.plan_completion),
            start_due_count: count(d.start_due),
            start_started_count: count(d.start_started),
            start_rate_pct: pct(d.start_rate),
            performance_due_count: count(d.performance_due),
            performance_started_count: count(d.performance_started),
            performance_rate_pct: pct(d.performance_rate),
            contracted_count: count(d.contracted_count),
            cumulative_funds_yuan: Yuan(d.cumulative_funds),
            contract_investment_yuan: Yuan(d.contract_investment),
            funds_in_place_rate_pct: pct(d.funds_in_place_rate),
            signed_count: count(d.signed_count),
            signed_investment_yuan: Yuan(d.signed_investment),
            signed_big_count: count(d.signed_big_count),
            signed_industrial_10m_count: count(d.signed_industrial_10m_count),
            signed_by_investor_type: d
                .signed_by_investor_type
                .iter()
                .map(|(t, s)| SignedByInvestorType {
                    investor_type: InvestorType::from_db(&word(t)),
                    count: i64::from(s.count),
                    investment: Yuan(s.investment),
                })
                .collect(),
            size_classes: d
                .size_classes
                .iter()
                .map(|(c, n)| SizeClassCount {
                    size_class: SizeClass::from_db(c.code()),
                    count: i64::from(*n),
                })
                .collect(),
            red_count: count(d.red_count),
            yellow_count: count(d.yellow_count),
            green_count: count(d.green_count),
            expropriation_target_area_mu: d.expropriation_target_area.map(mu),
            expropriation_area_mu: d.expropriation_area.map(mu),
            expropriation_area_pct: pct(d.expropriation_area_pct),
            expropriation_target_households: d.expropriation_target_households.map(households),
            expropriation_households_signed: d.expropriation_households_signed.map(households),
            expropriation_households_pct: pct(d.expropriation_households_pct),
            supervision_opened_count: count(d.supervision_opened),
            supervision_closed_count: count(d.supervision_closed),
            supervision_close_rate_pct: pct(d.supervision_close_rate),
            supervision_overdue_count: count(d.supervision_overdue),
            supervision_due_soon_count: count(d.supervision_due_soon),
            requested,
        }
    }
}

/// Progress of one target metric for the county or a unit (目标进度).
#[derive(SimpleObject, Debug, Clone)]
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
    let at = as_of.resolve()?;
    let live = state.live.read();
    let figures = Figures::new(&live.ledger, year, at);
    let rows = match scope {
        None => figures.target_progress(),
        Some(s) => figures.targets_of(&scope_of(&live.ledger, Some(s), "scope")?),
    };
    Ok(rows.iter().map(TargetProgress::of).collect())
}

impl TargetProgress {
    fn of(t: &figures::TargetProgress) -> TargetProgress {
        TargetProgress {
            target_year: t.year,
            scope: t.scope.code().to_owned(),
            metric: TargetMetric::from_db(&word(t.metric))
                .unwrap_or(TargetMetric::CompletedInvestment),
            target_value: t.target.map(|v| metric_value(t.metric, v)),
            actual_value: metric_value(t.metric, t.actual),
            completion_pct: pct(t.completion),
            time_progress_pct: Some(t.time_progress.to_f64()),
            gap_pp: pct(t.gap),
            light: light(t.light),
        }
    }
}

/// A unit's place in the ranking (五比五晒单位排名).
#[derive(SimpleObject, Debug, Clone)]
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
    let at = as_of.resolve()?;
    let live = state.live.read();
    let figures = Figures::new(&live.ledger, year, at);
    Ok(figures
        .unit_ranking()
        .into_iter()
        .map(|r| UnitRank {
            ranking_year: r.year,
            unit_id: r.unit_id,
            rank: i64::from(r.rank),
            score: pct(r.score),
            target_count: count(r.target_count),
            red_projects: count(r.red_projects),
            ytd_investment_yuan: Yuan(r.ytd_investment),
        })
        .collect())
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
