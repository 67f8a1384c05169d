//! How long the metrics core takes to answer, from facts already in memory (what the API does for
//! every uncached `dashboard`, `targets` and `unitRanking`), at county size and at 20,000 projects.
//!
//! `cargo run --release -p figures --example figures_bench -- [PROJECTS...]` (default 60 20000):
//! per size, the fold of the synthetic history into a `Ledger`, then 200 rounds of each question
//! (p50/p99 in ms). The baseline printed beside each is a plain pass over the same facts that only
//! sums every report (no figure logic), so the cost of the definitions themselves shows. Last, the
//! incremental path of the ledger projection: one project touched, the rest reused.

use domain::project::{
    AgreementKind, AgreementSigned, AnnualPlanSet, ConstructionStarted, InvestmentReported,
    InvestorType, PlanKind, ProjectEvent, ProjectKind, ProjectRegistered,
};
use domain::targets::{TargetMetric, TargetScope, TargetSet, TargetValue, TargetsEvent};
use domain::unit::{UnitCreated, UnitEvent, UnitKind};
use domain::{AnyEvent, Mu, Period, UnitId, Yuan};
use figures::{AsOf, Figures, Ledger, Scope};
use std::time::Instant;
use time::{Duration, OffsetDateTime, macros::date, macros::datetime};
use uuid::Uuid;

const UNITS: usize = 12;

fn history(projects: usize) -> Vec<(String, AnyEvent, OffsetDateTime)> {
    let mut out = Vec::new();
    let mut t = datetime!(2025-01-01 00:00 UTC);
    let mut tick = || {
        t += Duration::seconds(1);
        t
    };
    for u in 0..UNITS {
        out.push((
            format!("unit-u{u}"),
            AnyEvent::Unit(UnitEvent::UnitCreated(UnitCreated {
                name: format!("u{u}"),
                kind: UnitKind::Township,
                date: date!(2025 - 01 - 01),
            })),
            tick(),
        ));
        for metric in TargetMetric::ALL {
            let value = match figures::metric_unit(metric) {
                figures::MetricUnit::Yuan => {
                    TargetValue::Yuan(Yuan::new(1_000_000_000).unwrap_or(Yuan::ZERO))
                }
                figures::MetricUnit::Count => TargetValue::Count(20),
                figures::MetricUnit::Mu => {
                    TargetValue::Mu(Mu::from_ten_thousandths(5_000_000).unwrap_or(Mu::ZERO))
                }
            };
            out.push((
                "targets-2026".into(),
                AnyEvent::Targets(TargetsEvent::TargetSet(TargetSet {
                    year: 2026,
                    scope: TargetScope::Unit(UnitId::parse(&format!("u{u}")).expect("unit id")),
                    metric,
                    value,
                })),
                tick(),
            ));
        }
    }
    for i in 0..projects {
        let stream = format!("project-{}", Uuid::from_u128(i as u128 + 1));
        let ev = |e: ProjectEvent| AnyEvent::Project(e);
        let start = Period::new(2025, (i % 12) as u8 + 1).expect("period");
        let mut push = |e: AnyEvent| out.push((stream.clone(), e, tick()));
        push(ev(ProjectEvent::ProjectRegistered(ProjectRegistered {
            name: format!("p{i}"),
            kind: ProjectKind::Attracted,
            investor_name: "x".into(),
            investor_type: InvestorType::Private,
            industry_chain: "新材料".into(),
            industrial: i % 3 == 0,
            intended_investment: Yuan::new(50_000_000 + i as i64).expect("yuan"),
            responsible_unit: UnitId::parse(&format!("u{}", i % UNITS)).expect("unit id"),
            lead_official: "l".into(),
            date: date!(2025 - 01 - 05),
        })));
        push(ev(ProjectEvent::AgreementSigned(AgreementSigned {
            kind: AgreementKind::Formal,
            date: date!(2025 - 01 - 10),
            contract_investment: Yuan::new(120_000_000).expect("yuan"),
            fixed_asset_investment: Yuan::new(100_000_000).expect("yuan"),
            land_demand: Mu::ZERO,
            planned_start: start,
            planned_completion: start,
            planned_production: start,
        })));
        push(ev(ProjectEvent::AnnualPlanSet(AnnualPlanSet {
            year: 2026,
            planned_investment: Yuan::new(60_000_000).expect("yuan"),
            planned_start_month: None,
            kind: PlanKind::Original,
            reason: None,
        })));
        if i % 4 != 0 {
            push(ev(ProjectEvent::ConstructionStarted(ConstructionStarted {
                date: start.first_day(),
                evidence: "e".into(),
            })));
            // Monthly reports from the start month to 2026-11: ~24 periods a project.
            let mut p = start;
            while p <= Period::new(2026, 11).expect("period") {
                push(ev(ProjectEvent::InvestmentReported(InvestmentReported {
                    period: p,
                    completed_investment: Yuan::new(2_000_000 + (i as i64 % 7) * 10_000)
                        .expect("yuan"),
                    funds_in_place: Yuan::new(1_500_000).expect("yuan"),
                    progress_narrative: None,
                    problems: None,
                })));
                p = p.next();
            }
        }
    }
    out
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn time_it(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
    let samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    (percentile(samples.clone(), 0.5), percentile(samples, 0.99))
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![60, 20_000]
    } else {
        sizes
    };
    let at = AsOf::now_known(date!(2026 - 12 - 04));
    for n in sizes {
        let events = history(n);
        let t = Instant::now();
        let mut ledger = Ledger::new();
        for (stream, e, recorded) in &events {
            ledger.apply(stream, e, *recorded);
        }
        let fold_ms = t.elapsed().as_secs_f64() * 1000.0;
        let rounds = 200;
        let baseline = time_it(rounds, || {
            let total: i64 = ledger
                .projects()
                .flat_map(|p| p.months.iter())
                .map(|m| m.completed_investment)
                .sum();
            std::hint::black_box(total);
        });
        let dashboard = time_it(rounds, || {
            std::hint::black_box(Figures::new(&ledger, 2026, at).dashboard(&Scope::County));
        });
        let targets = time_it(rounds, || {
            std::hint::black_box(Figures::new(&ledger, 2026, at).target_progress());
        });
        let ranking = time_it(rounds, || {
            std::hint::black_box(Figures::new(&ledger, 2026, at).unit_ranking());
        });
        // What the ledger projection does after a batch that touched one project: reuse the
        // other project figures, then the county's progress, the ranking and every dashboard.
        let kept = Figures::new(&ledger, 2026, at).projects;
        let one = ledger.projects().next().map(|p| p.id);
        let incremental = time_it(rounds, || {
            let f = Figures::update(&ledger, 2026, at, kept.clone(), |id| Some(id) == one);
            std::hint::black_box((
                f.target_progress(),
                f.unit_ranking(),
                f.dashboard(&Scope::County),
            ));
        });
        let clone_only = time_it(rounds, || {
            std::hint::black_box(kept.clone());
        });
        let update_only = time_it(rounds, || {
            std::hint::black_box(Figures::update(&ledger, 2026, at, kept.clone(), |id| {
                Some(id) == one
            }));
        });
        let fixed = Figures::new(&ledger, 2026, at);
        let sums_only = time_it(rounds, || {
            std::hint::black_box((
                fixed.target_progress(),
                fixed.unit_ranking(),
                fixed.dashboard(&Scope::County),
            ));
        });
        println!(
            "{n} projects, {} events: fold {fold_ms:.1} ms ({:.0} events/s)",
            events.len(),
            events.len() as f64 / (fold_ms / 1000.0)
        );
        println!(
            "  baseline (sum every report)  p50 {:.3} ms  p99 {:.3} ms",
            baseline.0, baseline.1
        );
        println!(
            "  dashboard (county)           p50 {:.3} ms  p99 {:.3} ms",
            dashboard.0, dashboard.1
        );
        println!(
            "  target progress (all scopes) p50 {:.3} ms  p99 {:.3} ms",
            targets.0, targets.1
        );
        println!(
            "  unit ranking                 p50 {:.3} ms  p99 {:.3} ms",
            ranking.0, ranking.1
        );
        println!(
            "  one project touched: update + progress + ranking + county dashboard  p50 {:.3} ms  p99 {:.3} ms  (of which copying the kept figures p50 {:.3} ms)",
            incremental.0, incremental.1, clone_only.0
        );
        println!(
            "    update alone p50 {:.3} ms; progress + ranking + county dashboard from fixed figures p50 {:.3} ms",
            update_only.0, sums_only.0
        );
    }
}
