//! Target progress: for each scope (the county and every unit) and each of the eight target
//! metrics, the actual for Y at (D, K) against the target known at K.

use crate::calendar::{day_progress, month_progress};
use crate::ratio::{Hundredths, Ratio};
use crate::{Figures, Light, ProjectFigures, Scope};
use domain::targets::TargetMetric;

/// The unit a target metric is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Yuan,
    Count,
    /// Ten-thousandths of a mu.
    Mu,
}

pub fn metric_unit(metric: TargetMetric) -> MetricUnit {
    use TargetMetric as M;
    match metric {
        M::CompletedInvestment | M::FundsInPlace | M::SignedInvestment => MetricUnit::Yuan,
        M::SignedProjects | M::BigProjectsSigned | M::StartedProjects | M::ProductionProjects => {
            MetricUnit::Count
        }
        M::ExpropriatedArea => MetricUnit::Mu,
    }
}

/// Monthly metrics run on closed months, the others on days.
pub fn is_monthly(metric: TargetMetric) -> bool {
    matches!(
        metric,
        TargetMetric::CompletedInvestment | TargetMetric::FundsInPlace
    )
}

/// This project's part of a metric's actual (0 for an abandoned project).
fn project_value(f: &ProjectFigures, metric: TargetMetric) -> i64 {
    use TargetMetric as M;
    if f.view.abandoned {
        return 0;
    }
    let big = f.view.contract_investment.is_some_and(|c| c >= 100_000_000);
    match metric {
        M::CompletedInvestment => f.ytd_investment,
        M::FundsInPlace => f.ytd_funds,
        M::SignedProjects => i64::from(f.signed_in_year),
        M::SignedInvestment if f.signed_in_year => f.view.contract_investment.unwrap_or(0),
        M::SignedInvestment => 0,
        M::BigProjectsSigned => i64::from(f.signed_in_year && big),
        M::StartedProjects => i64::from(f.started_in_year),
        M::ProductionProjects => i64::from(f.production_in_year),
        M::ExpropriatedArea => f.expropriated_in_year,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetProgress {
    pub year: i32,
    pub scope: Scope,
    pub metric: TargetMetric,
    /// The latest revision known at K, in the metric's unit; `None` without a target.
    pub target: Option<i64>,
    pub actual: i64,
    /// actual ÷ target × 100; `None` without a target (or a target of 0).
    pub completion: Option<Hundredths>,
    pub time_progress: Hundredths,
    /// completion − time progress in percentage points (computed before rounding).
    pub gap: Option<Hundredths>,
    pub light: Option<Light>,
}

impl Figures<'_> {
    /// Every scope's progress (county first, then units by slug), metrics in their fixed order.
    pub fn target_progress(&self) -> Vec<TargetProgress> {
        // One pass over the projects sums every unit's actuals; the county's is their total.
        let mut by_unit: std::collections::BTreeMap<&str, [i64; 8]> =
            self.units().map(|u| (u, [0; 8])).collect();
        let mut county = [0i64; 8];
        for f in self.projects.iter().filter(|f| !f.view.abandoned) {
            let unit = by_unit.get_mut(&*f.view.unit);
            let values = TargetMetric::ALL.map(|m| project_value(f, m));
            for (i, v) in values.iter().enumerate() {
                county[i] += v;
            }
            if let Some(sums) = unit {
                for (i, v) in values.iter().enumerate() {
                    sums[i] += v;
                }
            }
        }
        let mut rows = self.rows(Scope::County, &county);
        for (unit, sums) in by_unit {
            rows.extend(self.rows(Scope::Unit(unit.to_owned()), &sums));
        }
        rows
    }

    /// One scope's progress, the eight metrics in their fixed order.
    pub fn targets_of(&self, scope: &Scope) -> Vec<TargetProgress> {
        let mut sums = [0i64; 8];
        for f in self.live(scope) {
            for (i, m) in TargetMetric::ALL.iter().enumerate() {
                sums[i] += project_value(f, *m);
            }
        }
        self.rows(scope.clone(), &sums)
    }

    fn rows(&self, scope: Scope, actuals: &[i64; 8]) -> Vec<TargetProgress> {
        TargetMetric::ALL
            .iter()
            .zip(actuals)
            .map(|(&metric, &actual)| self.progress(scope.clone(), metric, actual))
            .collect()
    }

    fn progress(&self, scope: Scope, metric: TargetMetric, actual: i64) -> TargetProgress {
        let unit = match &scope {
            Scope::County => None,
            Scope::Unit(u) => Some(u.as_str()),
        };
        let target = self
            .ledger()
            .targets
            .iter()
            .filter(|t| {
                t.year == self.year
                    && t.metric == metric
                    && t.unit.as_deref() == unit
                    && self.at.knows(&t.stamp)
            })
            .max_by_key(|t| t.stamp.seq)
            .map(|t| t.value);
        let time = if is_monthly(metric) {
            month_progress(self.year, self.at.date)
        } else {
            day_progress(self.year, self.at.date)
        };
        let completion = target
            .filter(|t| *t > 0)
            .and_then(|t| Ratio::percent(i128::from(actual), i128::from(t)));
        let gap = completion.map(|c| (c - time).hundredths());
        TargetProgress {
            year: self.year,
            scope,
            metric,
            target,
            actual,
            completion: completion.map(Ratio::hundredths),
            time_progress: time.hundredths(),
            gap,
            light: gap.map(|g| Light::for_gap(g, &self.bands)),
        }
    }
}
