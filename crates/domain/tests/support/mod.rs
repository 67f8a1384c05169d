//! Builders shared by the domain's tests: one realistic value of every event, and contexts.
#![allow(dead_code)]

use domain::project::*;
use domain::rules::*;
use domain::supervision::*;
use domain::targets::*;
use domain::unit::*;
use domain::{AnyEvent, Context, Mu, Period, ProjectCode, ProjectId, UnitId, Uscc, Yuan};
use time::Date;
use time::macros::date;

pub fn yuan(v: i64) -> Yuan {
    Yuan::new(v).expect("valid amount")
}
pub fn mu(s: &str) -> Mu {
    Mu::parse(s).expect("valid area")
}
pub fn period(s: &str) -> Period {
    Period::parse(s).expect("valid period")
}
pub fn unit(s: &str) -> UnitId {
    UnitId::parse(s).expect("valid unit id")
}

pub const TODAY: Date = date!(2026 - 11 - 20);

pub fn ctx() -> Context {
    Context::new(TODAY, "clerk-li")
}

pub fn registered(kind: ProjectKind) -> ProjectRegistered {
    ProjectRegistered {
        name: "年产5万吨氟化工新材料项目".into(),
        kind,
        investor_name: "浙江某新材料有限公司".into(),
        investor_type: InvestorType::Private,
        industry_chain: "氟化工".into(),
        industrial: true,
        intended_investment: yuan(1_200_000_000),
        responsible_unit: unit("dev-zone"),
        lead_official: "王副县长".into(),
        date: date!(2025 - 03 - 02),
    }
}

pub fn agreement(kind: AgreementKind, date: Date) -> AgreementSigned {
    AgreementSigned {
        kind,
        date,
        contract_investment: yuan(1_000_000_000),
        fixed_asset_investment: yuan(800_000_000),
        land_demand: mu("300.5"),
        planned_start: period("2025-06"),
        planned_completion: period("2027-06"),
        planned_production: period("2027-09"),
    }
}

pub fn started(date: Date) -> ConstructionStarted {
    ConstructionStarted {
        date,
        evidence: "开工仪式照片及施工许可证".into(),
    }
}

pub fn reported(p: &str, completed: i64, funds: i64) -> InvestmentReported {
    InvestmentReported {
        period: period(p),
        completed_investment: yuan(completed),
        funds_in_place: yuan(funds),
        progress_narrative: None,
        problems: None,
    }
}

pub fn progress(
    as_of: Date,
    area: &str,
    signed: u32,
    relocated: u32,
) -> ExpropriationProgressReported {
    ExpropriationProgressReported {
        as_of,
        area_acquired: mu(area),
        households_signed: signed,
        households_relocated: relocated,
        graves_moved: 3,
        compensation_paid: yuan(12_000_000),
    }
}

/// One sample of every project event, in an order a real project could go through.
pub fn project_events() -> Vec<ProjectEvent> {
    vec![
        registered(ProjectKind::Attracted).into(),
        ContactLogged {
            kind: ContactKind::Negotiation,
            date: date!(2025 - 03 - 10),
            leader_level: "县级".into(),
            summary: "县长带队赴杭州洽谈".into(),
        }
        .into(),
        agreement(AgreementKind::Formal, date!(2025 - 04 - 18)).into(),
        CompanyRegistered {
            credit_code: Uscc::parse("91350100M000100Y43").expect("valid"),
            company_name: "某新材料（本县）有限公司".into(),
            registered_capital: yuan(100_000_000),
            date: date!(2025 - 05 - 06),
        }
        .into(),
        ProjectCodeAssigned {
            code: ProjectCode::parse("2505-610403-04-01-123456").expect("valid"),
            route: ApprovalRoute::Filing,
            filed_total_investment: yuan(1_000_000_000),
            date: date!(2025 - 05 - 12),
        }
        .into(),
        ApprovalObtained {
            item: ApprovalItem::ConstructionPermit,
            document_no: "施建字〔2025〕17号".into(),
            date: date!(2025 - 06 - 01),
        }
        .into(),
        AnnualPlanSet {
            year: 2025,
            planned_investment: yuan(300_000_000),
            planned_start_month: Some(period("2025-06")),
            kind: PlanKind::Original,
            reason: None,
        }
        .into(),
        ExpropriationTargetSet {
            area: mu("320.25"),
            households: 42,
            graves: 15,
            township: "新安镇".into(),
            deadline: date!(2025 - 09 - 30),
        }
        .into(),
        progress(date!(2025 - 05 - 31), "120.1234", 20, 12).into(),
        LandDelivered {
            parcel_no: "XA-2025-07".into(),
            area: mu("150"),
            date: date!(2025 - 06 - 05),
        }
        .into(),
        started(date!(2025 - 06 - 18)).into(),
        InvestmentReported {
            progress_narrative: Some("主体结构完成 60%".into()),
            problems: Some("施工用电未接入".into()),
            ..reported("2025-06", 20_000_000, 15_000_000)
        }
        .into(),
        InvestmentReportCorrected {
            period: period("2025-06"),
            completed_investment: yuan(21_500_000),
            funds_in_place: yuan(15_000_000),
            reason: "统计口径核实后更正".into(),
            progress_narrative: Some("主体结构完成 65%".into()),
            problems: None,
        }
        .into(),
        ConstructionCompleted {
            date: date!(2026 - 08 - 30),
        }
        .into(),
        ProductionStarted {
            date: date!(2026 - 09 - 15),
            kind: ProductionKind::Partial,
        }
        .into(),
        StatusChanged {
            status: ProjectStatus::Delayed,
            reason: "环评批复延迟".into(),
            date: date!(2025 - 06 - 10),
        }
        .into(),
        ProjectAbandoned {
            reason: "投资方资金链断裂，退出".into(),
            date: date!(2026 - 10 - 08),
        }
        .into(),
        ResponsibilityAssigned {
            responsible_unit: unit("xinan-town"),
            lead_official: "李副县长".into(),
            date: date!(2025 - 07 - 01),
        }
        .into(),
    ]
}

pub fn unit_events() -> Vec<UnitEvent> {
    vec![
        UnitCreated {
            name: "新安镇".into(),
            kind: UnitKind::Township,
            date: date!(2025 - 01 - 02),
        }
        .into(),
        UnitRenamed {
            name: "新安街道".into(),
            reason: "撤镇设街道".into(),
            date: date!(2026 - 01 - 05),
        }
        .into(),
    ]
}

pub fn targets_events() -> Vec<TargetsEvent> {
    vec![
        TargetSet {
            year: 2026,
            scope: TargetScope::County,
            metric: TargetMetric::CompletedInvestment,
            value: TargetValue::Yuan(yuan(12_000_000_000)),
        }
        .into(),
        TargetRevised {
            year: 2026,
            scope: TargetScope::Unit(unit("xinan-town")),
            metric: TargetMetric::ExpropriatedArea,
            value: TargetValue::Mu(mu("500")),
            reason: "年中调整征迁任务".into(),
        }
        .into(),
    ]
}

pub fn supervision_events() -> Vec<SupervisionEvent> {
    let project = ProjectId::parse("0190a5c6-7d3e-7c2a-9f00-000000000001").expect("valid");
    vec![
        SupervisionItemOpened {
            project,
            title: "加快推进项目征迁扫尾".into(),
            category: SupervisionCategory::Expropriation,
            lead_unit: unit("xinan-town"),
            co_units: vec![unit("natural-resources")],
            deadline: date!(2026 - 06 - 30),
            date: date!(2026 - 05 - 08),
        }
        .into(),
        FeedbackSubmitted {
            unit: unit("xinan-town"),
            content: "已完成剩余3户签约".into(),
            date: date!(2026 - 05 - 20),
        }
        .into(),
        DeadlineExtended {
            deadline: date!(2026 - 07 - 31),
            reason: "坟墓迁移需待清明后".into(),
            date: date!(2026 - 06 - 25),
        }
        .into(),
        ClosureRequested {
            summary: "征迁任务全部完成，申请销号".into(),
            date: date!(2026 - 07 - 20),
        }
        .into(),
        ItemClosed {
            note: Some("核实无误，同意销号".into()),
            date: date!(2026 - 07 - 25),
        }
        .into(),
        ClosureReturned {
            reason: "尚有1户未搬迁，退回续办".into(),
            date: date!(2026 - 07 - 22),
        }
        .into(),
        AccountabilityRecorded {
            kind: AccountabilityKind::Interview,
            subject: "新安镇主要负责人".into(),
            reason: "征迁进度连续两月滞后".into(),
            date: date!(2026 - 06 - 05),
        }
        .into(),
    ]
}

pub fn rules_events() -> Vec<RulesEvent> {
    vec![
        LightBandsSet {
            bands: LightBands {
                green_min_gap: -5,
                yellow_min_gap: -20,
                start_yellow_months: 1,
                start_red_months: 3,
            },
            reason: "县政府常务会议决定收紧灯色标准".into(),
            date: date!(2026 - 03 - 01),
        }
        .into(),
        RankingWeightsSet {
            ranking: RankingWeights {
                weights: [
                    (TargetMetric::CompletedInvestment, 3),
                    (TargetMetric::SignedProjects, 2),
                ]
                .into_iter()
                .collect(),
                completion_cap: 150,
                red_project_penalty: 2,
            },
            reason: "突出投资完成和签约".into(),
            date: date!(2026 - 03 - 01),
        }
        .into(),
    ]
}

/// One sample of every event type of every stream.
pub fn all_samples() -> Vec<AnyEvent> {
    let mut all: Vec<AnyEvent> = project_events()
        .into_iter()
        .map(AnyEvent::Project)
        .collect();
    all.extend(unit_events().into_iter().map(AnyEvent::Unit));
    all.extend(targets_events().into_iter().map(AnyEvent::Targets));
    all.extend(supervision_events().into_iter().map(AnyEvent::Supervision));
    all.extend(rules_events().into_iter().map(AnyEvent::Rules));
    all
}
