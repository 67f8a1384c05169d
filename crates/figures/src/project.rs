//! One project at (D, K): what had happened to it by the business date D, as far as the ledger
//! knew at K, and its own figures for a year (YTD, prior-year YTD, plan, lights).

use crate::calendar::{closed_months, closed_periods, month_progress, months_from, window};
use crate::facts::{Dated, ProjectFacts};
use crate::ratio::{Hundredths, Ratio};
use crate::{AsOf, Light};
use domain::Period;
use domain::project::{AgreementKind, InvestorType, ProjectKind};
use domain::rules::LightBands;
use std::sync::Arc;
use time::Date;
use uuid::Uuid;

/// Size classes by contract investment, else intended investment (lower bounds inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SizeClass {
    /// < 500万: below the statistical threshold.
    Below5m,
    /// 500万–1000万
    From5mTo10m,
    /// 1000万–1亿
    From10mTo100m,
    /// 1亿–10亿
    From100mTo1b,
    /// ≥ 10亿
    From1b,
}

impl SizeClass {
    pub const ALL: [SizeClass; 5] = [
        Self::Below5m,
        Self::From5mTo10m,
        Self::From10mTo100m,
        Self::From100mTo1b,
        Self::From1b,
    ];

    pub fn of(yuan: i64) -> SizeClass {
        match yuan {
            ..5_000_000 => Self::Below5m,
            5_000_000..10_000_000 => Self::From5mTo10m,
            10_000_000..100_000_000 => Self::From10mTo100m,
            100_000_000..1_000_000_000 => Self::From100mTo1b,
            _ => Self::From1b,
        }
    }

    /// The code in the reporting tables.
    pub fn code(self) -> &'static str {
        match self {
            Self::Below5m => "below_5m",
            Self::From5mTo10m => "5m_10m",
            Self::From10mTo100m => "10m_100m",
            Self::From100mTo1b => "100m_1b",
            Self::From1b => "from_1b",
        }
    }
}

/// What a project was at (D, K).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectView {
    pub id: Uuid,
    /// The unit responsible at D: the assignment with the latest effective date ≤ D known at K.
    pub unit: Arc<str>,
    pub kind: ProjectKind,
    pub investor_type: InvestorType,
    pub industrial: bool,
    pub intended_investment: i64,
    /// Of the latest formal or supplement agreement.
    pub contract_investment: Option<i64>,
    /// The formal contract's date.
    pub formal_signed: Option<Date>,
    /// The latest year's annual plan's start month, else the contract's planned start.
    pub planned_start: Option<Period>,
    pub started: Option<Date>,
    pub completed: Option<Date>,
    /// The first production start.
    pub production: Option<Date>,
    pub abandoned: bool,
    pub size_class: SizeClass,
}

fn first_known<T>(facts: &[Dated<T>], at: &AsOf) -> Option<Date> {
    facts
        .iter()
        .filter(|f| f.date <= at.date && at.knows(&f.stamp))
        .map(|f| f.date)
        .min()
}

impl ProjectView {
    /// `None` when the project was not registered by D or not recorded by K.
    pub fn at(p: &ProjectFacts, at: &AsOf) -> Option<ProjectView> {
        if p.registered > at.date || !at.knows(&p.stamp) {
            return None;
        }
        let unit = p
            .assignments
            .iter()
            .filter(|a| a.date <= at.date && at.knows(&a.stamp))
            .max_by_key(|a| (a.date, a.stamp.seq))
            .or_else(|| p.assignments.first())
            .map(|a| a.value.clone())
            .unwrap_or_else(|| Arc::from(""));
        let signed = || {
            p.agreements
                .iter()
                .filter(|g| g.date <= at.date && at.knows(&g.stamp))
        };
        let contract = signed()
            .filter(|g| matches!(g.kind, AgreementKind::Formal | AgreementKind::Supplement))
            .max_by_key(|g| g.stamp.seq);
        let formal_signed = signed()
            .filter(|g| g.kind == AgreementKind::Formal)
            .map(|g| g.date)
            .min();
        let contract_investment = contract.map(|g| g.contract_investment);
        let planned_start = plan_start(p, at).or(contract.map(|g| g.planned_start));
        Some(ProjectView {
            id: p.id,
            unit,
            kind: p.kind,
            investor_type: p.investor_type,
            industrial: p.industrial,
            intended_investment: p.intended_investment,
            contract_investment,
            formal_signed,
            planned_start,
            started: first_known(&p.starts, at),
            completed: first_known(&p.completions, at),
            production: first_known(&p.productions, at),
            abandoned: first_known(&p.abandonments, at).is_some(),
            size_class: SizeClass::of(contract_investment.unwrap_or(p.intended_investment)),
        })
    }
}

/// The start month of the latest year's plan (its latest revision known at K) that names one.
fn plan_start(p: &ProjectFacts, at: &AsOf) -> Option<Period> {
    // Plans are few per project: a pair of scans finds each year's latest known revision
    // without allocating.
    let mut best: Option<(i32, Period)> = None;
    for (i, plan) in p.plans.iter().enumerate() {
        if !at.knows(&plan.stamp) {
            continue;
        }
        let superseded = p.plans[i + 1..]
            .iter()
            .any(|later| later.year == plan.year && at.knows(&later.stamp));
        if let (false, Some(start)) = (superseded, plan.planned_start)
            && best.is_none_or(|(y, _)| plan.year > y)
        {
            best = Some((plan.year, start));
        }
    }
    best.map(|(_, s)| s)
}

/// The plan for year `y` known at K (its latest revision).
pub(crate) fn plan_for(p: &ProjectFacts, y: i32, at: &AsOf) -> Option<i64> {
    p.plans
        .iter()
        .filter(|pl| pl.year == y && at.knows(&pl.stamp))
        .max_by_key(|pl| pl.stamp.seq)
        .map(|pl| pl.planned_investment)
}

/// Σ (completed investment, funds in place) over the periods `from ..= to`, each period's
/// figure being the latest of its report and corrections known at K.
fn sum_months(p: &ProjectFacts, from: Period, to: Period, at: &AsOf) -> (i64, i64) {
    let start = p.months.partition_point(|m| m.period < from);
    let mut sum = (0i64, 0i64);
    // The period being summed and its latest known (investment, funds).
    let mut current: Option<(Period, i64, i64)> = None;
    for m in p.months[start..].iter().take_while(|m| m.period <= to) {
        if !at.knows(&m.stamp) {
            continue;
        }
        match current {
            // A later entry of the same period replaces it (entries are in recording order).
            Some((period, _, _)) if period == m.period => {}
            Some((_, i, f)) => sum = (sum.0 + i, sum.1 + f),
            None => {}
        }
        current = Some((m.period, m.completed_investment, m.funds_in_place));
    }
    if let Some((_, i, f)) = current {
        sum = (sum.0 + i, sum.1 + f);
    }
    sum
}

fn sum_closed(p: &ProjectFacts, range: Option<(Period, Period)>, at: &AsOf) -> (i64, i64) {
    range.map_or((0, 0), |(from, to)| sum_months(p, from, to, at))
}

/// Latest cumulative expropriation report with an as-of date ≤ `until` known at K.
pub(crate) fn expropriation_until<'p>(
    p: &'p ProjectFacts,
    until: Date,
    at: &AsOf,
) -> Option<&'p crate::facts::ExpropriationReport> {
    p.expropriation_reports
        .iter()
        .filter(|r| r.as_of <= until && at.knows(&r.stamp))
        .max_by_key(|r| (r.as_of, r.stamp.seq))
}

/// The expropriation target known at K (the latest set).
pub(crate) fn expropriation_target<'p>(
    p: &'p ProjectFacts,
    at: &AsOf,
) -> Option<&'p crate::facts::ExpropriationTarget> {
    p.expropriation_targets
        .iter()
        .filter(|t| at.knows(&t.stamp))
        .max_by_key(|t| t.stamp.seq)
}

/// A project's own figures for year Y at (D, K).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFigures {
    pub view: ProjectView,
    /// Σ completed investment over Y-01 … Y-m (本年完成投资), yuan.
    pub ytd_investment: i64,
    /// Σ funds in place over Y-01 … Y-m (本年到位资金), yuan.
    pub ytd_funds: i64,
    /// The same sums for Y − 1 over the same closed months.
    pub prior_ytd_investment: i64,
    pub prior_ytd_funds: i64,
    /// Σ funds in place over every reported period up to the month of D.
    pub cumulative_funds: i64,
    /// The annual plan for Y (its latest revision), yuan.
    pub planned_investment: Option<i64>,
    /// Start light: months from the planned start month to the month of D, for a live project
    /// not started by D.
    pub months_late: Option<i32>,
    pub start_light: Option<Light>,
    /// Investment light: YTD ÷ plan × 100 and its gap to monthly time progress, for a live
    /// project started by D with a plan for Y above 0.
    pub plan_completion: Option<Hundredths>,
    pub investment_gap: Option<Hundredths>,
    pub investment_light: Option<Light>,
    /// The worse of the two.
    pub light: Option<Light>,
    /// This project's part of the target metrics (0 for an abandoned project).
    pub signed_in_year: bool,
    pub started_in_year: bool,
    pub production_in_year: bool,
    /// Latest cumulative area in the window minus the latest before Y, ten-thousandths of a mu.
    pub expropriated_in_year: i64,
}

impl ProjectFigures {
    pub fn compute(
        p: &ProjectFacts,
        year: i32,
        at: &AsOf,
        bands: &LightBands,
    ) -> Option<ProjectFigures> {
        let view = ProjectView::at(p, at)?;
        let m = closed_months(year, at.date);
        let (ytd_investment, ytd_funds) = sum_closed(p, closed_periods(year, m), at);
        let (prior_ytd_investment, prior_ytd_funds) =
            sum_closed(p, closed_periods(year - 1, m), at);
        let first = p.months.first().map_or(Period::of(at.date), |m| m.period);
        let (_, cumulative_funds) = sum_months(p, first, Period::of(at.date), at);
        let planned_investment = plan_for(p, year, at);
        let live = !view.abandoned;

        let months_late = match (live, view.started, view.planned_start) {
            (true, None, Some(start)) => Some(months_from(start, at.date)),
            _ => None,
        };
        let start_light = months_late.map(|k| {
            if k >= bands.start_red_months as i32 {
                Light::Red
            } else if k >= bands.start_yellow_months as i32 {
                Light::Yellow
            } else {
                Light::Green
            }
        });
        let (plan_completion, investment_gap) = match (live, view.started, planned_investment) {
            (true, Some(_), Some(plan)) if plan > 0 => {
                let completion = Ratio::percent(i128::from(ytd_investment), i128::from(plan));
                (
                    completion.map(Ratio::hundredths),
                    completion.map(|c| (c - month_progress(year, at.date)).hundredths()),
                )
            }
            _ => (None, None),
        };
        let investment_light = investment_gap.map(|g| Light::for_gap(g, bands));
        let light = start_light.max(investment_light);

        let (first, last) = window(year, at.date);
        let in_window = |d: Option<Date>| live && d.is_some_and(|d| d >= first && d <= last);
        let expropriated_in_year = if live {
            let now = expropriation_until(p, last, at).map_or(0, |r| r.area);
            let before = first
                .previous_day()
                .and_then(|b| expropriation_until(p, b, at))
                .map_or(0, |r| r.area);
            now - before
        } else {
            0
        };
        Some(ProjectFigures {
            signed_in_year: in_window(view.formal_signed),
            started_in_year: in_window(view.started),
            production_in_year: in_window(view.production),
            expropriated_in_year,
            view,
            ytd_investment,
            ytd_funds,
            prior_ytd_investment,
            prior_ytd_funds,
            cumulative_funds,
            planned_investment,
            months_late,
            start_light,
            plan_completion,
            investment_gap,
            investment_light,
            light,
        })
    }
}
