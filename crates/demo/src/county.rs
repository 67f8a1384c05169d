//! The demo county's units, projects and their histories.

use commands::{CommandHandler, Envelope};
use domain::project::*;
use domain::rules::{RankingWeights, RankingWeightsSet, RuleSettings, RulesCommand};
use domain::supervision::*;
use domain::targets::*;
use domain::unit::{Unit, UnitCommand, UnitCreated, UnitKind, UnitRenamed};
use domain::{Aggregate, Mu, Period, ProjectCode, ProjectId, UnitId, Uscc, Yuan};
use eventstore::{EventStore, Position};
use time::{Date, Duration, Month};
use uuid::Uuid;

use crate::DemoError;
use crate::uscc::demo_code;

/// What seeding did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub units: usize,
    pub projects: usize,
    pub supervision_items: usize,
    /// Commands sent.
    pub commands: usize,
    /// Events written now (0 when the demo was already there).
    pub events_written: usize,
    /// Commands that had been carried out before (a second run replays every one).
    pub replayed: usize,
    /// The latest $all position among the demo's events: wait for the projections to pass it.
    pub head: Option<Position>,
}

const WAN: i64 = 10_000; // 万元 in yuan
const YI: i64 = 100_000_000; // 亿元 in yuan

/// The units: id, name, kind.
const UNITS: [(&str, &str, UnitKind); 5] = [
    ("chengguan-town", "城关镇", UnitKind::Township),
    ("xinan-town", "新安镇", UnitKind::Township),
    ("dev-zone", "经济技术开发区", UnitKind::Park),
    ("fluorochem-park", "氟化工产业园", UnitKind::Park),
    ("drc", "县发展和改革局", UnitKind::Department),
];

/// How far a demo project has come; each unit gets one project of every archetype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Archetype {
    /// Attracted, signed and started last year, completed and producing this year.
    InProduction,
    /// Government project, completed this year.
    GovernmentCompleted,
    /// Attracted, under construction, investment on plan.
    OnTrack,
    /// Attracted, under construction, investment far behind plan (red), supervised.
    Lagging,
    /// Formally signed, planned start four months ago, not started (red), with expropriation.
    StartOverdue,
    /// Formally signed this year, start planned in two months.
    StartUpcoming,
    /// Framework agreement only.
    Framework,
    /// In negotiation.
    Negotiating,
    /// A fresh lead.
    Lead,
    /// Enterprise expansion under construction, with a corrected report.
    Expansion,
    /// Government project under construction, with a revised annual plan.
    GovernmentBuilding,
    /// Signed and started last year, then abandoned.
    Abandoned,
}

const ARCHETYPES: [Archetype; 12] = [
    Archetype::InProduction,
    Archetype::GovernmentCompleted,
    Archetype::OnTrack,
    Archetype::Lagging,
    Archetype::StartOverdue,
    Archetype::StartUpcoming,
    Archetype::Framework,
    Archetype::Negotiating,
    Archetype::Lead,
    Archetype::Expansion,
    Archetype::GovernmentBuilding,
    Archetype::Abandoned,
];

/// Project names per archetype, one per unit.
const NAMES: [[&str; 5]; 12] = [
    [
        "年产5万吨高性能氟树脂项目",
        "锂电池电解液添加剂项目",
        "年产3万吨含氟精细化学品项目",
        "电子级氢氟酸项目",
        "高端氟橡胶项目",
    ],
    [
        "城区污水处理厂提标改造工程",
        "新安镇集镇供水工程",
        "开发区标准化厂房一期",
        "园区危废处置中心",
        "县城智慧停车场工程",
    ],
    [
        "100MW渔光互补光伏发电项目",
        "新型墙体材料产业园项目",
        "动力电池正极材料项目",
        "六氟磷酸锂扩能项目",
        "冷链物流园项目",
    ],
    [
        "汽车零部件智能制造项目",
        "农产品精深加工产业园",
        "碳纤维复合材料项目",
        "含氟医药中间体项目",
        "县域商贸物流中心项目",
    ],
    [
        "储能电池系统集成项目",
        "绿色建材产业园项目",
        "半导体封装材料项目",
        "氟硅新材料项目",
        "文旅康养综合体项目",
    ],
    [
        "分布式光伏整县推进项目",
        "预制菜产业园项目",
        "高纯石英砂项目",
        "含氟聚合物薄膜项目",
        "数字经济产业园项目",
    ],
    [
        "氢能装备制造项目",
        "茶叶精深加工项目",
        "特种玻璃纤维项目",
        "氟化工循环经济项目",
        "职业教育实训基地项目",
    ],
    [
        "风电装备制造基地项目",
        "生态农业观光园项目",
        "光学膜材料项目",
        "电子特气项目",
        "乡村振兴示范片项目",
    ],
    [
        "钠离子电池项目",
        "竹木制品加工项目",
        "高性能涂料项目",
        "氟化锂项目",
        "影视拍摄基地项目",
    ],
    [
        "化工装置技改扩建项目",
        "食品厂自动化改造项目",
        "纺织印染技改项目",
        "氟化工企业扩能改造项目",
        "建材厂节能技改项目",
    ],
    [
        "城乡供水一体化工程",
        "农村公路提质改造工程",
        "开发区道路管网工程",
        "园区消防站建设工程",
        "县人民医院新院区工程",
    ],
    [
        "生物质发电项目",
        "服装加工项目",
        "再生资源回收项目",
        "氟化铝项目",
        "商业综合体项目",
    ],
];

/// Investors by archetype and unit: name and type.
fn investor(archetype: Archetype, unit: usize) -> (String, InvestorType) {
    use Archetype as A;
    let types = [
        InvestorType::CentralSoe,
        InvestorType::Private,
        InvestorType::ProvincialSoe,
        InvestorType::Foreign,
        InvestorType::Private,
    ];
    match archetype {
        A::GovernmentCompleted | A::GovernmentBuilding => {
            ("县城市建设投资集团有限公司".into(), InvestorType::Other)
        }
        A::Expansion => (
            format!("{}本地企业有限公司", UNITS[unit].1),
            InvestorType::Private,
        ),
        _ => {
            let kind = types[(unit + archetype as usize) % types.len()];
            let name = match kind {
                InvestorType::CentralSoe => "中国中化控股有限责任公司",
                InvestorType::ProvincialSoe => "省能源集团有限公司",
                InvestorType::Foreign => "德国赢创特种化学有限公司",
                _ => [
                    "浙江永和新材料股份有限公司",
                    "江苏华盛锂电材料有限公司",
                    "福建三明新能源科技有限公司",
                ][(unit + archetype as usize) % 3],
            };
            (name.into(), kind)
        }
    }
}

fn chain(archetype: Archetype, unit: usize) -> &'static str {
    if unit == 3 {
        return "氟化工";
    }
    match archetype {
        Archetype::GovernmentCompleted | Archetype::GovernmentBuilding => "基础设施",
        _ => ["新能源", "新材料", "氟化工", "绿色食品", "现代服务业"]
            [(unit + archetype as usize) % 5],
    }
}

/// The project's size in yuan: from about 2000万 to about 12亿 depending on archetype and unit.
fn size(archetype: Archetype, unit: usize) -> i64 {
    let base = [
        8 * YI,
        6000 * WAN,
        3 * YI,
        2 * YI,
        5 * YI,
        12 * YI,
        YI,
        3 * YI,
        8000 * WAN,
        YI,
        YI + 5000 * WAN,
        6000 * WAN,
    ][archetype as usize];
    base / 10 * (8 + 2 * unit as i64) / 10 * 10
}

pub async fn seed<S: EventStore>(
    handler: &CommandHandler<S>,
    today: Date,
    actor: &str,
) -> Result<Summary, DemoError> {
    let mut seeder = Seeder {
        handler,
        today,
        actor: actor.to_owned(),
        summary: Summary::default(),
    };
    seeder.county().await?;
    Ok(seeder.summary)
}

struct Seeder<'a, S> {
    handler: &'a CommandHandler<S>,
    today: Date,
    actor: String,
    summary: Summary,
}

/// A month as an index (year × 12 + month − 1), for stepping through periods.
fn month_index(p: Period) -> i32 {
    p.year() * 12 + i32::from(p.month()) - 1
}

fn period_at(index: i32) -> Result<Period, DemoError> {
    let month =
        u8::try_from(index.rem_euclid(12) + 1).map_err(|e| DemoError::Value(e.to_string()))?;
    Period::new(index.div_euclid(12), month).map_err(|e| DemoError::Value(format!("{e:?}")))
}

fn yuan(v: i64) -> Result<Yuan, DemoError> {
    Yuan::new(v).map_err(|e| DemoError::Value(format!("{v} yuan: {e:?}")))
}

fn mu(s: &str) -> Result<Mu, DemoError> {
    Mu::parse(s).map_err(|e| DemoError::Value(format!("{s} mu: {e:?}")))
}

fn unit_id(id: &str) -> Result<UnitId, DemoError> {
    UnitId::parse(id).map_err(|e| DemoError::Value(format!("unit {id}: {e:?}")))
}

/// Fixed ids so that a second run addresses the same streams.
fn demo_uuid(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://taizhang.invalid/demo/{name}").as_bytes(),
    )
}

impl<S: EventStore> Seeder<'_, S> {
    async fn run<A: Aggregate>(
        &mut self,
        stream: &str,
        step: &str,
        command: A::Command,
    ) -> Result<(), DemoError> {
        let what = step.to_owned();
        let envelope = Envelope::new(format!("demo:{stream}:{step}"), self.actor.clone(), command);
        let outcome = match self.handler.handle::<A>(stream, envelope).await {
            Ok(outcome) => outcome,
            // Seeded on an earlier day: the step's dates were placed relative to that day, so
            // today's command differs under the same key. The county as first seeded stays.
            Err(commands::CommandError::IdempotencyKeyReused { .. }) => {
                self.summary.commands += 1;
                self.summary.replayed += 1;
                return Ok(());
            }
            Err(source) => {
                return Err(DemoError::Command {
                    stream: stream.to_owned(),
                    what,
                    source: Box::new(source),
                });
            }
        };
        self.summary.commands += 1;
        let head = outcome.events.iter().map(|e| e.position).max();
        self.summary.head = self.summary.head.max(head);
        if outcome.replayed {
            self.summary.replayed += 1;
        } else {
            self.summary.events_written += outcome.events.len();
        }
        Ok(())
    }

    async fn project(
        &mut self,
        id: Uuid,
        step: &str,
        command: ProjectCommand,
    ) -> Result<(), DemoError> {
        self.run::<Project>(&ProjectId(id).stream(), step, command)
            .await
    }

    /// A date of `year`-`month`-`day`, but never after today.
    fn on(&self, year: i32, month: u8, day: u8) -> Result<Date, DemoError> {
        let month = Month::try_from(month).map_err(|e| DemoError::Value(e.to_string()))?;
        let date = Date::from_calendar_date(year, month, day)
            .map_err(|e| DemoError::Value(e.to_string()))?;
        Ok(date.min(self.today))
    }

    fn days_ago(&self, days: i64) -> Date {
        self.today - Duration::days(days)
    }

    fn this_year(&self) -> i32 {
        self.today.year()
    }

    /// The last closed month: last month, or December of last year in January.
    fn last_closed(&self) -> Result<Period, DemoError> {
        period_at(month_index(Period::of(self.today)) - 1)
    }

    /// Monthly reports for every period from `first` to `last` (inclusive), `amount` completed each.
    async fn reports(
        &mut self,
        id: Uuid,
        first: Period,
        last: Period,
        amount: i64,
        funds_share: i64,
    ) -> Result<(), DemoError> {
        for index in month_index(first)..=month_index(last) {
            let period = period_at(index)?;
            // A little variation month to month, the same on every run.
            let completed = amount / 100 * (90 + (index % 5) as i64 * 5);
            self.project(
                id,
                &format!("report-{period}"),
                ProjectCommand::ReportInvestment(InvestmentReported {
                    period,
                    completed_investment: yuan(completed)?,
                    funds_in_place: yuan(completed / 100 * funds_share)?,
                    progress_narrative: None,
                    problems: None,
                }),
            )
            .await?;
        }
        Ok(())
    }

    async fn county(&mut self) -> Result<(), DemoError> {
        let year = self.this_year();
        let last_year = year - 1;
        let unit_created = self.on(last_year, 1, 3)?;
        for (id, name, kind) in UNITS {
            let stream = unit_id(id)?.stream();
            self.run::<Unit>(
                &stream,
                "create",
                UnitCommand::Create(UnitCreated {
                    name: name.into(),
                    kind,
                    date: unit_created,
                }),
            )
            .await?;
            self.summary.units += 1;
        }
        let renamed = self.on(year, 1, 8)?;
        self.run::<Unit>(
            &unit_id("xinan-town")?.stream(),
            "rename",
            UnitCommand::Rename(UnitRenamed {
                name: "新安街道".into(),
                reason: "撤镇设街道".into(),
                date: renamed,
            }),
        )
        .await?;

        let rules_date = self.on(year, 1, 5)?;
        let mut weights = RankingWeights::default();
        weights.weights.insert(TargetMetric::CompletedInvestment, 2);
        self.run::<RuleSettings>(
            domain::ids::RULES_STREAM,
            &format!("ranking-{year}"),
            RulesCommand::SetRankingWeights(RankingWeightsSet {
                ranking: weights,
                reason: format!("{year}年“五比五晒”考核办法：完成投资权重加倍"),
                date: rules_date,
            }),
        )
        .await?;

        let mut plan_by_unit = [0i64; 5];
        for (a, archetype) in ARCHETYPES.into_iter().enumerate() {
            for (unit, unit_plan) in plan_by_unit.iter_mut().enumerate() {
                *unit_plan += self.project_history(archetype, a, unit).await?;
                self.summary.projects += 1;
            }
        }
        // One project changes hands: the department's on-track project goes to the development zone.
        let moved = demo_uuid(&format!("project-{}-{}", Archetype::OnTrack as usize, 4));
        let moved_on = self.on(year, 2, 1)?;
        self.project(
            moved,
            "reassign",
            ProjectCommand::AssignResponsibility(ResponsibilityAssigned {
                responsible_unit: unit_id("dev-zone")?,
                lead_official: "李副县长".into(),
                date: moved_on,
            }),
        )
        .await?;

        self.targets(year, &plan_by_unit).await?;
        self.targets(last_year, &plan_by_unit).await?;
        self.supervision().await
    }

    /// Targets of a year: every metric for the county, investment and signings for each unit.
    async fn targets(&mut self, year: i32, plan_by_unit: &[i64; 5]) -> Result<(), DemoError> {
        let stream = domain::ids::targets_stream(year);
        let total: i64 = plan_by_unit.iter().sum();
        let round_yi = |v: i64| (v + YI - 1) / YI * YI;
        let county = [
            (
                TargetMetric::CompletedInvestment,
                TargetValue::Yuan(yuan(round_yi(total))?),
            ),
            (
                TargetMetric::FundsInPlace,
                TargetValue::Yuan(yuan(round_yi(total * 6 / 10))?),
            ),
            (TargetMetric::SignedProjects, TargetValue::Count(12)),
            (
                TargetMetric::SignedInvestment,
                TargetValue::Yuan(yuan(60 * YI)?),
            ),
            (TargetMetric::BigProjectsSigned, TargetValue::Count(6)),
            (TargetMetric::StartedProjects, TargetValue::Count(10)),
            (TargetMetric::ProductionProjects, TargetValue::Count(5)),
            (TargetMetric::ExpropriatedArea, TargetValue::Mu(mu("600")?)),
        ];
        for (metric, value) in county {
            let step = format!("county-{metric:?}");
            self.run::<Targets>(
                &stream,
                &step,
                TargetsCommand::Set(TargetSet {
                    year,
                    scope: TargetScope::County,
                    metric,
                    value,
                }),
            )
            .await?;
        }
        for (unit, (id, _, _)) in UNITS.iter().enumerate() {
            let scope = TargetScope::Unit(unit_id(id)?);
            let investment = TargetValue::Yuan(yuan(round_yi(plan_by_unit[unit]))?);
            self.run::<Targets>(
                &stream,
                &format!("{id}-investment"),
                TargetsCommand::Set(TargetSet {
                    year,
                    scope: scope.clone(),
                    metric: TargetMetric::CompletedInvestment,
                    value: investment,
                }),
            )
            .await?;
            self.run::<Targets>(
                &stream,
                &format!("{id}-signed"),
                TargetsCommand::Set(TargetSet {
                    year,
                    scope,
                    metric: TargetMetric::SignedProjects,
                    value: TargetValue::Count(3),
                }),
            )
            .await?;
        }
        // The county raised its investment target during the year.
        self.run::<Targets>(
            &stream,
            "county-investment-revised",
            TargetsCommand::Revise(TargetRevised {
                year,
                scope: TargetScope::County,
                metric: TargetMetric::CompletedInvestment,
                value: TargetValue::Yuan(yuan(round_yi(total * 11 / 10))?),
                reason: "县委经济工作会议调增目标".into(),
            }),
        )
        .await
    }

    /// One project's history up to its archetype's stage; returns its planned investment for
    /// this year (0 without a plan).
    async fn project_history(
        &mut self,
        archetype: Archetype,
        a: usize,
        unit: usize,
    ) -> Result<i64, DemoError> {
        use Archetype as A;
        let id = demo_uuid(&format!("project-{a}-{unit}"));
        let year = self.this_year();
        let py = year - 1;
        let size = size(archetype, unit);
        let (investor_name, investor_type) = investor(archetype, unit);
        let kind = match archetype {
            A::GovernmentCompleted | A::GovernmentBuilding => ProjectKind::Government,
            A::Expansion => ProjectKind::Expansion,
            _ => ProjectKind::Attracted,
        };
        let registered = match archetype {
            A::StartUpcoming => self.days_ago(120),
            A::Framework => self.days_ago(90),
            A::Negotiating => self.days_ago(60),
            A::Lead => self.days_ago(12),
            A::StartOverdue => self.on(py, 6, 1)?,
            _ => self.on(py, 1 + (unit as u8), 10)?,
        };
        self.project(
            id,
            "register",
            ProjectCommand::Register(ProjectRegistered {
                name: NAMES[a][unit].into(),
                kind,
                investor_name,
                investor_type,
                industry_chain: chain(archetype, unit).into(),
                industrial: !matches!(archetype, A::GovernmentCompleted | A::GovernmentBuilding)
                    && chain(archetype, unit) != "现代服务业",
                intended_investment: yuan(size)?,
                responsible_unit: unit_id(UNITS[unit].0)?,
                lead_official: [
                    "张副县长",
                    "王副县长",
                    "刘常务副县长",
                    "陈副县长",
                    "赵副县长",
                ][unit]
                    .into(),
                date: registered,
            }),
        )
        .await?;

        let last = self.last_closed()?;
        let january = Period::new(year, 1).map_err(|e| DemoError::Value(format!("{e:?}")))?;
        let mut planned_this_year = 0;
        match archetype {
            A::Lead => {
                self.contact(
                    id,
                    ContactKind::Promotion,
                    self.days_ago(5),
                    "县招商推介会上对接",
                )
                .await?;
            }
            A::Negotiating => {
                self.contact(
                    id,
                    ContactKind::Visit,
                    self.days_ago(45),
                    "投资方来县实地考察",
                )
                .await?;
                self.contact(
                    id,
                    ContactKind::Negotiation,
                    self.days_ago(20),
                    "洽谈用地、用电及税收政策",
                )
                .await?;
            }
            A::Framework => {
                self.contact(
                    id,
                    ContactKind::Negotiation,
                    self.days_ago(70),
                    "洽谈合作框架",
                )
                .await?;
                let start = period_at(month_index(Period::of(self.today)) + 5)?;
                self.agreement(
                    id,
                    "framework",
                    AgreementKind::Framework,
                    self.days_ago(30),
                    size,
                    start,
                )
                .await?;
            }
            A::StartUpcoming => {
                self.contact(
                    id,
                    ContactKind::Negotiation,
                    self.days_ago(100),
                    "县主要领导带队洽谈",
                )
                .await?;
                let start = period_at(month_index(Period::of(self.today)) + 2)?;
                self.agreement(
                    id,
                    "formal",
                    AgreementKind::Formal,
                    self.days_ago(25),
                    size,
                    start,
                )
                .await?;
            }
            A::StartOverdue => {
                self.contact(
                    id,
                    ContactKind::Negotiation,
                    self.on(py, 7, 1)?,
                    "洽谈项目落地",
                )
                .await?;
                let start = period_at(month_index(Period::of(self.today)) - 4)?;
                self.agreement(
                    id,
                    "formal",
                    AgreementKind::Formal,
                    self.on(py, 9, 15)?,
                    size,
                    start,
                )
                .await?;
                self.expropriation(id, unit, 0).await?;
            }
            A::InProduction | A::OnTrack | A::Lagging | A::Abandoned => {
                self.contact(
                    id,
                    ContactKind::Negotiation,
                    self.on(py, 2, 10)?,
                    "洽谈投资协议",
                )
                .await?;
                let start_period =
                    Period::new(py, 5).map_err(|e| DemoError::Value(format!("{e:?}")))?;
                self.agreement(
                    id,
                    "framework",
                    AgreementKind::Framework,
                    self.on(py, 3, 1)?,
                    size,
                    start_period,
                )
                .await?;
                self.agreement(
                    id,
                    "formal",
                    AgreementKind::Formal,
                    self.on(py, 4, 10)?,
                    size,
                    start_period,
                )
                .await?;
                self.code_and_company(id, a, unit, py, size).await?;
                self.project(
                    id,
                    "plan-last-year",
                    plan(py, size * 3 / 10, Some(start_period), None)?,
                )
                .await?;
                self.project(id, "start", start(self.on(py, 5, 18)?))
                    .await?;
                if archetype == A::OnTrack {
                    self.expropriation(id, unit, 1).await?;
                }
                let monthly_last_year = size * 3 / 10 / 8;
                let december =
                    Period::new(py, 12).map_err(|e| DemoError::Value(format!("{e:?}")))?;
                if archetype == A::Abandoned {
                    let september =
                        Period::new(py, 9).map_err(|e| DemoError::Value(format!("{e:?}")))?;
                    self.reports(id, start_period, september, monthly_last_year / 2, 80)
                        .await?;
                    self.project(
                        id,
                        "delayed",
                        ProjectCommand::ChangeStatus(StatusChanged {
                            status: ProjectStatus::Delayed,
                            reason: "投资方资金链紧张".into(),
                            date: self.on(py, 10, 15)?,
                        }),
                    )
                    .await?;
                    self.project(
                        id,
                        "abandon",
                        ProjectCommand::Abandon(ProjectAbandoned {
                            reason: "投资方战略调整，终止合作".into(),
                            date: self.on(py, 12, 20)?,
                        }),
                    )
                    .await?;
                    return Ok(0);
                }
                self.reports(id, start_period, december.min(last), monthly_last_year, 90)
                    .await?;
                planned_this_year = size * 4 / 10;
                self.project(
                    id,
                    "plan-this-year",
                    plan(year, planned_this_year, None, None)?,
                )
                .await?;
                if last >= january {
                    let share = match archetype {
                        A::Lagging => 30,
                        A::OnTrack => 105,
                        _ => 100,
                    };
                    self.reports(id, january, last, planned_this_year / 12 * share / 100, 85)
                        .await?;
                }
                if archetype == A::Lagging {
                    self.project(
                        id,
                        "delayed",
                        ProjectCommand::ChangeStatus(StatusChanged {
                            status: ProjectStatus::Delayed,
                            reason: "设备采购延期".into(),
                            date: self.days_ago(20),
                        }),
                    )
                    .await?;
                }
                if archetype == A::InProduction {
                    let (y, m) = (last.year(), last.month());
                    self.project(
                        id,
                        "complete",
                        ProjectCommand::CompleteConstruction(ConstructionCompleted {
                            date: self.on(y, m, 20)?,
                        }),
                    )
                    .await?;
                    self.project(
                        id,
                        "production",
                        ProjectCommand::StartProduction(ProductionStarted {
                            date: self.on(y, m, 26)?,
                            kind: if unit.is_multiple_of(2) {
                                ProductionKind::Full
                            } else {
                                ProductionKind::Partial
                            },
                        }),
                    )
                    .await?;
                }
            }
            A::GovernmentCompleted | A::GovernmentBuilding | A::Expansion => {
                let start_period =
                    Period::new(py, 3).map_err(|e| DemoError::Value(format!("{e:?}")))?;
                self.project(
                    id,
                    "plan-last-year",
                    plan(py, size / 2, Some(start_period), None)?,
                )
                .await?;
                if archetype != A::Expansion {
                    let code = ProjectCode::parse(&format!(
                        "{}-341100-48-01-{:06}",
                        yymm(py, 2),
                        500 + a * 10 + unit
                    ))
                    .map_err(|e| DemoError::Value(format!("{e:?}")))?;
                    self.project(
                        id,
                        "code",
                        ProjectCommand::AssignProjectCode(ProjectCodeAssigned {
                            code,
                            route: ApprovalRoute::Approval,
                            filed_total_investment: yuan(size)?,
                            date: self.on(py, 2, 20)?,
                        }),
                    )
                    .await?;
                }
                self.project(id, "start", start(self.on(py, 3, 8)?)).await?;
                let december =
                    Period::new(py, 12).map_err(|e| DemoError::Value(format!("{e:?}")))?;
                self.reports(id, start_period, december.min(last), size / 2 / 10, 100)
                    .await?;
                planned_this_year = size * 4 / 10;
                self.project(
                    id,
                    "plan-this-year",
                    plan(year, planned_this_year, None, None)?,
                )
                .await?;
                if archetype == A::GovernmentBuilding {
                    planned_this_year = size * 3 / 10;
                    self.project(
                        id,
                        "plan-this-year-revised",
                        plan(
                            year,
                            planned_this_year,
                            None,
                            Some("财政资金到位延迟，调减年度计划"),
                        )?,
                    )
                    .await?;
                }
                if last >= january {
                    let share = if archetype == A::GovernmentBuilding {
                        80
                    } else {
                        100
                    };
                    self.reports(id, january, last, planned_this_year / 12 * share / 100, 100)
                        .await?;
                    if archetype == A::Expansion {
                        let amount = planned_this_year / 12;
                        self.project(
                            id,
                            &format!("correct-{january}"),
                            ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
                                period: january,
                                completed_investment: yuan(amount / 100 * 120)?,
                                funds_in_place: yuan(amount)?,
                                reason: "补报设备购置款".into(),
                                progress_narrative: None,
                                problems: None,
                            }),
                        )
                        .await?;
                    }
                }
                if archetype == A::GovernmentCompleted {
                    self.project(
                        id,
                        "complete",
                        ProjectCommand::CompleteConstruction(ConstructionCompleted {
                            date: self.on(last.year(), last.month(), 25)?,
                        }),
                    )
                    .await?;
                }
            }
        }
        Ok(planned_this_year)
    }

    async fn contact(
        &mut self,
        id: Uuid,
        kind: ContactKind,
        date: Date,
        summary: &str,
    ) -> Result<(), DemoError> {
        self.project(
            id,
            &format!("contact-{kind:?}"),
            ProjectCommand::LogContact(ContactLogged {
                kind,
                date,
                leader_level: "县级".into(),
                summary: summary.into(),
            }),
        )
        .await
    }

    async fn agreement(
        &mut self,
        id: Uuid,
        step: &str,
        kind: AgreementKind,
        date: Date,
        size: i64,
        start: Period,
    ) -> Result<(), DemoError> {
        let completion = period_at(month_index(start) + 18)?;
        let production = period_at(month_index(start) + 21)?;
        self.project(
            id,
            step,
            ProjectCommand::SignAgreement(AgreementSigned {
                kind,
                date,
                contract_investment: yuan(size)?,
                fixed_asset_investment: yuan(size / 10 * 8)?,
                land_demand: mu(&format!("{}", 30 + size / (2000 * WAN)))?,
                planned_start: start,
                planned_completion: completion,
                planned_production: production,
            }),
        )
        .await
    }

    async fn code_and_company(
        &mut self,
        id: Uuid,
        a: usize,
        unit: usize,
        py: i32,
        size: i64,
    ) -> Result<(), DemoError> {
        let code = ProjectCode::parse(&format!(
            "{}-341100-04-01-{:06}",
            yymm(py, 4),
            100 + a * 10 + unit
        ))
        .map_err(|e| DemoError::Value(format!("{e:?}")))?;
        self.project(
            id,
            "code",
            ProjectCommand::AssignProjectCode(ProjectCodeAssigned {
                code,
                route: ApprovalRoute::Filing,
                filed_total_investment: yuan(size)?,
                date: self.on(py, 4, 25)?,
            }),
        )
        .await?;
        let credit_code = Uscc::parse(&demo_code(a * 10 + unit))
            .map_err(|e| DemoError::Value(format!("{e:?}")))?;
        self.project(
            id,
            "company",
            ProjectCommand::RegisterCompany(CompanyRegistered {
                credit_code,
                company_name: format!("{}项目公司", NAMES[a][unit].trim_end_matches("项目")),
                registered_capital: yuan(size / 5)?,
                date: self.on(py, 4, 28)?,
            }),
        )
        .await?;
        self.project(
            id,
            "approval",
            ProjectCommand::RecordApproval(ApprovalObtained {
                item: ApprovalItem::ConstructionPermit,
                document_no: format!("建字第{}号", 3411000 + a * 10 + unit),
                date: self.on(py, 5, 10)?,
            }),
        )
        .await
    }

    /// An expropriation target with progress reports; `stage` 0 is early, 1 is nearly done.
    async fn expropriation(&mut self, id: Uuid, unit: usize, stage: i64) -> Result<(), DemoError> {
        let area = 60 + 20 * unit as i64;
        let households = 12 + 3 * unit as u32;
        let py = self.this_year() - 1;
        self.project(
            id,
            "expropriation-target",
            ProjectCommand::SetExpropriationTarget(ExpropriationTargetSet {
                area: mu(&area.to_string())?,
                households,
                graves: 4 + unit as u32,
                township: UNITS[unit % 2].1.into(),
                deadline: self.on(py + 1, 6, 30)?,
            }),
        )
        .await?;
        let reports = [
            (self.on(py, 11, 30)?, area / 4, households / 4),
            (
                self.days_ago(40),
                area * (2 + stage) / 4,
                households * (2 + stage as u32) / 4,
            ),
        ];
        for (i, (as_of, acquired, signed)) in reports.into_iter().enumerate() {
            self.project(
                id,
                &format!("expropriation-{i}"),
                ProjectCommand::ReportExpropriationProgress(ExpropriationProgressReported {
                    as_of,
                    area_acquired: mu(&acquired.to_string())?,
                    households_signed: signed,
                    households_relocated: signed / 2,
                    graves_moved: i as u32 * 2,
                    compensation_paid: yuan(acquired * 6 * WAN)?,
                }),
            )
            .await?;
        }
        if stage == 1 {
            self.project(
                id,
                "land",
                ProjectCommand::DeliverLand(LandDelivered {
                    parcel_no: format!("{}-G{:02}", py, unit + 1),
                    area: mu(&(area / 2).to_string())?,
                    date: self.days_ago(30),
                }),
            )
            .await?;
        }
        Ok(())
    }

    /// Supervision items on the lagging and overdue projects, in every state.
    async fn supervision(&mut self) -> Result<(), DemoError> {
        for unit in 0..UNITS.len() {
            for archetype in [Archetype::Lagging, Archetype::StartOverdue] {
                let project = demo_uuid(&format!("project-{}-{unit}", archetype as usize));
                let item = demo_uuid(&format!("supervision-{}-{unit}", archetype as usize));
                let stream = format!("supervision-{item}");
                let lead = unit_id(UNITS[unit].0)?;
                let co = unit_id(UNITS[(unit + 1) % UNITS.len()].0)?;
                let (title, category) = match archetype {
                    Archetype::Lagging => {
                        ("投资进度滞后，督促加快建设", SupervisionCategory::Funding)
                    }
                    _ => (
                        "征迁未完成导致不能开工，督促交地",
                        SupervisionCategory::Expropriation,
                    ),
                };
                let opened = self.days_ago(50);
                // Deadlines spread so that some items are overdue, some due soon, some closed.
                let deadline = self.today
                    + Duration::days([-10, 2, 20, -3, 45][(unit + archetype as usize) % 5]);
                self.run::<SupervisionItem>(
                    &stream,
                    "open",
                    SupervisionCommand::Open(SupervisionItemOpened {
                        project: ProjectId(project),
                        title: title.into(),
                        category,
                        lead_unit: lead.clone(),
                        co_units: vec![co],
                        deadline: deadline.max(opened + Duration::days(1)),
                        date: opened,
                    }),
                )
                .await?;
                self.summary.supervision_items += 1;
                self.run::<SupervisionItem>(
                    &stream,
                    "feedback-1",
                    SupervisionCommand::SubmitFeedback(FeedbackSubmitted {
                        unit: lead.clone(),
                        content: "已召开专题调度会，明确时间节点".into(),
                        date: self.days_ago(35),
                    }),
                )
                .await?;
                match (unit + archetype as usize) % 4 {
                    0 => {
                        self.run::<SupervisionItem>(
                            &stream,
                            "request",
                            SupervisionCommand::RequestClosure(ClosureRequested {
                                summary: "问题已解决，申请销号".into(),
                                date: self.days_ago(20),
                            }),
                        )
                        .await?;
                        self.run::<SupervisionItem>(
                            &stream,
                            "close",
                            SupervisionCommand::Close(ItemClosed {
                                note: Some("经核实同意销号".into()),
                                date: self.days_ago(15),
                            }),
                        )
                        .await?;
                    }
                    1 => {
                        self.run::<SupervisionItem>(
                            &stream,
                            "request",
                            SupervisionCommand::RequestClosure(ClosureRequested {
                                summary: "申请销号".into(),
                                date: self.days_ago(20),
                            }),
                        )
                        .await?;
                        self.run::<SupervisionItem>(
                            &stream,
                            "return",
                            SupervisionCommand::ReturnClosure(ClosureReturned {
                                reason: "佐证材料不全，退回重办".into(),
                                date: self.days_ago(18),
                            }),
                        )
                        .await?;
                    }
                    2 => {
                        self.run::<SupervisionItem>(
                            &stream,
                            "accountability",
                            SupervisionCommand::RecordAccountability(AccountabilityRecorded {
                                kind: AccountabilityKind::Interview,
                                subject: format!("{}主要负责人", UNITS[unit].1),
                                reason: "督办事项逾期未办结".into(),
                                date: self.days_ago(3),
                            }),
                        )
                        .await?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

fn plan(
    year: i32,
    planned: i64,
    start: Option<Period>,
    revision_reason: Option<&str>,
) -> Result<ProjectCommand, DemoError> {
    Ok(ProjectCommand::SetAnnualPlan(AnnualPlanSet {
        year,
        planned_investment: yuan(planned)?,
        planned_start_month: start,
        kind: if revision_reason.is_some() {
            PlanKind::Revised
        } else {
            PlanKind::Original
        },
        reason: revision_reason.map(str::to_owned),
    }))
}

fn start(date: Date) -> ProjectCommand {
    ProjectCommand::StartConstruction(ConstructionStarted {
        date,
        evidence: "开工仪式及桩基施工照片".into(),
    })
}

/// `YYMM` of a year and month, the date part of a new-format national project code.
fn yymm(year: i32, month: u8) -> String {
    format!("{:02}{month:02}", year.rem_euclid(100))
}
