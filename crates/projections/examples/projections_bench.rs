//! Projection benchmark: rebuild rate over generated events, and append-to-visible latency.
//!
//! ```text
//! cargo run --release -p projections --example projections_bench -- [EVENTS] [SAMPLES] [REFRESH_LIMIT_SECS]
//! ```
//! Needs the local PostgreSQL (or DATABASE_URL); works in a throw-away database it drops at the
//! end. The ledger is measured without its date-dependent refresh (`after_catch_up`), which is
//! timed on its own at the end (given up after REFRESH_LIMIT_SECS, default 120). EVENTS defaults to 1,000,000 (project histories of 50 events each: registration,
//! contacts, agreements, annual plans, expropriation, start, 36 monthly reports, a correction),
//! SAMPLES (latency measurements per projection set) to 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::project::*;
use domain::unit::{UnitCreated, UnitKind};
use domain::{Mu, Period, UnitId, Yuan};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore, Position, RecordedEvent};
use projections::{
    CaughtUp, LedgerProjection, Projection, ProjectionError, Projectors, RebuildOptions,
    RunnerOptions, TimelineProjection, Touched, Tx, WaitOutcome, Waiter, Which, shared,
};
use serde::Serialize;
use serde_json::json;
use time::macros::date;
use uuid::Uuid;

const UNITS: [&str; 4] = ["u-a", "u-b", "u-c", "u-d"];
const PER_PROJECT: usize = 50;
const WRITERS: usize = 4;

/// The "simple projection": events per type, one upsert per batch.
struct TypeCounter;

impl Projection for TypeCounter {
    fn name(&self) -> &'static str {
        "bench_simple"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["bench_type_counts"]
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let Tx::Postgres(conn) = tx else {
            return Err(ProjectionError::batch("the benchmark runs on PostgreSQL"));
        };
        let mut counts = std::collections::BTreeMap::<&str, i64>::new();
        for e in events {
            *counts.entry(e.event_type.as_str()).or_default() += 1;
        }
        let types: Vec<&str> = counts.keys().copied().collect();
        let n: Vec<i64> = counts.values().copied().collect();
        sqlx::query(
            "INSERT INTO bench_type_counts (event_type, events) \
             SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT (event_type) DO UPDATE SET events = bench_type_counts.events + excluded.events",
        )
        .bind(&types)
        .bind(&n)
        .execute(&mut **conn)
        .await?;
        Ok(())
    }
}

fn event<E: Serialize>(event_type: &str, data: &E) -> NewEvent {
    NewEvent::new(event_type, serde_json::to_value(data).unwrap())
        .with_metadata(json!({"actor": "bench", "correlationId": Uuid::new_v4().to_string()}))
}

fn yuan(v: i64) -> Yuan {
    Yuan::new(v).unwrap()
}

fn period(y: i32, m: u8) -> Period {
    Period::new(y, m).unwrap()
}

/// One project's history: 50 events that obey the domain's rules.
fn project_history(i: usize) -> Vec<NewEvent> {
    let unit = UnitId::parse(UNITS[i % UNITS.len()]).unwrap();
    let contract = 10_000_000 + (i as i64 % 100) * 3_000_000;
    let mut events = vec![
        event(
            "ProjectRegistered",
            &ProjectRegistered {
                name: format!("项目{i}"),
                kind: ProjectKind::Attracted,
                investor_name: format!("投资方{i}"),
                investor_type: InvestorType::Private,
                industry_chain: ["新能源", "新材料", "氟化工"][i % 3].into(),
                industrial: i.is_multiple_of(2),
                intended_investment: yuan(contract),
                responsible_unit: unit,
                lead_official: "王副县长".into(),
                date: date!(2022 - 09 - 01),
            },
        ),
        event(
            "ContactLogged",
            &ContactLogged {
                kind: ContactKind::Visit,
                date: date!(2022 - 09 - 10),
                leader_level: "县级".into(),
                summary: "考察".into(),
            },
        ),
        event(
            "ContactLogged",
            &ContactLogged {
                kind: ContactKind::Negotiation,
                date: date!(2022 - 09 - 20),
                leader_level: "县级".into(),
                summary: "洽谈".into(),
            },
        ),
    ];
    for (kind, on) in [
        (AgreementKind::Framework, date!(2022 - 10 - 01)),
        (AgreementKind::Formal, date!(2022 - 11 - 01)),
    ] {
        events.push(event(
            "AgreementSigned",
            &AgreementSigned {
                kind,
                date: on,
                contract_investment: yuan(contract),
                fixed_asset_investment: yuan(contract * 9 / 10),
                land_demand: Mu::parse("50.5").unwrap(),
                planned_start: period(2023, 1),
                planned_completion: period(2025, 12),
                planned_production: period(2026, 3),
            },
        ));
    }
    for year in 2023..=2025 {
        events.push(event(
            "AnnualPlanSet",
            &AnnualPlanSet {
                year,
                planned_investment: yuan(contract / 3),
                planned_start_month: (year == 2023).then(|| period(2023, 1)),
                kind: PlanKind::Original,
                reason: None,
            },
        ));
    }
    events.push(event(
        "ExpropriationTargetSet",
        &ExpropriationTargetSet {
            area: Mu::parse("40").unwrap(),
            households: 10,
            graves: 2,
            township: "新安镇".into(),
            deadline: date!(2023 - 06 - 30),
        },
    ));
    for (k, on) in [
        date!(2022 - 11 - 20),
        date!(2022 - 12 - 10),
        date!(2022 - 12 - 25),
    ]
    .into_iter()
    .enumerate()
    {
        let k = k as u32 + 1;
        events.push(event(
            "ExpropriationProgressReported",
            &ExpropriationProgressReported {
                as_of: on,
                area_acquired: Mu::parse(&format!("{}", 10 * k)).unwrap(),
                households_signed: 3 * k,
                households_relocated: 2 * k,
                graves_moved: 0,
                compensation_paid: yuan(100_000 * i64::from(k)),
            },
        ));
    }
    events.push(event(
        "ConstructionStarted",
        &ConstructionStarted {
            date: date!(2023 - 01 - 05),
            evidence: "开工照片".into(),
        },
    ));
    for year in 2023..=2025 {
        for month in 1..=12u8 {
            events.push(event(
                "InvestmentReported",
                &InvestmentReported {
                    period: period(year, month),
                    completed_investment: yuan(contract / 40),
                    funds_in_place: yuan(contract / 50),
                    progress_narrative: None,
                    problems: None,
                },
            ));
        }
    }
    events.push(event(
        "InvestmentReportCorrected",
        &InvestmentReportCorrected {
            period: period(2024, 6),
            completed_investment: yuan(contract / 30),
            funds_in_place: yuan(contract / 50),
            reason: "统计口径调整".into(),
            progress_narrative: None,
            problems: None,
        },
    ));
    assert_eq!(events.len(), PER_PROJECT);
    events
}

async fn generate(store: &PgEventStore, total: usize) -> (Vec<Uuid>, Position) {
    for (id, name) in UNITS.iter().zip(["城关镇", "经开区", "发改局", "新安镇"]) {
        let created = UnitCreated {
            name: name.into(),
            kind: UnitKind::Township,
            date: date!(2022 - 01 - 01),
        };
        store
            .append(
                &format!("unit-{id}"),
                ExpectedVersion::Any,
                vec![event("UnitCreated", &created)],
            )
            .await
            .unwrap();
    }
    let projects = total.div_ceil(PER_PROJECT);
    let ids: Arc<Vec<Uuid>> = Arc::new((0..projects).map(|_| Uuid::new_v4()).collect());
    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let ids = ids.clone();
        writers.push(tokio::spawn(async move {
            let mut last = Position::START;
            for i in (w..ids.len()).step_by(WRITERS) {
                let result = store
                    .append(
                        &format!("project-{}", ids[i]),
                        ExpectedVersion::NoStream,
                        project_history(i),
                    )
                    .await
                    .unwrap();
                last = last.max(*result.positions().last().unwrap());
            }
            last
        }));
    }
    let mut last = Position::START;
    for w in writers {
        last = last.max(w.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let n = projects * PER_PROJECT;
    println!(
        "generated {n} events ({projects} projects) in {secs:.1} s: {:.0} events/s",
        n as f64 / secs
    );
    (Arc::try_unwrap(ids).unwrap(), last)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Appends one event at a time to an existing project and times until `names` have passed it.
async fn latency(
    store: &PgEventStore,
    waiter: &Waiter,
    names: &[&str],
    projects: &[Uuid],
    samples: usize,
) {
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let contact = ContactLogged {
            kind: ContactKind::Negotiation,
            date: date!(2025 - 12 - 01),
            leader_level: "县级".into(),
            summary: format!("第{i}次洽谈"),
        };
        let started = Instant::now();
        let appended = store
            .append(
                &format!("project-{}", projects[i % projects.len()]),
                ExpectedVersion::Any,
                vec![event("ContactLogged", &contact)],
            )
            .await
            .unwrap();
        let outcome = waiter
            .wait_for(
                Which::Named(names),
                appended.events[0].position,
                Duration::from_secs(120),
            )
            .await
            .unwrap();
        assert_eq!(outcome, WaitOutcome::Reached);
        times.push(started.elapsed());
        // Space the appends a little, like users do, so each is its own batch.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    times.sort();
    println!(
        "append-to-visible {:?} over {samples} appends: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        names,
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
}

/// The ledger without its date-dependent refresh: measures applying events (the replay of a
/// rebuild, the live batches) apart from the stored figures' refresh, which is timed on its own.
struct LedgerReplay(LedgerProjection);

impl Projection for LedgerReplay {
    fn name(&self) -> &'static str {
        Projection::name(&self.0)
    }

    fn tables(&self) -> &'static [&'static str] {
        Projection::tables(&self.0)
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        Projection::apply_batch(&self.0, tx, events).await
    }
}

/// How long the ledger's `after_catch_up` (today's figures from the core) takes on this data:
/// cold (a fresh projection folds `$all` into facts and writes every figure row), then warm
/// (nothing changed: computed again, nothing written). Given up after `limit`: every writing
/// transaction holds back $all for every reader while it runs.
async fn time_refresh(store: &PgEventStore, limit: Duration) -> Option<Duration> {
    let ledger = LedgerProjection::new(projections::system_clock());
    let any = eventstore::AnyEventStore::from(store.clone());
    let head = store
        .all_head()
        .await
        .unwrap()
        .last
        .unwrap_or(Position::START);
    let mut warm = None;
    for (label, touched) in [("cold", Touched::All), ("warm", Touched::none())] {
        let mut tx = store.pool().begin().await.unwrap();
        sqlx::query("SET LOCAL search_path TO reporting")
            .execute(&mut *tx)
            .await
            .unwrap();
        let started = Instant::now();
        let caught_up = CaughtUp {
            touched: &touched,
            position: head,
            store: &any,
        };
        let mut batch = Tx::Postgres(&mut tx);
        let refresh = ledger.after_catch_up(&mut batch, &caught_up);
        match tokio::time::timeout(limit, refresh).await {
            Ok(result) => {
                result.unwrap();
                let took = started.elapsed();
                println!(
                    "ledger after_catch_up {label} (figures core, this year and last): {:.1} ms",
                    took.as_secs_f64() * 1e3
                );
                tx.commit().await.unwrap();
                warm = Some(took);
            }
            Err(_) => {
                println!(
                    "ledger after_catch_up {label}: > {:.0} s (given up)",
                    limit.as_secs_f64()
                );
                drop(tx);
                return None;
            }
        }
    }
    warm
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |name: &str, default: usize| -> usize {
        args.next()
            .map(|a| {
                a.parse()
                    .unwrap_or_else(|_| panic!("{name} must be a number"))
            })
            .unwrap_or(default)
    };
    let total = arg("EVENTS", 1_000_000);
    let samples = arg("SAMPLES", 500);
    let refresh_limit = Duration::from_secs(arg("REFRESH_LIMIT_SECS", 120) as u64);

    let db = TestDatabase::migrated().await;
    let pool = db.pool(16).await;
    let store = PgEventStore::new(pool.clone());
    sqlx::query(
        "CREATE TABLE reporting.bench_type_counts (event_type text PRIMARY KEY, events bigint NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (projects, _) = generate(&store, total).await;
    sqlx::query("VACUUM ANALYZE eventstore.events")
        .execute(&pool)
        .await
        .unwrap();

    let options = RebuildOptions::default();
    let ledger = LedgerReplay(LedgerProjection::new(projections::system_clock()));
    for projection in [
        &TypeCounter as &dyn projections::AnyProjection,
        &ledger,
        &TimelineProjection,
    ] {
        let done = projections::rebuild(&store, projection, &options, |p| {
            eprintln!(
                "  {}: {:?} {} events, {:.0} events/s",
                p.projection,
                p.phase,
                p.events,
                p.events_per_sec()
            );
        })
        .await
        .unwrap();
        println!(
            "rebuild {}: {} events in {:.1} s: {:.0} events/s",
            done.projection,
            done.events,
            done.elapsed.as_secs_f64(),
            done.events_per_sec()
        );
    }

    // Live, one append at a time: first the simple projection alone (the runtime's own
    // latency), then with the ledger (without its refresh) and timeline running too.
    let waiter = Waiter::start(pool.clone());
    let simple_runner =
        Projectors::start(&store, vec![shared(TypeCounter)], RunnerOptions::default()).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    latency(&store, &waiter, &["bench_simple"], &projects, samples).await;
    let read_models = Projectors::start(
        &store,
        vec![
            shared(LedgerReplay(LedgerProjection::new(
                projections::system_clock(),
            ))),
            shared(TimelineProjection),
        ],
        RunnerOptions::default(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    latency(
        &store,
        &waiter,
        &["bench_simple", "ledger", "timeline"],
        &projects,
        samples,
    )
    .await;
    simple_runner.shutdown().await;
    read_models.shutdown().await;
    let refresh = time_refresh(&store, refresh_limit).await;
    // With the real ledger (refresh after each caught-up batch), when the refresh is short enough
    // for a handful of samples to finish.
    if refresh.is_some_and(|r| r < Duration::from_secs(5)) {
        let live = Projectors::start(
            &store,
            vec![
                shared(LedgerProjection::new(projections::system_clock())),
                shared(TimelineProjection),
            ],
            RunnerOptions::default(),
        )
        .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!("with the ledger's refresh after each caught-up batch:");
        latency(
            &store,
            &waiter,
            &["ledger", "timeline"],
            &projects,
            (samples / 10).max(5),
        )
        .await;
        live.shutdown().await;
    }
    pool.close().await;
    db.drop_database().await;
}
