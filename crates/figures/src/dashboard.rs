//! The dashboard (领导驾驶舱) of a year at (D, K), for the county or one unit.

use crate::calendar::{closed_months, day_progress, month_progress, window};
use crate::project::{SizeClass, expropriation_target, expropriation_until};
use crate::ratio::{Hundredths, Ratio};
use crate::{Figures, Light, Scope};
use domain::project::InvestorType;
use std::collections::BTreeMap;
use time::Date;

/// Formal contracts of one investor type signed in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvestorSignings {
    pub count: u32,
    pub investment: i64,
}

/// Headline figures; rates are percentages rounded to two decimals, `None` when their
/// denominator is 0. docs/metrics.md defines each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub year: i32,
    pub scope: Scope,
    pub as_of: Date,
    pub closed_months: u8,
    pub month_progress: Hundredths,
    pub day_progress: Hundredths,
    pub project_count: u32,
    pub abandoned_count: u32,
    pub ytd_investment: i64,
    pub ytd_funds: i64,
    pub prior_ytd_investment: i64,
    pub yoy_investment: Option<Hundredths>,
    pub prior_ytd_funds: i64,
    pub yoy_funds: Option<Hundredths>,
    /// Σ plans for Y of live projects with a plan.
    pub planned_investment: Option<i64>,
    /// Like for like: Σ YTD of the projects with a plan for Y.
    pub planned_ytd_investment: i64,
    pub plan_completion: Option<Hundredths>,
    pub start_due: u32,
    pub start_started: u32,
    pub start_rate: Option<Hundredths>,
    pub performance_due: u32,
    pub performance_started: u32,
    pub performance_rate: Option<Hundredths>,
    pub contracted_count: u32,
    pub cumulative_funds: i64,
    pub contract_investment: i64,
    pub funds_in_place_rate: Option<Hundredths>,
    pub signed_count: u32,
    pub signed_investment: i64,
    pub signed_big_count: u32,
    pub signed_industrial_10m_count: u32,
    pub signed_by_investor_type: BTreeMap<InvestorType, InvestorSignings>,
    pub size_classes: BTreeMap<SizeClass, u32>,
    pub red_count: u32,
    pub yellow_count: u32,
    pub green_count: u32,
    /// Ten-thousandths of a mu; `None` when no live project has an expropriation target.
    pub expropriation_target_area: Option<i64>,
    pub expropriation_area: Option<i64>,
    pub expropriation_area_pct: Option<Hundredths>,
    pub expropriation_target_households: Option<i64>,
    pub expropriation_households_signed: Option<i64>,
    pub expropriation_households_pct: Option<Hundredths>,
    pub supervision_opened: u32,
    pub supervision_closed: u32,
    pub supervision_close_rate: Option<Hundredths>,
    pub supervision_overdue: u32,
    pub supervision_due_soon: u32,
}

fn pct(part: i64, whole: i64) -> Option<Hundredths> {
    Ratio::percent(i128::from(part), i128::from(whole)).map(Ratio::hundredths)
}

fn growth(now: i64, before: i64) -> Option<Hundredths> {
    pct(now - before, before)
}

/// Where a supervision item stood at (D, K).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemAt {
    pub id: uuid::Uuid,
    pub opened: Date,
    /// The deadline in force: the latest extension decided by D and known at K.
    pub deadline: Date,
    pub closed: bool,
}

impl ItemAt {
    pub fn overdue(&self, d: Date) -> bool {
        !self.closed && self.deadline < d
    }

    /// Open, due within 3 days (D ≤ deadline ≤ D + 3).
    pub fn due_soon(&self, d: Date) -> bool {
        !self.closed && self.deadline >= d && (self.deadline - d).whole_days() <= 3
    }
}

impl Figures<'_> {
    /// Supervision items opened by D and known at K, with their lead unit.
    pub fn supervision_items(&self) -> impl Iterator<Item = (&str, ItemAt)> {
        let at = self.at;
        self.ledger().items.values().filter_map(move |i| {
            if i.opened > at.date || !at.knows(&i.stamp) {
                return None;
            }
            let deadline = i
                .extensions
                .iter()
                .filter(|x| x.date <= at.date && at.knows(&x.stamp))
                .max_by_key(|x| x.stamp.seq)
                .map_or(i.deadline, |x| x.value);
            let closed = i
                .closures
                .iter()
                .any(|c| c.date <= at.date && at.knows(&c.stamp));
            Some((
                i.lead_unit.as_str(),
                ItemAt {
                    id: i.id,
                    opened: i.opened,
                    deadline,
                    closed,
                },
            ))
        })
    }

    pub fn dashboard(&self, scope: &Scope) -> Dashboard {
        let (y, d) = (self.year, self.at.date);
        let m = closed_months(y, d);
        let (first, last) = window(y, d);
        let last_closed = domain::Period::new(y, m.max(1)).ok().filter(|_| m > 0);
        let due = |start: Option<domain::Period>| match (start, last_closed) {
            (Some(s), Some(l)) => s <= l,
            // m = 0: the last closed period is December of Y − 1.
            (Some(s), None) => s.year() < y,
            (None, _) => false,
        };

        let mut b = Dashboard {
            year: y,
            scope: scope.clone(),
            as_of: d,
            closed_months: m,
            month_progress: month_progress(y, d).hundredths(),
            day_progress: day_progress(y, d).hundredths(),
            project_count: 0,
            abandoned_count: 0,
            ytd_investment: 0,
            ytd_funds: 0,
            prior_ytd_investment: 0,
            yoy_investment: None,
            prior_ytd_funds: 0,
            yoy_funds: None,
            planned_investment: None,
            planned_ytd_investment: 0,
            plan_completion: None,
            start_due: 0,
            start_started: 0,
            start_rate: None,
            performance_due: 0,
            performance_started: 0,
            performance_rate: None,
            contracted_count: 0,
            cumulative_funds: 0,
            contract_investment: 0,
            funds_in_place_rate: None,
            signed_count: 0,
            signed_investment: 0,
            signed_big_count: 0,
            signed_industrial_10m_count: 0,
            signed_by_investor_type: BTreeMap::new(),
            size_classes: BTreeMap::new(),
            red_count: 0,
            yellow_count: 0,
            green_count: 0,
            expropriation_target_area: None,
            expropriation_area: None,
            expropriation_area_pct: None,
            expropriation_target_households: None,
            expropriation_households_signed: None,
            expropriation_households_pct: None,
            supervision_opened: 0,
            supervision_closed: 0,
            supervision_close_rate: None,
            supervision_overdue: 0,
            supervision_due_soon: 0,
        };
        let (mut target_area, mut target_households, mut area, mut signed_households) =
            (0i64, 0i64, 0i64, 0i64);
        let mut any_expropriation = false;
        for f in self
            .projects
            .iter()
            .filter(|f| scope.contains(&f.view.unit))
        {
            let v = &f.view;
            if v.abandoned {
                b.abandoned_count += 1;
                continue;
            }
            b.project_count += 1;
            b.ytd_investment += f.ytd_investment;
            b.ytd_funds += f.ytd_funds;
            b.prior_ytd_investment += f.prior_ytd_investment;
            b.prior_ytd_funds += f.prior_ytd_funds;
            if let Some(plan) = f.planned_investment {
                *b.planned_investment.get_or_insert(0) += plan;
                b.planned_ytd_investment += f.ytd_investment;
            }
            let started = v.started.is_some();
            if v.planned_start.is_some_and(|s| s.year() == y) && due(v.planned_start) {
                b.start_due += 1;
                b.start_started += u32::from(started);
            }
            if v.formal_signed.is_some() {
                b.contracted_count += 1;
                b.cumulative_funds += f.cumulative_funds;
                b.contract_investment += v.contract_investment.unwrap_or(0);
                if due(v.planned_start) {
                    b.performance_due += 1;
                    b.performance_started += u32::from(started);
                }
            }
            if v.formal_signed.is_some_and(|s| s >= first && s <= last) {
                let investment = v.contract_investment.unwrap_or(0);
                b.signed_count += 1;
                b.signed_investment += investment;
                b.signed_big_count += u32::from(investment >= 100_000_000);
                b.signed_industrial_10m_count +=
                    u32::from(v.industrial && investment >= 10_000_000);
                let by_type = b
                    .signed_by_investor_type
                    .entry(v.investor_type)
                    .or_default();
                by_type.count += 1;
                by_type.investment += investment;
            }
            *b.size_classes.entry(v.size_class).or_default() += 1;
            match f.light {
                Some(Light::Red) => b.red_count += 1,
                Some(Light::Yellow) => b.yellow_count += 1,
                Some(Light::Green) => b.green_count += 1,
                None => {}
            }
            if let Some(p) = self.ledger().project(v.id)
                && let Some(t) = expropriation_target(p, &self.at)
            {
                any_expropriation = true;
                target_area += t.area;
                target_households += t.households;
                if let Some(r) = expropriation_until(p, d, &self.at) {
                    area += r.area;
                    signed_households += r.households_signed;
                }
            }
        }
        b.yoy_investment = growth(b.ytd_investment, b.prior_ytd_investment);
        b.yoy_funds = growth(b.ytd_funds, b.prior_ytd_funds);
        b.plan_completion = b
            .planned_investment
            .and_then(|p| pct(b.planned_ytd_investment, p));
        b.start_rate = pct(i64::from(b.start_started), i64::from(b.start_due));
        b.performance_rate = pct(
            i64::from(b.performance_started),
            i64::from(b.performance_due),
        );
        b.funds_in_place_rate = pct(b.cumulative_funds, b.contract_investment);
        if any_expropriation {
            b.expropriation_target_area = Some(target_area);
            b.expropriation_area = Some(area);
            b.expropriation_area_pct = pct(area, target_area);
            b.expropriation_target_households = Some(target_households);
            b.expropriation_households_signed = Some(signed_households);
            b.expropriation_households_pct = pct(signed_households, target_households);
        }
        for (lead, item) in self.supervision_items() {
            if !scope.contains(lead) {
                continue;
            }
            if item.opened.year() == y {
                b.supervision_opened += 1;
                b.supervision_closed += u32::from(item.closed);
            }
            b.supervision_overdue += u32::from(item.overdue(d));
            b.supervision_due_soon += u32::from(item.due_soon(d));
        }
        b.supervision_close_rate = pct(
            i64::from(b.supervision_closed),
            i64::from(b.supervision_opened),
        );
        b
    }
}
