//! The metrics core against a brute-force recomputation: random histories of a few projects
//! (registrations, reassignments, signings, starts, abandonments, reports and corrections,
//! recorded at random times, some back-filled), folded into a `Ledger`; for random business
//! dates D and knowledge times K, the dashboard and target figures must equal what a direct scan
//! of the raw event list gives, written here from DOMAIN.md's words without the core's code.

use domain::project::{
    AgreementKind, AgreementSigned, ConstructionStarted, InvestmentReportCorrected,
    InvestmentReported, InvestorType, ProjectAbandoned, ProjectEvent, ProjectKind,
    ProjectRegistered, ResponsibilityAssigned,
};
use domain::unit::{UnitCreated, UnitEvent, UnitKind};
use domain::{AnyEvent, Mu, Period, UnitId, Yuan};
use figures::{AsOf, Figures, Ledger, Scope};
use proptest::prelude::*;
use time::{Date, Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

const UNITS: [&str; 3] = ["u-a", "u-b", "u-c"];

#[derive(Debug, Clone)]
struct Recorded {
    stream: String,
    event: AnyEvent,
    at: OffsetDateTime,
}

fn day(n: u16) -> Date {
    // Days from 2025-01-01 over two years.
    Date::from_calendar_date(2025, time::Month::January, 1).unwrap()
        + Duration::days(i64::from(n % 730))
}

#[derive(Debug, Clone)]
enum Step {
    Assign(usize, u16),
    Sign(usize, u16, i64, bool),
    Start(usize, u16),
    Abandon(usize, u16),
    Report(usize, u8, i64, i64),
    Correct(usize, u8, i64, i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..4usize, any::<u16>()).prop_map(|(p, d)| Step::Assign(p, d)),
        (0..4usize, any::<u16>(), 0..300_000_000i64, any::<bool>())
            .prop_map(|(p, d, c, f)| Step::Sign(p, d, c, f)),
        (0..4usize, any::<u16>()).prop_map(|(p, d)| Step::Start(p, d)),
        (0..4usize, any::<u16>()).prop_map(|(p, d)| Step::Abandon(p, d)),
        (0..4usize, 0..24u8, 0..5_000_000i64, 0..5_000_000i64)
            .prop_map(|(p, m, i, f)| Step::Report(p, m, i, f)),
        (0..4usize, 0..24u8, 0..5_000_000i64, 0..5_000_000i64)
            .prop_map(|(p, m, i, f)| Step::Correct(p, m, i, f)),
    ]
}

fn period(m: u8) -> Period {
    Period::new(2025 + i32::from(m / 12), m % 12 + 1).unwrap()
}

/// A history: four projects registered on random days, then the steps, each recorded at a
/// random moment of the two years (so some facts are back-filled long after their date).
fn history(registered: &[u16], steps: &[(Step, u32)]) -> (Vec<Uuid>, Vec<Recorded>) {
    let start = datetime!(2025-01-01 00:00 UTC);
    let ids: Vec<Uuid> = (0..4u128).map(|i| Uuid::from_u128(i + 1)).collect();
    let mut out = Vec::new();
    for (i, u) in UNITS.iter().enumerate() {
        out.push(Recorded {
            stream: format!("unit-{u}"),
            event: AnyEvent::Unit(UnitEvent::UnitCreated(UnitCreated {
                name: u.to_string(),
                kind: UnitKind::Township,
                date: day(0),
            })),
            at: start + Duration::minutes(i as i64),
        });
    }
    for (i, id) in ids.iter().enumerate() {
        out.push(Recorded {
            stream: format!("project-{id}"),
            event: AnyEvent::Project(ProjectEvent::ProjectRegistered(ProjectRegistered {
                name: format!("p{i}"),
                kind: ProjectKind::Attracted,
                investor_name: "x".into(),
                investor_type: if i % 2 == 0 {
                    InvestorType::Private
                } else {
                    InvestorType::Foreign
                },
                industry_chain: "新材料".into(),
                industrial: true,
                intended_investment: Yuan::new(50_000_000).unwrap(),
                responsible_unit: UnitId::parse(UNITS[i % 3]).unwrap(),
                lead_official: "l".into(),
                date: day(registered[i]),
            })),
            // Registered first in $all whatever their business date (a back-filled go-live).
            at: start + Duration::minutes(10 + i as i64),
        });
    }
    let mut t = start + Duration::days(1);
    for (s, gap) in steps {
        // Recording times move forward in $all order, by a random step (up to ~40 days).
        t += Duration::minutes(i64::from(*gap % 60_000));
        let (p, e) = match s.clone() {
            Step::Assign(p, d) => (
                p,
                ProjectEvent::ResponsibilityAssigned(ResponsibilityAssigned {
                    responsible_unit: UnitId::parse(UNITS[(d % 3) as usize]).unwrap(),
                    lead_official: "m".into(),
                    date: day(d),
                }),
            ),
            Step::Sign(p, d, c, formal) => (
                p,
                ProjectEvent::AgreementSigned(AgreementSigned {
                    kind: if formal {
                        AgreementKind::Formal
                    } else {
                        AgreementKind::Supplement
                    },
                    date: day(d),
                    contract_investment: Yuan::new(c).unwrap(),
                    fixed_asset_investment: Yuan::new(c).unwrap(),
                    land_demand: Mu::ZERO,
                    planned_start: Period::of(day(d)),
                    planned_completion: Period::of(day(d)),
                    planned_production: Period::of(day(d)),
                }),
            ),
            Step::Start(p, d) => (
                p,
                ProjectEvent::ConstructionStarted(ConstructionStarted {
                    date: day(d),
                    evidence: "e".into(),
                }),
            ),
            Step::Abandon(p, d) => (
                p,
                ProjectEvent::ProjectAbandoned(ProjectAbandoned {
                    reason: "r".into(),
                    date: day(d),
                }),
            ),
            Step::Report(p, m, i, f) => (
                p,
                ProjectEvent::InvestmentReported(InvestmentReported {
                    period: period(m),
                    completed_investment: Yuan::new(i).unwrap(),
                    funds_in_place: Yuan::new(f).unwrap(),
                    progress_narrative: None,
                    problems: None,
                }),
            ),
            Step::Correct(p, m, i, f) => (
                p,
                ProjectEvent::InvestmentReportCorrected(InvestmentReportCorrected {
                    period: period(m),
                    completed_investment: Yuan::new(i).unwrap(),
                    funds_in_place: Yuan::new(f).unwrap(),
                    reason: "c".into(),
                    progress_narrative: None,
                    problems: None,
                }),
            ),
        };
        out.push(Recorded {
            stream: format!("project-{}", ids[p]),
            event: AnyEvent::Project(e),
            at: t,
        });
    }
    // $all is in recording order.
    out.sort_by_key(|r| r.at);
    (ids, out)
}

/// What the brute force knows of one project at (D, K), straight from the event list.
struct Scan {
    unit: String,
    abandoned: bool,
    ytd: (i64, i64),
    prior: (i64, i64),
    formal_signed: Option<Date>,
    contract: Option<i64>,
    started: Option<Date>,
}

fn scan(
    events: &[Recorded],
    id: Uuid,
    year: i32,
    d: Date,
    k: Option<OffsetDateTime>,
) -> Option<Scan> {
    let stream = format!("project-{id}");
    let known: Vec<&Recorded> = events
        .iter()
        .filter(|r| r.stream == stream && k.is_none_or(|k| r.at <= k))
        .collect();
    let reg = known.iter().find_map(|r| match &r.event {
        AnyEvent::Project(ProjectEvent::ProjectRegistered(e)) if e.date <= d => Some(e.clone()),
        _ => None,
    })?;
    let mut unit = (reg.date, 0usize, reg.responsible_unit.as_str().to_owned());
    let (mut abandoned, mut formal_signed, mut contract, mut started) =
        (false, None::<Date>, None, None::<Date>);
    let mut months: std::collections::BTreeMap<Period, (i64, i64)> = Default::default();
    for (i, r) in known.iter().enumerate() {
        let AnyEvent::Project(e) = &r.event else {
            continue;
        };
        match e {
            ProjectEvent::ResponsibilityAssigned(a)
                if a.date <= d && (a.date, i) >= (unit.0, unit.1) =>
            {
                unit = (a.date, i, a.responsible_unit.as_str().to_owned())
            }
            ProjectEvent::ProjectAbandoned(a) if a.date <= d => abandoned = true,
            ProjectEvent::AgreementSigned(a) if a.date <= d => {
                contract = Some(a.contract_investment.get());
                if a.kind == AgreementKind::Formal {
                    formal_signed = Some(formal_signed.map_or(a.date, |f: Date| f.min(a.date)));
                }
            }
            ProjectEvent::ConstructionStarted(s) if s.date <= d => {
                started = Some(started.map_or(s.date, |x: Date| x.min(s.date)))
            }
            ProjectEvent::InvestmentReported(r) => {
                months.insert(
                    r.period,
                    (r.completed_investment.get(), r.funds_in_place.get()),
                );
            }
            ProjectEvent::InvestmentReportCorrected(r) => {
                months.insert(
                    r.period,
                    (r.completed_investment.get(), r.funds_in_place.get()),
                );
            }
            _ => {}
        }
    }
    let m = match d.year().cmp(&year) {
        std::cmp::Ordering::Greater => 12,
        std::cmp::Ordering::Less => 0,
        std::cmp::Ordering::Equal => u8::from(d.month()) - 1,
    };
    let sum = |y: i32| {
        months
            .iter()
            .filter(|(p, _)| p.year() == y && p.month() <= m)
            .fold((0, 0), |(a, b), (_, (i, f))| (a + i, b + f))
    };
    Some(Scan {
        unit: unit.2,
        abandoned,
        ytd: sum(year),
        prior: sum(year - 1),
        formal_signed,
        contract,
        started,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn figures_equal_a_scan_of_the_events(
        registered in proptest::collection::vec(any::<u16>(), 4),
        steps in proptest::collection::vec((step(), any::<u32>()), 0..40),
        asked in proptest::collection::vec((any::<u16>(), proptest::option::of(0u32..1_100_000)), 1..6),
    ) {
        let (ids, events) = history(&registered, &steps);
        let mut ledger = Ledger::new();
        for r in &events {
            ledger.apply(&r.stream, &r.event, r.at);
        }
        for (d, k) in asked {
            let d = day(d);
            let k = k.map(|minutes| datetime!(2025-01-01 00:00 UTC) + Duration::minutes(i64::from(minutes)));
            for year in [2025, 2026] {
                let figures = Figures::new(&ledger, year, AsOf { date: d, known_at: k });
                let (first, last) = (Date::from_calendar_date(year, time::Month::January, 1).unwrap(), d.min(Date::from_calendar_date(year, time::Month::December, 31).unwrap()));
                for scope in [Scope::County, Scope::Unit("u-a".into()), Scope::Unit("u-b".into())] {
                    let dash = figures.dashboard(&scope);
                    let scans: Vec<Scan> = ids.iter().filter_map(|id| scan(&events, *id, year, d, k))
                        .filter(|s| scope == Scope::County || Scope::Unit(s.unit.clone()) == scope)
                        .collect();
                    let live: Vec<&Scan> = scans.iter().filter(|s| !s.abandoned).collect();
                    prop_assert_eq!(dash.project_count as usize, live.len());
                    prop_assert_eq!(dash.abandoned_count as usize, scans.len() - live.len());
                    prop_assert_eq!(dash.ytd_investment, live.iter().map(|s| s.ytd.0).sum::<i64>());
                    prop_assert_eq!(dash.ytd_funds, live.iter().map(|s| s.ytd.1).sum::<i64>());
                    prop_assert_eq!(dash.prior_ytd_investment, live.iter().map(|s| s.prior.0).sum::<i64>());
                    prop_assert_eq!(dash.prior_ytd_funds, live.iter().map(|s| s.prior.1).sum::<i64>());
                    let signed: Vec<&&Scan> = live.iter().filter(|s| s.formal_signed.is_some_and(|f| f >= first && f <= last)).collect();
                    prop_assert_eq!(dash.signed_count as usize, signed.len());
                    prop_assert_eq!(dash.signed_investment, signed.iter().map(|s| s.contract.unwrap_or(0)).sum::<i64>());
                    prop_assert_eq!(dash.contracted_count as usize, live.iter().filter(|s| s.formal_signed.is_some()).count());
                    let targets = figures.targets_of(&scope);
                    let started = live.iter().filter(|s| s.started.is_some_and(|x| x >= first && x <= last)).count() as i64;
                    let started_row = targets.iter().find(|t| t.metric == domain::targets::TargetMetric::StartedProjects).unwrap();
                    prop_assert_eq!(started_row.actual, started);
                    let ytd_row = targets.iter().find(|t| t.metric == domain::targets::TargetMetric::CompletedInvestment).unwrap();
                    prop_assert_eq!(ytd_row.actual, dash.ytd_investment);
                }
                // The one-pass progress of every scope equals each scope's own.
                let all = figures.target_progress();
                for scope in [Scope::County, Scope::Unit("u-a".into()), Scope::Unit("u-c".into())] {
                    let mine: Vec<_> = all.iter().filter(|t| t.scope == scope).cloned().collect();
                    prop_assert_eq!(mine, figures.targets_of(&scope));
                }
                // Every live project is in exactly one unit's figures.
                let by_units: u32 = UNITS.iter().map(|u| figures.dashboard(&Scope::Unit((*u).into())).project_count).sum();
                prop_assert_eq!(by_units, figures.dashboard(&Scope::County).project_count);
            }
        }
    }

    /// Figures kept current by recomputing only the projects each later event touched equal
    /// figures computed afresh (what the ledger projection relies on at 20,000 projects).
    #[test]
    fn updating_only_touched_projects_equals_computing_afresh(
        registered in proptest::collection::vec(any::<u16>(), 4),
        steps in proptest::collection::vec((step(), any::<u32>()), 0..40),
        split in any::<prop::sample::Index>(),
        d in any::<u16>(),
    ) {
        let (_, events) = history(&registered, &steps);
        let split = split.index(events.len() + 1);
        let at = AsOf::now_known(day(d));
        let mut ledger = Ledger::new();
        for r in &events[..split] {
            ledger.apply(&r.stream, &r.event, r.at);
        }
        for year in [2025, 2026] {
            let mut ledger = ledger.clone();
            let before = Figures::new(&ledger, year, at).projects;
            let mut touched = std::collections::HashSet::new();
            let mut rules = false;
            for r in &events[split..] {
                match ledger.apply(&r.stream, &r.event, r.at) {
                    figures::Touched::Project(id) => { touched.insert(id); }
                    figures::Touched::Rules => rules = true,
                    _ => {}
                }
            }
            let fresh = Figures::new(&ledger, year, at);
            let updated = if rules {
                Figures::new(&ledger, year, at)
            } else {
                Figures::update(&ledger, year, at, before, |id| touched.contains(&id))
            };
            prop_assert_eq!(&updated.projects, &fresh.projects);
            prop_assert_eq!(updated.target_progress(), fresh.target_progress());
            prop_assert_eq!(updated.unit_ranking(), fresh.unit_ranking());
        }
    }
}
