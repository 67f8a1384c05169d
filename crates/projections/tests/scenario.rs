//! The county scenario: four units, 32 projects over 2025 and 2026, every event type, corrections,
//! an abandoned project, a change of responsibility and supervision items. Every command goes
//! through the domain's `decide` (so the scenario obeys the rules) and the store; the ledger and
//! timeline projections read $all; the figures are compared with numbers worked out by hand in
//! the comments below, never with the code under test.
//!
//! As-of date D = 2026-11-26 (the projections' clock is pinned to it): closed months m = 10, so
//! monthly time progress = 10/12 = 83.33 %; day progress = 330/365 = 90.41 % (Nov 26 is day 330).
//!
//! Each unit u (u-a = 1, u-b = 2, u-c = 3, u-d = 4) has the same eight projects:
//! - P1 attracted, private, industrial: formal 2026-03-10 for 2亿, plan 2026 = 6000万 starting
//!   2026-05, started 2026-05-20, reports 2026-05…10 of 500万×u completed and 400万 funds each.
//! - P2 attracted, central SOE, industrial: negotiation, framework 2025-04-01, formal 2025-06-01
//!   for 8000万, supplement 2026-02-01 raising it to 9000万, started 2025-09-15; reports
//!   2025-09…12 of 200万 / 200万; plan 2026 = 2400万 (no start month); reports 2026-01…10 of
//!   200万×u / 100万; in phase 2 the 2026-03 report is corrected to 200万×u + 100万.
//! - P3 government: plan 2025 = 2000万 from 2025-03, started 2025-03-01, reports 2025-03…12 of
//!   150万 / 150万; plan 2026 = 1200万; reports 2026-01…08 of 100万 / 100万; completed 2026-08-30.
//! - P4 attracted, provincial SOE, industrial: formal 2026-01-15 for 5000万 starting 2026-04,
//!   never started; expropriation target 40亩 / 10 households; reports 10亩 (2025-12-20) and 30亩
//!   with 8 households signed (2026-05-31).
//! - P5 attracted, private, not industrial: a visit and a framework agreement only (800万 intended).
//! - P6 expansion, private, industrial (1.2亿 intended): plan 2025 from 2025-02, started
//!   2025-02-01, reports 2025-02…12 of 200万 / 200万; plan 2026 = 600万; reports 2026-01…03 of
//!   200万 / 100万; completed 2026-03-25; partial production 2026-04-01, full 2026-06-01.
//! - P7 attracted: formal 2025, started 2025-08-10, reports 2025-08…2026-02, delayed, abandoned
//!   2026-04-15 — left out of every figure.
//! - P8 attracted, foreign, industrial: formal 2026-07-01 for 1.2亿 starting 2026-12. u-d's P8 is
//!   reassigned to u-a on 2026-08-01.

use std::collections::BTreeMap;

use domain::project::*;
use domain::rules::{LightBands, LightBandsSet, RankingWeights, RankingWeightsSet, RulesCommand};
use domain::supervision::*;
use domain::targets::*;
use domain::unit::{UnitCommand, UnitCreated, UnitKind, UnitRenamed};
use domain::{
    Aggregate, Context, DomainEvent, Mu, Period, ProjectCode, ProjectId, UnitId, Uscc, Yuan,
};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{
    Direction, EventStore, ExpectedVersion, Filter, NewEvent, PgEventStore, Position,
};
use figures::Scope;
use projections::{CaughtUp, LedgerProjection, Projection, TimelineProjection, Touched, Tx};
use serde_json::json;
use sqlx::{PgPool, Row};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const M: i64 = 1_000_000; // 100万 in yuan, the scenario's usual step
const D: Date = date!(2026 - 11 - 26);

fn yuan(v: i64) -> Yuan {
    Yuan::new(v).unwrap()
}
fn mu(s: &str) -> Mu {
    Mu::parse(s).unwrap()
}
fn period(y: i32, m: u8) -> Period {
    Period::new(y, m).unwrap()
}
fn unit(id: &str) -> UnitId {
    UnitId::parse(id).unwrap()
}

struct County {
    store: PgEventStore,
    pool: PgPool,
    ctx: Context,
    ledger: LedgerProjection,
    timeline: TimelineProjection,
    checkpoints: BTreeMap<&'static str, Position>,
    /// Position of the last appended event: catching up means passing it.
    head: std::sync::Mutex<Position>,
}

impl County {
    async fn new() -> County {
        let db = TestDatabase::migrated().await;
        let pool = PgPool::connect(&db.url).await.unwrap();
        let store = PgEventStore::new(pool.clone());
        let clock: projections::Clock = std::sync::Arc::new(|| datetime!(2026-11-26 10:00 +8));
        County {
            store,
            pool,
            ctx: Context::new(D, "县投促局 张科员"),
            ledger: LedgerProjection::new(clock),
            timeline: TimelineProjection,
            checkpoints: BTreeMap::new(),
            head: std::sync::Mutex::new(Position::START),
        }
    }

    /// Load the stream, decide, append at the expected version: the command path in miniature.
    async fn run<A: Aggregate>(&self, stream: &str, command: A::Command) {
        let recorded = self
            .store
            .read_stream(stream, Direction::Forwards, 0, usize::MAX)
            .await
            .unwrap();
        let history: Vec<A::Event> = recorded
            .iter()
            .map(|e| A::Event::from_json(&e.event_type, e.schema_version, e.data.clone()).unwrap())
            .collect();
        let state = A::fold(&history);
        let events = state
            .decide(&command, &self.ctx)
            .unwrap_or_else(|e| panic!("{stream}: {command:?} refused: {e:?}"));
        let expected = match recorded.last() {
            Some(last) => ExpectedVersion::Exact(last.version),
            None => ExpectedVersion::NoStream,
        };
        let new_events = events
            .iter()
            .map(|e| {
                NewEvent::new(e.event_type(), e.to_json())
                    .with_schema_version(e.schema_version())
                    .with_metadata(json!({"actor": self.ctx.actor, "correlationId": Uuid::new_v4().to_string()}))
            })
            .collect();
        let result = self
            .store
            .append(stream, expected, new_events)
            .await
            .unwrap();
        let mut head = self.head.lock().unwrap();
        *head = (*head).max(
            result
                .positions()
                .into_iter()
                .max()
                .unwrap_or(Position::START),
        );
    }

    async fn project(&self, id: Uuid, command: ProjectCommand) {
        self.run::<Project>(&format!("project-{id}"), command).await
    }

    /// Feed everything new in $all to both projections, then refresh today's figures.
    async fn catch_up(&mut self) {
        self.catch_up_rows().await;
        let mut tx = self.pool.begin().await.unwrap();
        sqlx::query("SET LOCAL search_path TO reporting")
            .execute(&mut *tx)
            .await
            .unwrap();
        let store = eventstore::AnyEventStore::from(self.store.clone());
        let caught_up = CaughtUp {
            touched: &Touched::All,
            position: self.checkpoints[LedgerProjection::NAME],
            store: &store,
        };
        self.ledger
            .after_catch_up(&mut Tx::Postgres(&mut tx), &caught_up)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Feed everything new in $all to both projections, without the refresh of today's figures
    /// (what SQLite does: it has no metric functions yet).
    async fn catch_up_rows(&mut self) {
        // $all only shows events below the oldest running transaction of the whole server (other
        // tests run beside this one), so an empty read before the head means "wait", not "done".
        let head = *self.head.lock().unwrap();
        for name in [LedgerProjection::NAME, TimelineProjection::NAME] {
            let mut position = self
                .checkpoints
                .get(name)
                .copied()
                .unwrap_or(Position::START);
            while position < head {
                let batch = self
                    .store
                    .read_all(position, &Filter::all(), 200)
                    .await
                    .unwrap();
                let Some(last) = batch.last() else {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                position = last.position;
                let mut tx = self.pool.begin().await.unwrap();
                sqlx::query("SET LOCAL search_path TO reporting")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                if name == LedgerProjection::NAME {
                    self.ledger
                        .apply_batch(&mut Tx::Postgres(&mut tx), &batch)
                        .await
                        .unwrap();
                } else {
                    self.timeline
                        .apply_batch(&mut Tx::Postgres(&mut tx), &batch)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }
            self.checkpoints.insert(name, position);
        }
    }
}

struct UnitProjects {
    p: [Uuid; 8],
}

// One argument per registration fact keeps the scenario's table-like calls readable.
#[allow(clippy::too_many_arguments)]
fn register(
    name: &str,
    kind: ProjectKind,
    investor: InvestorType,
    chain: &str,
    industrial: bool,
    intended: i64,
    u: &str,
    on: Date,
) -> ProjectCommand {
    ProjectCommand::Register(ProjectRegistered {
        name: name.into(),
        kind,
        investor_name: format!("{name}投资方"),
        investor_type: investor,
        industry_chain: chain.into(),
        industrial,
        intended_investment: yuan(intended),
        responsible_unit: unit(u),
        lead_official: "王副县长".into(),
        date: on,
    })
}

fn agreement(
    kind: AgreementKind,
    on: Date,
    contract: i64,
    start: Period,
    completion: Period,
    production: Period,
) -> ProjectCommand {
    ProjectCommand::SignAgreement(AgreementSigned {
        kind,
        date: on,
        contract_investment: yuan(contract),
        fixed_asset_investment: yuan(contract * 9 / 10),
        land_demand: mu("50.5"),
        planned_start: start,
        planned_completion: completion,
        planned_production: production,
    })
}

fn plan(year: i32, planned: i64, start: Option<Period>) -> ProjectCommand {
    ProjectCommand::SetAnnualPlan(AnnualPlanSet {
        year,
        planned_investment: yuan(planned),
        planned_start_month: start,
        kind: PlanKind::Original,
        reason: None,
    })
}

fn report(y: i32, m: u8, completed: i64, funds: i64) -> ProjectCommand {
    ProjectCommand::ReportInvestment(InvestmentReported {
        period: period(y, m),
        completed_investment: yuan(completed),
        funds_in_place: yuan(funds),
        progress_narrative: None,
        problems: None,
    })
}

fn start(on: Date) -> ProjectCommand {
    ProjectCommand::StartConstruction(ConstructionStarted {
        date: on,
        evidence: "开工仪式照片".into(),
    })
}

async fn unit_projects(county: &County, u: i64, uid: &str) -> UnitProjects {
    let p: [Uuid; 8] = std::array::from_fn(|_| Uuid::new_v4());
    let c = county;
    let n = |i: usize| format!("{uid}-P{i}");

    // P1: signed and started in 2026, investment scaled by u.
    c.project(
        p[0],
        register(
            &n(1),
            ProjectKind::Attracted,
            InvestorType::Private,
            "新能源",
            true,
            150 * M,
            uid,
            date!(2026 - 01 - 05),
        ),
    )
    .await;
    c.project(
        p[0],
        agreement(
            AgreementKind::Formal,
            date!(2026 - 03 - 10),
            200 * M,
            period(2026, 5),
            period(2027, 12),
            period(2028, 3),
        ),
    )
    .await;
    c.project(p[0], plan(2026, 60 * M, Some(period(2026, 5))))
        .await;
    c.project(
        p[0],
        ProjectCommand::DeliverLand(LandDelivered {
            parcel_no: format!("{uid}-2026-01"),
            area: mu("100.5"),
            date: date!(2026 - 05 - 10),
        }),
    )
    .await;
    c.project(p[0], start(date!(2026 - 05 - 20))).await;
    for m in 5..=10 {
        c.project(p[0], report(2026, m, 5 * M * u, 4 * M)).await;
    }

    // P2: signed in 2025, supplement in 2026, reports in both years.
    c.project(
        p[1],
        register(
            &n(2),
            ProjectKind::Attracted,
            InvestorType::CentralSoe,
            "氟化工",
            true,
            80 * M,
            uid,
            date!(2025 - 02 - 01),
        ),
    )
    .await;
    c.project(
        p[1],
        ProjectCommand::LogContact(ContactLogged {
            kind: ContactKind::Negotiation,
            date: date!(2025 - 03 - 01),
            leader_level: "县级".into(),
            summary: "洽谈用地和配套".into(),
        }),
    )
    .await;
    c.project(
        p[1],
        agreement(
            AgreementKind::Framework,
            date!(2025 - 04 - 01),
            80 * M,
            period(2025, 9),
            period(2026, 12),
            period(2027, 3),
        ),
    )
    .await;
    c.project(
        p[1],
        agreement(
            AgreementKind::Formal,
            date!(2025 - 06 - 01),
            80 * M,
            period(2025, 9),
            period(2026, 12),
            period(2027, 3),
        ),
    )
    .await;
    c.project(
        p[1],
        ProjectCommand::AssignProjectCode(ProjectCodeAssigned {
            code: ProjectCode::parse(&format!("2507-341100-04-01-00000{u}")).unwrap(),
            route: ApprovalRoute::Filing,
            filed_total_investment: yuan(80 * M),
            date: date!(2025 - 07 - 01),
        }),
    )
    .await;
    c.project(
        p[1],
        ProjectCommand::RegisterCompany(CompanyRegistered {
            credit_code: Uscc::parse("91350100M000100Y43").unwrap(),
            company_name: format!("{uid}氟材料有限公司"),
            registered_capital: yuan(30 * M),
            date: date!(2025 - 07 - 10),
        }),
    )
    .await;
    c.project(
        p[1],
        ProjectCommand::RecordApproval(ApprovalObtained {
            item: ApprovalItem::ConstructionPermit,
            document_no: format!("建施〔2025〕{u}号"),
            date: date!(2025 - 08 - 01),
        }),
    )
    .await;
    c.project(p[1], start(date!(2025 - 09 - 15))).await;
    for m in 9..=12 {
        c.project(p[1], report(2025, m, 2 * M, 2 * M)).await;
    }
    c.project(p[1], plan(2026, 24 * M, None)).await;
    c.project(
        p[1],
        agreement(
            AgreementKind::Supplement,
            date!(2026 - 02 - 01),
            90 * M,
            period(2025, 9),
            period(2026, 12),
            period(2027, 3),
        ),
    )
    .await;
    for m in 1..=10 {
        c.project(p[1], report(2026, m, 2 * M * u, M)).await;
    }

    // P3: a government project, completed in 2026.
    c.project(
        p[2],
        register(
            &n(3),
            ProjectKind::Government,
            InvestorType::Other,
            "基础设施",
            false,
            30 * M,
            uid,
            date!(2025 - 01 - 10),
        ),
    )
    .await;
    c.project(p[2], plan(2025, 20 * M, Some(period(2025, 3))))
        .await;
    c.project(p[2], start(date!(2025 - 03 - 01))).await;
    for m in 3..=12 {
        c.project(p[2], report(2025, m, 3 * M / 2, 3 * M / 2)).await;
    }
    c.project(p[2], plan(2026, 12 * M, None)).await;
    for m in 1..=8 {
        c.project(p[2], report(2026, m, M, M)).await;
    }
    c.project(
        p[2],
        ProjectCommand::CompleteConstruction(ConstructionCompleted {
            date: date!(2026 - 08 - 30),
        }),
    )
    .await;

    // P4: signed, never started, with expropriation.
    c.project(
        p[3],
        register(
            &n(4),
            ProjectKind::Attracted,
            InvestorType::ProvincialSoe,
            "新材料",
            true,
            50 * M,
            uid,
            date!(2025 - 11 - 01),
        ),
    )
    .await;
    c.project(
        p[3],
        ProjectCommand::SetExpropriationTarget(ExpropriationTargetSet {
            area: mu("40"),
            households: 10,
            graves: 5,
            township: "新安镇".into(),
            deadline: date!(2026 - 06 - 30),
        }),
    )
    .await;
    c.project(
        p[3],
        ProjectCommand::ReportExpropriationProgress(ExpropriationProgressReported {
            as_of: date!(2025 - 12 - 20),
            area_acquired: mu("10"),
            households_signed: 2,
            households_relocated: 1,
            graves_moved: 0,
            compensation_paid: yuan(M),
        }),
    )
    .await;
    c.project(
        p[3],
        agreement(
            AgreementKind::Formal,
            date!(2026 - 01 - 15),
            50 * M,
            period(2026, 4),
            period(2027, 6),
            period(2027, 9),
        ),
    )
    .await;
    c.project(
        p[3],
        ProjectCommand::ReportExpropriationProgress(ExpropriationProgressReported {
            as_of: date!(2026 - 05 - 31),
            area_acquired: mu("30"),
            households_signed: 8,
            households_relocated: 6,
            graves_moved: 3,
            compensation_paid: yuan(5 * M),
        }),
    )
    .await;

    // P5: a framework agreement only.
    c.project(
        p[4],
        register(
            &n(5),
            ProjectKind::Attracted,
            InvestorType::Private,
            "文旅",
            false,
            8 * M,
            uid,
            date!(2026 - 01 - 20),
        ),
    )
    .await;
    c.project(
        p[4],
        ProjectCommand::LogContact(ContactLogged {
            kind: ContactKind::Visit,
            date: date!(2026 - 01 - 25),
            leader_level: "市级".into(),
            summary: "实地考察".into(),
        }),
    )
    .await;
    c.project(
        p[4],
        agreement(
            AgreementKind::Framework,
            date!(2026 - 02 - 01),
            8 * M,
            period(2026, 9),
            period(2027, 6),
            period(2027, 9),
        ),
    )
    .await;

    // P6: an expansion, completed and in production in 2026.
    c.project(
        p[5],
        register(
            &n(6),
            ProjectKind::Expansion,
            InvestorType::Private,
            "氟化工",
            true,
            120 * M,
            uid,
            date!(2025 - 01 - 05),
        ),
    )
    .await;
    c.project(p[5], plan(2025, 30 * M, Some(period(2025, 2))))
        .await;
    c.project(p[5], start(date!(2025 - 02 - 01))).await;
    for m in 2..=12 {
        c.project(p[5], report(2025, m, 2 * M, 2 * M)).await;
    }
    c.project(p[5], plan(2026, 6 * M, None)).await;
    for m in 1..=3 {
        c.project(p[5], report(2026, m, 2 * M, M)).await;
    }
    c.project(
        p[5],
        ProjectCommand::CompleteConstruction(ConstructionCompleted {
            date: date!(2026 - 03 - 25),
        }),
    )
    .await;
    c.project(
        p[5],
        ProjectCommand::StartProduction(ProductionStarted {
            date: date!(2026 - 04 - 01),
            kind: ProductionKind::Partial,
        }),
    )
    .await;
    c.project(
        p[5],
        ProjectCommand::StartProduction(ProductionStarted {
            date: date!(2026 - 06 - 01),
            kind: ProductionKind::Full,
        }),
    )
    .await;

    // P7: abandoned in 2026.
    c.project(
        p[6],
        register(
            &n(7),
            ProjectKind::Attracted,
            InvestorType::Private,
            "新能源",
            true,
            20 * M,
            uid,
            date!(2025 - 03 - 01),
        ),
    )
    .await;
    c.project(
        p[6],
        agreement(
            AgreementKind::Formal,
            date!(2025 - 05 - 01),
            20 * M,
            period(2025, 8),
            period(2026, 8),
            period(2026, 10),
        ),
    )
    .await;
    c.project(p[6], start(date!(2025 - 08 - 10))).await;
    for m in 8..=12 {
        c.project(p[6], report(2025, m, M, M)).await;
    }
    c.project(p[6], plan(2026, 10 * M, None)).await;
    for m in 1..=2 {
        c.project(p[6], report(2026, m, M, M)).await;
    }
    c.project(
        p[6],
        ProjectCommand::ChangeStatus(StatusChanged {
            status: ProjectStatus::Delayed,
            reason: "资金链紧张".into(),
            date: date!(2026 - 03 - 01),
        }),
    )
    .await;
    c.project(
        p[6],
        ProjectCommand::Abandon(ProjectAbandoned {
            reason: "投资方撤资".into(),
            date: date!(2026 - 04 - 15),
        }),
    )
    .await;

    // P8: signed in 2026, to start in December.
    c.project(
        p[7],
        register(
            &n(8),
            ProjectKind::Attracted,
            InvestorType::Foreign,
            "新材料",
            true,
            100 * M,
            uid,
            date!(2026 - 05 - 01),
        ),
    )
    .await;
    c.project(
        p[7],
        agreement(
            AgreementKind::Formal,
            date!(2026 - 07 - 01),
            120 * M,
            period(2026, 12),
            period(2027, 12),
            period(2028, 3),
        ),
    )
    .await;

    UnitProjects { p }
}

async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn text(pool: &PgPool, sql: &str) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The county of the module comment, phase 1: units, rules, 32 projects, a change of
/// responsibility, targets and supervision items (no catch-up).
async fn build_county(c: &County) -> Vec<UnitProjects> {
    // Units and rules.
    for (id, name, kind) in [
        ("u-a", "城关镇", UnitKind::Township),
        ("u-b", "经济开发区", UnitKind::Park),
        ("u-c", "发展和改革局", UnitKind::Department),
        ("u-d", "新安镇", UnitKind::Township),
    ] {
        c.run::<domain::unit::Unit>(
            &format!("unit-{id}"),
            UnitCommand::Create(UnitCreated {
                name: name.into(),
                kind,
                date: date!(2025 - 01 - 02),
            }),
        )
        .await;
    }
    c.run::<domain::unit::Unit>(
        "unit-u-d",
        UnitCommand::Rename(UnitRenamed {
            name: "新安街道".into(),
            reason: "撤镇设街道".into(),
            date: date!(2026 - 02 - 01),
        }),
    )
    .await;
    c.run::<domain::rules::RuleSettings>(
        "rules-county",
        RulesCommand::SetLightBands(LightBandsSet {
            bands: LightBands::default(),
            reason: "沿用默认灯色区间".into(),
            date: date!(2026 - 01 - 02),
        }),
    )
    .await;
    c.run::<domain::rules::RuleSettings>(
        "rules-county",
        RulesCommand::SetRankingWeights(RankingWeightsSet {
            ranking: RankingWeights::default(),
            reason: "各项指标等权".into(),
            date: date!(2026 - 01 - 02),
        }),
    )
    .await;

    let mut units = Vec::new();
    for (u, id) in [(1, "u-a"), (2, "u-b"), (3, "u-c"), (4, "u-d")] {
        units.push(unit_projects(c, u, id).await);
    }
    // u-d's P8 moves to u-a.
    c.project(
        units[3].p[7],
        ProjectCommand::AssignResponsibility(ResponsibilityAssigned {
            responsible_unit: unit("u-a"),
            lead_official: "李副县长".into(),
            date: date!(2026 - 08 - 01),
        }),
    )
    .await;

    // Targets for 2026: county-wide for every metric, per unit for two.
    let target = |scope: TargetScope, metric: TargetMetric, value: TargetValue| {
        TargetsCommand::Set(TargetSet {
            year: 2026,
            scope,
            metric,
            value,
        })
    };
    let county_targets = [
        (
            TargetMetric::CompletedInvestment,
            TargetValue::Yuan(yuan(700 * M)),
        ),
        (TargetMetric::FundsInPlace, TargetValue::Yuan(yuan(200 * M))),
        (TargetMetric::SignedProjects, TargetValue::Count(16)),
        (
            TargetMetric::SignedInvestment,
            TargetValue::Yuan(yuan(2000 * M)),
        ),
        (TargetMetric::BigProjectsSigned, TargetValue::Count(8)),
        (TargetMetric::StartedProjects, TargetValue::Count(12)),
        (TargetMetric::ProductionProjects, TargetValue::Count(4)),
        (TargetMetric::ExpropriatedArea, TargetValue::Mu(mu("100"))),
    ];
    for (metric, value) in county_targets {
        c.run::<Targets>("targets-2026", target(TargetScope::County, metric, value))
            .await;
    }
    c.run::<Targets>(
        "targets-2026",
        TargetsCommand::Revise(TargetRevised {
            year: 2026,
            scope: TargetScope::County,
            metric: TargetMetric::CompletedInvestment,
            value: TargetValue::Yuan(yuan(800 * M)),
            reason: "县委常委会调高目标".into(),
        }),
    )
    .await;
    for (id, investment) in [("u-a", 100), ("u-b", 150), ("u-c", 150), ("u-d", 200)] {
        c.run::<Targets>(
            "targets-2026",
            target(
                TargetScope::Unit(unit(id)),
                TargetMetric::CompletedInvestment,
                TargetValue::Yuan(yuan(investment * M)),
            ),
        )
        .await;
        c.run::<Targets>(
            "targets-2026",
            target(
                TargetScope::Unit(unit(id)),
                TargetMetric::SignedProjects,
                TargetValue::Count(3),
            ),
        )
        .await;
    }

    // Supervision items.
    let item = |project: Uuid, title: &str, lead: &str, opened: Date, deadline: Date| {
        SupervisionCommand::Open(SupervisionItemOpened {
            project: ProjectId(project),
            title: title.into(),
            category: SupervisionCategory::Expropriation,
            lead_unit: unit(lead),
            co_units: vec![unit(if lead == "u-c" { "u-b" } else { "u-c" })],
            deadline,
            date: opened,
        })
    };
    let feedback = |on: Date| {
        SupervisionCommand::SubmitFeedback(FeedbackSubmitted {
            unit: unit("u-c"),
            content: "已完成入户调查".into(),
            date: on,
        })
    };
    let request = |on: Date| {
        SupervisionCommand::RequestClosure(ClosureRequested {
            summary: "问题已解决".into(),
            date: on,
        })
    };
    let close = |on: Date| {
        SupervisionCommand::Close(ItemClosed {
            note: None,
            date: on,
        })
    };
    let s: [Uuid; 5] = std::array::from_fn(|_| Uuid::new_v4());
    let sup = |i: usize| format!("supervision-{}", s[i]);
    type Item = SupervisionItem;
    // S1: opened 2026, closed after feedback.
    c.run::<Item>(
        &sup(0),
        item(
            units[0].p[3],
            "加快征迁",
            "u-a",
            date!(2026 - 06 - 01),
            date!(2026 - 07 - 31),
        ),
    )
    .await;
    c.run::<Item>(&sup(0), feedback(date!(2026 - 07 - 10)))
        .await;
    c.run::<Item>(&sup(0), request(date!(2026 - 07 - 20))).await;
    c.run::<Item>(&sup(0), close(date!(2026 - 07 - 25))).await;
    // S2: extended to 2026-11-28, due within 3 days of D.
    c.run::<Item>(
        &sup(1),
        item(
            units[1].p[3],
            "协调用地指标",
            "u-b",
            date!(2026 - 09 - 01),
            date!(2026 - 10 - 31),
        ),
    )
    .await;
    c.run::<Item>(&sup(1), feedback(date!(2026 - 10 - 01)))
        .await;
    c.run::<Item>(
        &sup(1),
        SupervisionCommand::ExtendDeadline(DeadlineExtended {
            deadline: date!(2026 - 11 - 28),
            reason: "待省厅批复".into(),
            date: date!(2026 - 10 - 30),
        }),
    )
    .await;
    // S3: past its deadline, with an interview.
    c.run::<Item>(
        &sup(2),
        item(
            units[2].p[0],
            "推进投资进度",
            "u-c",
            date!(2026 - 10 - 01),
            date!(2026 - 11 - 15),
        ),
    )
    .await;
    c.run::<Item>(
        &sup(2),
        SupervisionCommand::RecordAccountability(AccountabilityRecorded {
            kind: AccountabilityKind::Interview,
            subject: "发改局分管负责人".into(),
            reason: "逾期未反馈".into(),
            date: date!(2026 - 11 - 20),
        }),
    )
    .await;
    // S4: a closure returned once, then closed.
    c.run::<Item>(
        &sup(3),
        item(
            units[3].p[2],
            "竣工验收",
            "u-d",
            date!(2026 - 03 - 01),
            date!(2026 - 04 - 30),
        ),
    )
    .await;
    c.run::<Item>(&sup(3), feedback(date!(2026 - 04 - 10)))
        .await;
    c.run::<Item>(&sup(3), request(date!(2026 - 04 - 20))).await;
    c.run::<Item>(
        &sup(3),
        SupervisionCommand::ReturnClosure(ClosureReturned {
            reason: "佐证材料不全".into(),
            date: date!(2026 - 04 - 22),
        }),
    )
    .await;
    c.run::<Item>(&sup(3), feedback(date!(2026 - 04 - 28)))
        .await;
    c.run::<Item>(&sup(3), request(date!(2026 - 04 - 29))).await;
    c.run::<Item>(&sup(3), close(date!(2026 - 05 - 05))).await;
    // S5: a 2025 item, outside the 2026 close-out rate.
    c.run::<Item>(
        &sup(4),
        item(
            units[0].p[1],
            "办理施工许可",
            "u-a",
            date!(2025 - 11 - 01),
            date!(2025 - 12 - 31),
        ),
    )
    .await;
    c.run::<Item>(&sup(4), feedback(date!(2025 - 12 - 10)))
        .await;
    c.run::<Item>(&sup(4), request(date!(2025 - 12 - 15))).await;
    c.run::<Item>(&sup(4), close(date!(2025 - 12 - 20))).await;

    units
}

/// Phase 2: P2's March report is corrected upward by 100万 in every unit.
async fn correct_march_reports(county: &County, units: &[UnitProjects]) {
    for (i, u) in [1i64, 2, 3, 4].into_iter().enumerate() {
        county
            .project(
                units[i].p[1],
                ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
                    period: period(2026, 3),
                    completed_investment: yuan(2 * M * u + M),
                    funds_in_place: yuan(M),
                    reason: "漏报设备款".into(),
                    progress_narrative: None,
                    problems: None,
                }),
            )
            .await;
    }
}

#[tokio::test]
async fn county_scenario_figures_match_the_hand_computation() {
    let mut county = County::new().await;
    let c = &county;

    let units = build_county(c).await;

    county.catch_up().await;
    let pool = county.pool.clone();
    let before_corrections: OffsetDateTime = sqlx::query_scalar("SELECT now()")
        .fetch_one(&pool)
        .await
        .unwrap();

    correct_march_reports(&county, &units).await;
    county.catch_up().await;

    // --- Target progress, county, 2026 -------------------------------------------------------
    // YTD completed per unit u (P7 abandoned): P1 6×5M·u = 30M·u; P2 10×2M·u + 1M; P3 8M; P6 6M
    //   = 50M·u + 15M → u-a 65M, u-b 115M, u-c 165M, u-d 215M; county 560M.
    // YTD funds per unit: P1 6×4M + P2 10×1M + P3 8×1M + P6 3×1M = 45M; county 180M.
    // Signed in 2026 (formal): P1, P4, P8 per unit = 12; investment (200M+50M+120M)×4 = 1480M;
    //   ≥ 1亿: P1, P8 → 8. Started in 2026: P1 → 4. Production in 2026: P6 → 4.
    // Expropriated in 2026: P4 30亩 − 10亩 = 20亩 per unit → 80亩.
    let rows = sqlx::query(
        "SELECT metric, target_value::text, actual_value::text, completion_pct::text, time_progress_pct::text, gap_pp::text, light \
         FROM reporting.target_progress WHERE target_year = 2026 AND scope = 'county' ORDER BY metric",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let got: BTreeMap<String, (String, String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)),
            )
        })
        .collect();
    let want = |t: &str, a: &str, c: &str, tp: &str, g: &str, l: &str| {
        (
            t.to_string(),
            a.to_string(),
            c.to_string(),
            tp.to_string(),
            g.to_string(),
            l.to_string(),
        )
    };
    // 560/800 = 70 %, gap 70 − 83.33 = −13.33 → yellow (the revised target counts).
    assert_eq!(
        got["completed_investment"],
        want(
            "800000000.0000",
            "560000000.0000",
            "70.00",
            "83.33",
            "-13.33",
            "yellow"
        )
    );
    // 180/200 = 90 %, gap +6.67 → green.
    assert_eq!(
        got["funds_in_place"],
        want(
            "200000000.0000",
            "180000000.0000",
            "90.00",
            "83.33",
            "6.67",
            "green"
        )
    );
    // 12/16 = 75 %, gap 75 − 90.41 = −15.41 → yellow.
    assert_eq!(
        got["signed_projects"],
        want("16.0000", "12.0000", "75.00", "90.41", "-15.41", "yellow")
    );
    // 1480/2000 = 74 %, gap −16.41 → yellow.
    assert_eq!(
        got["signed_investment"],
        want(
            "2000000000.0000",
            "1480000000.0000",
            "74.00",
            "90.41",
            "-16.41",
            "yellow"
        )
    );
    // 8/8 = 100 %, gap +9.59 → green.
    assert_eq!(
        got["big_projects_signed"],
        want("8.0000", "8.0000", "100.00", "90.41", "9.59", "green")
    );
    // 4/12 = 33.33 %, gap −57.08 → red.
    assert_eq!(
        got["started_projects"],
        want("12.0000", "4.0000", "33.33", "90.41", "-57.08", "red")
    );
    assert_eq!(
        got["production_projects"],
        want("4.0000", "4.0000", "100.00", "90.41", "9.59", "green")
    );
    // 80/100 = 80 %, gap −10.41 → yellow.
    assert_eq!(
        got["expropriated_area"],
        want("100.0000", "80.0000", "80.00", "90.41", "-10.41", "yellow")
    );

    // Per unit: completed investment against its own target.
    let unit_progress: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT scope, completion_pct::text, light FROM reporting.target_progress \
         WHERE target_year = 2026 AND metric = 'completed_investment' AND scope <> 'county' ORDER BY scope",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let unit_progress: Vec<(&str, &str, &str)> = unit_progress
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    // 65/100, 115/150, 165/150, 215/200.
    assert_eq!(
        unit_progress,
        vec![
            ("u-a", "65.00", "yellow"),
            ("u-b", "76.67", "green"),
            ("u-c", "110.00", "green"),
            ("u-d", "107.50", "green")
        ]
    );

    // --- Lights ----------------------------------------------------------------------------------
    // P1 u-a: 30M of a 60M plan = 50 %, gap −33.33 → red; u-b…u-d ≥ 100 % → green.
    // P2: (20u+1)/24 ≥ 87.5 % → green. P3: 8/12 = 66.67 %, gap −16.67 → yellow.
    // P4: planned start 2026-04, not started, 7 months late → red. P5: no planned start → none.
    // P6: 6/6 → green. P7 abandoned → none. P8: starts 2026-12, not yet due → green.
    let lights: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT light, count(*) FROM reporting.projects WHERE status <> 'abandoned' GROUP BY light ORDER BY light NULLS LAST",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        lights,
        vec![
            (Some("green".into()), 15),
            (Some("red".into()), 5),
            (Some("yellow".into()), 4),
            (None, 4)
        ]
    );
    assert_eq!(text(&pool, &format!("SELECT start_light || '/' || coalesce(investment_light, '-') FROM reporting.projects WHERE project_id = '{}'", units[0].p[3])).await, "red/-");
    assert_eq!(text(&pool, &format!("SELECT coalesce(start_light, '-') || '/' || investment_light FROM reporting.projects WHERE project_id = '{}'", units[0].p[0])).await, "-/red");

    // --- Unit ranking ----------------------------------------------------------------------------
    // Signed projects (target 3 each): u-a P1, P4, P8 and u-d's P8 = 4 → 133.33 %; u-b, u-c 3 →
    // 100 %; u-d 2 → 66.67 %. Red projects: u-a 2 (P1, P4), others 1 (P4).
    // u-a (65.00 + 133.33)/2 − 4 = 95.165 → 95.17; u-b (76.67 + 100)/2 − 2 = 86.34 (86.335);
    // u-c (110 + 100)/2 − 2 = 103.00; u-d (107.50 + 66.67)/2 − 2 = 85.09 (85.085).
    let ranking: Vec<(String, i32, String, i32, i64)> = sqlx::query_as(
        "SELECT unit_id, rank, score::text, red_projects, ytd_investment_yuan FROM reporting.unit_ranking WHERE ranking_year = 2026 ORDER BY rank",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        ranking,
        vec![
            ("u-c".to_string(), 1, "103.00".to_string(), 1, 165 * M),
            ("u-a".to_string(), 2, "95.17".to_string(), 2, 65 * M),
            ("u-b".to_string(), 3, "86.34".to_string(), 1, 115 * M),
            ("u-d".to_string(), 4, "85.09".to_string(), 1, 215 * M),
        ]
    );

    // --- Dashboard, county -----------------------------------------------------------------------
    // What BI reads: the stored dashboard of today (the projection's clock: 2026-11-26).
    let d = sqlx::query(
        "SELECT * FROM reporting.dashboard WHERE dashboard_year = 2026 AND scope = 'county' AND as_of_date = '2026-11-26'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let int = |c: &str| -> i64 {
        d.try_get::<i64, _>(c)
            .or_else(|_| d.try_get::<i32, _>(c).map(i64::from))
            .unwrap()
    };
    // Percentages as PostgreSQL prints them (numeric, 2 decimals).
    let texts: serde_json::Value = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM (SELECT yoy_investment_pct::text AS yoy_investment_pct, yoy_funds_pct::text AS yoy_funds_pct, \
         plan_completion_pct::text AS plan_completion_pct, start_rate_pct::text AS start_rate_pct, \
         performance_rate_pct::text AS performance_rate_pct, funds_in_place_rate_pct::text AS funds_in_place_rate_pct, \
         expropriation_area_pct::text AS expropriation_area_pct, expropriation_households_pct::text AS expropriation_households_pct, \
         supervision_close_rate_pct::text AS supervision_close_rate_pct \
         FROM reporting.dashboard WHERE dashboard_year = 2026 AND scope = 'county') t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let pct = |c: &str| -> String { texts[c].as_str().unwrap_or_default().to_string() };
    assert_eq!(int("closed_months"), 10);
    assert_eq!(int("project_count"), 28); // 7 live projects per unit
    assert_eq!(int("abandoned_count"), 4);
    assert_eq!(int("ytd_investment_yuan"), 560 * M);
    assert_eq!(int("ytd_funds_yuan"), 180 * M);
    // 2025-01…10, same closed months, P7 left out: P2 2×2M + P3 8×1.5M + P6 9×2M = 34M per unit.
    assert_eq!(int("prior_ytd_investment_yuan"), 136 * M);
    assert_eq!(pct("yoy_investment_pct"), "311.76"); // (560 − 136)/136
    assert_eq!(int("prior_ytd_funds_yuan"), 136 * M);
    assert_eq!(pct("yoy_funds_pct"), "32.35"); // (180 − 136)/136
    // Plans for 2026 of live projects: 60M + 24M + 12M + 6M = 102M per unit → 408M.
    assert_eq!(int("planned_investment_yuan"), 408 * M);
    assert_eq!(pct("plan_completion_pct"), "137.25"); // 560/408
    // Start rate: planned start in 2026 and ≤ 2026-10: P1 (started), P4 (not) → 4 of 8.
    assert_eq!((int("start_due_count"), int("start_started_count")), (8, 4));
    assert_eq!(pct("start_rate_pct"), "50.00");
    // Performance: contracted with planned start ≤ 2026-10: P1, P2 (started), P4 (not) → 8 of 12.
    assert_eq!(
        (
            int("performance_due_count"),
            int("performance_started_count")
        ),
        (12, 8)
    );
    assert_eq!(pct("performance_rate_pct"), "66.67");
    // Funds-in-place rate: funds P1 24M + P2 18M = 42M per unit over contract 200 + 90 + 50 + 120
    // = 460M per unit → 168/1840.
    assert_eq!(
        (
            int("contracted_count"),
            int("cumulative_funds_yuan"),
            int("contract_investment_yuan")
        ),
        (16, 168 * M, 1840 * M)
    );
    assert_eq!(pct("funds_in_place_rate_pct"), "9.13");
    assert_eq!(
        (
            int("signed_count"),
            int("signed_investment_yuan"),
            int("signed_big_count"),
            int("signed_industrial_10m_count")
        ),
        (12, 1480 * M, 8, 12)
    );
    let by_investor: serde_json::Value = d.get("signed_by_investor_type");
    assert_eq!(
        by_investor,
        json!({
            "private": {"count": 4, "investment_yuan": 800 * M},
            "provincial_soe": {"count": 4, "investment_yuan": 200 * M},
            "foreign": {"count": 4, "investment_yuan": 480 * M},
        })
    );
    let sizes: serde_json::Value = d.get("size_classes");
    assert_eq!(sizes, json!({"100m_1b": 12, "10m_100m": 12, "5m_10m": 4}));
    assert_eq!(
        (int("red_count"), int("yellow_count"), int("green_count")),
        (5, 4, 15)
    );
    // Expropriation: 4 × 30亩 of 4 × 40亩; 4 × 8 of 4 × 10 households.
    assert_eq!(pct("expropriation_area_pct"), "75.00");
    assert_eq!(pct("expropriation_households_pct"), "80.00");
    // Supervision 2026: S1–S4 opened, S1 and S4 closed; S3 overdue; S2 due on 11-28.
    assert_eq!(
        (
            int("supervision_opened_count"),
            int("supervision_closed_count")
        ),
        (4, 2)
    );
    assert_eq!(pct("supervision_close_rate_pct"), "50.00");
    assert_eq!(
        (
            int("supervision_overdue_count"),
            int("supervision_due_soon_count")
        ),
        (1, 1)
    );
    let flags: Vec<(bool, bool)> = sqlx::query_as(
        "SELECT overdue, due_soon FROM reporting.supervision_items ORDER BY opened_date",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // S5 (closed), S4 (closed), S1 (closed), S2 (due soon), S3 (overdue).
    assert_eq!(
        flags,
        vec![
            (false, false),
            (false, false),
            (false, false),
            (false, true),
            (true, false)
        ]
    );

    // --- Ledger details --------------------------------------------------------------------------
    let p2 = units[0].p[1];
    let month: (i64, i64, i32) = sqlx::query_as(
        "SELECT reported_completed_investment_yuan, completed_investment_yuan, correction_count FROM reporting.monthly_investment WHERE project_id = $1 AND period = '2026-03'",
    )
    .bind(p2)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(month, (2 * M, 3 * M, 1));
    // P2 u-a cumulative: 2025 4×2M + 2026 10×2M + 1M correction = 29M; funds 8M + 10M.
    let cumulative: (i64, i64, String, Option<String>, i64) = sqlx::query_as(
        "SELECT cumulative_investment_yuan, cumulative_funds_yuan, stage, project_code, contract_investment_yuan FROM reporting.projects WHERE project_id = $1",
    )
    .bind(p2)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        cumulative,
        (
            29 * M,
            18 * M,
            "under_construction".into(),
            Some("2507-341100-04-01-000001".into()),
            90 * M
        )
    );
    let stages: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stage, count(*) FROM reporting.projects GROUP BY stage ORDER BY stage",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // P1, P2, P7 under construction; P3 completed; P4, P8 contracted; P5 framework; P6 producing.
    assert_eq!(
        stages,
        vec![
            ("completed".into(), 4),
            ("contracted".into(), 8),
            ("framework_signed".into(), 4),
            ("in_production".into(), 4),
            ("under_construction".into(), 12)
        ]
    );
    assert_eq!(
        text(
            &pool,
            &format!(
                "SELECT unit_id FROM reporting.projects WHERE project_id = '{}'",
                units[3].p[7]
            )
        )
        .await,
        "u-a"
    );
    assert_eq!(
        text(
            &pool,
            "SELECT name FROM reporting.units WHERE unit_id = 'u-d'"
        )
        .await,
        "新安街道"
    );
    assert_eq!(scalar_i64(&pool, "SELECT count(*) FROM reporting.projects WHERE status = 'abandoned' AND abandoned_date = '2026-04-15'").await, 4);
    assert_eq!(
        text(
            &pool,
            &format!(
                "SELECT land_delivered_mu::text FROM reporting.projects WHERE project_id = '{}'",
                units[0].p[0]
            )
        )
        .await,
        "100.5000"
    );
    assert_eq!(
        scalar_i64(
            &pool,
            "SELECT count(*) FROM reporting.targets WHERE is_current"
        )
        .await,
        16
    );
    assert_eq!(
        scalar_i64(&pool, "SELECT count(*) FROM reporting.rule_settings").await,
        2
    );
    assert_eq!(
        scalar_i64(
            &pool,
            "SELECT count(*) FROM reporting.accountability_records"
        )
        .await,
        1
    );

    // The timeline has every project event, with the actor and a summary.
    let project_events = scalar_i64(
        &pool,
        "SELECT count(*) FROM eventstore.events WHERE category = 'project'",
    )
    .await;
    assert_eq!(
        scalar_i64(&pool, "SELECT count(*) FROM reporting.project_events").await,
        project_events
    );
    let summary = text(&pool, &format!("SELECT summary || ' / ' || actor FROM reporting.project_events WHERE project_id = '{p2}' AND event_type = 'InvestmentReportCorrected'")).await;
    assert_eq!(
        summary,
        "更正2026-03月报：完成投资300万元，到位资金100万元（原因：漏报设备款） / 县投促局 张科员"
    );

    // --- As of a past moment, on both time axes (the figures core) -------------------------------
    let ledger = ledger_of(&county.store).await;
    let known_before = figures::AsOf {
        date: date!(2026 - 11 - 26),
        known_at: Some(before_corrections),
    };
    // Before the four corrections were recorded, the county's YTD was 560M − 4 × 1M = 556M.
    let before = figures::Figures::new(&ledger, 2026, known_before);
    let county_ytd = before
        .target_progress()
        .into_iter()
        .find(|t| t.scope == Scope::County && t.metric == TargetMetric::CompletedInvestment)
        .unwrap();
    assert_eq!(county_ytd.actual, 556 * M);
    // The report for January–May (read at D = 2026-06-30, m = 5): P1 2026-05 5M·u → 50M;
    // P2 5 × 2M·u + 1M → 100M + 4M; P3 5 × 1M × 4 = 20M; P6 3 × 2M × 4 = 24M → 198M.
    let june = figures::Figures::new(
        &ledger,
        2026,
        figures::AsOf::now_known(date!(2026 - 06 - 30)),
    );
    assert_eq!(june.dashboard(&Scope::County).ytd_investment, 198 * M);
    // The ranking as of before the corrections: u-a's YTD was 64M.
    let ytd_a = before
        .unit_ranking()
        .into_iter()
        .find(|r| r.unit_id == "u-a")
        .unwrap()
        .ytd_investment;
    assert_eq!(ytd_a, 64 * M);
    // Everything recorded, and a knowledge time after the last event: the same figures.
    let later = Some(OffsetDateTime::now_utc() + time::Duration::hours(1));
    for (year, date) in [
        (2026, date!(2026 - 11 - 26)),
        (2026, date!(2026 - 06 - 30)),
        (2025, date!(2025 - 12 - 31)),
    ] {
        let now = figures::Figures::new(&ledger, year, figures::AsOf::now_known(date));
        let then = figures::Figures::new(
            &ledger,
            year,
            figures::AsOf {
                date,
                known_at: later,
            },
        );
        assert_eq!(
            now.target_progress(),
            then.target_progress(),
            "{year} {date}"
        );
        assert_eq!(now.unit_ranking(), then.unit_ranking(), "{year} {date}");
        assert_eq!(
            now.dashboard(&Scope::Unit("u-b".into())),
            then.dashboard(&Scope::Unit("u-b".into()))
        );
        assert_eq!(now.projects, then.projects, "{year} {date}");
    }

    // --- Month-end snapshots: as reported and as corrected -------------------------------------
    // Every fact was recorded today (the wall clock), long after the projection's pinned
    // "today" of 2026-11-26: known at each month's reporting deadline, nothing had been reported.
    let june_snapshot = |basis: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (i64, i32)>(
                "SELECT ytd_investment_yuan, project_count FROM reporting.dashboard_snapshots                  WHERE basis = $1 AND period = '2026-06' AND scope = 'county'",
            )
            .bind(basis)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(june_snapshot("as_corrected").await, (198 * M, 28));
    assert_eq!(june_snapshot("as_reported").await, (0, 0));
    // Every closed month from January 2025 (the first registration's year) to October 2026 has
    // an as-corrected row per scope (the county and 4 units); November is not closed yet.
    assert_eq!(
        scalar_i64(&pool, "SELECT count(DISTINCT period) FROM reporting.dashboard_snapshots WHERE basis = 'as_corrected'").await,
        22
    );
    assert_eq!(
        scalar_i64(&pool, "SELECT count(*) FROM reporting.target_progress_snapshots WHERE basis = 'as_corrected' AND period = '2026-10'").await,
        5 * 8
    );
    let october_tp = text(&pool, "SELECT actual_value::text FROM reporting.target_progress_snapshots WHERE basis = 'as_corrected' AND period = '2026-10' AND scope = 'county' AND metric = 'completed_investment'").await;
    let october = figures::Figures::new(
        &ledger,
        2026,
        figures::AsOf::now_known(date!(2026 - 10 - 31)),
    );
    let october_core = october
        .target_progress()
        .into_iter()
        .find(|t| t.scope == Scope::County && t.metric == TargetMetric::CompletedInvestment)
        .unwrap();
    assert_eq!(october_tp, format!("{}.0000", october_core.actual));
    // October's as-reported row exists (its deadline, the end of 5 November in the county,
    // is before today) and says what it was known at.
    assert_eq!(
        text(&pool, "SELECT to_char(known_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS.US') FROM reporting.dashboard_snapshots WHERE basis = 'as_reported' AND period = '2026-10' AND scope = 'county'").await,
        "2026-11-05 23:59:59.999999"
    );
    // November closes on 1 December: not yet.
    assert_eq!(
        scalar_i64(
            &pool,
            "SELECT count(*) FROM reporting.dashboard_snapshots WHERE period = '2026-11'"
        )
        .await,
        0
    );
}

/// The facts of the whole store, folded as the projection and the API fold them.
async fn ledger_of(store: &PgEventStore) -> figures::Ledger {
    let mut ledger = figures::Ledger::new();
    let mut from = Position::START;
    loop {
        let events = store.read_all(from, &Filter::all(), 1000).await.unwrap();
        let Some(last) = events.last() else { break };
        from = last.position;
        for event in &events {
            projections::live::fold(&mut ledger, event);
        }
    }
    ledger
}

/// Every row of the reporting tables as sorted JSON text, without the columns that record when a
/// row was computed (a rebuild computes them again, later).
async fn snapshot(pool: &PgPool) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'reporting' AND table_name <> 'projection_status' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT (to_jsonb(t) - 'computed_at')::text FROM reporting.{table} t ORDER BY 1"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        out.insert(table, rows);
    }
    out
}

#[tokio::test]
async fn a_rebuild_reproduces_the_incremental_tables_exactly() {
    let mut county = County::new().await;
    let c = &county;
    c.run::<domain::unit::Unit>(
        "unit-u-a",
        UnitCommand::Create(UnitCreated {
            name: "城关镇".into(),
            kind: UnitKind::Township,
            date: date!(2025 - 01 - 02),
        }),
    )
    .await;
    let units = [
        unit_projects(c, 1, "u-a").await,
        unit_projects(c, 2, "u-a").await,
    ];
    c.run::<Targets>(
        "targets-2026",
        TargetsCommand::Set(TargetSet {
            year: 2026,
            scope: TargetScope::Unit(unit("u-a")),
            metric: TargetMetric::CompletedInvestment,
            value: TargetValue::Yuan(yuan(100 * M)),
        }),
    )
    .await;
    county.catch_up().await;
    county
        .project(
            units[1].p[1],
            ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
                period: period(2026, 3),
                completed_investment: yuan(M),
                funds_in_place: yuan(M),
                reason: "重复计算".into(),
                progress_narrative: None,
                problems: None,
            }),
        )
        .await;
    county.catch_up().await;

    let incremental = snapshot(&county.pool).await;
    assert!(incremental["projects"].len() == 16 && incremental["project_events"].len() > 100);

    let clock: projections::Clock = std::sync::Arc::new(|| datetime!(2026-11-26 10:00 +8));
    let done = projections::rebuild_all(
        &county.store,
        &projections::all(clock),
        &projections::RebuildOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(done.len(), 2);
    let rebuilt = snapshot(&county.pool).await;
    for (table, rows) in &incremental {
        assert_eq!(&rebuilt[table], rows, "{table} differs after the rebuild");
    }
    assert_eq!(rebuilt.len(), incremental.len());
}

/// The reporting tables' rows as text on both backends (shared with crates/taizhang's move test).
#[path = "support/reporting_rows.rs"]
mod reporting_rows;
use reporting_rows::both_backends;

/// Runs the projections of `clock` on SQLite, through the runtime, until they have caught up
/// with $all (the batch that catches up refreshes the figures in its own transaction).
async fn run_to_end(store: &eventstore::SqliteEventStore, clock: projections::Clock) {
    let head = store
        .all_head()
        .await
        .unwrap()
        .last
        .unwrap_or(Position::START);
    let projections = projections::all(clock);
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    let runners = projections::Projectors::start_sqlite(
        store,
        projections.clone(),
        projections::RunnerOptions {
            batch_size: 97, // batches that split streams, as a live runner's would
            ..Default::default()
        },
    )
    .unwrap();
    let outcome = projections::sqlite::wait_for(
        store.pool(),
        &names,
        head,
        std::time::Duration::from_secs(120),
    )
    .await
    .unwrap();
    let status = projections::sqlite::statuses(store.pool()).await.unwrap();
    assert_eq!(outcome, projections::WaitOutcome::Reached, "{status:?}");
    runners.shutdown().await;
}

#[tokio::test]
async fn sqlite_and_postgresql_project_the_county_into_the_same_rows() {
    let mut county = County::new().await;
    let units = build_county(&county).await;
    county.catch_up().await;
    correct_march_reports(&county, &units).await;
    county.catch_up().await;
    let (lite, path) = import_into_sqlite(&county).await;

    let clock: projections::Clock = std::sync::Arc::new(|| datetime!(2026-11-26 10:00 +8));
    run_to_end(&lite, clock).await;

    let (pg, sqlite) = both_backends(&county.pool, lite.pool()).await;
    assert!(pg["projects"].len() == 32 && pg["project_events"].len() > 300);
    assert!(pg["supervision_items"].len() == 5 && !pg["expropriation_progress"].is_empty());
    // The generated columns are among the compared ones: P4's 30 of 40 mu and 8 of 10 households
    // (75.00 % and 80.00 %, compared without trailing zeros).
    let progress = &pg["expropriation_progress"];
    assert!(progress.iter().any(|row| row.contains(&Some("75".into()))));
    assert!(progress.iter().any(|row| row.contains(&Some("80".into()))));
    // So are the stored figures from the core, refreshed after catching up on both (2025 and
    // 2026): target progress, ranking, the dashboard, the projects' lights and YTD, the deadline
    // flags, and the month-end snapshots (22 closed months; as reported only where known).
    assert_eq!(pg["target_progress"].len(), 2 * 5 * 8);
    assert_eq!(pg["unit_ranking"].len(), 2 * 4);
    assert_eq!(pg["dashboard"].len(), 2 * 5);
    assert!(pg["dashboard_snapshots"].len() >= 22 * 5);
    assert!(pg["target_progress_snapshots"].len() >= 22 * 5 * 8);
    assert!(
        pg["projects"]
            .iter()
            .any(|row| row.contains(&Some("red".into())))
    );
    for (table, rows) in &pg {
        assert_eq!(
            rows.len(),
            sqlite[table].len(),
            "{table}: row counts differ"
        );
        for (a, b) in rows.iter().zip(&sqlite[table]) {
            assert_eq!(
                a, b,
                "{table}: a row differs (PostgreSQL left, SQLite right)"
            );
        }
    }

    // A rebuild on SQLite (fresh tables, swapped in by renaming) reproduces the same rows.
    let clock: projections::Clock = std::sync::Arc::new(|| datetime!(2026-11-26 10:00 +8));
    for projection in projections::all(clock.clone()) {
        let at = projections::sqlite::rebuild(&lite, projection.clone())
            .await
            .unwrap();
        let head = lite.all_head().await.unwrap().last;
        assert_eq!(
            Some(at),
            head,
            "{} rebuilt up to the head",
            projection.name()
        );
    }
    let (_, rebuilt) = both_backends(&county.pool, lite.pool()).await;
    assert_eq!(
        rebuilt, sqlite,
        "the rebuilt SQLite tables differ from the incremental ones"
    );

    lite.pool().close().await;
    eventstore::sqlite::testing::remove_store_files(&path);
}

/// The same history in a fresh SQLite store: an import keeps ids, versions, metadata and times.
async fn import_into_sqlite(county: &County) -> (eventstore::SqliteEventStore, std::path::PathBuf) {
    use eventstore::Importer;

    let path = eventstore::sqlite::testing::temp_store_path();
    let lite = eventstore::SqliteEventStore::open(&path, 4).await.unwrap();
    lite.migrate().await.unwrap();
    let mut importer = lite.begin_import().await.unwrap();
    let mut from = Position::START;
    loop {
        let batch = county
            .store
            .read_all(from, &Filter::all(), 1000)
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        from = last.position;
        importer
            .write(
                batch
                    .into_iter()
                    .map(eventstore::ImportEvent::from)
                    .collect(),
            )
            .await
            .unwrap();
    }
    importer.commit().await.unwrap();
    (lite, path)
}
