//! The facts every figure is computed from, folded from the events of `$all` with the time each
//! was recorded. Nothing here is a figure: the fold keeps what happened, with its business date
//! and its recording time, so that figures can be asked for any business date D and any
//! knowledge time K (see [`crate::Knowledge`]).

use domain::project::{AgreementKind, InvestorType, ProjectEvent, ProjectKind};
use domain::rules::{LightBands, RankingWeights, RulesEvent};
use domain::supervision::SupervisionEvent;
use domain::targets::{TargetMetric, TargetScope, TargetValue, TargetsEvent};
use domain::unit::UnitEvent;
use domain::{AnyEvent, Period};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// When a fact was recorded, and its place in `$all` (later facts win ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub recorded_at: OffsetDateTime,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct Dated<T> {
    pub date: Date,
    pub stamp: Stamp,
    pub value: T,
}

#[derive(Debug, Clone)]
pub struct Agreement {
    pub kind: AgreementKind,
    pub date: Date,
    pub contract_investment: i64,
    pub planned_start: Period,
    pub stamp: Stamp,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub year: i32,
    pub planned_investment: i64,
    pub planned_start: Option<Period>,
    pub stamp: Stamp,
}

/// One report or correction of a period's figures (yuan).
#[derive(Debug, Clone, Copy)]
pub struct MonthFigures {
    pub period: Period,
    pub completed_investment: i64,
    pub funds_in_place: i64,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, Copy)]
pub struct ExpropriationTarget {
    /// Ten-thousandths of a mu.
    pub area: i64,
    pub households: i64,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, Copy)]
pub struct ExpropriationReport {
    pub as_of: Date,
    /// Cumulative, ten-thousandths of a mu.
    pub area: i64,
    pub households_signed: i64,
    pub stamp: Stamp,
}

/// Everything the figures need to know of one project.
#[derive(Debug, Clone)]
pub struct ProjectFacts {
    pub id: Uuid,
    pub registered: Date,
    pub stamp: Stamp,
    pub kind: ProjectKind,
    pub investor_type: InvestorType,
    pub industrial: bool,
    pub intended_investment: i64,
    /// The responsible unit from registration on, then every reassignment, in recording order.
    pub assignments: Vec<Dated<Arc<str>>>,
    pub agreements: Vec<Agreement>,
    pub plans: Vec<Plan>,
    pub starts: Vec<Dated<()>>,
    pub completions: Vec<Dated<()>>,
    pub productions: Vec<Dated<()>>,
    pub abandonments: Vec<Dated<()>>,
    /// Every report and correction, sorted by period and, within a period, in recording order
    /// (one flat list: summing a year walks a short contiguous run).
    pub months: Vec<MonthFigures>,
    pub expropriation_targets: Vec<ExpropriationTarget>,
    pub expropriation_reports: Vec<ExpropriationReport>,
}

impl ProjectFacts {
    /// Reports mostly come month after month, so this is nearly always a push at the end.
    fn add_month(&mut self, m: MonthFigures) {
        let at = self.months.partition_point(|x| x.period <= m.period);
        self.months.insert(at, m);
    }
}

#[derive(Debug, Clone)]
pub struct UnitFacts {
    pub id: String,
    pub stamp: Stamp,
}

#[derive(Debug, Clone)]
pub struct TargetFact {
    pub year: i32,
    /// `None` for the county.
    pub unit: Option<String>,
    pub metric: TargetMetric,
    /// In the metric's unit: yuan, a count, or ten-thousandths of a mu.
    pub value: i64,
    pub stamp: Stamp,
}

#[derive(Debug, Clone)]
pub struct SupervisionFacts {
    pub id: Uuid,
    pub lead_unit: String,
    pub opened: Date,
    pub stamp: Stamp,
    pub deadline: Date,
    /// Extensions: the date decided, the new deadline.
    pub extensions: Vec<Dated<Date>>,
    pub closures: Vec<Dated<()>>,
}

/// The facts of the whole ledger. `apply` every event of `$all` in order; then ask
/// [`crate::Figures`] for any year, D and K.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub(crate) projects: HashMap<Uuid, ProjectFacts>,
    pub(crate) units: BTreeMap<String, UnitFacts>,
    pub(crate) targets: Vec<TargetFact>,
    pub(crate) light_bands: Vec<(Stamp, LightBands)>,
    pub(crate) ranking: Vec<(Stamp, RankingWeights)>,
    pub(crate) items: HashMap<Uuid, SupervisionFacts>,
    seq: u64,
}

/// What an event changed, so that a caller keeping stored figures knows what to recompute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    Project(Uuid),
    Unit(String),
    /// Targets of a year.
    Targets(i32),
    /// Light bands or ranking weights: every figure may move.
    Rules,
    SupervisionItem(Uuid),
    Nothing,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    pub fn project(&self, id: Uuid) -> Option<&ProjectFacts> {
        self.projects.get(&id)
    }

    pub fn projects(&self) -> impl Iterator<Item = &ProjectFacts> {
        self.projects.values()
    }

    pub fn unit_ids(&self) -> impl Iterator<Item = &str> {
        self.units.keys().map(String::as_str)
    }

    pub fn supervision_items(&self) -> impl Iterator<Item = &SupervisionFacts> {
        self.items.values()
    }

    pub fn has_unit(&self, id: &str) -> bool {
        self.units.contains_key(id)
    }

    /// Fold one event of `$all`. `stream` names the aggregate (`project-<uuid>`,
    /// `supervision-<uuid>`, …); events must come in `$all` order.
    pub fn apply(
        &mut self,
        stream: &str,
        event: &AnyEvent,
        recorded_at: OffsetDateTime,
    ) -> Touched {
        self.seq += 1;
        let stamp = Stamp {
            recorded_at,
            seq: self.seq,
        };
        let id_of = |prefix: &str| {
            stream
                .strip_prefix(prefix)
                .and_then(|s| Uuid::parse_str(s).ok())
        };
        match event {
            AnyEvent::Project(e) => match id_of("project-") {
                Some(id) => {
                    self.apply_project(id, e, stamp);
                    Touched::Project(id)
                }
                None => Touched::Nothing,
            },
            AnyEvent::Unit(UnitEvent::UnitCreated(_)) => match stream.strip_prefix("unit-") {
                Some(id) => {
                    self.units.entry(id.to_owned()).or_insert(UnitFacts {
                        id: id.to_owned(),
                        stamp,
                    });
                    Touched::Unit(id.to_owned())
                }
                None => Touched::Nothing,
            },
            AnyEvent::Unit(_) => Touched::Nothing,
            AnyEvent::Targets(e) => {
                let (year, scope, metric, value) = match e {
                    TargetsEvent::TargetSet(t) => (t.year, &t.scope, t.metric, t.value),
                    TargetsEvent::TargetRevised(t) => (t.year, &t.scope, t.metric, t.value),
                };
                let unit = match scope {
                    TargetScope::County => None,
                    TargetScope::Unit(u) => Some(u.as_str().to_owned()),
                };
                let value = match value {
                    TargetValue::Yuan(y) => y.get(),
                    TargetValue::Count(c) => i64::from(c),
                    TargetValue::Mu(m) => m.ten_thousandths(),
                };
                self.targets.push(TargetFact {
                    year,
                    unit,
                    metric,
                    value,
                    stamp,
                });
                Touched::Targets(year)
            }
            AnyEvent::Rules(RulesEvent::LightBandsSet(e)) => {
                self.light_bands.push((stamp, e.bands.clone()));
                Touched::Rules
            }
            AnyEvent::Rules(RulesEvent::RankingWeightsSet(e)) => {
                self.ranking.push((stamp, e.ranking.clone()));
                Touched::Rules
            }
            AnyEvent::Supervision(e) => match id_of("supervision-") {
                Some(id) => {
                    self.apply_item(id, e, stamp);
                    Touched::SupervisionItem(id)
                }
                None => Touched::Nothing,
            },
        }
    }

    fn apply_project(&mut self, id: Uuid, event: &ProjectEvent, stamp: Stamp) {
        use ProjectEvent as E;
        if let E::ProjectRegistered(r) = event {
            self.projects.insert(
                id,
                ProjectFacts {
                    id,
                    registered: r.date,
                    stamp,
                    kind: r.kind,
                    investor_type: r.investor_type,
                    industrial: r.industrial,
                    intended_investment: r.intended_investment.get(),
                    assignments: vec![Dated {
                        date: r.date,
                        stamp,
                        value: Arc::from(r.responsible_unit.as_str()),
                    }],
                    agreements: Vec::new(),
                    plans: Vec::new(),
                    starts: Vec::new(),
                    completions: Vec::new(),
                    productions: Vec::new(),
                    abandonments: Vec::new(),
                    months: Vec::new(),
                    expropriation_targets: Vec::new(),
                    expropriation_reports: Vec::new(),
                },
            );
            return;
        }
        // Events of a stream whose registration was never seen cannot be placed in any scope.
        let Some(p) = self.projects.get_mut(&id) else {
            return;
        };
        let on = |date: Date| Dated {
            date,
            stamp,
            value: (),
        };
        match event {
            E::ProjectRegistered(_) => {}
            E::AgreementSigned(a) => p.agreements.push(Agreement {
                kind: a.kind,
                date: a.date,
                contract_investment: a.contract_investment.get(),
                planned_start: a.planned_start,
                stamp,
            }),
            E::AnnualPlanSet(a) => p.plans.push(Plan {
                year: a.year,
                planned_investment: a.planned_investment.get(),
                planned_start: a.planned_start_month,
                stamp,
            }),
            E::ExpropriationTargetSet(t) => p.expropriation_targets.push(ExpropriationTarget {
                area: t.area.ten_thousandths(),
                households: i64::from(t.households),
                stamp,
            }),
            E::ExpropriationProgressReported(r) => {
                p.expropriation_reports.push(ExpropriationReport {
                    as_of: r.as_of,
                    area: r.area_acquired.ten_thousandths(),
                    households_signed: i64::from(r.households_signed),
                    stamp,
                })
            }
            E::ConstructionStarted(s) => p.starts.push(on(s.date)),
            E::ConstructionCompleted(c) => p.completions.push(on(c.date)),
            E::ProductionStarted(s) => p.productions.push(on(s.date)),
            E::ProjectAbandoned(a) => p.abandonments.push(on(a.date)),
            E::InvestmentReported(r) => p.add_month(MonthFigures {
                period: r.period,
                completed_investment: r.completed_investment.get(),
                funds_in_place: r.funds_in_place.get(),
                stamp,
            }),
            E::InvestmentReportCorrected(r) => p.add_month(MonthFigures {
                period: r.period,
                completed_investment: r.completed_investment.get(),
                funds_in_place: r.funds_in_place.get(),
                stamp,
            }),
            E::ResponsibilityAssigned(r) => p.assignments.push(Dated {
                date: r.date,
                stamp,
                value: Arc::from(r.responsible_unit.as_str()),
            }),
            E::ContactLogged(_)
            | E::CompanyRegistered(_)
            | E::ProjectCodeAssigned(_)
            | E::ApprovalObtained(_)
            | E::LandDelivered(_)
            | E::StatusChanged(_) => {}
        }
    }

    fn apply_item(&mut self, id: Uuid, event: &SupervisionEvent, stamp: Stamp) {
        use SupervisionEvent as E;
        if let E::SupervisionItemOpened(o) = event {
            self.items.insert(
                id,
                SupervisionFacts {
                    id,
                    lead_unit: o.lead_unit.as_str().to_owned(),
                    opened: o.date,
                    stamp,
                    deadline: o.deadline,
                    extensions: Vec::new(),
                    closures: Vec::new(),
                },
            );
            return;
        }
        let Some(item) = self.items.get_mut(&id) else {
            return;
        };
        match event {
            E::DeadlineExtended(x) => item.extensions.push(Dated {
                date: x.date,
                stamp,
                value: x.deadline,
            }),
            E::ItemClosed(c) => item.closures.push(Dated {
                date: c.date,
                stamp,
                value: (),
            }),
            _ => {}
        }
    }
}
