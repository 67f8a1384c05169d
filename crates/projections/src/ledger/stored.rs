//! The ledger's stored figures — target progress, the unit ranking, each project's YTD and
//! lights, the supervision deadline flags — for today with everything recorded, as
//! [`figures`] computes them. Nothing here defines a figure: this module keeps the facts the core
//! computes from in memory, asks the core, and writes the rows whose values changed.
//!
//! The facts are folded from `$all` itself (read through the store, up to the position the
//! projection has reached), not from the batch's rows: a batch transaction that rolls back
//! leaves them right, and a runner that starts reads them once from the beginning.

use std::collections::HashMap;

use domain::Mu;
use eventstore::{AnyEventStore, EventStore, Filter, Position};
use figures::{AsOf, Figures, Hundredths, Light, MetricUnit, Scope, metric_unit};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::apply::name_of;
use super::rows::{PROJECTS, SUPERVISION_ITEMS};
use crate::ProjectionError;
use crate::live::{FACT_CATEGORIES, fold};
use crate::store::{Conflict, Keys, RowStore, Table};

/// Events read from `$all` per query while folding facts.
const READ_BATCH: usize = 4096;

pub(crate) const TARGET_PROGRESS: Table = Table {
    name: "target_progress",
    key: &["target_year", "scope", "metric"],
    numeric: &["target_value", "actual_value"],
};

pub(crate) const UNIT_RANKING: Table = Table {
    name: "unit_ranking",
    key: &["ranking_year", "unit_id"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TargetProgressRow {
    pub target_year: i32,
    pub scope: String,
    pub metric: String,
    pub target_value: Option<String>,
    pub actual_value: String,
    pub completion_pct: Option<String>,
    pub time_progress_pct: String,
    pub gap_pp: Option<String>,
    pub light: Option<String>,
    pub as_of_date: String,
    pub computed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UnitRankingRow {
    pub ranking_year: i32,
    pub unit_id: String,
    pub rank: i64,
    pub score: Option<String>,
    pub target_count: i64,
    pub red_projects: i64,
    pub ytd_investment_yuan: i64,
    pub as_of_date: String,
    pub computed_at: String,
}

pub(crate) const DASHBOARD: Table = Table {
    name: "dashboard",
    key: &["dashboard_year", "scope"],
    numeric: &[],
};

pub(crate) const DASHBOARD_SNAPSHOTS: Table = Table {
    name: "dashboard_snapshots",
    key: &["basis", "period", "scope"],
    numeric: &[],
};

pub(crate) const TARGET_PROGRESS_SNAPSHOTS: Table = Table {
    name: "target_progress_snapshots",
    key: &["basis", "period", "scope", "metric"],
    numeric: &["target_value", "actual_value"],
};

pub(crate) const UNIT_RANKING_SNAPSHOTS: Table = Table {
    name: "unit_ranking_snapshots",
    key: &["basis", "period", "unit_id"],
    numeric: &[],
};

/// The dashboard of one scope and year at one moment; its columns are those of
/// `reporting.dashboard` (migration 0140), named after the core's fields with their units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DashboardRow {
    pub dashboard_year: i32,
    pub scope: String,
    pub as_of_date: String,
    pub closed_months: i64,
    pub month_progress_pct: String,
    pub day_progress_pct: String,
    pub project_count: i64,
    pub abandoned_count: i64,
    pub ytd_investment_yuan: i64,
    pub ytd_funds_yuan: i64,
    pub prior_ytd_investment_yuan: i64,
    pub yoy_investment_pct: Option<String>,
    pub prior_ytd_funds_yuan: i64,
    pub yoy_funds_pct: Option<String>,
    pub planned_investment_yuan: Option<i64>,
    pub planned_ytd_investment_yuan: i64,
    pub plan_completion_pct: Option<String>,
    pub start_due_count: i64,
    pub start_started_count: i64,
    pub start_rate_pct: Option<String>,
    pub performance_due_count: i64,
    pub performance_started_count: i64,
    pub performance_rate_pct: Option<String>,
    pub contracted_count: i64,
    pub cumulative_funds_yuan: i64,
    pub contract_investment_yuan: i64,
    pub funds_in_place_rate_pct: Option<String>,
    pub signed_count: i64,
    pub signed_investment_yuan: i64,
    pub signed_big_count: i64,
    pub signed_industrial_10m_count: i64,
    pub signed_by_investor_type: serde_json::Value,
    pub size_classes: serde_json::Value,
    pub red_count: i64,
    pub yellow_count: i64,
    pub green_count: i64,
    pub expropriation_target_area_mu: Option<String>,
    pub expropriation_area_mu: Option<String>,
    pub expropriation_area_pct: Option<String>,
    pub expropriation_target_households: Option<i64>,
    pub expropriation_households_signed: Option<i64>,
    pub expropriation_households_pct: Option<String>,
    pub supervision_opened_count: i64,
    pub supervision_closed_count: i64,
    pub supervision_close_rate_pct: Option<String>,
    pub supervision_overdue_count: i64,
    pub supervision_due_soon_count: i64,
    pub computed_at: String,
}

/// Which knowledge time a month-end snapshot is taken at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Basis {
    /// Known at the month's reporting deadline.
    AsReported,
    /// Known now.
    AsCorrected,
}

impl Basis {
    fn code(self) -> &'static str {
        match self {
            Basis::AsReported => "as_reported",
            Basis::AsCorrected => "as_corrected",
        }
    }
}

/// What every snapshot row starts with: the basis, the month and the knowledge time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SnapshotKey {
    pub basis: &'static str,
    pub period: String,
    pub known_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DashboardSnapshotRow {
    #[serde(flatten)]
    pub key: SnapshotKey,
    #[serde(flatten)]
    pub dashboard: DashboardRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TargetProgressSnapshotRow {
    #[serde(flatten)]
    pub key: SnapshotKey,
    #[serde(flatten)]
    pub progress: TargetProgressRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UnitRankingSnapshotRow {
    #[serde(flatten)]
    pub key: SnapshotKey,
    #[serde(flatten)]
    pub ranking: UnitRankingRow,
}

/// The figure columns of `projects` (this year's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ProjectFiguresRow {
    pub project_id: Uuid,
    pub ytd_investment_yuan: i64,
    pub start_light: Option<String>,
    pub investment_light: Option<String>,
    pub light: Option<String>,
}

/// The deadline columns of `supervision_items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DeadlineFlagsRow {
    pub item_id: Uuid,
    pub due_soon: bool,
    pub overdue: bool,
}

/// A figure row whose `computed_at` is left out of comparisons (it changes every time).
trait Stamped: Clone + PartialEq + Serialize + Sync {
    fn stamp(&mut self, computed_at: &str);
}

impl Stamped for TargetProgressRow {
    fn stamp(&mut self, computed_at: &str) {
        computed_at.clone_into(&mut self.computed_at);
    }
}

impl Stamped for UnitRankingRow {
    fn stamp(&mut self, computed_at: &str) {
        computed_at.clone_into(&mut self.computed_at);
    }
}

impl Stamped for DashboardRow {
    fn stamp(&mut self, computed_at: &str) {
        computed_at.clone_into(&mut self.computed_at);
    }
}

impl Stamped for DashboardSnapshotRow {
    fn stamp(&mut self, computed_at: &str) {
        self.dashboard.stamp(computed_at);
    }
}

impl Stamped for TargetProgressSnapshotRow {
    fn stamp(&mut self, computed_at: &str) {
        self.progress.stamp(computed_at);
    }
}

impl Stamped for UnitRankingSnapshotRow {
    fn stamp(&mut self, computed_at: &str) {
        self.ranking.stamp(computed_at);
    }
}

impl Stamped for ProjectFiguresRow {
    fn stamp(&mut self, _: &str) {}
}

impl Stamped for DeadlineFlagsRow {
    fn stamp(&mut self, _: &str) {}
}

/// The rows of one table as last written (unstamped), by key.
type Rows<K, R> = HashMap<K, R>;
type PeriodKey = (&'static str, String);

/// The rows as last written, so that a refresh writes only what changed.
#[derive(Debug, Default)]
struct Written {
    targets: Rows<(i32, String, String), TargetProgressRow>,
    ranking: Rows<(i32, String), UnitRankingRow>,
    dashboard: Rows<(i32, String), DashboardRow>,
    projects: Rows<Uuid, ProjectFiguresRow>,
    items: Rows<Uuid, DeadlineFlagsRow>,
    snapshots: Snapshots,
}

/// Month-end snapshot rows, by (basis, period) and then by their own key.
#[derive(Debug, Default, Clone)]
struct Snapshots {
    dashboard: Rows<(PeriodKey, String), DashboardSnapshotRow>,
    targets: Rows<(PeriodKey, String, String), TargetProgressSnapshotRow>,
    ranking: Rows<(PeriodKey, String), UnitRankingSnapshotRow>,
}

/// The facts and the rows written from them, kept by the ledger projection between batches.
#[derive(Debug, Default)]
pub(crate) struct StoredFigures {
    facts: figures::Ledger,
    /// The last event folded into `facts`.
    position: Position,
    /// `None` when the stored rows are not known (first run, after a rebuild or an error):
    /// the next refresh rewrites them all.
    written: Option<Written>,
    /// Facts folded since the month-end snapshots were last computed.
    snapshots_stale: bool,
    /// Not before this are the snapshots computed again (they cost a pass per closed month).
    snapshots_due: Option<std::time::Instant>,
    /// Today's project figures of each year as last computed, at which date: the next refresh
    /// recomputes only the projects touched since (`Figures::update`).
    kept: HashMap<i32, (Date, Vec<figures::ProjectFigures>)>,
    /// Projects whose facts changed since the last refresh.
    touched: std::collections::HashSet<Uuid>,
    /// Light bands or ranking weights changed since the last refresh: every project again.
    rules_changed: bool,
}

fn text(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn code(light: Option<Light>) -> Option<String> {
    light.map(|l| l.code().to_owned())
}

fn percent(h: Option<Hundredths>) -> Option<String> {
    h.map(text)
}

/// A value in its metric's unit as the decimal text of the table (yuan and counts whole, areas
/// in mu with four decimals).
fn metric_value(metric: domain::targets::TargetMetric, value: i64) -> String {
    match metric_unit(metric) {
        MetricUnit::Yuan | MetricUnit::Count => value.to_string(),
        MetricUnit::Mu => Mu::from_ten_thousandths(value)
            .map(|m| m.to_string())
            .unwrap_or_else(|_| format!("{}.{:04}", value / 10_000, (value % 10_000).abs())),
    }
}

/// The county's offset from UTC (China Standard Time, no daylight saving).
const COUNTY_OFFSET: time::UtcOffset = time::macros::offset!(+8);

/// A snapshot pass that took longer than this is not repeated sooner than twenty times its
/// duration: at county size a pass takes well under it and runs after every batch; at tens of
/// thousands of projects it runs in the background cadence instead of holding each write.
const SNAPSHOT_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

/// The knowledge time of `period`'s as-reported figures: the end of day `deadline_day` of the
/// next month in the county (its last microsecond, the finest time PostgreSQL keeps).
pub(crate) fn reporting_deadline(period: domain::Period, deadline_day: u8) -> OffsetDateTime {
    let next = period.next();
    let day = deadline_day.clamp(1, 28);
    let date = next
        .first_day()
        .replace_day(day)
        .unwrap_or(next.first_day());
    let midnight_after = date
        .next_day()
        .unwrap_or(date)
        .midnight()
        .assume_offset(COUNTY_OFFSET);
    (midnight_after - time::Duration::MICROSECOND).to_offset(time::UtcOffset::UTC)
}

fn rfc3339(t: OffsetDateTime) -> Result<String, ProjectionError> {
    t.format(&Rfc3339)
        .map_err(|e| ProjectionError::batch(format!("cannot format the time {t}: {e}")))
}

fn target_rows(figures: &Figures<'_>, as_of_date: &str) -> Vec<TargetProgressRow> {
    figures
        .target_progress()
        .into_iter()
        .map(|tp| TargetProgressRow {
            target_year: figures.year,
            scope: tp.scope.code().to_owned(),
            metric: name_of(&tp.metric),
            target_value: tp.target.map(|t| metric_value(tp.metric, t)),
            actual_value: metric_value(tp.metric, tp.actual),
            completion_pct: percent(tp.completion),
            time_progress_pct: text(tp.time_progress),
            gap_pp: percent(tp.gap),
            light: code(tp.light),
            as_of_date: as_of_date.to_owned(),
            computed_at: String::new(),
        })
        .collect()
}

fn ranking_rows(figures: &Figures<'_>, as_of_date: &str) -> Vec<UnitRankingRow> {
    figures
        .unit_ranking()
        .into_iter()
        .map(|r| UnitRankingRow {
            ranking_year: figures.year,
            unit_id: r.unit_id,
            rank: i64::from(r.rank),
            score: percent(r.score),
            target_count: i64::from(r.target_count),
            red_projects: i64::from(r.red_projects),
            ytd_investment_yuan: r.ytd_investment,
            as_of_date: as_of_date.to_owned(),
            computed_at: String::new(),
        })
        .collect()
}

fn mu_text(ten_thousandths: i64) -> String {
    metric_value(
        domain::targets::TargetMetric::ExpropriatedArea,
        ten_thousandths,
    )
}

fn dashboard_rows(figures: &Figures<'_>) -> Vec<DashboardRow> {
    let mut scopes = vec![Scope::County];
    scopes.extend(figures.units().map(|u| Scope::Unit(u.to_owned())));
    scopes
        .iter()
        .map(|scope| {
            let d = figures.dashboard(scope);
            let by_investor: serde_json::Map<String, serde_json::Value> = d
                .signed_by_investor_type
                .iter()
                .map(|(t, s)| {
                    (
                        name_of(t),
                        serde_json::json!({"count": s.count, "investment_yuan": s.investment}),
                    )
                })
                .collect();
            let sizes: serde_json::Map<String, serde_json::Value> = d
                .size_classes
                .iter()
                .map(|(c, n)| (c.code().to_owned(), serde_json::json!(n)))
                .collect();
            DashboardRow {
                dashboard_year: d.year,
                scope: d.scope.code().to_owned(),
                as_of_date: d.as_of.to_string(),
                closed_months: i64::from(d.closed_months),
                month_progress_pct: text(d.month_progress),
                day_progress_pct: text(d.day_progress),
                project_count: i64::from(d.project_count),
                abandoned_count: i64::from(d.abandoned_count),
                ytd_investment_yuan: d.ytd_investment,
                ytd_funds_yuan: d.ytd_funds,
                prior_ytd_investment_yuan: d.prior_ytd_investment,
                yoy_investment_pct: percent(d.yoy_investment),
                prior_ytd_funds_yuan: d.prior_ytd_funds,
                yoy_funds_pct: percent(d.yoy_funds),
                planned_investment_yuan: d.planned_investment,
                planned_ytd_investment_yuan: d.planned_ytd_investment,
                plan_completion_pct: percent(d.plan_completion),
                start_due_count: i64::from(d.start_due),
                start_started_count: i64::from(d.start_started),
                start_rate_pct: percent(d.start_rate),
                performance_due_count: i64::from(d.performance_due),
                performance_started_count: i64::from(d.performance_started),
                performance_rate_pct: percent(d.performance_rate),
                contracted_count: i64::from(d.contracted_count),
                cumulative_funds_yuan: d.cumulative_funds,
                contract_investment_yuan: d.contract_investment,
                funds_in_place_rate_pct: percent(d.funds_in_place_rate),
                signed_count: i64::from(d.signed_count),
                signed_investment_yuan: d.signed_investment,
                signed_big_count: i64::from(d.signed_big_count),
                signed_industrial_10m_count: i64::from(d.signed_industrial_10m_count),
                signed_by_investor_type: serde_json::Value::Object(by_investor),
                size_classes: serde_json::Value::Object(sizes),
                red_count: i64::from(d.red_count),
                yellow_count: i64::from(d.yellow_count),
                green_count: i64::from(d.green_count),
                expropriation_target_area_mu: d.expropriation_target_area.map(mu_text),
                expropriation_area_mu: d.expropriation_area.map(mu_text),
                expropriation_area_pct: percent(d.expropriation_area_pct),
                expropriation_target_households: d.expropriation_target_households,
                expropriation_households_signed: d.expropriation_households_signed,
                expropriation_households_pct: percent(d.expropriation_households_pct),
                supervision_opened_count: i64::from(d.supervision_opened),
                supervision_closed_count: i64::from(d.supervision_closed),
                supervision_close_rate_pct: percent(d.supervision_close_rate),
                supervision_overdue_count: i64::from(d.supervision_overdue),
                supervision_due_soon_count: i64::from(d.supervision_due_soon),
                computed_at: String::new(),
            }
        })
        .collect()
}

impl StoredFigures {
    /// Forget what was written: the next refresh rewrites every row.
    pub(crate) fn forget_written(&mut self) {
        self.written = None;
        self.kept.clear();
    }

    /// Folds `$all` from where the facts stand up to `upto` (inclusive).
    async fn catch_up(
        &mut self,
        store: &AnyEventStore,
        upto: Position,
    ) -> Result<(), ProjectionError> {
        let filter = Filter::categories(FACT_CATEGORIES);
        while self.position < upto {
            let events = store
                .read_all(self.position, &filter, READ_BATCH)
                .await
                .map_err(|e| {
                    ProjectionError::batch(format!("cannot read $all for the figures: {e}"))
                })?;
            let short = events.len() < READ_BATCH;
            for event in &events {
                if event.position > upto {
                    return Ok(());
                }
                match fold(&mut self.facts, event) {
                    figures::Touched::Project(id) => {
                        self.touched.insert(id);
                    }
                    figures::Touched::Rules => self.rules_changed = true,
                    _ => {}
                }
                self.position = event.position;
                self.snapshots_stale = true;
            }
            if short {
                // Nothing more of these categories up to the head: the facts are complete
                // for `upto` even though its own event was of another category.
                self.position = self.position.max(upto);
            }
        }
        Ok(())
    }

    /// The closed months that have snapshots: from January of the first year with a fact to
    /// the month before `today`'s.
    fn closed_periods(&self, today: Date) -> Vec<domain::Period> {
        let first_year = self
            .facts
            .projects()
            .flat_map(|p| {
                std::iter::once(p.registered.year())
                    .chain(p.months.first().map(|m| m.period.year()))
            })
            .min();
        let Some(first_year) = first_year else {
            return Vec::new();
        };
        let this_month = domain::Period::of(today);
        let mut periods = Vec::new();
        let mut p = domain::Period::new(first_year.min(today.year()), 1).ok();
        while let Some(period) = p
            && period < this_month
        {
            periods.push(period);
            p = Some(period.next());
        }
        periods
    }

    /// Month-end snapshots of every closed month: as corrected always, as reported once the
    /// month's deadline has passed (then they never change, so a month already written is
    /// not computed again).
    fn snapshots(
        &self,
        today: Date,
        now: OffsetDateTime,
        deadline_day: u8,
        previous: Option<&Snapshots>,
    ) -> Result<Snapshots, ProjectionError> {
        let mut next = Snapshots::default();
        for period in self.closed_periods(today) {
            let month_end = period.next().first_day().previous_day().unwrap_or(today);
            let deadline = reporting_deadline(period, deadline_day);
            for basis in [Basis::AsReported, Basis::AsCorrected] {
                let known_at = match basis {
                    Basis::AsReported if deadline >= now => continue,
                    Basis::AsReported => Some(deadline),
                    Basis::AsCorrected => None,
                };
                let pk: PeriodKey = (basis.code(), period.to_string());
                if basis == Basis::AsReported
                    && let Some(previous) = previous
                    && previous.dashboard.keys().any(|(k, _)| *k == pk)
                {
                    copy_period(previous, &mut next, &pk);
                    continue;
                }
                let key = SnapshotKey {
                    basis: basis.code(),
                    period: period.to_string(),
                    known_at: known_at.map(rfc3339).transpose()?,
                };
                let figures = Figures::new(
                    &self.facts,
                    period.year(),
                    AsOf {
                        date: month_end,
                        known_at,
                    },
                );
                let as_of_date = month_end.to_string();
                for d in dashboard_rows(&figures) {
                    next.dashboard.insert(
                        (pk.clone(), d.scope.clone()),
                        DashboardSnapshotRow {
                            key: key.clone(),
                            dashboard: d,
                        },
                    );
                }
                for t in target_rows(&figures, &as_of_date) {
                    next.targets.insert(
                        (pk.clone(), t.scope.clone(), t.metric.clone()),
                        TargetProgressSnapshotRow {
                            key: key.clone(),
                            progress: t,
                        },
                    );
                }
                for r in ranking_rows(&figures, &as_of_date) {
                    next.ranking.insert(
                        (pk.clone(), r.unit_id.clone()),
                        UnitRankingSnapshotRow {
                            key: key.clone(),
                            ranking: r,
                        },
                    );
                }
            }
        }
        Ok(next)
    }

    /// Brings the facts to `upto`, computes today's figures for `years` (the first is this
    /// year, whose figures also go onto `projects`) and the month-end snapshots, and writes the
    /// rows that changed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refresh<S: RowStore>(
        &mut self,
        tx: &mut S,
        store: &AnyEventStore,
        upto: Position,
        today: Date,
        now: OffsetDateTime,
        years: &[i32],
        deadline_day: u8,
    ) -> Result<(), ProjectionError> {
        self.catch_up(store, upto).await?;
        let computed_at = rfc3339(now)?;
        let as_of_date = today.to_string();
        let at = AsOf::now_known(today);

        let mut next = Written::default();
        let mut kept = HashMap::new();
        for (i, &year) in years.iter().enumerate() {
            let figures = match self.kept.remove(&year) {
                Some((date, previous)) if date == today && !self.rules_changed => {
                    let touched = &self.touched;
                    Figures::update(&self.facts, year, at, previous, |id| touched.contains(&id))
                }
                _ => Figures::new(&self.facts, year, at),
            };
            for row in target_rows(&figures, &as_of_date) {
                next.targets
                    .insert((year, row.scope.clone(), row.metric.clone()), row);
            }
            for row in ranking_rows(&figures, &as_of_date) {
                next.ranking.insert((year, row.unit_id.clone()), row);
            }
            for row in dashboard_rows(&figures) {
                next.dashboard.insert((year, row.scope.clone()), row);
            }
            if i == 0 {
                for f in &figures.projects {
                    let row = ProjectFiguresRow {
                        project_id: f.view.id,
                        ytd_investment_yuan: f.ytd_investment,
                        start_light: code(f.start_light),
                        investment_light: code(f.investment_light),
                        light: code(f.light),
                    };
                    next.projects.insert(row.project_id, row);
                }
                let at_today: HashMap<Uuid, figures::ItemAt> = figures
                    .supervision_items()
                    .map(|(_, item)| (item.id, item))
                    .collect();
                for item in self.facts.supervision_items() {
                    let (due_soon, overdue) = at_today
                        .get(&item.id)
                        .map_or((false, false), |i| (i.due_soon(today), i.overdue(today)));
                    next.items.insert(
                        item.id,
                        DeadlineFlagsRow {
                            item_id: item.id,
                            due_soon,
                            overdue,
                        },
                    );
                }
            }
            kept.insert(year, (today, figures.projects));
        }
        self.kept = kept;
        self.touched.clear();
        self.rules_changed = false;

        let previous = self.written.take();
        let prev = previous.as_ref();
        let snapshots_due = prev.is_none()
            || (self.snapshots_stale
                && self
                    .snapshots_due
                    .is_none_or(|due| std::time::Instant::now() >= due))
            || prev.is_some_and(|p| p.snapshots.month_changed(today, now, deadline_day, self));
        if snapshots_due {
            let started = std::time::Instant::now();
            next.snapshots =
                self.snapshots(today, now, deadline_day, prev.map(|p| &p.snapshots))?;
            let took = started.elapsed();
            self.snapshots_stale = false;
            self.snapshots_due =
                (took > SNAPSHOT_BUDGET).then(|| std::time::Instant::now() + took * 20);
        } else if let Some(p) = prev {
            next.snapshots = p.snapshots.clone();
        }

        if prev.is_none() {
            // Unknown rows: the years' rows and every snapshot are replaced as a whole, so none
            // of another definition's (or a deleted fact's) survive.
            let keys: Vec<i64> = years.iter().map(|&y| i64::from(y)).collect();
            tx.delete(&TARGET_PROGRESS, "target_year", Keys::Ints(&keys))
                .await?;
            tx.delete(&UNIT_RANKING, "ranking_year", Keys::Ints(&keys))
                .await?;
            tx.delete(&DASHBOARD, "dashboard_year", Keys::Ints(&keys))
                .await?;
            let bases = [
                Basis::AsReported.code().to_owned(),
                Basis::AsCorrected.code().to_owned(),
            ];
            for table in [
                &DASHBOARD_SNAPSHOTS,
                &TARGET_PROGRESS_SNAPSHOTS,
                &UNIT_RANKING_SNAPSHOTS,
            ] {
                tx.delete(table, "basis", Keys::Texts(&bases)).await?;
            }
        }
        let mut written = 0usize;
        written += upsert(
            tx,
            &TARGET_PROGRESS,
            &next.targets,
            prev.map(|w| &w.targets),
            &computed_at,
        )
        .await?;
        written += upsert(
            tx,
            &UNIT_RANKING,
            &next.ranking,
            prev.map(|w| &w.ranking),
            &computed_at,
        )
        .await?;
        written += upsert(
            tx,
            &DASHBOARD,
            &next.dashboard,
            prev.map(|w| &w.dashboard),
            &computed_at,
        )
        .await?;
        let snaps = prev.map(|w| &w.snapshots);
        written += upsert(
            tx,
            &DASHBOARD_SNAPSHOTS,
            &next.snapshots.dashboard,
            snaps.map(|s| &s.dashboard),
            &computed_at,
        )
        .await?;
        written += upsert(
            tx,
            &TARGET_PROGRESS_SNAPSHOTS,
            &next.snapshots.targets,
            snaps.map(|s| &s.targets),
            &computed_at,
        )
        .await?;
        written += upsert(
            tx,
            &UNIT_RANKING_SNAPSHOTS,
            &next.snapshots.ranking,
            snaps.map(|s| &s.ranking),
            &computed_at,
        )
        .await?;
        let projects: Vec<ProjectFiguresRow> = changed(&next.projects, prev.map(|w| &w.projects))
            .cloned()
            .collect();
        let items: Vec<DeadlineFlagsRow> = changed(&next.items, prev.map(|w| &w.items))
            .cloned()
            .collect();
        tx.update(&PROJECTS, &projects).await?;
        tx.update(&SUPERVISION_ITEMS, &items).await?;
        written += projects.len() + items.len();
        tracing::debug!(
            rows = written,
            snapshots = snapshots_due,
            "stored figures refreshed"
        );
        self.written = Some(next);
        Ok(())
    }
}

impl Snapshots {
    /// Whether a month closed or a reporting deadline passed since these were computed: the
    /// set of snapshot months is then different.
    fn month_changed(
        &self,
        today: Date,
        now: OffsetDateTime,
        deadline_day: u8,
        stored: &StoredFigures,
    ) -> bool {
        let periods = stored.closed_periods(today);
        periods.iter().any(|p| {
            let corrected: PeriodKey = (Basis::AsCorrected.code(), p.to_string());
            let reported: PeriodKey = (Basis::AsReported.code(), p.to_string());
            let has = |k: &PeriodKey| self.dashboard.keys().any(|(x, _)| x == k);
            !has(&corrected) || (reporting_deadline(*p, deadline_day) < now && !has(&reported))
        })
    }
}

/// Copies the rows of one (basis, period) from `from` into `to`.
fn copy_period(from: &Snapshots, to: &mut Snapshots, pk: &PeriodKey) {
    for (k, r) in from.dashboard.iter().filter(|((p, _), _)| p == pk) {
        to.dashboard.insert(k.clone(), r.clone());
    }
    for (k, r) in from.targets.iter().filter(|((p, _, _), _)| p == pk) {
        to.targets.insert(k.clone(), r.clone());
    }
    for (k, r) in from.ranking.iter().filter(|((p, _), _)| p == pk) {
        to.ranking.insert(k.clone(), r.clone());
    }
}

/// Writes the rows of `next` that differ from `previous` (all when it is unknown), stamped
/// with `computed_at`; how many.
async fn upsert<S: RowStore, K: std::hash::Hash + Eq, R: Stamped>(
    tx: &mut S,
    table: &Table,
    next: &Rows<K, R>,
    previous: Option<&Rows<K, R>>,
    computed_at: &str,
) -> Result<usize, ProjectionError> {
    let rows: Vec<R> = changed(next, previous)
        .map(|r| {
            let mut r = r.clone();
            r.stamp(computed_at);
            r
        })
        .collect();
    tx.write(table, &rows, Conflict::Update).await?;
    Ok(rows.len())
}

/// The rows of `next` that differ from `previous` (all of them when it is unknown).
fn changed<'a, K: std::hash::Hash + Eq, R: PartialEq>(
    next: &'a HashMap<K, R>,
    previous: Option<&'a HashMap<K, R>>,
) -> impl Iterator<Item = &'a R> + 'a {
    next.iter()
        .filter(move |(k, r)| previous.is_none_or(|p| p.get(*k) != Some(*r)))
        .map(|(_, r)| r)
}
