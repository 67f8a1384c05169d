//! Every metric of the ledger, defined once (DOMAIN.md "Metrics", docs/metrics.md).
//!
//! Pure: no I/O, no async, no SQL. The input is [`Ledger`], the facts folded from the events of
//! `$all` with the time each was recorded; the output is typed figures for a year and a moment
//! on two axes ([`AsOf`]): the business date D (what had happened by D) and the knowledge time
//! K (only facts recorded by K). The stored reporting tables, the API and the exports all take
//! their figures from here; nothing else computes a rate, a light or a rank.

mod calendar;
mod dashboard;
mod facts;
mod project;
mod ranking;
mod ratio;
mod targets;

pub use calendar::{closed_months, day_progress, month_progress};
pub use dashboard::ItemAt;
pub use dashboard::{Dashboard, InvestorSignings};
pub use facts::{Ledger, ProjectFacts, Stamp, SupervisionFacts, Touched};
pub use project::{ProjectFigures, ProjectView, SizeClass};
pub use ranking::UnitRank;
pub use ratio::{Hundredths, Ratio};
pub use targets::{MetricUnit, TargetProgress, metric_unit};

use domain::rules::{LightBands, RankingWeights};
use time::{Date, OffsetDateTime};

/// The moment figures are asked for, on both axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf {
    /// D: business dates after it do not count; closed months are those before its month.
    pub date: Date,
    /// K: only facts recorded at or before it count; `None` for everything recorded.
    pub known_at: Option<OffsetDateTime>,
}

impl AsOf {
    /// D with everything recorded so far: "the half-year as we know it now".
    pub fn now_known(date: Date) -> AsOf {
        AsOf {
            date,
            known_at: None,
        }
    }

    pub fn knows(&self, stamp: &Stamp) -> bool {
        self.known_at.is_none_or(|k| stamp.recorded_at <= k)
    }
}

/// Red, yellow or green; ordered so that the worse is the greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    /// From a gap in percentage points (rounded), with the bands in force.
    pub fn for_gap(gap: Hundredths, bands: &LightBands) -> Light {
        if gap.0 >= i64::from(bands.green_min_gap) * 100 {
            Light::Green
        } else if gap.0 >= i64::from(bands.yellow_min_gap) * 100 {
            Light::Yellow
        } else {
            Light::Red
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// Whose figures: the county's or one unit's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    County,
    Unit(String),
}

impl Scope {
    /// `county` or the unit's slug, as in the reporting tables.
    pub fn code(&self) -> &str {
        match self {
            Scope::County => "county",
            Scope::Unit(u) => u,
        }
    }

    pub(crate) fn contains(&self, unit: &str) -> bool {
        match self {
            Scope::County => true,
            Scope::Unit(u) => u == unit,
        }
    }
}

/// The figures of one year at one moment: every project's figures computed once, from which the
/// dashboard of any scope, target progress and the ranking are summed.
#[derive(Debug, Clone)]
pub struct Figures<'a> {
    ledger: &'a Ledger,
    pub year: i32,
    pub at: AsOf,
    pub bands: LightBands,
    /// `None`: no ranking rule recorded, every metric weighs 1 (cap 150, penalty 2).
    pub ranking_rule: Option<RankingWeights>,
    /// Every project registered by D and known at K, abandoned ones included.
    pub projects: Vec<ProjectFigures>,
}

impl<'a> Figures<'a> {
    pub fn new(ledger: &'a Ledger, year: i32, at: AsOf) -> Figures<'a> {
        Figures::update(ledger, year, at, Vec::new(), |_| true)
    }

    /// The figures of year Y at `at`, reusing `previous` — the project figures of the same year
    /// and moment over an earlier state of `ledger` — for every project `changed` says was not
    /// touched since. A project's figures depend only on its own facts, Y, `at` and the light
    /// bands, so this equals [`Figures::new`] as long as the bands known at `at` did not change
    /// meanwhile (a rules change: recompute everything) — tested in `tests/brute_force.rs`.
    /// This is what lets a projection keep today's figures of 20,000 projects current by
    /// recomputing only the few a batch touched.
    pub fn update(
        ledger: &'a Ledger,
        year: i32,
        at: AsOf,
        previous: Vec<ProjectFigures>,
        changed: impl Fn(uuid::Uuid) -> bool,
    ) -> Figures<'a> {
        let bands = ledger
            .light_bands
            .iter()
            .filter(|(s, _)| at.knows(s))
            .max_by_key(|(s, _)| s.seq)
            .map(|(_, b)| b.clone())
            .unwrap_or_default();
        let ranking_rule = ledger
            .ranking
            .iter()
            .filter(|(s, _)| at.knows(s))
            .max_by_key(|(s, _)| s.seq)
            .map(|(_, r)| r.clone());
        let mut projects: Vec<ProjectFigures> = previous
            .into_iter()
            .filter(|f| !changed(f.view.id) && ledger.projects.contains_key(&f.view.id))
            .collect();
        // A set, not a search in `projects`: 20,000 binary searches over large rows cost more
        // in cache misses than the figures they save.
        let kept: std::collections::HashSet<uuid::Uuid> =
            projects.iter().map(|f| f.view.id).collect();
        for p in ledger.projects.values() {
            if !kept.contains(&p.id)
                && let Some(f) = ProjectFigures::compute(p, year, &at, &bands)
            {
                projects.push(f);
            }
        }
        projects.sort_unstable_by_key(|f| f.view.id);
        Figures {
            ledger,
            year,
            at,
            bands,
            ranking_rule,
            projects,
        }
    }

    pub fn ledger(&self) -> &Ledger {
        self.ledger
    }

    /// Units known at K.
    pub fn units(&self) -> impl Iterator<Item = &str> {
        let at = self.at;
        self.ledger
            .units
            .values()
            .filter(move |u| at.knows(&u.stamp))
            .map(|u| u.id.as_str())
    }

    pub fn project(&self, id: uuid::Uuid) -> Option<&ProjectFigures> {
        self.projects
            .binary_search_by_key(&id, |f| f.view.id)
            .ok()
            .map(|i| &self.projects[i])
    }

    /// Live (not abandoned) projects of the scope.
    pub fn live<'s>(&'s self, scope: &'s Scope) -> impl Iterator<Item = &'s ProjectFigures> + 's {
        self.projects
            .iter()
            .filter(move |f| !f.view.abandoned && scope.contains(&f.view.unit))
    }
}
